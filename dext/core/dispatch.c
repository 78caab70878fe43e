/*
 * The method dispatcher: the one entry point a transport calls.
 *
 * Order of checks, before any platform op runs: selector known; argument
 * shape (scalar and struct counts, from the ABI's method table); session
 * ownership; device presence; then the method's own argument checks.
 * Every call is counted by selector, failures separately.
 */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

struct method {
    uint8_t  sin_min, sin_max, sout, sout_max;
    uint32_t struct_in, struct_out;
    uint32_t flags;
};

static const struct method methods[VFA_SEL_COUNT] = {
#define M(name, sel, a, b, so, so_max, si, sout_, f) \
    [sel] = { .sin_min = a, .sin_max = b, .sout = so, .sout_max = so_max, \
              .struct_in = si, .struct_out = sout_, .flags = f },
    VFA_METHODS(M)
#undef M
};

/*
 * The MSI-X table and PBA are the host's (it programmed them): their
 * pages are trapped whatever the platform says, so a client never
 * reaches them through a BAR mapping, only through MMIO_READ/WRITE,
 * which device.c guards.  A table the 64-page bitmap cannot express makes
 * its BAR unmappable instead.
 */
static void trap_one(struct vfa_core *c, const struct mmio_guard *g)
{
    uint64_t first, last;

    if (!g->valid || g->end <= g->start)
        return;
    first = g->start / VFA_PAGE_SIZE;
    last = (g->end - 1) / VFA_PAGE_SIZE;
    if (last >= 64) {
        c->info.bar_flags[g->bar] &= ~(uint32_t)VFA_BAR_MAPPABLE;
        return;
    }
    for (uint64_t p = first; p <= last; p++)
        c->info.bar_trapped_pages[g->bar] |= 1ull << p;
}

static void trap_msix_pages(struct vfa_core *c)
{
    trap_one(c, &c->msix_table);
    trap_one(c, &c->msix_pba);
}

struct vfa_core *vfa_core_create(const struct vfa_platform_ops *ops, void *ctx,
                                 const struct vfa_core_config *cfg, uint32_t *err)
{
    struct vfa_core *c = calloc(1, sizeof(*c));

    *err = 0;
    if (!c) {
        *err = VFA_E_NOMEM;
        return NULL;
    }
    c->ops = ops;
    c->ctx = ctx;
    if (cfg)
        c->cfg = *cfg;
    if (!c->cfg.dma_budget_bytes)
        c->cfg.dma_budget_bytes = VFA_DEFAULT_DMA_BUDGET_BYTES;
    if (!c->cfg.dma_max_mappings)
        c->cfg.dma_max_mappings = VFA_DEFAULT_DMA_MAX_MAPPINGS;
    if (ops->get_info(ctx, &c->info)) {
        free(c);
        *err = VFA_E_IO;
        return NULL;
    }
    /* The platform is trusted less than its author thinks: clamp what the
     * validation below relies on. */
    if (c->info.config_size != 256 && c->info.config_size != 4096)
        c->info.config_size = 256;
    if (c->info.msix_vectors > VFA_MAX_VECTORS)
        c->info.msix_vectors = VFA_MAX_VECTORS;
    if (c->info.msi_vectors > 32)
        c->info.msi_vectors = 32;
    c->info.location[sizeof(c->info.location) - 1] = 0;
    /* A 64-bit BAR takes the next register too: whatever the platform
     * says of that one is dropped (PCIDriverKit's GetBARInfo is not
     * documented to fail for it), and BAR 5 has no next register. */
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        if (!(c->info.bar_flags[i] & VFA_BAR_PRESENT) || !(c->info.bar_flags[i] & VFA_BAR_MEM64))
            continue;
        if (i + 1 == VFA_NUM_BARS) {
            c->info.bar_flags[i] = 0;
            c->info.bar_size[i] = 0;
            break;
        }
        i++;
        c->info.bar_flags[i] = 0;
        c->info.bar_size[i] = 0;
        c->info.bar_trapped_pages[i] = 0;
    }
    /* The policy (and the MSI/MSI-X vector counts it vouches for), then
     * the quirks' flags; the creator's quirk table is not kept. */
    cfg_policy_build(c);
    if (c->quirk_flags & VFA_QUIRK_NO_BIND) {
        /* Nothing was written to the device: the platform may leave the
         * function to whoever else wants it. */
        free(c);
        *err = VFA_E_NOTSUP;
        return NULL;
    }
    trap_msix_pages(c);
    if (c->quirk_flags & VFA_QUIRK_NO_FLR)
        c->info.reset_methods &= ~(uint32_t)VFA_RESET_FLR;
    c->cfg.quirks = NULL;
    c->cfg.nquirks = 0;
    dma_reg_init(&c->dma, c->cfg.dma_max_mappings);
    c->st.size = sizeof(c->st);
    c->st.nselectors = VFA_SEL_COUNT;
    return c;
}

void vfa_core_destroy(struct vfa_core *c)
{
    if (!c)
        return;
    session_cleanup(c);
    dma_reg_fini(&c->dma);
    free(c);
}

