/*
 * Config space policy (DESIGN.md section 3): which guest config accesses may
 * reach the real device.
 *
 * Every config byte gets a class once, at core creation, from the header
 * layout and a walk of the device's capability list:
 *   - BAR registers and the expansion ROM BAR are emulated here: on Apple
 *     Silicon the device's own BARs hold translated host addresses with
 *     unreliable type bits, and the host owns them anyway.  Reads are
 *     synthesised from the BAR info and a per-session shadow, so the usual
 *     sizing dance (write ~0, read back) works without touching the device.
 *   - Status (its error bits are write-1-to-clear and belong to the host),
 *     the MSI and MSI-X capabilities (the host owns message address/data),
 *     PCIe Device Control / Device Control 2 (payload-size changes under
 *     live DART mappings cause completion timeouts) and Link Control
 *     (link disable/retrain would take the device off the bus) are dropped.
 *   - Command: only memory-space, bus-master and INTx-disable are the
 *     guest's; the other bits keep the device's value.
 * Writes are split into naturally aligned pieces around dropped bytes rather
 * than read-modify-written, so no write-1-to-clear bit is ever written back.
 */
#include "core_internal.h"

#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_BAR0            0x10
#define PCI_BAR_END         0x28
#define PCI_ROM_BAR         0x30
#define PCI_CAP_PTR         0x34
#define PCI_CAP_ID_MSI      0x05
#define PCI_CAP_ID_PCIE     0x10
#define PCI_CAP_ID_MSIX     0x11

/* Command bits the guest owns: memory space, bus master, INTx disable. */
#define CMD_GUEST_BITS      0x0406u

static void mark(struct vfa_core *c, uint32_t off, uint32_t len, uint8_t cls)
{
    for (uint32_t i = off; i < off + len && i < c->info.config_size; i++)
        c->cfg_class[i] = cls;
}

static int raw_read(struct vfa_core *c, uint32_t off, unsigned width, uint32_t *val)
{
    *val = 0;
    return c->ops->config_read(c->ctx, off, width, val);
}

/*
 * Walk the standard capability list.  The device is not trusted either: the
 * walk is bounded, ignores pointers into the header and stops on a loop.
 */
static void walk_caps(struct vfa_core *c)
{
    uint32_t status, ptr;
    uint8_t seen[256 / 4] = { 0 };

    if (raw_read(c, PCI_STATUS, 2, &status) || !(status & PCI_STATUS_CAP_LIST))
        return;
    if (raw_read(c, PCI_CAP_PTR, 1, &ptr))
        return;
    ptr &= 0xfc;
    for (int n = 0; n < 48 && ptr >= 0x40 && ptr < 0x100; n++) {
        uint32_t id, next, ctrl;

        if (seen[ptr / 4])
            break;
        seen[ptr / 4] = 1;
        if (raw_read(c, ptr, 1, &id) || raw_read(c, ptr + 1, 1, &next))
            break;
        switch (id) {
        case PCI_CAP_ID_MSI: {
            uint32_t len = 10;

            if (raw_read(c, ptr + 2, 2, &ctrl))
                break;
            if (ctrl & 0x80)        /* 64-bit address */
                len += 4;
            if (ctrl & 0x100)       /* per-vector masking: mask + pending */
                len += 10;
            c->msi_cap = ptr;
            mark(c, ptr, len, CFG_DROP);
            break;
        }
        case PCI_CAP_ID_MSIX:
            c->msix_cap = ptr;
            mark(c, ptr, 12, CFG_DROP);
            break;
        case PCI_CAP_ID_PCIE:
            c->pcie_cap = ptr;
            mark(c, ptr + 0x08, 2, CFG_DROP);   /* Device Control */
            mark(c, ptr + 0x10, 2, CFG_DROP);   /* Link Control */
            mark(c, ptr + 0x28, 2, CFG_DROP);   /* Device Control 2 */
            break;
        }
        ptr = next & 0xfc;
    }
}

void cfg_policy_build(struct vfa_core *c)
{
    for (uint32_t i = 0; i < VFA_CFG_MAX; i++)
        c->cfg_class[i] = CFG_FORWARD;
    mark(c, PCI_COMMAND, 2, CFG_COMMAND);
    mark(c, PCI_STATUS, 2, CFG_DROP);
    mark(c, PCI_BAR0, PCI_BAR_END - PCI_BAR0, CFG_BAR);
    mark(c, PCI_ROM_BAR, 4, CFG_BAR);
    walk_caps(c);
}

