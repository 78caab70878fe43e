/*
 * Config reads and writes through the policy that config_policy.c built,
 * and the session's virtual registers:
 *   - BAR registers and the ROM BAR are emulated: on Apple Silicon the
 *     device's own BARs hold translated host addresses with unreliable
 *     type bits, and the host owns them anyway.  Reads are synthesised
 *     from the BAR info and a per-session shadow, so the usual sizing
 *     dance (write ~0, read back) works without touching the device.
 *   - The interrupt line is a per-session scratch byte (there is no INTx
 *     on Apple Silicon; the real register is the host firmware's).
 *   - Memory decoding (docs/config-policy.md, "Memory space"): macOS
 *     cannot revoke a client's mapping of a BAR, and a CPU access to a BAR
 *     the device no longer decodes can end in an SError.  So once a BAR is
 *     mapped in a session, the device keeps decoding until the session
 *     ends: a guest clearing memory-space enable, or moving the function
 *     out of D0, changes only the guest's view (reads of Command and PMCSR
 *     return it); bus-master enable is always forwarded, because clearing
 *     it is what stops DMA.  MMIO methods are not issued while the device
 *     does not decode (device.c asks cfg_mem_decoding()).
 * Writes are split into naturally aligned pieces around dropped bytes
 * rather than read-modify-written, so no write-1-to-clear bit is ever
 * written back; the only read-modify-writes are of bytes that hold no
 * such bits (Command, PMCSR byte 0, CFG_MASKED quirk bytes).
 */
#include "core_internal.h"

static int raw_read(struct vfa_core *c, uint32_t off, unsigned width, uint32_t *val)
{
    *val = 0;
    return c->ops->config_read(c->ctx, off, width, val);
}

/* ---- session state ---- */

void cfg_session_reset(struct vfa_core *c)
{
    for (unsigned i = 0; i < VFA_NUM_BARS; i++)
        c->bar_shadow[i] = 0;
    c->rom_shadow = 0;
}

/* The guest's view of Command and PMCSR follows the device again. */
static void sync_from_device(struct vfa_core *c)
{
    uint32_t v;

    /* A failed read counts as "not decoding": MMIO is then withheld,
     * the safe side for a device that stopped answering. */
    c->mse_dev = !raw_read(c, VFA_PCI_COMMAND, 2, &v) && (v & VFA_PCI_COMMAND_MEMORY);
    c->mse_virt = c->mse_dev;
    c->pm_dev = VFA_PCI_PM_D0;
    if (c->pm_cap) {
        c->pm_dev = raw_read(c, c->pm_cap + VFA_PCI_PM_CTRL, 2, &v) ? VFA_PCI_PM_D3HOT
                    : (uint8_t)(v & VFA_PCI_PM_CTRL_STATE_MASK);
    }
    c->pm_virt = c->pm_dev;
}

void cfg_session_open(struct vfa_core *c)
{
    uint32_t v;

    cfg_session_reset(c);
    c->bars_mapped = 0;
    c->pm_saved = false;
    sync_from_device(c);
    c->intr_line = raw_read(c, VFA_PCI_INTERRUPT_LINE, 1, &v) ? 0 : (uint8_t)v;
}

/* Set the device's memory-space enable, leaving every other bit alone. */
static uint32_t force_decode(struct vfa_core *c)
{
    uint32_t cmd;

    if (raw_read(c, VFA_PCI_COMMAND, 2, &cmd))
        return VFA_E_IO;
    if (!(cmd & VFA_PCI_COMMAND_MEMORY) &&
        c->ops->config_write(c->ctx, VFA_PCI_COMMAND, 2,
                             (cmd | VFA_PCI_COMMAND_MEMORY) & 0xffffu))
        return VFA_E_IO;
    c->mse_dev = true;
    return 0;
}

void cfg_after_reset(struct vfa_core *c)
{
    cfg_session_reset(c);
    sync_from_device(c);
    /* The reset cleared memory space while mappings live on: restore it
     * (the guest still sees the reset value). */
    if (c->bars_mapped)
        force_decode(c);
}

uint32_t cfg_prepare_map(struct vfa_core *c)
{
    uint32_t v;

    /* Leaving D3hot needs a 10 ms wait the core cannot do, so a device
     * the guest put there before anything was mapped is refused: map
     * BARs first (QEMU does so when it realizes the device). */
    if (c->pm_cap) {
        if (raw_read(c, c->pm_cap + VFA_PCI_PM_CTRL, 2, &v))
            return VFA_E_IO;
        if ((v & VFA_PCI_PM_CTRL_STATE_MASK) != VFA_PCI_PM_D0)
            return VFA_E_IO;
    }
    return force_decode(c);
}

