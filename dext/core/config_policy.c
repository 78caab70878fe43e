/*
 * Config space policy (DESIGN.md section 3, docs/config-policy.md): which
 * guest config writes may reach the real device.  An allow-list: every
 * byte is dropped unless this file says otherwise.
 *
 * Each byte of config space gets a class once, when the core is created,
 * from the header layout and a walk of the standard and extended
 * capability lists (include/vfio-apple/pci-cfg.h; bounded, loop-safe):
 *   - header: Command (guest bits only, memory space virtualised),
 *     cache line size and latency timer (forwarded: no effect on PCIe),
 *     BARs and ROM BAR (emulated), interrupt line (emulated); the rest,
 *     Status included, dropped;
 *   - Power Management: the power-state field of PMCSR (virtualised while
 *     a BAR is mapped); PME enable/status and data select dropped;
 *   - MSI and MSI-X: host-owned, dropped, and no quirk can open them;
 *   - everything else, standard or extended, known or not: dropped, unless
 *     a quirk (quirks.c) opens a range of it for this device.
 * Precedence makes overlapping capabilities harmless: host-owned bytes win
 * over everything, and every other class only claims bytes still dropped
 * by default, so one capability can never open another's registers.
 *
 * The walk also finds the MSI-X table and PBA, which device.c keeps MMIO
 * away from; a capability that does not describe them sanely makes the
 * core refuse MSI-X.
 */
#include <string.h>

#include "core_internal.h"

uint32_t cfg_raw_rd(void *core, uint32_t off, unsigned width)
{
    struct vfa_core *c = core;
    uint32_t v = 0;

    /* Offsets here come from the device's own pointers: bound them before
     * the platform sees them (its ops are promised valid accesses). */
    if ((width != 1 && width != 2 && width != 4) || off % width ||
        !vfa_pci_cap_fits(off, width, c->info.config_size))
        return width >= 4 ? 0xffffffffu : (1u << (width * 8)) - 1;
    if (c->ops->config_read(c->ctx, off, width, &v))
        v = 0xffffffffu;
    return width == 4 ? v : v & ((1u << (width * 8)) - 1);
}

/* Unconditionally: used for the header and host-owned capabilities. */
static void mark(struct vfa_core *c, uint32_t off, uint32_t len, uint8_t cls)
{
    for (uint32_t i = off; i < off + len && i < c->info.config_size; i++)
        c->cfg_class[i] = cls;
}

/* A host-owned standard capability, as far as it lies in standard space
 * (a truncated one is still the host's as far as it goes). */
static void mark_host_std(struct vfa_core *c, uint32_t pos, uint32_t len)
{
    mark(c, pos, len < VFA_PCI_CFG_SIZE - pos ? len : VFA_PCI_CFG_SIZE - pos, CFG_HOST);
}

/* Only bytes nothing has claimed yet (see precedence above). */
static void claim(struct vfa_core *c, uint32_t off, uint32_t len, uint8_t cls, uint8_t wmask)
{
    for (uint32_t i = off; i < off + len && i < c->info.config_size; i++) {
        if (c->cfg_class[i] != CFG_DROP)
            continue;
        c->cfg_class[i] = cls;
        c->cfg_wmask[i] = wmask;
    }
}

static void note_cap_start(struct vfa_core *c, uint32_t pos)
{
    c->cap_start[pos / 4 / 64] |= 1ull << (pos / 4 % 64);
}

/* First capability start after pos, or limit. */
static uint32_t next_cap_start(const struct vfa_core *c, uint32_t pos, uint32_t limit)
{
    for (uint32_t p = (pos & ~3u) + 4; p < limit; p += 4) {
        if (c->cap_start[p / 4 / 64] & (1ull << (p / 4 % 64)))
            return p;
    }
    return limit;
}

/* ---- pass 1: what the core itself knows about each capability ---- */

struct std_walk {
    struct vfa_core *c;
    bool pm_seen;
};

