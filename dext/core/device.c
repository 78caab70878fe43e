/*
 * Device methods: identity, BAR info, trapped MMIO, expansion ROM, reset.
 *
 * MMIO has one policy beyond bounds (docs/config-policy.md, "MMIO"): the
 * MSI-X table and PBA belong to the host, which programmed the table with
 * its own message addresses.  MMIO_WRITE never reaches either of them and
 * MMIO_READ of the table answers 0, so a client can neither redirect nor
 * learn the host's interrupt addresses (QEMU emulates the guest's table).
 * PBA reads are forwarded: pending bits reveal nothing of the host's.
 * And no MMIO is issued while the device does not decode memory.
 */
#include <string.h>

#include "core_internal.h"

void dev_identity(struct vfa_core *c, struct vfa_identity *id)
{
    const struct vfa_platform_info *in = &c->info;

    memset(id, 0, sizeof(*id));
    id->vendor_id = in->vendor_id;
    id->device_id = in->device_id;
    id->subsys_vendor_id = in->subsys_vendor_id;
    id->subsys_id = in->subsys_id;
    id->class_code = in->class_code & 0xffffff;
    id->revision = in->revision;
    id->header_type = in->header_type;
    id->flags = (uint16_t)in->id_flags;
    if (in->config_size == 4096)
        id->flags |= VFA_ID_PCIE;
    if (in->reset_methods & VFA_RESET_FLR)
        id->flags |= VFA_ID_FLR;
    if (in->reset_methods & VFA_RESET_HOT)
        id->flags |= VFA_ID_HOT_RESET;
    id->domain = in->domain;
    id->bus = in->bus;
    id->dev = in->dev;
    id->fn = in->fn;
    memcpy(id->location, in->location, sizeof(id->location));
    id->location[sizeof(id->location) - 1] = 0;
    id->config_size = in->config_size;
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        if (!(in->bar_flags[i] & VFA_BAR_PRESENT))
            continue;
        id->num_bars++;
        id->bar_flags[i] = in->bar_flags[i] | (in->bar_trapped_pages[i] ? VFA_BAR_TRAPPED : 0);
        id->bar_size[i] = in->bar_size[i];
    }
    id->rom_size = in->rom_size;
    id->msi_vectors = in->msi_vectors;
    id->msix_vectors = in->msix_vectors;
    id->dma_budget_bytes = c->cfg.dma_budget_bytes;
    id->dma_max_mappings = c->cfg.dma_max_mappings;
    id->dma_page_size = VFA_PAGE_SIZE;
    id->dma_max_segments = VFA_MAX_DMA_SEGMENTS;
}

static bool bar_present(const struct vfa_core *c, uint64_t bar)
{
    return bar < VFA_NUM_BARS && (c->info.bar_flags[bar] & VFA_BAR_PRESENT) &&
           c->info.bar_size[bar];
}

uint32_t dev_bar_info(struct vfa_core *c, uint64_t bar, uint64_t *out)
{
    if (bar >= VFA_NUM_BARS)
        return VFA_E_RANGE;
    /* An absent BAR is an answer (flags 0), not an error: clients probe
     * all six. */
    out[0] = out[1] = out[2] = out[3] = 0;
    if (!bar_present(c, bar))
        return 0;
    out[0] = c->info.bar_flags[bar] | (c->info.bar_trapped_pages[bar] ? VFA_BAR_TRAPPED : 0);
    out[1] = c->info.bar_size[bar];
    out[2] = c->info.bar_memory_index[bar];
    out[3] = c->info.bar_trapped_pages[bar];
    return 0;
}

static uint32_t mmio_ok(const struct vfa_core *c, uint64_t bar, uint64_t off, uint64_t width)
{
    if (bar >= VFA_NUM_BARS)
        return VFA_E_RANGE;
    if (!bar_present(c, bar))
        return VFA_E_INVAL;
    if (width != 1 && width != 2 && width != 4 && width != 8)
        return VFA_E_INVAL;
    if (off % width)
        return VFA_E_INVAL;
    if (off >= c->info.bar_size[bar] || width > c->info.bar_size[bar] - off)
        return VFA_E_RANGE;
    return 0;
}