bool cfg_mem_decoding(const struct vfa_core *c)
{
    return c->mse_dev && c->pm_dev == VFA_PCI_PM_D0;
}

/* ---- emulated BARs ---- */

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;

    while (p < v && p < (1ull << 63))
        p <<= 1;
    return p;
}

/* Writable address bits and fixed type bits of an emulated dword register. */
static void emulated_reg(struct vfa_core *c, uint32_t dw_off, uint32_t *mask,
                         uint32_t *type, uint32_t **shadow)
{
    const struct vfa_platform_info *in = &c->info;

    *mask = 0;
    *type = 0;
    if (dw_off == VFA_PCI_ROM_ADDRESS) {
        *shadow = &c->rom_shadow;
        if (in->rom_size) {
            uint64_t sz = pow2_at_least(in->rom_size < 2048 ? 2048 : in->rom_size);
            *mask = ((uint32_t)~(sz - 1) & 0xfffff800u) | 1u;   /* + enable bit */
        }
        return;
    }
    unsigned r = (dw_off - VFA_PCI_BASE_ADDRESS_0) / 4;

    *shadow = &c->bar_shadow[r];
    if ((in->bar_flags[r] & VFA_BAR_PRESENT) && in->bar_size[r]) {
        uint64_t sz = pow2_at_least(in->bar_size[r]);

        *mask = (uint32_t)~(sz - 1) & ~0xfu;
        *type = (in->bar_flags[r] & VFA_BAR_MEM64 ? 0x4u : 0) |
                (in->bar_flags[r] & VFA_BAR_PREFETCHABLE ? 0x8u : 0);
    } else if (r > 0 && (in->bar_flags[r - 1] & VFA_BAR_PRESENT) &&
               (in->bar_flags[r - 1] & VFA_BAR_MEM64) && in->bar_size[r - 1]) {
        uint64_t sz = pow2_at_least(in->bar_size[r - 1]);

        *mask = (uint32_t)(~(sz - 1) >> 32);    /* upper half of a 64-bit BAR */
    }
}

static uint32_t emulated_read(struct vfa_core *c, uint32_t dw_off)
{
    uint32_t mask, type, *shadow;

    emulated_reg(c, dw_off, &mask, &type, &shadow);
    return (*shadow & mask) | type;
}

/* ---- reads ---- */

static int access_ok(const struct vfa_core *c, uint64_t off, uint64_t width)
{
    if (width != 1 && width != 2 && width != 4)
        return VFA_E_INVAL;
    if (off % width)
        return VFA_E_INVAL;
    if (off >= c->info.config_size || off + width > c->info.config_size)
        return VFA_E_RANGE;
    return 0;
}

/* The guest's view of one byte the device returned. */
static uint8_t virtual_byte(const struct vfa_core *c, uint32_t a, uint8_t dev)
{
    switch (c->cfg_class[a]) {
    case CFG_EMUL:
        return c->intr_line;
    case CFG_COMMAND:
        if (a != VFA_PCI_COMMAND)
            return dev;
        return (uint8_t)((dev & ~VFA_PCI_COMMAND_MEMORY) |
                         (c->mse_virt ? VFA_PCI_COMMAND_MEMORY : 0));
    case CFG_PMCSR:
        return (uint8_t)((dev & ~VFA_PCI_PM_CTRL_STATE_MASK) | c->pm_virt);
    default:
        return dev;
    }
}

uint32_t cfg_read(struct vfa_core *c, uint32_t off, unsigned width, uint32_t *val)
{
    int rc = access_ok(c, off, width);

    if (rc)
        return rc;
    /* Aligned accesses of <= 4 bytes stay inside one dword, and emulated
     * BAR registers are whole dwords, so one class test covers them. */
    if (c->cfg_class[off] == CFG_BAR) {
        uint32_t dw = emulated_read(c, off & ~3u);
        uint32_t shift = (off & 3) * 8;

        *val = width == 4 ? dw : (dw >> shift) & ((1u << (width * 8)) - 1);
        return 0;
    }
    rc = raw_read(c, off, width, val);
    if (rc)
        return VFA_E_IO;
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)virtual_byte(c, off + i, (uint8_t)(*val >> (8 * i))) << (8 * i);
    *val = v;
    return 0;
}

