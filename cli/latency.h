/*
 * vfio-apple CLI: latency samples summarised as min/median/p99/max.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_LATENCY_H
#define VFA_CLI_LATENCY_H

#include <stdint.h>

struct cli_lat {
    unsigned n;
    uint64_t min_ns, median_ns, p99_ns, max_ns;
};

/* Sorts @ns in place.  p99: the smallest sample >= 99% of the samples. */
void cli_lat_summarise(uint64_t *ns, unsigned n, struct cli_lat *out);
uint64_t cli_now_ns(void);

#endif
