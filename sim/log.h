/* vfio-apple-sim logging: one line per event on stderr, filtered by level. */
#ifndef VFIO_APPLE_SIM_LOG_H
#define VFIO_APPLE_SIM_LOG_H

enum sim_log_level { SIM_LOG_ERROR, SIM_LOG_WARN, SIM_LOG_INFO, SIM_LOG_DEBUG };

extern int sim_log_level;

void sim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "error", "warn", "info", "debug" -> level, or -1. */
int sim_log_parse(const char *name);

#define LOG_ERR(...)   sim_log(SIM_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...)  sim_log(SIM_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...)  sim_log(SIM_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) sim_log(SIM_LOG_DEBUG, __VA_ARGS__)

#endif
