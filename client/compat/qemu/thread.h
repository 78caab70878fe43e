/*
 * Stand-in for QEMU's "qemu/thread.h" outside QEMU (see osdep.h here):
 * QemuMutex over pthreads, with QEMU's "abort on failure" semantics.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFIO_APPLE_COMPAT_QEMU_THREAD_H
#define VFIO_APPLE_COMPAT_QEMU_THREAD_H

#include <pthread.h>

typedef struct QemuMutex {
    pthread_mutex_t lock;
} QemuMutex;

static inline void qemu_mutex_init(QemuMutex *m)
{
    if (pthread_mutex_init(&m->lock, NULL)) {
        abort();
    }
}

static inline void qemu_mutex_destroy(QemuMutex *m)
{
    pthread_mutex_destroy(&m->lock);
}

static inline void qemu_mutex_lock(QemuMutex *m)
{
    if (pthread_mutex_lock(&m->lock)) {
        abort();
    }
}

static inline void qemu_mutex_unlock(QemuMutex *m)
{
    if (pthread_mutex_unlock(&m->lock)) {
        abort();
    }
}

#endif
