/*
 * vfio-apple CLI: `selftest`, the device driven through the dext with no
 * VM: the steps, their results, and the report.
 *
 * Steps, in order (a failed step that the later ones need ends the run):
 *   identity   version and identity; the session opens
 *   config     the config block: IDs and class agree with the identity
 *   bars       each BAR's info agrees with the identity; each mappable
 *              BAR is mapped and its first register read, through the
 *              mapping and through an MMIO call (they must agree)
 *   interrupts MSI-X (else MSI) vectors set up and enabled, the IRQ page
 *   loopback   a device interrupt on purpose where the device is known
 *              (NVMe: Identify Controller, through the DART both ways)
 *   dma-budget map the same memory until the dext refuses: the byte
 *              budget (halving the piece down to one 16 KiB page) and the
 *              mapping limit (one page at a time); all unmapped, the
 *              dext's gauges back at zero
 *   latency    round trips: a config read, a DMA map, a DMA unmap
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_SELFTEST_H
#define VFA_CLI_SELFTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vfio-apple/dext-abi.h"
#include "host.h"
#include "latency.h"

struct vfa_client;

enum cli_step_result { CLI_STEP_PASS, CLI_STEP_SKIP, CLI_STEP_FAIL };

#define CLI_SELFTEST_MAX_STEPS 8

struct cli_step {
    const char *name;
    enum cli_step_result result;
    char detail[400];
};

struct cli_selftest_opts {
    unsigned samples;           /* latency samples per kind (default 1000) */
    bool skip_budget;           /* --no-budget */
    uint64_t max_mappings_probe;    /* stop the mapping probe here (0: none) */
};

struct cli_bar_result {
    bool present, mapped, read;
    uint32_t flags;
    uint64_t size, map_size, trapped_pages;
    uint32_t map_value, mmio_value;     /* offset 0, 32 bits */
};

struct cli_selftest {
    char name[128], target[1024];
    const char *transport;
    uint32_t abi_major, abi_minor;
    struct vfa_identity id;
    struct cli_step steps[CLI_SELFTEST_MAX_STEPS];
    unsigned nsteps, failed;

    uint32_t cfg_len;
    uint16_t cfg_vendor, cfg_device;
    uint32_t cfg_class;
    unsigned cfg_caps;          /* capabilities found in the list */
    struct cli_bar_result bar[VFA_NUM_BARS];

    uint32_t irq_type;          /* enum vfa_irq_type set up */
    uint32_t irq_vectors;
    bool loopback;              /* an interrupt arrived on purpose */
    uint64_t loopback_ns;       /* doorbell to notification */
    char loopback_what[160];

    bool budget_probed;
    uint64_t budget_bytes;      /* mapped at once when the dext said NOSPC */
    bool budget_bytes_exact;    /* NOSPC seen with one 16 KiB page */
    uint64_t budget_mappings;   /* live when the dext said MFILE */
    bool budget_mappings_exact; /* MFILE seen (not NOSPC first) */
    uint64_t budget_map_calls;  /* DMA maps the probe made */
    uint32_t max_segments_seen;
    bool gauges_zero;           /* the dext's mapped bytes/mappings back to 0 */

    struct cli_lat lat_config, lat_map, lat_unmap;
    uint64_t wall_ns;
};

/* Runs every step; returns the number of failed steps (r->failed). */
unsigned cli_selftest_run(const struct cli_device_ref *ref, const struct cli_selftest_opts *o,
                          struct cli_selftest *r);
void cli_selftest_print(FILE *f, const struct cli_selftest *r);
void cli_selftest_json(FILE *f, const struct cli_selftest *r);

/* Steps (selftest.c calls them in order; one file each for the long ones). */
struct cli_step *cli_step_begin(struct cli_selftest *r, const char *name);
void cli_step_set(struct cli_step *s, enum cli_step_result res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* DMA memory shared with the dext: one region for the probes and latency. */
struct cli_dma_buf {
    void *va;                   /* our mapping */
    void *dma_va;               /* what DMA_MAP names */
    uint64_t len;
    int fd;
    struct vfa_shared_mem *shared;
};
int cli_dma_buf_get(struct vfa_client *c, uint64_t len, struct cli_dma_buf *b,
                    char *err, size_t errlen);
void cli_dma_buf_put(struct vfa_client *c, struct cli_dma_buf *b);
/* The IOVA of byte @off of a mapping. */
uint64_t cli_map_iova(const struct vfa_dma_map_out *m, uint64_t off);

void cli_selftest_budget(struct vfa_client *c, const struct cli_selftest_opts *o,
                         struct cli_selftest *r);
void cli_selftest_latency(struct vfa_client *c, const struct cli_selftest_opts *o,
                          struct cli_selftest *r);
/* NVMe: Identify Controller through admin queues, its completion interrupt. */
void cli_selftest_loopback_nvme(struct vfa_client *c, struct cli_selftest *r,
                                struct cli_step *s, volatile uint8_t *bar0,
                                struct vfa_irq_page *irq, int notify_fd);

#endif
