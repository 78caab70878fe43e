/* vfio-apple-sim logging (see log.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define NS 1000000000ull

int sim_log_level = SIM_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

/*
 * The global bucket: 100 lines at once (a session's start and end, a burst
 * of faults), then 20 a second, about 2 KB/s whatever the clients do.
 * Lines come from the server and the device threads: one lock for both.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_ratelimit global = { .burst = 100, .per_sec = 20 };
static uint64_t suppressed_total;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Takes a token if the bucket has one.  Lock held. */
static int take(struct sim_ratelimit *rl, uint64_t now)
{
    uint64_t cap = (uint64_t)rl->burst * NS;

    if (!rl->last_ns) {
        rl->tokens_ns = cap;
    } else if (now > rl->last_ns) {
        uint64_t dt = now - rl->last_ns;

        /* Past a full refill nothing more is owed: bound dt first, so the
         * product cannot overflow however long the bucket sat idle. */
        if (!rl->per_sec || dt >= cap / rl->per_sec)
            rl->tokens_ns = cap;
        else if ((rl->tokens_ns += dt * rl->per_sec) > cap)
            rl->tokens_ns = cap;
    }
    rl->last_ns = now;
    if (rl->tokens_ns < NS)
        return 0;
    rl->tokens_ns -= NS;
    return 1;
}

static void held_back(struct sim_ratelimit *rl)
{
    rl->suppressed++;
    suppressed_total++;
}

static void emit(int level, const char *line, uint64_t now)
{
    /* One write per line so device-thread and server lines do not mix. */
    fprintf(stderr, "vfio-apple-sim[%llu.%03llu] %s: %s\n", (unsigned long long)(now / NS),
            (unsigned long long)(now % NS / 1000000), names[level], line);
}

/* What the global bucket held back, said once it lets a line through. */
static void announce(uint64_t now)
{
    char note[96];

    snprintf(note, sizeof(note), "%llu log lines suppressed (rate limit)",
             (unsigned long long)global.suppressed);
    global.suppressed = 0;
    emit(SIM_LOG_WARN, note, now);
}

/* Through the global bucket; returns whether the line went out.  Lock held. */
static int put(int level, const char *line, uint64_t now)
{
    if (level == SIM_LOG_WARN || level == SIM_LOG_INFO) {
        if (!take(&global, now)) {
            held_back(&global);
            return 0;
        }
        if (global.suppressed)
            announce(now);
    }
    emit(level, line, now);
    return 1;
}

static void vlog(struct sim_ratelimit *rl, int level, const char *fmt, va_list ap)
{
    char line[1024];
    uint64_t now;

    if (level > sim_log_level)
        return;
    pthread_mutex_lock(&lock);
    now = now_ns();
    if (rl && !take(rl, now)) {
        held_back(rl);
        pthread_mutex_unlock(&lock);
        return;
    }
    vsnprintf(line, sizeof(line), fmt, ap);
    if (rl && rl->suppressed) {
        size_t n = strlen(line);

        snprintf(line + n, sizeof(line) - n, " [%llu similar lines suppressed]",
                 (unsigned long long)rl->suppressed);
    }
    if (put(level, line, now) && rl)
        rl->suppressed = 0;
    pthread_mutex_unlock(&lock);
}

void sim_log(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(NULL, level, fmt, ap);
    va_end(ap);
}

void sim_log_limited(struct sim_ratelimit *rl, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(rl, level, fmt, ap);
    va_end(ap);
}

uint64_t sim_log_suppressed(void)
{
    pthread_mutex_lock(&lock);
    uint64_t n = suppressed_total;
    pthread_mutex_unlock(&lock);
    return n;
}

int sim_log_pending(void)
{
    pthread_mutex_lock(&lock);
    int r = global.suppressed != 0;
    pthread_mutex_unlock(&lock);
    return r;
}

void sim_log_flush(void)
{
    pthread_mutex_lock(&lock);
    uint64_t now = now_ns();
    if (global.suppressed && take(&global, now))
        announce(now);
    pthread_mutex_unlock(&lock);
}

int sim_log_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i]))
            return i;
    return -1;
}
