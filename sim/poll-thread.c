/* The polling device thread shared by the models: see poll-thread.h. */
#include "poll-thread.h"

#include <sys/prctl.h>
#include <time.h>

static void *poll_thread(void *arg)
{
    struct sim_poller *p = arg;
    long sleep_ns = SIM_POLL_MIN_NS;

    /* Default timer slack (50 us) would dominate the short sleeps. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(p->lock);
        unsigned work = p->pass(p->opaque);
        if (work)
            (*p->busy_polls)++;
        else
            (*p->idle_sleeps)++;
        pthread_mutex_unlock(p->lock);

        if (work)
            sleep_ns = SIM_POLL_MIN_NS;
        else if (sleep_ns < SIM_POLL_MAX_NS)
            sleep_ns = sleep_ns * 2 > SIM_POLL_MAX_NS ? SIM_POLL_MAX_NS : sleep_ns * 2;
        struct timespec ts = { 0, sleep_ns };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int sim_poller_start(struct sim_poller *p, pthread_mutex_t *lock, unsigned (*pass)(void *opaque),
                     void *opaque, uint64_t *busy_polls, uint64_t *idle_sleeps)
{
    if (p->running)
        return 0;
    p->lock = lock;
    p->pass = pass;
    p->opaque = opaque;
    p->busy_polls = busy_polls;
    p->idle_sleeps = idle_sleeps;
    __atomic_store_n(&p->stop, 0, __ATOMIC_RELEASE);
    int r = pthread_create(&p->thread, NULL, poll_thread, p);
    if (r)
        return -r;
    p->running = true;
    return 0;
}

void sim_poller_stop(struct sim_poller *p)
{
    if (!p->running)
        return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    pthread_join(p->thread, NULL);
    p->running = false;
}