uint32_t cfg_read_block(struct vfa_core *c, uint32_t off, uint32_t len, uint8_t *buf)
{
    if (off % 4 || len % 4 || len == 0 || len > VFA_MAX_STRUCT)
        return VFA_E_INVAL;
    if (off >= c->info.config_size || len > c->info.config_size - off)
        return VFA_E_RANGE;
    for (uint32_t i = 0; i < len; i += 4) {
        uint32_t v;
        uint32_t rc = cfg_read(c, off + i, 4, &v);

        if (rc)
            return rc;
        buf[i] = v;
        buf[i + 1] = v >> 8;
        buf[i + 2] = v >> 16;
        buf[i + 3] = v >> 24;
    }
    return 0;
}

/* ---- writes ---- */

/* Write bytes [s, e) of `b` (absolute offsets) in naturally aligned pieces. */
static uint32_t write_run(struct vfa_core *c, uint32_t s, uint32_t e, const uint8_t *b,
                          uint32_t base)
{
    while (s < e) {
        unsigned w = 4;

        while (w > 1 && (s % w || s + w > e))
            w >>= 1;
        uint32_t v = 0;
        for (unsigned i = 0; i < w; i++)
            v |= (uint32_t)b[s - base + i] << (8 * i);
        if (c->ops->config_write(c->ctx, s, w, v))
            return VFA_E_IO;
        s += w;
    }
    return 0;
}

static bool pm_state_supported(const struct vfa_core *c, unsigned st)
{
    if (st == VFA_PCI_PM_D1)
        return c->pm_pmc & VFA_PCI_PM_PMC_D1;
    if (st == VFA_PCI_PM_D2)
        return c->pm_pmc & VFA_PCI_PM_PMC_D2;
    return true;
}

/* What one write did, byte by byte, before anything reaches the device. */
struct wr_plan {
    uint8_t b[4];               /* bytes to send */
    uint32_t fwd;               /* bit i: byte i is sent */
    unsigned dropped;
    bool filtered, dropped_ext;
    bool cmd_sent, pm_sent;
};

/* The value a read-modify-written byte gets: the guest's bits from `want`,
 * the device's elsewhere. */
static uint32_t merge_byte(struct vfa_core *c, uint32_t a, uint8_t allowed, struct wr_plan *p,
                           unsigned i)
{
    uint32_t cur;

    if (raw_read(c, a, 1, &cur))
        return VFA_E_IO;
    if ((p->b[i] ^ cur) & ~allowed)
        p->filtered = true;
    p->b[i] = (uint8_t)((cur & ~allowed) | (p->b[i] & allowed));
    p->fwd |= 1u << i;
    return 0;
}

static uint32_t plan_byte(struct vfa_core *c, uint32_t a, struct wr_plan *p, unsigned i)
{
    uint8_t cls = c->cfg_class[a];

    switch (cls) {
    case CFG_FORWARD:
        p->fwd |= 1u << i;
        return 0;
    case CFG_MASKED:
        return merge_byte(c, a, c->cfg_wmask[a], p, i);
    case CFG_COMMAND: {
        uint8_t allowed = (uint8_t)(CFG_CMD_GUEST_BITS >> (8 * (a - VFA_PCI_COMMAND)));
        bool mse = a == VFA_PCI_COMMAND && (p->b[i] & VFA_PCI_COMMAND_MEMORY);
        uint32_t rc = merge_byte(c, a, allowed, p, i);

        if (rc || a != VFA_PCI_COMMAND)
            return rc;
        if (!mse && c->bars_mapped) {
            /* Mapped BARs must stay decoded: the guest's clear is kept
             * in its view only (counted once per clear, not per write). */
            p->b[i] |= VFA_PCI_COMMAND_MEMORY;
            p->filtered = true;
            if (c->mse_virt)
                c->st.config_decode_held++;
        }
        c->mse_virt = mse;
        p->cmd_sent = true;
        return 0;
    }
    case CFG_PMCSR: {
        unsigned st = p->b[i] & VFA_PCI_PM_CTRL_STATE_MASK;

        if (!pm_state_supported(c, st))
            break;              /* the device would ignore it: so do we */
        if (c->bars_mapped) {
            /* Out of D0 the device stops decoding memory: same answer
             * as for memory-space enable. */
            if (st != VFA_PCI_PM_D0 && c->pm_virt == VFA_PCI_PM_D0)
                c->st.config_decode_held++;
            c->pm_virt = (uint8_t)st;
            break;
        }
        p->pm_sent = true;
        return merge_byte(c, a, VFA_PCI_PM_CTRL_STATE_MASK, p, i);
    }
    case CFG_BAR: {
        uint32_t mask, type, *shadow;
        unsigned sh = (a & 3) * 8;

        emulated_reg(c, a & ~3u, &mask, &type, &shadow);
        *shadow = (*shadow & ~(0xffu << sh)) | ((uint32_t)p->b[i] << sh);
        break;
    }
    case CFG_EMUL:
        c->intr_line = p->b[i];
        break;
    default:                    /* CFG_DROP, CFG_HOST */
        break;
    }
    p->dropped++;
    if (a >= VFA_PCI_CFG_SIZE)
        p->dropped_ext = true;
    return 0;
}

