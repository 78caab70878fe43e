/*
 * Calls that may never return, made with a timeout: the IOKit transport's
 * worker thread and the bookkeeping of transport.h's "behind" state.
 *
 * IOConnectCallMethod blocks until the dext answers; a stuck dext would
 * hold the caller (a vCPU thread) forever.  So every call runs on one
 * worker thread and the caller waits for it at most timeout_ms.  If it
 * gives up, the transport is behind: the worker still owns the call (and
 * the job buffer it reads and writes), and until it finishes every new
 * call fails at once with -ETIMEDOUT, exactly as the socket transport
 * refuses to send while a reply is owed.  When the late call finishes its
 * result is dropped (counted in *stale) and @late is called, so a poller
 * can wake up and resync.
 *
 * Only one call is ever in flight: the client serialises its callers, and
 * a new call is refused while an old one is owed.  The job itself lives in
 * the caller's transport (one fixed buffer), never on a stack that the
 * worker could outlive.
 *
 * Portable (pthreads): unit-tested on Linux.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFIO_APPLE_CLIENT_IOKIT_CALLQ_H
#define VFIO_APPLE_CLIENT_IOKIT_CALLQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vfa_callq {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* job posted, job done, stop */
    pthread_t thread;
    /* Runs the posted job on the worker (the IOKit call). */
    void (*run)(void *opaque);
    /* A call the caller gave up on has finished (worker thread). */
    void (*late)(void *opaque);
    /* After destroy, with the worker still stuck: frees @opaque. */
    void (*orphan_free)(void *opaque);
    void *opaque;
    uint64_t posted;            /* calls handed to the worker */
    uint64_t finished;          /* calls the worker completed */
    uint64_t taken;             /* calls whose result a caller took */
    uint64_t *stale;            /* late results dropped (transport's) */
    bool abandoned;             /* the caller gave up on the running call */
    bool stop;
    bool orphaned;
    bool started;
};

/* 0 or a negative errno (the worker thread could not start). */
int vfa_callq_init(struct vfa_callq *q, void (*run)(void *),
                   void (*late)(void *), void (*orphan_free)(void *),
                   void *opaque, uint64_t *stale);

/*
 * Run the job once on the worker; wait up to @timeout_ms (0: as long as
 * it takes).  0 once it finished (its results are in the job buffer),
 * -ETIMEDOUT if it did not (behind from now on) or if an earlier call is
 * still owed (nothing posted: the job buffer still belongs to the worker).
 */
int vfa_callq_call(struct vfa_callq *q, unsigned timeout_ms);

/* Is a call the caller gave up on still running? */
bool vfa_callq_behind(struct vfa_callq *q);

/* Wait up to @timeout_ms for the owed call: 0 (none owed) or -ETIMEDOUT. */
int vfa_callq_resync(struct vfa_callq *q, unsigned timeout_ms);

/*
 * Stop the worker.  Returns true if it was idle (joined: the caller frees
 * @opaque), false if it is stuck in a call: it is detached and calls
 * orphan_free(opaque) when (if ever) the call returns.
 */
bool vfa_callq_destroy(struct vfa_callq *q);

#endif
