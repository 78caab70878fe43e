/*
 * DMA registry: live mappings by handle.
 *
 * A slot table with a free list and a generation per slot.  The handle is
 * (generation << 32) | (slot + 1): lookup is one bounds check and one
 * compare, O(1), and a stale or forged handle (freed slot, reused slot,
 * out of range, 0) misses instead of hitting someone else's mapping.  The
 * table grows by doubling up to the live-mapping limit, so memory follows
 * the peak number of mappings, never more than the limit.
 */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

void dma_reg_init(struct vfa_dma_registry *r, uint32_t limit)
{
    memset(r, 0, sizeof(*r));
    r->limit = limit;
}

void dma_reg_fini(struct vfa_dma_registry *r)
{
    free(r->slots);
    memset(r, 0, sizeof(*r));
}

static uint32_t grow(struct vfa_dma_registry *r)
{
    uint32_t ncap = r->cap ? r->cap * 2 : 64;

    if (ncap > r->limit)
        ncap = r->limit;
    if (ncap <= r->cap)
        return VFA_E_MFILE;
    struct vfa_dma_entry *n = realloc(r->slots, (size_t)ncap * sizeof(*n));
    if (!n)
        return VFA_E_NOMEM;
    memset(n + r->cap, 0, (size_t)(ncap - r->cap) * sizeof(*n));
    /* Chain the new slots onto the free list, lowest index first. */
    for (uint32_t i = ncap; i > r->cap; i--) {
        n[i - 1].gen = 1;
        n[i - 1].next_free = r->free_head;
        r->free_head = i;
    }
    r->slots = n;
    r->cap = ncap;
    return 0;
}

uint32_t dma_reg_insert(struct vfa_dma_registry *r, const struct vfa_dma_entry *e,
                        uint64_t *handle)
{
    if (r->live >= r->limit)
        return VFA_E_MFILE;
    if (!r->free_head) {
        uint32_t rc = grow(r);
        if (rc)
            return rc;
    }
    uint32_t idx = r->free_head - 1;
    struct vfa_dma_entry *s = &r->slots[idx];
    uint32_t gen = s->gen;

    r->free_head = s->next_free;
    *s = *e;
    s->gen = gen;
    s->next_free = 0;
    s->used = true;
    r->live++;
    *handle = ((uint64_t)gen << 32) | (idx + 1);
    return 0;
}

struct vfa_dma_entry *dma_reg_lookup(struct vfa_dma_registry *r, uint64_t handle)
{
    uint64_t idx1 = handle & 0xffffffffu;
    uint32_t gen = handle >> 32;

    if (idx1 == 0 || idx1 > r->cap)
        return NULL;
    struct vfa_dma_entry *s = &r->slots[idx1 - 1];
    if (!s->used || s->gen != gen)
        return NULL;
    return s;
}

void dma_reg_remove(struct vfa_dma_registry *r, uint64_t handle)
{
    struct vfa_dma_entry *s = dma_reg_lookup(r, handle);

    if (!s)
        return;
    s->used = false;
    /* Generation 0 is never issued, so handles are never 0. */
    s->gen = s->gen + 1 ? s->gen + 1 : 1;
    s->next_free = r->free_head;
    r->free_head = (uint32_t)(s - r->slots) + 1;
    r->live--;
}

struct vfa_dma_entry *dma_reg_next(struct vfa_dma_registry *r, uint32_t *pos)
{
    for (; *pos < r->cap; (*pos)++) {
        if (r->slots[*pos].used)
            return &r->slots[(*pos)++];
    }
    return NULL;
}