uint32_t cfg_write(struct vfa_core *c, uint32_t off, unsigned width, uint32_t val,
                   uint32_t *forwarded)
{
    struct wr_plan p = { .fwd = 0 };
    int rc = access_ok(c, off, width);

    *forwarded = 0;
    if (rc)
        return rc;
    for (unsigned i = 0; i < width; i++) {
        p.b[i] = (uint8_t)(val >> (8 * i));
        rc = plan_byte(c, off + i, &p, i);
        if (rc)
            return rc;
    }

    for (unsigned i = 0; i < width;) {
        if (!(p.fwd & (1u << i))) {
            i++;
            continue;
        }
        unsigned j = i;
        while (j < width && (p.fwd & (1u << j)))
            j++;
        rc = write_run(c, off + i, off + j, p.b, off);
        if (rc)
            return rc;
        i = j;
    }
    /* Track what the device now does: MMIO depends on it. */
    if (p.cmd_sent)
        c->mse_dev = p.b[VFA_PCI_COMMAND - off] & VFA_PCI_COMMAND_MEMORY;
    if (p.pm_sent) {
        uint32_t v;

        /* Read back: a device may refuse a state change. */
        c->pm_dev = raw_read(c, c->pm_cap + VFA_PCI_PM_CTRL, 2, &v) ? VFA_PCI_PM_D3HOT
                    : (uint8_t)(v & VFA_PCI_PM_CTRL_STATE_MASK);
        c->pm_virt = c->pm_dev;
    }
    c->st.config_bytes_dropped += p.dropped;
    if (p.dropped || p.filtered)
        c->st.config_writes_filtered++;
    if (p.dropped_ext)
        c->st.config_writes_dropped_ext++;
    *forwarded = p.fwd;
    return 0;
}

/* ---- sleep/wake ---- */

/* Bytes whose device value the guest chose: written back after a wake. */
static bool guest_set(const struct vfa_core *c, uint32_t a)
{
    uint8_t cls = c->cfg_class[a];

    return cls == CFG_FORWARD || cls == CFG_MASKED || cls == CFG_COMMAND;
}

void cfg_power_save(struct vfa_core *c)
{
    for (uint32_t a = 0; a < c->info.config_size; a++) {
        uint32_t v;

        if (guest_set(c, a))
            c->saved_cfg[a] = raw_read(c, a, 1, &v) ? 0 : (uint8_t)v;
    }
    c->pm_saved = true;
}

uint32_t cfg_power_restore(struct vfa_core *c)
{
    uint32_t cmd;

    /* Everything but Command, in runs of guest bytes: write_run splits
     * them into aligned pieces and never touches a byte outside them. */
    for (uint32_t a = 0; a < c->info.config_size;) {
        if (!guest_set(c, a) || c->cfg_class[a] == CFG_COMMAND) {
            a++;
            continue;
        }
        uint32_t e = a;
        while (e < c->info.config_size && guest_set(c, e) && c->cfg_class[e] != CFG_COMMAND)
            e++;
        if (write_run(c, a, e, &c->saved_cfg[a], a))
            return VFA_E_IO;
        a = e;
    }
    /* Command last: bus mastering comes back only once the rest is. */
    if (raw_read(c, VFA_PCI_COMMAND, 2, &cmd))
        return VFA_E_IO;
    uint32_t saved = c->saved_cfg[VFA_PCI_COMMAND] | (uint32_t)c->saved_cfg[VFA_PCI_COMMAND + 1] << 8;
    cmd = (cmd & ~CFG_CMD_GUEST_BITS) | (saved & CFG_CMD_GUEST_BITS);
    if (c->ops->config_write(c->ctx, VFA_PCI_COMMAND, 2, cmd & 0xffffu))
        return VFA_E_IO;
    /* The wake put the function in D0; the guest's virtual view stays. */
    bool mse_virt = c->mse_virt;
    uint8_t pm_virt = c->pm_virt;
    sync_from_device(c);
    if (c->bars_mapped) {
        c->mse_virt = mse_virt;
        c->pm_virt = pm_virt;
        return force_decode(c);
    }
    return 0;
}
