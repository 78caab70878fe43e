/* vfio-apple CLI: latency summaries (see latency.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "latency.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

void cli_lat_summarise(uint64_t *ns, unsigned n, struct cli_lat *out)
{
    memset(out, 0, sizeof(*out));
    out->n = n;
    if (!n)
        return;
    qsort(ns, n, sizeof(*ns), cmp_u64);
    out->min_ns = ns[0];
    out->max_ns = ns[n - 1];
    out->median_ns = n % 2 ? ns[n / 2] : (ns[n / 2 - 1] + ns[n / 2]) / 2;
    /* nearest rank: ceil(0.99 n), 1-based */
    out->p99_ns = ns[(99ull * n + 99) / 100 - 1];
}

uint64_t cli_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
