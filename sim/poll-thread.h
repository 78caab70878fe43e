/*
 * The device thread of a model whose registers live in shared memory: it
 * cannot be woken by a guest's write (there is no trap), so it polls.
 *
 * It adapts: after a pass that did work it sleeps only SIM_POLL_MIN_NS;
 * each idle pass doubles the sleep up to SIM_POLL_MAX_NS.  An idle device
 * thus wakes a few hundred times a second, and a busy one always sleeps
 * between passes, leaving CPU to the guest's vCPUs.
 */
#ifndef VFIO_APPLE_SIM_POLL_THREAD_H
#define VFIO_APPLE_SIM_POLL_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SIM_POLL_MIN_NS     20000L          /* 20 us after activity */
#define SIM_POLL_MAX_NS     4000000L        /* 4 ms when idle */

struct sim_poller {
    pthread_mutex_t *lock;                  /* held for each pass */
    unsigned (*pass)(void *opaque);         /* one pass; returns work done */
    void *opaque;
    uint64_t *busy_polls, *idle_sleeps;     /* counted under lock */

    pthread_t thread;
    bool      running;
    int       stop;                         /* atomic */
};

/*
 * Runs pass(opaque) under lock, again and again, counting passes that did
 * work and passes that did not.  0, or -errno.  Starting a running poller
 * does nothing.
 */
int sim_poller_start(struct sim_poller *p, pthread_mutex_t *lock, unsigned (*pass)(void *opaque),
                     void *opaque, uint64_t *busy_polls, uint64_t *idle_sleeps);
/* Waits for the thread to finish its pass and end. */
void sim_poller_stop(struct sim_poller *p);

#endif
