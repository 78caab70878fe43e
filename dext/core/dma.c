/*
 * DMA map/unmap and the budget.
 *
 * The DART is the one place where a bad value can take the host down
 * (DESIGN.md section 3), so nothing reaches dma_prepare before the range is
 * checked for overflow and the budget is known to hold it.  The budget is
 * charged in whole 16 KiB pages, as the DART maps them: two 4 KiB buffers in
 * one host page cost two pages of budget, which is what the hardware limit
 * sees too.  Each limit has its own error so a client can tell "too many
 * mappings" (coalesce them) from "too many bytes" (unmap something).
 */
#include "core_internal.h"

static uint32_t check_segments(const struct vfa_dma_segment *segs, unsigned n, uint64_t len)
{
    uint64_t sum = 0;

    if (n == 0 || n > VFA_MAX_DMA_SEGMENTS)
        return VFA_E_IO;
    for (unsigned i = 0; i < n; i++) {
        if (!segs[i].len || segs[i].iova + segs[i].len < segs[i].iova)
            return VFA_E_IO;
        sum += segs[i].len;
        if (sum < segs[i].len)
            return VFA_E_IO;
    }
    return sum == len ? 0 : VFA_E_IO;
}

static uint32_t do_map(struct vfa_core *c, uint64_t client, uint64_t va, uint64_t len,
                       uint64_t flags, struct vfa_dma_map_out *out)
{
    const uint64_t pg = VFA_PAGE_SIZE;
    struct vfa_dma_segment segs[VFA_MAX_DMA_SEGMENTS];
    unsigned n = 0;
    uint64_t cookie = 0, handle;
    uint32_t rc;

    if (!len || !flags || (flags & ~(uint64_t)VFA_DMA_BIDIRECTIONAL))
        return VFA_E_INVAL;
    /* The end, rounded up to a page, must not wrap. */
    if (va + len < va || va + len > UINT64_MAX - (pg - 1))
        return VFA_E_INVAL;
    uint64_t first = va & ~(pg - 1);
    uint64_t end = (va + len + pg - 1) & ~(pg - 1);
    uint64_t acct = end - first;

    if (c->dma.live >= c->cfg.dma_max_mappings) {
        c->st.dma_fail_budget_maps++;
        return VFA_E_MFILE;
    }
    if (acct > c->cfg.dma_budget_bytes - c->dma_bytes) {
        c->st.dma_fail_budget_bytes++;
        return VFA_E_NOSPC;
    }

    rc = c->ops->dma_prepare(c->ctx, client, va, len, (uint32_t)flags, segs,
                             VFA_MAX_DMA_SEGMENTS, &n, &cookie);
    if (rc) {
        /* The platform may hit its own limits (fragmentation, the real
         * DART's); keep the budget errors distinct, anything else is I/O. */
        if (rc == VFA_E_NOSPC)
            c->st.dma_fail_budget_bytes++;
        else if (rc == VFA_E_MFILE)
            c->st.dma_fail_budget_maps++;
        else if (rc != VFA_E_FAULT && rc != VFA_E_NOMEM && rc != VFA_E_INVAL)
            rc = VFA_E_IO;
        return rc;
    }
    rc = check_segments(segs, n, len);
    if (rc) {
        c->ops->dma_complete(c->ctx, cookie);
        return rc;
    }

    struct vfa_dma_entry e = { .cookie = cookie, .va = va, .len = len, .acct_bytes = acct };
    rc = dma_reg_insert(&c->dma, &e, &handle);
    if (rc) {
        c->ops->dma_complete(c->ctx, cookie);
        return rc;
    }

    c->dma_bytes += acct;
    c->st.dma_maps++;
    c->st.dma_segments += n;
    c->st.dma_mapped_bytes = c->dma_bytes;
    c->st.dma_live_mappings = c->dma.live;
    if (c->dma_bytes > c->st.dma_peak_mapped_bytes)
        c->st.dma_peak_mapped_bytes = c->dma_bytes;
    if (c->dma.live > c->st.dma_peak_live_mappings)
        c->st.dma_peak_live_mappings = c->dma.live;

    out->handle = handle;
    out->nsegs = n;
    out->_pad = 0;
    for (unsigned i = 0; i < VFA_MAX_DMA_SEGMENTS; i++)
        out->segs[i] = i < n ? segs[i] : (struct vfa_dma_segment){ 0, 0 };
    return 0;
}

uint32_t dma_map(struct vfa_core *c, uint64_t client, uint64_t va, uint64_t len,
                 uint64_t flags, struct vfa_dma_map_out *out)
{
    uint32_t rc = do_map(c, client, va, len, flags, out);

    if (rc)
        c->st.dma_map_failures++;
    return rc;
}

static void release(struct vfa_core *c, struct vfa_dma_entry *e, uint64_t handle)
{
    c->ops->dma_complete(c->ctx, e->cookie);
    c->dma_bytes -= e->acct_bytes;
    dma_reg_remove(&c->dma, handle);
    c->st.dma_mapped_bytes = c->dma_bytes;
    c->st.dma_live_mappings = c->dma.live;
}

uint32_t dma_unmap(struct vfa_core *c, uint64_t handle)
{
    struct vfa_dma_entry *e = dma_reg_lookup(&c->dma, handle);

    if (!e)
        return VFA_E_NOENT;
    release(c, e, handle);
    c->st.dma_unmaps++;
    return 0;
}

unsigned dma_unmap_all(struct vfa_core *c)
{
    struct vfa_dma_entry *e;
    uint32_t pos = 0;
    unsigned n = 0;

    while ((e = dma_reg_next(&c->dma, &pos)) != NULL) {
        uint32_t idx = (uint32_t)(e - c->dma.slots);

        release(c, e, ((uint64_t)e->gen << 32) | (idx + 1));
        n++;
    }
    c->st.dma_cleanup_unmaps += n;
    return n;
}
