/*
 * libFuzzer target for the dext core's method dispatcher.
 *
 * The input is a program of operations against one core over the fake
 * platform: method calls from three clients (the owner, an intruder, the
 * anonymous client 0) with arbitrary selectors, scalar counts, scalar
 * values and struct capacities; memory-type mapping; interrupts; a client
 * dying; the device vanishing; and a new device: a config space whose
 * standard and extended capability lists the input shapes (cycles,
 * pointers into the header, truncated and overlapping capabilities, MSI-X
 * tables anywhere), with or without quirks, on which a new core is built.
 * The fake platform aborts whenever the core hands it something it
 * promised to have validated (out-of-range config or MMIO access, bad
 * width, completing an unknown DMA cookie), and after every step the
 * core's bookkeeping must agree with the fake DART.  An oracle computed
 * from the device's layout when the core is built checks the policy: no
 * config write ever reaches a BAR, Status, MSI or MSI-X byte, only the
 * allow-listed bytes are written without quirks, and no MMIO reaches the
 * MSI-X table (or writes its PBA).  At the end the core is destroyed and
 * must have released every mapping.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_core_fake.h"
#include "vfio-apple/pci-cfg.h"

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t u64(struct reader *r)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

/* Mostly small values (the interesting edges), sometimes anything. */
static uint64_t scalar(struct reader *r)
{
    uint8_t k = u8(r);

    switch (k >> 6) {
    case 0: return k & 0x3f;                            /* 0..63 */
    case 1: return (uint64_t)u8(r) << ((k & 7) * 4);    /* shifted byte */
    case 2: return ~(uint64_t)(k & 0x3f);               /* near 2^64 */
    default: return u64(r);
    }
}

static const uint64_t clients[3] = { 0x1111, 0x2222, 0 };

/* ---- hostile devices ---- */

static const struct vfa_quirk_allow allow_vendor[] = {
    { .cap_id = VFA_PCI_EXT_CAP_ID_VNDR, .ext = 1, .bits = 0xff, .off = 4, .len = 0x40,
      .vsec_id = VFA_QUIRK_ANY_VSEC },
    { .cap_id = VFA_PCI_EXT_CAP_ID_DVSEC, .ext = 1, .bits = 0xff, .off = 8, .len = 0x20,
      .vsec_id = 0x42 },
    { .cap_id = VFA_PCI_CAP_ID_VNDR, .ext = 0, .bits = 0x0f, .off = 2, .len = 8 },
    { .cap_id = VFA_PCI_EXT_CAP_ID_AER, .ext = 1, .bits = 0xff, .off = 0x14, .len = 4 },
};
static const struct vfa_quirk_allow allow_greedy[] = {
    /* Asks for far more than any capability has: clipping must hold. */
    { .cap_id = 0x7777, .ext = 1, .bits = 0xff, .off = 0, .len = 0xffff },
    { .cap_id = VFA_PCI_CAP_ID_EXP, .ext = 0, .bits = 0xff, .off = 0, .len = 0xffff },
    { .cap_id = VFA_PCI_CAP_ID_MSIX, .ext = 0, .bits = 0xff, .off = 0, .len = 0xffff },
    { .cap_id = VFA_PCI_CAP_ID_MSI, .ext = 0, .bits = 0xff, .off = 0, .len = 0xffff },
    { .cap_id = VFA_PCI_CAP_ID_PM, .ext = 0, .bits = 0xff, .off = 0, .len = 0xffff },
};
static const struct vfa_quirk quirk_sets[3][2] = {
    { { .name = "vendor", .vendor_id = 0x1b36, .device_id = 0x0010,
        .allow = allow_vendor, .nallow = 4 } },
    { { .name = "greedy", .vendor_id = 0x1b36, .device_id = VFA_QUIRK_ANY_DEVICE,
        .flags = VFA_QUIRK_NO_FLR, .allow = allow_greedy, .nallow = 5 } },
    { { .name = "class", .vendor_id = 0x1b36, .device_id = 0x0010, .class_code = 0x010000,
        .class_mask = 0xff0000, .allow = allow_vendor, .nallow = 4 },
      { .name = "other", .vendor_id = 0x8086, .device_id = 0x0010,
        .allow = allow_greedy, .nallow = 5 } },
};