/* mmio_ok() bounded off + width by the BAR size, so the sum cannot wrap. */
static bool hits(const struct mmio_guard *g, uint64_t bar, uint64_t off, uint64_t width)
{
    return g->valid && g->bar == bar && off < g->end && g->start < off + width;
}

uint32_t dev_mmio_read(struct vfa_core *c, uint64_t bar, uint64_t off, uint64_t width,
                       uint64_t *val)
{
    uint32_t rc = mmio_ok(c, bar, off, width);

    if (rc)
        return rc;
    *val = 0;
    if (!cfg_mem_decoding(c)) {
        /* What a function that does not decode answers: all-ones. */
        *val = width < 8 ? (1ull << (width * 8)) - 1 : ~0ull;
        c->st.mmio_dropped++;
        return 0;
    }
    if (hits(&c->msix_table, bar, off, width)) {
        c->st.mmio_dropped++;
        return 0;
    }
    if (c->ops->mmio_read(c->ctx, (unsigned)bar, off, (unsigned)width, val))
        return VFA_E_IO;
    if (width < 8)
        *val &= (1ull << (width * 8)) - 1;
    return 0;
}

uint32_t dev_mmio_write(struct vfa_core *c, uint64_t bar, uint64_t off, uint64_t width,
                        uint64_t val)
{
    uint32_t rc = mmio_ok(c, bar, off, width);

    if (rc)
        return rc;
    if (width < 8 && (val >> (width * 8)))
        return VFA_E_INVAL;
    /* Dropped, not failed: like a config write the policy filters, this
     * is the host's business and the guest's driver must not notice. */
    if (!cfg_mem_decoding(c) || hits(&c->msix_table, bar, off, width) ||
        hits(&c->msix_pba, bar, off, width)) {
        c->st.mmio_dropped++;
        return 0;
    }
    return c->ops->mmio_write(c->ctx, (unsigned)bar, off, (unsigned)width, val) ? VFA_E_IO : 0;
}

uint32_t dev_rom_read(struct vfa_core *c, uint64_t off, uint64_t len, void *buf)
{
    if (!c->info.rom_size)
        return VFA_E_NOTSUP;
    if (len == 0 || len > VFA_MAX_STRUCT)
        return VFA_E_INVAL;
    if (off >= c->info.rom_size || len > c->info.rom_size - off)
        return VFA_E_RANGE;
    return c->ops->rom_read(c->ctx, off, buf, (uint32_t)len) ? VFA_E_IO : 0;
}

uint32_t dev_reset_any(struct vfa_core *c, uint32_t allowed, uint32_t *used)
{
    uint32_t avail = allowed & c->info.reset_methods;

    *used = 0;
    if (!avail) {
        c->st.reset_failures++;
        return VFA_E_NOTSUP;
    }
    /* FLR first: it touches only this function; hot reset takes the link
     * down and is the fallback for devices without FLR. */
    if ((avail & VFA_RESET_FLR) && !c->ops->reset(c->ctx, VFA_RESET_FLR)) {
        c->st.resets_flr++;
        *used = VFA_RESET_FLR;
        return 0;
    }
    if ((avail & VFA_RESET_HOT) && !c->ops->reset(c->ctx, VFA_RESET_HOT)) {
        c->st.resets_hot++;
        *used = VFA_RESET_HOT;
        return 0;
    }
    c->st.reset_failures++;
    return VFA_E_IO;
}

uint32_t dev_reset(struct vfa_core *c, uint64_t allowed, uint64_t *used)
{
    uint32_t u, rc;

    if (allowed & ~(uint64_t)(VFA_RESET_FLR | VFA_RESET_HOT))
        return VFA_E_INVAL;
    if (!allowed)
        allowed = VFA_RESET_FLR | VFA_RESET_HOT;
    rc = dev_reset_any(c, (uint32_t)allowed, &u);
    if (rc)
        return rc;
    /* The device lost its BARs, Command and MSI/MSI-X programming: clear
     * the BAR emulation as the hardware cleared its registers, restore
     * memory decoding for mapped BARs, and re-program the host-owned
     * interrupt vectors so the session's IRQ setup survives. */
    cfg_after_reset(c);
    irq_rearm(c);
    *used = u;
    return 0;
}