static int std_cap(void *opaque, unsigned id, uint32_t pos)
{
    struct std_walk *w = opaque;
    struct vfa_core *c = w->c;

    note_cap_start(c, pos);
    switch (id) {
    case VFA_PCI_CAP_ID_PM:
        /* Only the first one counts: that is the one the host's PCI stack
         * uses.  Its PMCSR must lie inside standard space; one squeezed
         * against 0x100 is malformed and gets nothing forwarded. */
        if (w->pm_seen)
            break;
        w->pm_seen = true;
        if (!vfa_pci_cap_fits(pos, VFA_PCI_PM_SIZE, VFA_PCI_CFG_SIZE))
            break;
        c->pm_cap = (uint16_t)pos;
        c->pm_pmc = (uint16_t)cfg_raw_rd(c, pos + VFA_PCI_PM_PMC, 2);
        /* Byte 0 of PMCSR holds the power state and otherwise only
         * read-only/reserved bits; byte 1 holds PME status, which is
         * write-1-to-clear, so it is never written back. */
        claim(c, pos + VFA_PCI_PM_CTRL, 1, CFG_PMCSR, VFA_PCI_PM_CTRL_STATE_MASK);
        break;
    case VFA_PCI_CAP_ID_MSI: {
        uint32_t flags = cfg_raw_rd(c, pos + VFA_PCI_MSI_FLAGS, 2);

        /* Unreadable flags: assume the largest layout. */
        if (flags == 0xffffu)
            flags = VFA_PCI_MSI_FLAGS_64BIT | VFA_PCI_MSI_FLAGS_MASKBIT;
        mark_host_std(c, pos, vfa_pci_msi_size(flags));
        if (!c->msi_cap)
            c->msi_cap = (uint16_t)pos;
        break;
    }
    case VFA_PCI_CAP_ID_MSIX:
        mark_host_std(c, pos, VFA_PCI_MSIX_SIZE);
        if (!c->msix_cap)
            c->msix_cap = (uint16_t)pos;
        break;
    case VFA_PCI_CAP_ID_EXP:
        /* Nothing in it is forwarded (Device/Link/Slot/Root Control and
         * their second versions are the host's): found for reference. */
        if (!c->pcie_cap)
            c->pcie_cap = (uint16_t)pos;
        break;
    }
    return 0;
}

static int ext_cap(void *opaque, unsigned id, uint32_t pos)
{
    struct vfa_core *c = opaque;

    /* No extended capability has a register the guest may write by
     * default (docs/config-policy.md says why, one by one); the walk
     * records where each begins so quirk ranges stop there. */
    note_cap_start(c, pos);
    return 0;
}

/* ---- MSI-X table and PBA ---- */

static bool bar_usable(const struct vfa_core *c, unsigned bar)
{
    return bar < VFA_NUM_BARS && (c->info.bar_flags[bar] & VFA_BAR_PRESENT) &&
           c->info.bar_size[bar];
}

/*
 * Guard what a table/PBA register claims: as much of [offset, offset+size)
 * as lies in a present BAR.  Returns whether all of it does.  No sum can
 * wrap: the offset is 32-bit and size at most 32 KiB, added in 64 bits.
 */
static bool guard_claim(const struct vfa_core *c, struct mmio_guard *g, uint32_t reg,
                        uint32_t size)
{
    unsigned bir = reg & VFA_PCI_MSIX_BIR_MASK;
    uint64_t off = reg & VFA_PCI_MSIX_OFFSET_MASK;

    memset(g, 0, sizeof(*g));
    /* BIR 6 and 7 are reserved; a BIR naming an absent BAR (or the upper
     * half of a 64-bit one) points at nothing the CPU can reach. */
    if (!bar_usable(c, bir) || off >= c->info.bar_size[bir])
        return false;
    g->valid = true;
    g->bar = (uint8_t)bir;
    g->start = off;
    g->end = off + size <= c->info.bar_size[bir] ? off + size : c->info.bar_size[bir];
    return off + size <= c->info.bar_size[bir];
}