void vfa_core_get_stats(struct vfa_core *c, struct vfa_stats *out)
{
    memcpy(out, &c->st, sizeof(*out));
    /* Fields the interrupt path updates concurrently. */
    out->irq_received = __atomic_load_n(&c->st.irq_received, __ATOMIC_RELAXED);
    out->irq_latched = __atomic_load_n(&c->st.irq_latched, __ATOMIC_RELAXED);
    out->irq_coalesced = __atomic_load_n(&c->st.irq_coalesced, __ATOMIC_RELAXED);
    out->notifications = __atomic_load_n(&c->st.notifications, __ATOMIC_RELAXED);
}

uint32_t vfa_core_map_memory(struct vfa_core *c, uint64_t client, uint32_t type,
                             void **handle, uint64_t *size)
{
    if (!client || c->owner != client)
        return VFA_E_PERM;
    if (core_gone(c))
        return VFA_E_NODEV;
    if (type < VFA_NUM_BARS) {
        uint32_t f = c->info.bar_flags[type];

        if (!(f & VFA_BAR_PRESENT) || !c->info.bar_size[type])
            return VFA_E_INVAL;
        if (!(f & VFA_BAR_MAPPABLE))
            return VFA_E_NOTSUP;
        /* The mapping cannot be revoked until the session ends, so the
         * device decodes memory from now on (config_access.c). */
        uint32_t rc = cfg_prepare_map(c);
        if (rc)
            return rc;
    } else if (type != VFA_MEM_IRQ_PAGE) {
        return VFA_E_INVAL;
    }
    if (c->ops->map_memory(c->ctx, client, type, handle, size))
        return VFA_E_IO;
    if (type < VFA_NUM_BARS)
        c->bars_mapped |= (uint8_t)(1u << type);
    c->st.memory_maps++;
    return 0;
}

static uint32_t check_shape(const struct method *m, const struct vfa_call *call, uint64_t *in)
{
    if (call->nscalars_in > VFA_MAX_SCALARS || call->nscalars_in < m->sin_min)
        return VFA_E_PROTO;
    if (call->nscalars_in && !call->scalars_in)
        return VFA_E_PROTO;
    for (uint32_t i = 0; i < call->nscalars_in; i++) {
        /* Inputs this dext does not know are tolerated only when zero:
         * zero is the "old meaning" of every appended input. */
        if (i >= m->sin_max && call->scalars_in[i])
            return VFA_E_PROTO;
        if (i < m->sin_max)
            in[i] = call->scalars_in[i];
    }
    if (call->struct_in_len != m->struct_in || (call->struct_in_len && !call->struct_in))
        return VFA_E_PROTO;
    if (call->nscalars_out < m->sout || (m->sout && !call->scalars_out))
        return VFA_E_PROTO;
    if (call->struct_out_len > VFA_MAX_STRUCT || (call->struct_out_len && !call->struct_out))
        return VFA_E_PROTO;
    if (!m->struct_out && call->struct_out_len)
        return VFA_E_PROTO;
    return 0;
}

/* Copy a fixed-size result, truncated to the caller's capacity (older
 * clients know a shorter struct; see the growth rule in dext-abi.h). */
static void put_struct(struct vfa_call *call, const void *src, uint32_t len)
{
    uint32_t n = call->struct_out_len < len ? call->struct_out_len : len;

    if (n)
        memcpy(call->struct_out, src, n);
    call->struct_out_len = n;
}

