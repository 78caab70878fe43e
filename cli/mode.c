/* vfio-apple CLI: DMA mode choice (see mode.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfio-apple/dext-abi.h"
#include "mode.h"
#include "opts.h"

int cli_mode_parse(const char *s, enum cli_mode *out)
{
    if (!strcmp(s, "auto"))
        *out = CLI_MODE_AUTO;
    else if (!strcmp(s, "window"))
        *out = CLI_MODE_WINDOW;
    else if (!strcmp(s, "companion"))
        *out = CLI_MODE_COMPANION;
    else
        return -EINVAL;
    return 0;
}

const char *cli_mode_name(enum cli_mode m)
{
    switch (m) {
    case CLI_MODE_AUTO: return "auto";
    case CLI_MODE_WINDOW: return "window";
    case CLI_MODE_COMPANION: return "companion";
    }
    return "?";
}

/* The largest W <= min(budget, ram) with base + W a power of two; 0: none. */
/*
 * Companion mode's window: arithmetic for the guest, mapped for the VM's
 * life, so it costs budget the chunks cannot use.  A quarter of the
 * budget, at most 256 MiB, at most RAM, in whole 16 KiB pages.
 */
static uint64_t companion_window(uint64_t ram, uint64_t budget)
{
    uint64_t w = budget / 4;

    if (w > (256ull << 20))
        w = 256ull << 20;
    if (w > ram)
        w = ram;
    return w - w % VFA_PAGE_SIZE;
}

static uint64_t pow2_window(uint64_t ram, uint64_t base, uint64_t budget)
{
    uint64_t best = 0;

    for (unsigned n = 1; n < 64; n++) {
        uint64_t end = 1ull << n;

        if (end <= base)
            continue;
        if (end - base > budget || end - base > ram)
            break;
        best = end - base;
    }
    return best;
}

int cli_plan_dma(enum cli_mode want, uint64_t ram, uint64_t ram_base,
                 uint64_t budget, struct cli_dma_plan *p,
                 char *err, size_t errlen)
{
    char r[32], b[32], w[32], e[32];

    memset(p, 0, sizeof(*p));
    p->budget = budget;
    cli_fmt_size(ram, r, sizeof(r));
    cli_fmt_size(budget, b, sizeof(b));
    if (!ram || ram % VFA_PAGE_SIZE || ram_base % VFA_PAGE_SIZE) {
        snprintf(err, errlen, "guest RAM %s is not made of whole 16 KiB pages, which the "
                 "DART maps: give --mem a multiple of 16K, e.g. 512M or 1G", r);
        return -EINVAL;
    }
    if (want == CLI_MODE_COMPANION) {
        p->mode = CLI_MODE_COMPANION;
        p->window_size = companion_window(ram, budget);
        p->alt_window = ram > budget ? pow2_window(ram, ram_base, budget) : 0;
        snprintf(p->why, sizeof(p->why), "companion mode asked for: the guest module maps "
                 "guest RAM on demand within the DMA budget (%s)", b);
        return 0;
    }
    if (ram <= budget) {
        p->mode = CLI_MODE_WINDOW;
        p->window_size = ram;
        p->window_is_all_ram = true;
        snprintf(p->why, sizeof(p->why), "guest RAM (%s) fits the DMA budget (%s): the "
                 "window is all of RAM, nothing bounces", r, b);
        return 0;
    }
    if (want == CLI_MODE_AUTO) {
        p->mode = CLI_MODE_COMPANION;
        p->window_size = companion_window(ram, budget);
        p->alt_window = pow2_window(ram, ram_base, budget);
        snprintf(p->why, sizeof(p->why), "guest RAM (%s) is larger than the DMA budget "
                 "(%s): no window can cover it, so the companion maps on demand", r, b);
        return 0;
    }
    p->window_size = pow2_window(ram, ram_base, budget);
    if (!p->window_size) {
        cli_fmt_size(ram_base, e, sizeof(e));
        snprintf(err, errlen, "window mode: guest RAM (%s) is larger than the DMA budget "
                 "(%s), and no smaller window fits it: the window must end on a power-of-two "
                 "address and RAM starts at %s.  Give the guest at most %s (--mem) so the "
                 "window is all of RAM", r, b, e, b);
        return -EINVAL;
    }
    p->mode = CLI_MODE_WINDOW;
    p->bounces = true;
    cli_fmt_size(p->window_size, w, sizeof(w));
    cli_fmt_size(ram_base + p->window_size, e, sizeof(e));
    snprintf(p->why, sizeof(p->why), "guest RAM (%s) is larger than the DMA budget (%s): "
             "the window is the first %s of RAM (it ends at %s, a power of two); DMA "
             "outside it bounces through swiotlb (not for GPUs)", r, b, w, e);
    return 0;
}