/* What the policy must guarantee for the device the core was built on. */
static struct oracle {
    uint8_t forbidden[4096];    /* config bytes no write may reach */
    uint8_t allowed[4096];      /* ... and, without quirks, the only ones
                                   any write may reach */
    bool quirks;
    struct { bool on; unsigned bar; uint64_t start, end; } table, pba;
} orc;

static void forbid(uint32_t off, uint32_t len, uint32_t limit)
{
    for (uint32_t i = off; i < off + len && i < limit; i++)
        orc.forbidden[i] = 1;
}

static uint32_t fake_rd(void *opaque, uint32_t off, unsigned width)
{
    const struct fake *f = opaque;
    uint32_t v = 0;

    if (off + width > f->config_size || off + width > sizeof(f->cfg))
        return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)f->cfg[off + i] << (8 * i);
    return v;
}

static int oracle_cap(void *opaque, unsigned id, uint32_t pos)
{
    struct fake *f = opaque;

    if (id == VFA_PCI_CAP_ID_MSI) {
        uint32_t flags = fake_rd(f, pos + 2, 2);

        if (flags == 0xffff)
            flags = VFA_PCI_MSI_FLAGS_64BIT | VFA_PCI_MSI_FLAGS_MASKBIT;
        forbid(pos, vfa_pci_msi_size(flags), VFA_PCI_CFG_SIZE);
    } else if (id == VFA_PCI_CAP_ID_MSIX) {
        forbid(pos, VFA_PCI_MSIX_SIZE, VFA_PCI_CFG_SIZE);
    }
    return 0;
}

static void oracle_guard(struct fake *f, uint32_t reg, uint32_t size, bool *on, unsigned *bar,
                         uint64_t *start, uint64_t *end)
{
    unsigned bir = reg & 7;
    uint64_t off = reg & ~7u, bsz = bir == 0 ? FAKE_BAR0_SIZE : FAKE_BAR2_SIZE;

    *on = (bir == 0 || bir == 2) && off < bsz;
    *bar = bir;
    *start = off;
    *end = off + size < bsz ? off + size : bsz;
}

static void oracle_build(struct fake *f)
{
    memset(&orc, 0, sizeof(orc));
    orc.quirks = f->nquirks != 0;
    forbid(VFA_PCI_STATUS, 2, 4096);
    forbid(VFA_PCI_BASE_ADDRESS_0, VFA_PCI_BASE_ADDRESS_END - VFA_PCI_BASE_ADDRESS_0, 4096);
    forbid(VFA_PCI_ROM_ADDRESS, 4, 4096);
    vfa_pci_for_each_cap(fake_rd, f, oracle_cap, f);
    orc.allowed[VFA_PCI_COMMAND] = orc.allowed[VFA_PCI_COMMAND + 1] = 1;
    orc.allowed[VFA_PCI_CACHE_LINE_SIZE] = orc.allowed[VFA_PCI_LATENCY_TIMER] = 1;
    uint32_t pm = vfa_pci_find_cap(fake_rd, f, VFA_PCI_CAP_ID_PM);
    if (pm && vfa_pci_cap_fits(pm, VFA_PCI_PM_SIZE, VFA_PCI_CFG_SIZE))
        orc.allowed[pm + VFA_PCI_PM_CTRL] = 1;
    uint32_t mx = vfa_pci_find_cap(fake_rd, f, VFA_PCI_CAP_ID_MSIX);
    if (mx && vfa_pci_cap_fits(mx, VFA_PCI_MSIX_SIZE, VFA_PCI_CFG_SIZE)) {
        uint32_t flags = fake_rd(f, mx + 2, 2);

        oracle_guard(f, fake_rd(f, mx + 4, 4), vfa_pci_msix_table_size(flags), &orc.table.on,
                     &orc.table.bar, &orc.table.start, &orc.table.end);
        oracle_guard(f, fake_rd(f, mx + 8, 4), vfa_pci_msix_pba_size(flags), &orc.pba.on,
                     &orc.pba.bar, &orc.pba.start, &orc.pba.end);
    }
}