void cfg_session_reset(struct vfa_core *c)
{
    for (unsigned i = 0; i < VFA_NUM_BARS; i++)
        c->bar_shadow[i] = 0;
    c->rom_shadow = 0;
}

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;

    while (p < v && p < (1ull << 63))
        p <<= 1;
    return p;
}

/* Writable address bits and fixed type bits of an emulated dword register. */
static void emulated_reg(const struct vfa_core *c, uint32_t dw_off, uint32_t *mask,
                         uint32_t *type, uint32_t **shadow)
{
    const struct vfa_platform_info *in = &c->info;

    *mask = 0;
    *type = 0;
    if (dw_off == PCI_ROM_BAR) {
        *shadow = (uint32_t *)&c->rom_shadow;
        if (in->rom_size) {
            uint64_t sz = pow2_at_least(in->rom_size < 2048 ? 2048 : in->rom_size);
            *mask = ((uint32_t)~(sz - 1) & 0xfffff800u) | 1u;   /* + enable bit */
        }
        return;
    }
    unsigned r = (dw_off - PCI_BAR0) / 4;

    *shadow = (uint32_t *)&c->bar_shadow[r];
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

uint32_t cfg_read(struct vfa_core *c, uint32_t off, unsigned width, uint32_t *val)
{
    int rc = access_ok(c, off, width);

    if (rc)
        return rc;
    /* Aligned accesses of <= 4 bytes stay inside one dword, and emulated
     * registers are whole dwords, so one class test covers the access. */
    if (c->cfg_class[off] == CFG_BAR) {
        uint32_t dw = emulated_read(c, off & ~3u);
        uint32_t shift = (off & 3) * 8;

        *val = width == 4 ? dw : (dw >> shift) & ((1u << (width * 8)) - 1);
        return 0;
    }
    rc = raw_read(c, off, width, val);
    if (rc)
        return VFA_E_IO;
    if (width < 4)
        *val &= (1u << (width * 8)) - 1;
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

uint32_t cfg_write(struct vfa_core *c, uint32_t off, unsigned width, uint32_t val,
                   uint32_t *forwarded)
{
    uint8_t b[4];
    uint32_t fwd = 0, dropped = 0;
    bool filtered = false;
    int rc = access_ok(c, off, width);

    *forwarded = 0;
    if (rc)
        return rc;
    for (unsigned i = 0; i < width; i++) {
        uint32_t a = off + i;

        b[i] = val >> (8 * i);
        switch (c->cfg_class[a]) {
        case CFG_FORWARD:
            fwd |= 1u << i;
            break;
        case CFG_COMMAND: {
            uint8_t allowed = (uint8_t)(CMD_GUEST_BITS >> (8 * (a - PCI_COMMAND)));
            uint32_t cur;

            if (raw_read(c, a, 1, &cur))
                return VFA_E_IO;
            if ((b[i] ^ cur) & ~allowed)
                filtered = true;
            b[i] = (uint8_t)((cur & ~allowed) | (b[i] & allowed));
            fwd |= 1u << i;
            break;
        }
        case CFG_BAR: {
            uint32_t mask, type, *shadow;
            unsigned sh = (a & 3) * 8;

            emulated_reg(c, a & ~3u, &mask, &type, &shadow);
            *shadow = (*shadow & ~(0xffu << sh)) | ((uint32_t)b[i] << sh);
            dropped++;
            break;
        }
        default:
            dropped++;
            break;
        }
    }
    if (dropped)
        filtered = true;

    for (unsigned i = 0; i < width;) {
        if (!(fwd & (1u << i))) {
            i++;
            continue;
        }
        unsigned j = i;
        while (j < width && (fwd & (1u << j)))
            j++;
        rc = write_run(c, off + i, off + j, b, off);
        if (rc)
            return rc;
        i = j;
    }
    c->st.config_bytes_dropped += dropped;
    if (filtered)
        c->st.config_writes_filtered++;
    *forwarded = fwd;
    return 0;
}
