/*
 * vfio-apple-sim logging: one line per event on stderr, filtered by level.
 *
 * Rate limits.  Much of what the simulator logs is caused by its clients,
 * and a client can cause it as often as it likes (one malformed request
 * per round trip once made 130 MB of log in 65 s).  So every warn and info
 * line passes a global token bucket, and lines a client triggers pass a
 * bucket of that client's first; lines held back are counted (stats
 * JSON: "log_lines_suppressed") and announced with the next line that gets
 * through.  Errors (our own failures, never a client's doing) and debug
 * lines (asked for explicitly) are never held back.
 */
#ifndef VFIO_APPLE_SIM_LOG_H
#define VFIO_APPLE_SIM_LOG_H

#include <stdint.h>

enum sim_log_level { SIM_LOG_ERROR, SIM_LOG_WARN, SIM_LOG_INFO, SIM_LOG_DEBUG };

extern int sim_log_level;

/* A token bucket: `burst` lines at once, then `per_sec` lines a second. */
struct sim_ratelimit {
    unsigned burst, per_sec;
    uint64_t tokens_ns;         /* one line costs 1e9, refilled at per_sec per ns */
    uint64_t last_ns;           /* 0: never used (starts full) */
    uint64_t suppressed;        /* held back since the last line let through */
};
#define SIM_RATELIMIT(b, r) ((struct sim_ratelimit){ .burst = (b), .per_sec = (r) })

void sim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sim_log, through the caller's bucket `rl` (e.g. one per client) first. */
void sim_log_limited(struct sim_ratelimit *rl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Lines held back by any bucket since start (any thread). */
uint64_t sim_log_suppressed(void);
/* True while the global bucket holds back lines not yet announced. */
int sim_log_pending(void);
/* Announces lines the global bucket held back, if it lets a line through. */
void sim_log_flush(void);
/* "error", "warn", "info", "debug" -> level, or -1. */
int sim_log_parse(const char *name);

#define LOG_ERR(...)   sim_log(SIM_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...)  sim_log(SIM_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...)  sim_log(SIM_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) sim_log(SIM_LOG_DEBUG, __VA_ARGS__)

#endif