static uint32_t run(struct vfa_core *c, uint64_t client, struct vfa_call *call,
                    const uint64_t *in, uint64_t *out)
{
    uint32_t rc, u32;

    switch (call->selector) {
    case VFA_SEL_GET_VERSION:
        out[0] = VFA_ABI_MAJOR;
        out[1] = VFA_ABI_MINOR;
        out[2] = 0;             /* feature bits: none beyond 1.0 yet */
        return 0;
    case VFA_SEL_GET_IDENTITY: {
        struct vfa_identity id;

        dev_identity(c, &id);
        put_struct(call, &id, sizeof(id));
        return 0;
    }
    case VFA_SEL_OPEN:
        return session_open(c, client, in, out);
    case VFA_SEL_CLOSE:
        return session_close(c, client);
    case VFA_SEL_CONFIG_READ:
        if (in[0] > UINT32_MAX || in[1] > 4)
            return in[1] > 4 ? VFA_E_INVAL : VFA_E_RANGE;
        rc = cfg_read(c, (uint32_t)in[0], (unsigned)in[1], &u32);
        if (!rc) {
            out[0] = u32;
            c->st.config_reads++;
        }
        return rc;
    case VFA_SEL_CONFIG_READ_BLOCK:
        if (in[0] > UINT32_MAX || in[1] > VFA_MAX_STRUCT)
            return in[1] > VFA_MAX_STRUCT ? VFA_E_INVAL : VFA_E_RANGE;
        if (call->struct_out_len < in[1])
            return VFA_E_INVAL;
        rc = cfg_read_block(c, (uint32_t)in[0], (uint32_t)in[1], call->struct_out);
        if (rc)
            return rc;
        call->struct_out_len = (uint32_t)in[1];
        c->st.config_reads++;
        c->st.config_block_bytes += in[1];
        return 0;
    case VFA_SEL_CONFIG_WRITE:
        if (in[1] > 4 || (in[2] >> (in[1] * 8)))
            return VFA_E_INVAL;
        if (in[0] > UINT32_MAX)
            return VFA_E_RANGE;
        rc = cfg_write(c, (uint32_t)in[0], (unsigned)in[1], (uint32_t)in[2], &u32);
        if (rc)
            return rc;
        out[0] = u32;
        c->st.config_writes++;
        /* 1.1: what a read now returns, so the client need not ask. */
        rc = cfg_read(c, (uint32_t)in[0], (unsigned)in[1], &u32);
        if (rc)
            return rc;
        out[1] = u32;
        return 0;
    case VFA_SEL_BAR_INFO:
        return dev_bar_info(c, in[0], out);
    case VFA_SEL_MMIO_READ:
        rc = dev_mmio_read(c, in[0], in[1], in[2], &out[0]);
        if (!rc)
            c->st.mmio_reads++;
        return rc;
    case VFA_SEL_MMIO_WRITE:
        rc = dev_mmio_write(c, in[0], in[1], in[2], in[3]);
        if (!rc)
            c->st.mmio_writes++;
        return rc;
    case VFA_SEL_IRQ_SETUP:
        return irq_setup(c, in[0], in[1], &out[0]);
    case VFA_SEL_IRQ_ENABLE:
        return irq_enable(c, in[0], in[1], in[2]);
    case VFA_SEL_RESET:
        return dev_reset(c, in[0], &out[0]);
    case VFA_SEL_DMA_MAP: {
        struct vfa_dma_map_out mo;

        /* Segment lists go back whole or not at all. */
        if (call->struct_out_len < sizeof(mo))
            return VFA_E_INVAL;
        rc = dma_map(c, client, in[0], in[1], in[2], &mo);
        if (!rc)
            put_struct(call, &mo, sizeof(mo));
        return rc;
    }
    case VFA_SEL_DMA_UNMAP:
        return dma_unmap(c, in[0]);
    case VFA_SEL_ROM_READ:
        if (in[1] > VFA_MAX_STRUCT)
            return VFA_E_INVAL;
        if (call->struct_out_len < in[1])
            return VFA_E_INVAL;
        rc = dev_rom_read(c, in[0], in[1], call->struct_out);
        if (rc)
            return rc;
        call->struct_out_len = (uint32_t)in[1];
        c->st.rom_reads++;
        return 0;
    case VFA_SEL_GET_STATS: {
        struct vfa_stats s;

        vfa_core_get_stats(c, &s);
        put_struct(call, &s, sizeof(s));
        return 0;
    }
    case VFA_SEL_NOTIFY_REGISTER:
        c->notify_registered = true;
        return 0;
    }
    return VFA_E_NOSYS;
}

uint32_t vfa_core_dispatch(struct vfa_core *c, uint64_t client, struct vfa_call *call)
{
    uint64_t in[VFA_MAX_SCALARS] = { 0 }, out[VFA_MAX_SCALARS] = { 0 };
    uint32_t sel, rc;
    const struct method *m;

    if (!call)
        return VFA_E_INVAL;
    sel = call->selector;
    if (sel >= VFA_SEL_COUNT) {
        c->st.bad_selector++;
        call->nscalars_out = 0;
        call->struct_out_len = 0;
        return VFA_E_NOSYS;
    }
    m = &methods[sel];
    c->st.calls[sel]++;

    rc = check_shape(m, call, in);
    if (rc) {
        c->st.bad_shape++;
        goto fail;
    }
    if ((m->flags & VFA_MF_SESSION) && (!client || c->owner != client)) {
        rc = VFA_E_PERM;
        goto fail;
    }
    if (sel == VFA_SEL_OPEN && !client) {
        rc = VFA_E_INVAL;
        goto fail;
    }
    if ((m->flags & VFA_MF_DEVICE) && core_gone(c)) {
        rc = VFA_E_NODEV;
        goto fail;
    }
    /* Methods with fixed struct outputs set the filled length themselves;
     * start from "nothing filled" for the others. */
    uint32_t cap = call->struct_out_len;
    if (!m->struct_out)
        call->struct_out_len = 0;
    rc = run(c, client, call, in, out);
    if (rc) {
        call->struct_out_len = cap;
        goto fail;
    }
    /* As many outputs as this minor has, as far as the caller has room
     * (at least the 1.0 count: check_shape()). */
    unsigned nout = call->nscalars_out < m->sout_max ? call->nscalars_out : m->sout_max;
    for (unsigned i = 0; i < nout; i++)
        call->scalars_out[i] = out[i];
    call->nscalars_out = nout;
    return 0;

fail:
    c->st.errors[sel]++;
    call->nscalars_out = 0;
    call->struct_out_len = 0;
    return rc;
}
