/*
 * PRP / PRP-list walker (NVMe 1.4, 4.3 "Physical Region Page Entry and
 * List").  Rules enforced, because the controller must never trust them:
 *  - PRP1 may start anywhere dword-aligned inside a page;
 *  - every later data entry must be page-aligned (Invalid PRP Offset);
 *  - when the transfer needs more than two pages PRP2 points to a list
 *    (qword-aligned, may start mid-page); if the list needs more entries
 *    than fit in the rest of its page, the page's last entry points to the
 *    next list page;
 *  - a chain that stops making progress is rejected instead of looping.
 */
#include "nvme.h"

#include <errno.h>

/* Entries fetched per DMA read of a list page. */
#define PRP_BATCH 64u

static uint16_t add_seg(struct nvme_prp_seg *segs, unsigned max_segs, unsigned *n,
                        uint64_t addr, uint32_t len)
{
    if (*n && segs[*n - 1].addr + segs[*n - 1].len == addr) {
        segs[*n - 1].len += len;        /* contiguous: one DMA instead of two */
        return 0;
    }
    if (*n == max_segs)
        return NVME_SC_INVALID_FIELD | NVME_DNR;
    segs[*n].addr = addr;
    segs[*n].len = len;
    (*n)++;
    return 0;
}

uint16_t nvme_prp_walk(uint64_t prp1, uint64_t prp2, uint32_t len, unsigned page_shift,
                       nvme_dma_read_fn rd, void *opaque,
                       struct nvme_prp_seg *segs, unsigned max_segs, unsigned *nsegs)
{
    const uint64_t psz = 1ull << page_shift, pmask = psz - 1;
    unsigned n = 0;
    uint16_t st;

    *nsegs = 0;
    if (!len)
        return 0;
    if (page_shift < 12 || page_shift > 16)
        return NVME_SC_INVALID_FIELD | NVME_DNR;
    if (prp1 & 3)
        return NVME_SC_INVALID_PRP_OFFSET | NVME_DNR;

    uint32_t first = psz - (prp1 & pmask);
    if (first > len)
        first = len;
    if ((st = add_seg(segs, max_segs, &n, prp1, first)))
        return st;
    uint32_t rem = len - first;

    if (rem && rem <= psz) {
        /* PRP2 is the second (and last) data page. */
        if (prp2 & pmask)
            return NVME_SC_INVALID_PRP_OFFSET | NVME_DNR;
        if ((st = add_seg(segs, max_segs, &n, prp2, rem)))
            return st;
        rem = 0;
    }

    /* Otherwise PRP2 is a PRP list pointer. */
    uint64_t list = prp2;
    unsigned hops = 0, max_hops = (len >> page_shift) + 2;
    while (rem) {
        if (list & 7)
            return NVME_SC_INVALID_PRP_OFFSET | NVME_DNR;
        if (++hops > max_hops)
            return NVME_SC_INVALID_FIELD | NVME_DNR;

        uint64_t slots = (psz - (list & pmask)) / 8;
        uint64_t need = (rem + pmask) >> page_shift;
        bool chained = need > slots;    /* last slot of this page links onward */
        uint64_t take = chained ? slots : need;
        uint64_t next = 0;

        for (uint64_t i = 0; i < take; i += PRP_BATCH) {
            uint64_t ent[PRP_BATCH];
            unsigned cnt = take - i < PRP_BATCH ? (unsigned)(take - i) : PRP_BATCH;
            if (rd(opaque, list + i * 8, ent, cnt * 8u))
                return NVME_SC_DATA_XFER_ERROR;
            for (unsigned k = 0; k < cnt; k++) {
                if (chained && i + k == slots - 1) {
                    next = ent[k];
                    break;
                }
                if (ent[k] & pmask)
                    return NVME_SC_INVALID_PRP_OFFSET | NVME_DNR;
                uint32_t chunk = rem < psz ? rem : (uint32_t)psz;
                if ((st = add_seg(segs, max_segs, &n, ent[k], chunk)))
                    return st;
                rem -= chunk;
            }
        }
        list = next;
    }
    *nsegs = n;
    return 0;
}
