/*
 * The worker thread behind the IOKit transport's timeouts (iokit-callq.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <time.h>

#include "iokit-callq.h"

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait on the condition for at most @ms (lock held).  The deadline of
 * pthread_cond_timedwait is on CLOCK_REALTIME (macOS has no
 * pthread_condattr_setclock), so waits are cut into slices of 100 ms and
 * the caller measures time on CLOCK_MONOTONIC: a wall-clock step then
 * costs at most one slice, never a hang.
 */
static void wait_slice(struct vfa_callq *q, int64_t ms)
{
    struct timespec ts;

    if (ms > 100) {
        ms = 100;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&q->cond, &q->lock, &ts);
}

static void *worker(void *arg)
{
    struct vfa_callq *q = arg;
    bool free_it = false;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        bool late;

        while (!q->stop && q->finished == q->posted) {
            pthread_cond_wait(&q->cond, &q->lock);
        }
        if (q->finished == q->posted) {
            break;              /* stop, and nothing left to run */
        }
        pthread_mutex_unlock(&q->lock);
        q->run(q->opaque);
        pthread_mutex_lock(&q->lock);
        late = q->abandoned && !q->orphaned;
        q->abandoned = false;
        if (late && q->late) {
            /*
             * Before the call counts as finished, so that whatever @late
             * signals (conn_fd's POLLIN) is in place before a resync can
             * settle the call and clear it.  The call is still owed, so
             * destroy() cannot free opaque meanwhile (it orphans instead).
             */
            pthread_mutex_unlock(&q->lock);
            q->late(q->opaque);
            pthread_mutex_lock(&q->lock);
        }
        q->finished++;
        if (q->orphaned) {
            free_it = true;
            break;
        }
        pthread_cond_broadcast(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    if (free_it) {
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->cond);
        q->orphan_free(q->opaque);
    }
    return NULL;
}

int vfa_callq_init(struct vfa_callq *q, void (*run)(void *),
                   void (*late)(void *), void (*orphan_free)(void *),
                   void *opaque, uint64_t *stale)
{
    int r;

    memset(q, 0, sizeof(*q));
    q->run = run;
    q->late = late;
    q->orphan_free = orphan_free;
    q->opaque = opaque;
    q->stale = stale;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    r = pthread_create(&q->thread, NULL, worker, q);
    if (r) {
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->cond);
        return -r;
    }
    q->started = true;
    return 0;
}

/*
 * Take the owed call's result if it has finished (lock held): it answers
 * a call that was given up, so it is dropped.  True if none is owed.
 */
static bool settle(struct vfa_callq *q)
{
    if (q->taken == q->posted) {
        return true;
    }
    if (q->finished != q->posted) {
        return false;
    }
    q->taken = q->finished;
    if (q->stale) {
        (*q->stale)++;
    }
    return true;
}

/* Wait until the newest call finished or @deadline passed (lock held). */
static bool wait_finished(struct vfa_callq *q, int64_t deadline)
{
    while (q->finished != q->posted) {
        int64_t left = deadline < 0 ? 100 : deadline - mono_ms();

        if (left <= 0) {
            return false;
        }
        wait_slice(q, left);
    }
    return true;
}

int vfa_callq_call(struct vfa_callq *q, unsigned timeout_ms)
{
    int64_t deadline = timeout_ms ? mono_ms() + timeout_ms : -1;
    int r = 0;

    pthread_mutex_lock(&q->lock);
    if (!settle(q)) {
        /* The worker still owns the job buffer: do not touch it. */
        pthread_mutex_unlock(&q->lock);
        return -ETIMEDOUT;
    }
    q->posted++;
    pthread_cond_broadcast(&q->cond);
    if (wait_finished(q, deadline)) {
        q->taken = q->finished;
    } else {
        /* Given up: the worker tells @late when it is done. */
        q->abandoned = true;
        r = -ETIMEDOUT;
    }
    pthread_mutex_unlock(&q->lock);
    return r;
}

bool vfa_callq_behind(struct vfa_callq *q)
{
    bool b;

    pthread_mutex_lock(&q->lock);
    b = q->taken != q->posted;
    pthread_mutex_unlock(&q->lock);
    return b;
}

int vfa_callq_resync(struct vfa_callq *q, unsigned timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    int r;

    pthread_mutex_lock(&q->lock);
    if (q->taken != q->posted) {
        wait_finished(q, deadline);
    }
    r = settle(q) ? 0 : -ETIMEDOUT;
    pthread_mutex_unlock(&q->lock);
    return r;
}

bool vfa_callq_destroy(struct vfa_callq *q)
{
    bool idle;

    if (!q->started) {
        return true;
    }
    pthread_mutex_lock(&q->lock);
    idle = q->finished == q->posted;
    q->stop = true;
    if (!idle) {
        q->orphaned = true;
    }
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    if (!idle) {
        /* Stuck in the dext: let it free everything when it returns. */
        pthread_detach(q->thread);
        return false;
    }
    pthread_join(q->thread, NULL);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    return true;
}