/* Everything that reached the device since the last step obeys it. */
static void oracle_check(struct fake *f)
{
    for (unsigned i = 0; i < f->nwrites; i++) {
        for (unsigned b = 0; b < f->writes[i].width; b++) {
            uint32_t a = f->writes[i].off + b;

            if (orc.forbidden[a])
                abort();
            /* Quirks open capability bytes, never the header. */
            if ((a < VFA_PCI_STD_HEADER_SIZE || !orc.quirks) && !orc.allowed[a])
                abort();
        }
    }
    for (unsigned i = 0; i < f->nmmio; i++) {
        const struct fake_mmio *m = &f->mmio[i];

        if (orc.table.on && m->bar == orc.table.bar && m->off < orc.table.end &&
            orc.table.start < m->off + m->width)
            abort();
        if (m->write && orc.pba.on && m->bar == orc.pba.bar && m->off < orc.pba.end &&
            orc.pba.start < m->off + m->width)
            abort();
    }
    f->nwrites = 0;
    f->nmmio = 0;
}

static void put_cfg(struct fake *f, uint32_t off, unsigned len, uint32_t v)
{
    for (unsigned i = 0; i < len && off + i < sizeof(f->cfg); i++)
        f->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

/*
 * A new device from the input: flags, then up to 8 standard capabilities
 * (position, ID, flags word, two body dwords), then up to 16 extended ones
 * (position, ID, two body dwords), each linked to the next and the last to
 * wherever the input says, then up to 8 raw byte patches.  The core built
 * on it must not crash, hang or break a promise, and the oracle follows.
 */
static void reshape(struct fake *f, struct reader *r)
{
    uint8_t fl = u8(r);
    unsigned nstd = u8(r) % 9, next = u8(r) % 17, npatch = u8(r) % 9;
    uint32_t prev = VFA_PCI_CAPABILITY_LIST;

    fake_fini(f);
    memset(f->cfg + 0x40, 0, sizeof(f->cfg) - 0x40);
    f->config_size = fl & 1 ? 256 : 4096;
    f->session_sets_mse = !(fl & 2);
    f->quirks = (fl >> 2) % 4 ? quirk_sets[(fl >> 2) % 4 - 1] : NULL;
    f->nquirks = (fl >> 2) % 4 == 3 ? 2 : (fl >> 2) % 4 ? 1 : 0;
    put_cfg(f, VFA_PCI_STATUS, 2, fl & 0x10 ? 0 : VFA_PCI_STATUS_CAP_LIST);
    for (unsigned i = 0; i < nstd; i++) {
        uint8_t pos = u8(r);

        put_cfg(f, prev == VFA_PCI_CAPABILITY_LIST ? prev : prev + 1, 1, pos);
        put_cfg(f, pos, 1, u8(r));
        put_cfg(f, pos + 1u, 1, 0);
        put_cfg(f, pos + 2u, 2, (uint32_t)u8(r) | (uint32_t)u8(r) << 8);
        put_cfg(f, pos + 4u, 4, (uint32_t)scalar(r));
        put_cfg(f, pos + 8u, 4, (uint32_t)scalar(r));
        prev = pos;
    }
    if (nstd)
        put_cfg(f, prev + 1, 1, u8(r));
    prev = 0;
    for (unsigned i = 0; i < next; i++) {
        uint32_t pos = (0x100u + ((uint32_t)u8(r) | (uint32_t)u8(r) << 8)) & 0xfffu;
        uint8_t k = u8(r);
        uint32_t id = k >= 0xf0 ? 0x7777 : k % 0x28;    /* known IDs, or one nobody knows */

        if (i)
            put_cfg(f, prev + 2, 2, 1u | pos << 4);     /* version 1, next */
        put_cfg(f, pos, 4, id | 1u << 16);
        put_cfg(f, pos + 4, 4, (uint32_t)scalar(r));
        put_cfg(f, pos + 8, 4, (uint32_t)scalar(r));
        prev = pos;
    }
    if (next)
        put_cfg(f, prev + 2, 2, 1u | (uint32_t)u8(r) << 8);
    for (unsigned i = 0; i < npatch; i++) {
        uint32_t off = ((uint32_t)u8(r) | (uint32_t)u8(r) << 8) & 0xfffu;

        put_cfg(f, off, 1, u8(r));
    }
    f->nwrites = 0;
    f->nmmio = 0;
    oracle_build(f);
    f->core = fake_core(f, 0, 0);
    if (!f->core)
        abort();
}

static void check(struct fake *f)
{
    struct vfa_stats s;

    vfa_core_get_stats(f->core, &s);
    if (s.dma_live_mappings != f->live)
        abort();
    if (s.dma_mapped_bytes > s.dma_peak_mapped_bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake f;
    static uint8_t sbuf[VFA_MAX_STRUCT + 64];
    struct reader r = { data, size };
    uint8_t cfg = u8(&r);

    /* Small budgets sometimes, so both limits get hit. */
    fake_init(&f, cfg & 1 ? 8 * VFA_PAGE_SIZE : 0, cfg & 2 ? 4 : 0);
    f.fragment = (cfg >> 2) & 0x3f;
    if (!f.core)
        abort();
    oracle_build(&f);
    f.nwrites = 0;

    for (int steps = 0; r.n && steps < 256; steps++) {
        uint8_t op = u8(&r);
        uint64_t client = clients[(op >> 4) % 3];

        switch (op & 0xf) {
        default: {                      /* a method call */
            uint64_t in[VFA_MAX_SCALARS + 2], out[VFA_MAX_SCALARS];
            uint8_t sel = u8(&r);
            uint8_t nin = u8(&r) % (VFA_MAX_SCALARS + 2);
            uint32_t cap = (uint32_t)u8(&r) << 5;       /* 0..8160 */
            uint8_t nout = u8(&r) % (VFA_MAX_SCALARS + 1);

            for (unsigned i = 0; i < nin; i++)
                in[i] = scalar(&r);
            if (cap > sizeof(sbuf))
                cap = sizeof(sbuf);
            struct vfa_call c = {
                .selector = sel % (VFA_SEL_COUNT + 2),
                .nscalars_in = nin,
                .scalars_in = in,
                .nscalars_out = nout,
                .scalars_out = out,
                .struct_out = sbuf,
                .struct_out_len = cap,
            };
            uint32_t rc = vfa_core_dispatch(f.core, client, &c);
            if (rc && (c.nscalars_out || c.struct_out_len))
                abort();        /* failures return nothing */
            if (!rc && c.struct_out_len > cap)
                abort();
            break;
        }
        case 1: {
            void *h;
            uint64_t sz;

            vfa_core_map_memory(f.core, client, u8(&r) % 20, &h, &sz);
            break;
        }
        case 2:
        case 3:
            vfa_core_irq(f.core, u8(&r) | (op & 1 ? 0 : 0x100u));
            break;
        case 4:
            vfa_core_client_gone(f.core, client);
            if (client && vfa_core_session_owner(f.core) == client)
                abort();
            break;
        case 5:
            if (u8(&r) == 0xa5)
                vfa_core_device_gone(f.core);
            break;
        case 6:
            f.flr_fails = u8(&r) & 1;
            f.prepare_fails = u8(&r) == 0x5a;
            break;
        case 7:
            reshape(&f, &r);
            break;
        }
        check(&f);
        oracle_check(&f);
    }
    fake_fini(&f);
    if (f.live != 0 || f.irq_page != NULL || f.pages_alloc != f.pages_free)
        abort();
    return 0;
}
