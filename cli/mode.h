/*
 * vfio-apple CLI: how the guest's device reaches guest RAM (DESIGN.md
 * section 4), chosen from the guest's RAM and the device's DMA budget.
 *
 *   window, RAM fits the budget: the window is all of RAM, nothing bounces.
 *   window, RAM larger: the window is the first W bytes of RAM, where
 *           RAM base + W is a power of two (arm64 Linux rounds the end of
 *           dma-ranges up to one and puts swiotlb below it) and W fits the
 *           budget; DMA outside it bounces through swiotlb (not for GPUs).
 *   companion: the apple-dma-pci companion maps on demand (issue 8).
 *   auto: window when RAM fits the budget, else companion.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_MODE_H
#define VFA_CLI_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cli_mode { CLI_MODE_AUTO, CLI_MODE_WINDOW, CLI_MODE_COMPANION };

/* Guest RAM starts here on QEMU's virt machine. */
#define CLI_VIRT_RAM_BASE   (1ull << 30)

struct cli_dma_plan {
    enum cli_mode mode;         /* WINDOW or COMPANION */
    uint64_t window_size;       /* bytes from the RAM base (window mode) */
    bool window_is_all_ram;
    bool bounces;               /* RAM outside the window: swiotlb */
    uint64_t budget;            /* the device's DMA byte budget */
    uint64_t alt_window;        /* companion: the bounce window --mode window
                                   would use instead (0: none fits) */
    char why[320];              /* one sentence a person can read */
};

int cli_mode_parse(const char *s, enum cli_mode *out);
const char *cli_mode_name(enum cli_mode m);

/*
 * Plan for @want with @ram bytes of guest RAM at @ram_base and a budget of
 * @budget bytes.  0, or -EINVAL with err saying why and what to do (RAM
 * not in 16 KiB pages, no window possible under the budget).
 */
int cli_plan_dma(enum cli_mode want, uint64_t ram, uint64_t ram_base,
                 uint64_t budget, struct cli_dma_plan *p,
                 char *err, size_t errlen);

#endif