/*
 * MSI-X is offered only when the core knows where its table is and can
 * keep MMIO away from it.  Otherwise it is refused (no vectors): the host
 * then never programs a table, so no host message address or data sits in
 * one to leak or to overwrite, and the guest falls back to MSI or fails
 * its probe with a clear "no MSI-X" rather than corrupting the device.
 * Whatever part of a bad claim does fall inside a BAR is still guarded.
 */
static void msix_locate(struct vfa_core *c)
{
    uint32_t pos = c->msix_cap, flags, table, pba;
    bool ok;

    memset(&c->msix_table, 0, sizeof(c->msix_table));
    memset(&c->msix_pba, 0, sizeof(c->msix_pba));
    if (!pos || !vfa_pci_cap_fits(pos, VFA_PCI_MSIX_SIZE, VFA_PCI_CFG_SIZE)) {
        /* No capability (or one whose table fields run past 0x100): a
         * platform claiming vectors anyway is not believed. */
        c->info.msix_vectors = 0;
        return;
    }
    flags = cfg_raw_rd(c, pos + VFA_PCI_MSIX_FLAGS, 2);
    table = cfg_raw_rd(c, pos + VFA_PCI_MSIX_TABLE, 4);
    pba = cfg_raw_rd(c, pos + VFA_PCI_MSIX_PBA, 4);
    ok = flags != 0xffffu;
    ok &= guard_claim(c, &c->msix_table, table, vfa_pci_msix_table_size(flags));
    ok &= guard_claim(c, &c->msix_pba, pba, vfa_pci_msix_pba_size(flags));
    if (!ok) {
        c->info.msix_vectors = 0;
        return;
    }
    /* The host cannot program more entries than the table has. */
    if (c->info.msix_vectors > vfa_pci_msix_vectors(flags))
        c->info.msix_vectors = vfa_pci_msix_vectors(flags);
}

/* MSI likewise: only with a capability the core protects. */
static void msi_check(struct vfa_core *c)
{
    uint32_t flags, mmc;

    if (!c->msi_cap) {
        c->info.msi_vectors = 0;
        return;
    }
    flags = cfg_raw_rd(c, c->msi_cap + VFA_PCI_MSI_FLAGS, 2);
    mmc = (flags >> 1) & 7;             /* log2 of vectors it can request */
    if (flags == 0xffffu || mmc > 5) {  /* 6 and 7 are reserved */
        c->info.msi_vectors = 0;
        return;
    }
    if (c->info.msi_vectors > (1u << mmc))
        c->info.msi_vectors = 1u << mmc;
}

/* ---- pass 2: quirk ranges ---- */

struct quirk_walk {
    struct vfa_core *c;
    const struct vfa_quirk *q;
};

/*
 * Where capability `id` at pos ends, for clipping quirk ranges: its own
 * length field where it has one (vendor-specific, VSEC, DVSEC), else the
 * next capability's start, else the end of its space.
 */
static uint32_t cap_end(struct vfa_core *c, unsigned id, uint32_t pos, bool ext)
{
    uint32_t limit = ext ? c->info.config_size : VFA_PCI_CFG_SIZE;
    uint32_t end = next_cap_start(c, pos, limit), len = 0;

    if (!ext && id == VFA_PCI_CAP_ID_VNDR)
        len = cfg_raw_rd(c, pos + VFA_PCI_VNDR_LEN, 1);
    else if (ext && (id == VFA_PCI_EXT_CAP_ID_VNDR || id == VFA_PCI_EXT_CAP_ID_DVSEC))
        len = vfa_pci_vsec_len(cfg_raw_rd(c, pos + VFA_PCI_VSEC_HDR, 4));
    /* All-ones is a failed read, not a length. */
    if (len && len != 0xffu && len != 0xfffu && len < end - pos)
        end = pos + len;
    return end;
}

static bool vsec_matches(struct vfa_core *c, unsigned id, uint32_t pos, int32_t want)
{
    uint32_t v;

    if (want == VFA_QUIRK_ANY_VSEC)
        return true;
    if (id == VFA_PCI_EXT_CAP_ID_VNDR)
        v = cfg_raw_rd(c, pos + VFA_PCI_VSEC_HDR, 4);
    else if (id == VFA_PCI_EXT_CAP_ID_DVSEC)
        v = cfg_raw_rd(c, pos + VFA_PCI_DVSEC_HDR2, 4);
    else
        return true;            /* no ID to match on other capabilities */
    return v != 0xffffffffu && vfa_pci_vsec_id(v) == (uint32_t)want;
}

