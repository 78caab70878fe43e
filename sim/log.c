/* vfio-apple-sim logging (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

int sim_log_level = SIM_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

void sim_log(int level, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    va_list ap;

    if (level > sim_log_level)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One write per line so device-thread and server lines do not mix. */
    fprintf(stderr, "vfio-apple-sim[%ld.%03ld] %s: %s\n", (long)ts.tv_sec,
            ts.tv_nsec / 1000000, names[level], line);
}

int sim_log_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i]))
            return i;
    return -1;
}