static int quirk_cap(struct quirk_walk *w, unsigned id, uint32_t pos, bool ext)
{
    struct vfa_core *c = w->c;
    const struct vfa_quirk *q = w->q;
    /* A creator's quirk is outside data: its count is bounded here. */
    uint32_t n = q->nallow < VFA_MAX_QUIRK_ALLOW ? q->nallow : VFA_MAX_QUIRK_ALLOW;

    for (uint32_t i = 0; i < n; i++) {
        const struct vfa_quirk_allow *a = &q->allow[i];

        if (!a->ext != !ext || a->cap_id != id || !a->bits || !a->len)
            continue;
        if (ext && !vsec_matches(c, id, pos, a->vsec_id))
            continue;
        uint32_t end = cap_end(c, id, pos, ext);
        if (a->off >= end - pos)
            continue;
        uint32_t start = pos + a->off;
        uint32_t len = a->len < end - start ? a->len : end - start;
        claim(c, start, len, a->bits == 0xff ? CFG_FORWARD : CFG_MASKED, a->bits);
    }
    return 0;
}

static int quirk_std_cap(void *opaque, unsigned id, uint32_t pos)
{
    return quirk_cap(opaque, id, pos, false);
}

static int quirk_ext_cap(void *opaque, unsigned id, uint32_t pos)
{
    return quirk_cap(opaque, id, pos, true);
}

static void apply_quirk(struct vfa_core *c, const struct vfa_quirk *q, void *arg)
{
    struct quirk_walk w = { c, q };

    (void)arg;
    c->quirk_flags |= q->flags;
    if (!q->allow || !q->nallow)
        return;
    vfa_pci_for_each_cap(cfg_raw_rd, c, quirk_std_cap, &w);
    vfa_pci_for_each_ext_cap(cfg_raw_rd, c, c->info.config_size, quirk_ext_cap, &w);
}

void cfg_policy_build(struct vfa_core *c)
{
    memset(c->cfg_class, CFG_DROP, sizeof(c->cfg_class));
    memset(c->cfg_wmask, 0, sizeof(c->cfg_wmask));
    memset(c->cap_start, 0, sizeof(c->cap_start));
    c->msi_cap = c->msix_cap = c->pcie_cap = c->pm_cap = 0;
    c->quirk_flags = 0;

    /* The header is the host's except for what follows; marking it host-
     * owned keeps quirks out of it whatever a capability claims. */
    mark(c, 0, VFA_PCI_STD_HEADER_SIZE, CFG_HOST);
    mark(c, VFA_PCI_COMMAND, 2, CFG_COMMAND);
    /* Cache line size and latency timer: no effect on a PCIe function
     * (the spec keeps them for software compatibility), and drivers
     * write them (pci_set_mwi, pcibios). */
    mark(c, VFA_PCI_CACHE_LINE_SIZE, 1, CFG_FORWARD);
    mark(c, VFA_PCI_LATENCY_TIMER, 1, CFG_FORWARD);
    mark(c, VFA_PCI_BASE_ADDRESS_0, VFA_PCI_BASE_ADDRESS_END - VFA_PCI_BASE_ADDRESS_0, CFG_BAR);
    mark(c, VFA_PCI_ROM_ADDRESS, 4, CFG_BAR);
    mark(c, VFA_PCI_INTERRUPT_LINE, 1, CFG_EMUL);

    struct std_walk w = { c, false };
    vfa_pci_for_each_cap(cfg_raw_rd, c, std_cap, &w);
    vfa_pci_for_each_ext_cap(cfg_raw_rd, c, c->info.config_size, ext_cap, c);
    msix_locate(c);
    msi_check(c);
    quirks_for_each(c, apply_quirk, NULL);
}
