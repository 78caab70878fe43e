/*
 * Dext core: config space reads, BAR emulation and the write policy (an
 * allow-list; docs/config-policy.md), one test per register class, plus
 * the MSI-X MMIO guard, memory-decoding virtualisation, quirks, hostile
 * capability layouts, and the shared walker in vfio-apple/pci-cfg.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_core_fake.h"
#include "vfio-apple/pci-cfg.h"

#define A 0x1111

static int setup(void **state)
{
    *state = fake_new(0, 0, A);
    return 0;
}

static uint32_t rd(struct fake *f, uint32_t off, unsigned w)
{
    uint64_t out[16];

    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, off, w), 0);
    return (uint32_t)out[0];
}

/* Writes and returns the forwarded-bytes mask. */
static uint32_t wr(struct fake *f, uint32_t off, unsigned w, uint32_t val)
{
    uint64_t out[16];

    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, off, w, val), 0);
    return (uint32_t)out[0];
}

static uint16_t dev16(const struct fake *f, uint32_t off)
{
    return (uint16_t)(f->cfg[off] | f->cfg[off + 1] << 8);
}

static struct vfa_stats stats(struct fake *f)
{
    struct vfa_stats s;

    vfa_core_get_stats(f->core, &s);
    return s;
}

/* A new core over the fake's (reshaped) config space, session open, logs
 * cleared so assertions see only what follows. */
static void reopen(struct fake *f)
{
    uint64_t out[16];

    assert_non_null(fake_recreate(f));
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    f->nwrites = 0;
    f->nmmio = 0;
}

static void map_bar0(struct fake *f)
{
    void *h;
    uint64_t size;

    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), 0);
}

static uint32_t mmio_rd(struct fake *f, uint64_t off, unsigned w, uint64_t *val)
{
    uint64_t out[16];
    uint32_t rc = CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, off, w);

    *val = out[0];
    return rc;
}

static uint32_t mmio_wr(struct fake *f, uint64_t off, unsigned w, uint64_t val)
{
    uint64_t out[16];

    return CALLN(f, A, VFA_SEL_MMIO_WRITE, out, 0, off, w, val);
}

static struct vfa_identity identity(struct fake *f)
{
    struct vfa_identity id;
    uint32_t len = sizeof(id);

    assert_int_equal(fake_call(f, A, VFA_SEL_GET_IDENTITY, 0, NULL, NULL, &id, &len), 0);
    return id;
}

/* ------------------------------------------------------------- reads -- */

static void test_read_widths(void **state)
{
    struct fake *f = *state;

    assert_int_equal(rd(f, 0, 4), 0x00101b36);
    assert_int_equal(rd(f, 0, 2), 0x1b36);
    assert_int_equal(rd(f, 2, 2), 0x0010);
    assert_int_equal(rd(f, 1, 1), 0x1b);
    assert_int_equal(rd(f, FAKE_VNDR_CAP + 4, 4), 0x11223344);
    /* Reads of blocked registers still show the device's values, in
     * standard and extended space. */
    assert_int_equal(rd(f, FAKE_PCIE_CAP + 8, 2), 0x2810);
    assert_int_equal(rd(f, FAKE_MSI_CAP, 1), 0x05);
    assert_int_equal(rd(f, FAKE_AER_CAP + 4, 4), 0x00004000);
    assert_int_equal(rd(f, FAKE_SRIOV_CAP + 0x0e, 2), 8);
}

static void test_read_validation(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];
    unsigned before = f->platform_calls;

    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 0, 3), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 0, 0), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 0, 8), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 2, 4), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 1, 2), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 4096, 1), VFA_E_RANGE);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 1ull << 32, 4), VFA_E_RANGE);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, ~0ull, 1), VFA_E_RANGE);
    assert_int_equal(f->platform_calls, before);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.errors[VFA_SEL_CONFIG_READ], 8);
    assert_int_equal(s.config_reads, 0);
}

static void test_block_read(void **state)
{
    struct fake *f = *state;
    uint8_t buf[4096];
    uint32_t len = sizeof(buf);
    uint64_t in[2] = { 0, 4096 };

    assert_int_equal(fake_call(f, A, VFA_SEL_CONFIG_READ_BLOCK, 2, in, NULL, buf, &len), 0);
    assert_int_equal(len, 4096);
    /* Header and capabilities are the device's (Command, PMCSR and the
     * interrupt line show the guest's view, which starts as the
     * device's)... */
    assert_memory_equal(buf, f->cfg, 0x10);
    assert_memory_equal(buf + 0x34, f->cfg + 0x34, 4096 - 0x34 - 12);
    /* ...BARs are synthesised from BAR info: type bits only, not the
     * device's translated addresses. */
    uint32_t bar0, bar1, bar2, rom;
    memcpy(&bar0, buf + 0x10, 4);
    memcpy(&bar1, buf + 0x14, 4);
    memcpy(&bar2, buf + 0x18, 4);
    memcpy(&rom, buf + 0x30, 4);
    assert_int_equal(bar0, 0x4);        /* 64-bit memory, not prefetchable */
    assert_int_equal(bar1, 0);
    assert_int_equal(bar2, 0x8);        /* 32-bit, prefetchable */
    assert_int_equal(rom, 0);

    /* A piece in the middle. */
    in[0] = 0x40;
    in[1] = 64;
    len = sizeof(buf);
    assert_int_equal(fake_call(f, A, VFA_SEL_CONFIG_READ_BLOCK, 2, in, NULL, buf, &len), 0);
    assert_int_equal(len, 64);
    assert_memory_equal(buf, f->cfg + 0x40, 64);

    unsigned before = f->platform_calls;
    struct { uint64_t off, len; uint32_t cap, rc; } bad[] = {
        { 0, 0, 4096, VFA_E_INVAL },
        { 0, 6, 4096, VFA_E_INVAL },
        { 2, 8, 4096, VFA_E_INVAL },
        { 0, 4100, 4096, VFA_E_INVAL },
        { 4096, 4, 4096, VFA_E_RANGE },
        { 4092, 8, 4096, VFA_E_RANGE },
        { 1ull << 32, 4, 4096, VFA_E_RANGE },
        { 0, 64, 16, VFA_E_INVAL },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in[0] = bad[i].off;
        in[1] = bad[i].len;
        len = bad[i].cap;
        assert_int_equal(fake_call(f, A, VFA_SEL_CONFIG_READ_BLOCK, 2, in, NULL, buf, &len),
                         bad[i].rc);
        assert_int_equal(len, 0);
    }
    assert_int_equal(f->platform_calls, before);
    assert_int_equal(stats(f).config_block_bytes, 4096 + 64);
}

/* ------------------------------------------------------------ header -- */

static void test_bar_sizing(void **state)
{
    struct fake *f = *state;

    for (uint32_t off = 0x10; off < 0x28; off += 4)
        assert_int_equal(wr(f, off, 4, 0xffffffff), 0);
    assert_int_equal(wr(f, 0x30, 4, 0xffffffff), 0);
    assert_int_equal(rd(f, 0x10, 4), 0xffff0004);       /* 64 KiB, 64-bit */
    assert_int_equal(rd(f, 0x14, 4), 0xffffffff);       /* upper half */
    assert_int_equal(rd(f, 0x18, 4), 0xffffc008);       /* 16 KiB, prefetchable */
    assert_int_equal(rd(f, 0x1c, 4), 0);                /* absent */
    assert_int_equal(rd(f, 0x24, 4), 0);
    assert_int_equal(rd(f, 0x30, 4), 0xffffe001);       /* 8 KiB ROM */
    /* Program an address: byte and word writes merge into the shadow. */
    assert_int_equal(wr(f, 0x10, 2, 0x0000), 0);
    assert_int_equal(wr(f, 0x12, 2, 0x1234), 0);
    assert_int_equal(wr(f, 0x14, 1, 0x01), 0);
    assert_int_equal(wr(f, 0x15, 1, 0x00), 0);
    assert_int_equal(wr(f, 0x16, 2, 0x0000), 0);
    assert_int_equal(rd(f, 0x10, 4), 0x12340004);
    assert_int_equal(rd(f, 0x12, 2), 0x1234);
    assert_int_equal(rd(f, 0x14, 4), 0x00000001);
    /* Not a single byte of this reached the device. */
    assert_false(fake_wrote(f, 0x10, 0x18));
    assert_false(fake_wrote(f, 0x30, 4));
    assert_int_equal(f->nwrites, 0);
    /* A reset clears the emulated BARs, as it clears real ones. */
    uint64_t out[16];
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), 0);
    assert_int_equal(rd(f, 0x10, 4), 0x4);
}

static void test_status_blocked(void **state)
{
    struct fake *f = *state;

    assert_int_equal(wr(f, 0x06, 2, 0xffff), 0);
    assert_int_equal(wr(f, 0x07, 1, 0xff), 0);
    assert_false(fake_wrote(f, 0x06, 2));
    assert_int_equal(rd(f, 0x06, 2), 0x0010);
}

static void test_command_bits(void **state)
{
    struct fake *f = *state;

    f->cfg[0x04] = 0x42;        /* a host-owned bit (parity) already set */
    assert_int_equal(wr(f, 0x04, 2, 0xffff), 0x3);
    /* Only memory space, bus master and INTx disable changed; the host's
     * bit is kept; I/O space (bit 0) never set on a platform without it;
     * SERR (bit 8) stays the host's. */
    assert_int_equal(dev16(f, 0x04), 0x0446);
    assert_int_equal(rd(f, 0x04, 2), 0x0446);
    /* No BAR is mapped: clearing memory space and bus master reaches the
     * device. */
    assert_int_equal(wr(f, 0x04, 2, 0x0000), 0x3);
    assert_int_equal(dev16(f, 0x04), 0x0040);
    assert_int_equal(rd(f, 0x04, 2), 0x0040);
    /* A dword write over Command+Status reaches only Command, as a 16-bit
     * write: Status's write-1-to-clear bits are never written back. */
    f->nwrites = 0;
    assert_int_equal(wr(f, 0x04, 4, 0xffff0006), 0x3);
    assert_int_equal(f->nwrites, 1);
    assert_int_equal(f->writes[0].off, 0x04);
    assert_int_equal(f->writes[0].width, 2);
    assert_int_equal(f->writes[0].val, 0x0046);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.config_writes, 3);
    /* 0xffff and 0x0000 both tried to change the host-owned bit 0x40; the
     * dword also dropped Status. */
    assert_int_equal(s.config_writes_filtered, 3);
    assert_int_equal(s.config_bytes_dropped, 2);
    assert_int_equal(s.config_decode_held, 0);
}

/* Everything else in the header: cache line and latency forwarded, the
 * interrupt line emulated, the rest dropped. */
static void test_header_allow_list(void **state)
{
    struct fake *f = *state;

    assert_int_equal(wr(f, 0x0c, 1, 0x10), 0x1);        /* cache line size */
    assert_int_equal(wr(f, 0x0d, 1, 0x40), 0x1);        /* latency timer */
    assert_int_equal(f->cfg[0x0c], 0x10);
    assert_int_equal(f->cfg[0x0d], 0x40);
    f->nwrites = 0;
    static const uint32_t dropped[] = {
        0x00, 0x01, 0x02, 0x03,         /* IDs */
        0x08, 0x09, 0x0a, 0x0b,         /* revision, class */
        0x0e, 0x0f,                     /* header type, BIST (self-test start) */
        0x28, 0x2c, 0x2e,               /* CardBus CIS, subsystem IDs */
        0x34, 0x38,                     /* capability pointer, reserved */
        0x3d, 0x3e, 0x3f,               /* interrupt pin, min grant, max latency */
    };
    for (unsigned i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        assert_int_equal(wr(f, dropped[i], 1, 0xa5), 0);
    assert_int_equal(f->nwrites, 0);
    assert_int_equal(rd(f, 0x34, 1), FAKE_MSI_CAP);
    /* The interrupt line is a scratch byte the guest reads back; the
     * device's stays the host's. */
    f->cfg[0x3c] = 0x77;
    assert_int_equal(wr(f, 0x3c, 1, 0x0b), 0);
    assert_int_equal(rd(f, 0x3c, 1), 0x0b);
    assert_int_equal(f->cfg[0x3c], 0x77);
    assert_int_equal(f->nwrites, 0);
}

/* ------------------------------------------------------- capabilities -- */

static void test_msi_blocked(void **state)
{
    struct fake *f = *state;

    /* The whole 24-byte MSI capability (64-bit, per-vector masking). */
    for (uint32_t off = FAKE_MSI_CAP; off < FAKE_MSI_CAP + 24; off++)
        assert_int_equal(wr(f, off, 1, 0xff), 0);
    for (uint32_t off = FAKE_MSI_CAP; off < FAKE_MSI_CAP + 24; off += 4)
        assert_int_equal(wr(f, off, 4, 0xffffffff), 0);
    assert_false(fake_wrote(f, FAKE_MSI_CAP, 24));
    assert_int_equal(rd(f, FAKE_MSI_CAP + 2, 2), 0x0184);
    /* The gap after it belongs to no capability: dropped too. */
    assert_int_equal(wr(f, FAKE_MSI_CAP + 24, 1, 0xab), 0);
    assert_int_equal(f->nwrites, 0);
}

static void test_msix_blocked(void **state)
{
    struct fake *f = *state;

    for (uint32_t off = FAKE_MSIX_CAP; off < FAKE_MSIX_CAP + 12; off += 2)
        assert_int_equal(wr(f, off, 2, 0xffff), 0);
    assert_false(fake_wrote(f, FAKE_MSIX_CAP, 12));
    /* Enabling MSI-X from the client is the host's business, not the guest's. */
    assert_int_equal(rd(f, FAKE_MSIX_CAP + 2, 2), FAKE_MSIX_VECS - 1);
}

static void test_pcie_control_blocked(void **state)
{
    struct fake *f = *state;
    static const struct { uint32_t reg; uint16_t val; } regs[] = {
        { 0x08, 0x5fff },       /* Device Control: MPS/MRRS, FLR, error enables */
        { 0x0a, 0x000f },       /* Device Status: write-1-to-clear error bits */
        { 0x10, 0x0010 },       /* Link Control: link disable */
        { 0x18, 0xffff },       /* Slot Control */
        { 0x1c, 0xffff },       /* Root Control */
        { 0x28, 0xffff },       /* Device Control 2: completion timeout, LTR, ... */
        { 0x30, 0x0001 },       /* Link Control 2: target speed */
    };

    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        assert_int_equal(wr(f, FAKE_PCIE_CAP + regs[i].reg, 2, regs[i].val), 0);
    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x09, 1, 0x50), 0);
    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x08, 4, 0x000f5fff), 0);
    assert_int_equal(f->nwrites, 0);
    assert_int_equal(rd(f, FAKE_PCIE_CAP + 0x08, 2), 0x2810);
    /* Reads stay the device's: drivers read DevCtl and DevCap. */
    assert_int_equal(rd(f, FAKE_PCIE_CAP + 0x10, 2), 0x0040);
}

static void test_vendor_cap_dropped(void **state)
{
    struct fake *f = *state;

    assert_int_equal(wr(f, FAKE_VNDR_CAP + 4, 4, 0xcafef00d), 0);
    assert_int_equal(wr(f, FAKE_VNDR_CAP + 8, 2, 0xffff), 0);
    assert_int_equal(f->nwrites, 0);
    assert_int_equal(rd(f, FAKE_VNDR_CAP + 4, 4), 0x11223344);
}

/* PMCSR power state: forwarded while nothing is mapped; PME bits never. */
static void test_pm_power_state(void **state)
{
    struct fake *f = *state;
    uint32_t pmcsr = FAKE_PM_CAP + 4;

    /* D3hot, with PME enable and PME status (write-1-to-clear) set in the
     * same write: only the state byte reaches the device. */
    f->cfg[pmcsr + 1] = 0x80;           /* PME status pending */
    assert_int_equal(wr(f, pmcsr, 2, 0x8103), 0x1);
    assert_int_equal(f->nwrites, 1);
    assert_int_equal(f->writes[0].off, pmcsr);
    assert_int_equal(f->writes[0].width, 1);
    assert_int_equal(f->writes[0].val, 0x0b);           /* D3hot + No_Soft_Reset kept */
    assert_int_equal(f->cfg[pmcsr + 1], 0x80);          /* status not cleared */
    assert_int_equal(rd(f, pmcsr, 2) & 3, 3);
    /* The device is not in D0: MMIO is withheld (all-ones, as a function
     * that does not decode answers). */
    uint64_t v;
    assert_int_equal(mmio_rd(f, 0x100, 4, &v), 0);
    assert_int_equal(v, 0xffffffff);
    assert_int_equal(mmio_wr(f, 0x100, 4, 1), 0);
    assert_int_equal(f->nmmio, 0);
    /* D2 is not supported by this function: the write is ignored, as the
     * device would; D1 is. */
    assert_int_equal(wr(f, pmcsr, 1, 0x02), 0);
    assert_int_equal(rd(f, pmcsr, 1) & 3, 3);
    assert_int_equal(wr(f, pmcsr, 1, 0x01), 0x1);
    assert_int_equal(f->cfg[pmcsr] & 3, 1);
    assert_int_equal(wr(f, pmcsr, 1, 0x00), 0x1);
    assert_int_equal(f->cfg[pmcsr] & 3, 0);
    assert_int_equal(mmio_wr(f, 0x100, 4, 1), 0);
    assert_int_equal(f->nmmio, 1);
    /* The rest of the capability is read-only or the host's. */
    f->nwrites = 0;
    assert_int_equal(wr(f, FAKE_PM_CAP + 2, 2, 0xffff), 0);
    assert_int_equal(wr(f, FAKE_PM_CAP + 6, 2, 0xffff), 0);
    assert_int_equal(f->nwrites, 0);
}

static void test_ext_caps_dropped(void **state)
{
    struct fake *f = *state;
    static const struct { uint32_t off; unsigned w; uint32_t val; } w[] = {
        { FAKE_AER_CAP + 0x04, 4, 0xffffffff },  /* uncorrectable status (RW1C) */
        { FAKE_AER_CAP + 0x08, 4, 0xffffffff },  /* uncorrectable mask */
        { FAKE_AER_CAP + 0x0c, 4, 0xffffffff },  /* severity */
        { FAKE_AER_CAP + 0x10, 4, 0xffffffff },  /* correctable status (RW1C) */
        { FAKE_AER_CAP + 0x14, 4, 0xffffffff },  /* correctable mask */
        { FAKE_AER_CAP + 0x18, 4, 0xffffffff },  /* capabilities and control */
        { FAKE_ACS_CAP + 0x06, 2, 0x0000 },      /* ACS control: off */
        { FAKE_LTR_CAP + 0x04, 4, 0xffffffff },  /* max latencies */
        { FAKE_L1SS_CAP + 0x08, 4, 0x0000000f }, /* L1 substates enable */
        { FAKE_REBAR_CAP + 0x08, 4, 0x00001f00 },/* resizable BAR size */
        { FAKE_SRIOV_CAP + 0x08, 2, 0x0001 },    /* SR-IOV control: VF enable */
        { FAKE_SRIOV_CAP + 0x10, 2, 0x0008 },    /* NumVFs */
        { FAKE_VSEC_CAP + 0x08, 4, 0xffffffff },
        { FAKE_DVSEC_CAP + 0x0c, 4, 0xffffffff },
        { FAKE_UNK_CAP + 0x04, 4, 0xffffffff },
        { 0xffc, 4, 0x1 },                       /* beyond every capability */
        { FAKE_AER_CAP, 4, 0 },                  /* a header */
    };

    for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        assert_int_equal(wr(f, w[i].off, w[i].w, w[i].val), 0);
    assert_int_equal(f->nwrites, 0);
    assert_int_equal(rd(f, FAKE_AER_CAP + 0x04, 4), 0x00004000);
    assert_int_equal(rd(f, FAKE_REBAR_CAP + 0x08, 4), 0x00000020);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.config_writes_dropped_ext, sizeof(w) / sizeof(w[0]));
    /* Standard-space drops do not count as extended ones. */
    assert_int_equal(wr(f, 0x06, 2, 0xffff), 0);
    assert_int_equal(stats(f).config_writes_dropped_ext, s.config_writes_dropped_ext);
}

static void test_write_validation(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];
    unsigned before = f->platform_calls;

    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0xa0, 3, 0), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0xa0, 0, 0), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0xa0, 8, 0), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0xa1, 2, 0), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0xa0, 1, 0x100), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0xa0, 2, 0x10000), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0xa0, 4, 1ull << 32), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 4096, 4, 0), VFA_E_RANGE);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 1ull << 40, 4, 0), VFA_E_RANGE);
    assert_int_equal(f->platform_calls, before);
    assert_int_equal(f->nwrites, 0);
}

/* ------------------------------------------------- memory decoding -- */

/* With a BAR mapped, the guest's memory-space clear stays virtual. */
static void test_mse_virtual_while_mapped(void **state)
{
    struct fake *f = *state;
    uint64_t v;

    map_bar0(f);
    assert_int_equal(wr(f, 0x04, 2, 0x0006), 0x3);
    assert_int_equal(dev16(f, 0x04), 0x0006);
    /* Clear memory space and bus master: bus master reaches the device
     * (it stops DMA), memory space does not; the guest reads its own. */
    assert_int_equal(wr(f, 0x04, 2, 0x0000), 0x3);
    assert_int_equal(dev16(f, 0x04) & 0x6, 0x2);
    assert_int_equal(rd(f, 0x04, 2) & 0x6, 0x0);
    assert_int_equal(rd(f, 0x04, 4) & 0x6, 0x0);      /* also through a dword */
    assert_int_equal(stats(f).config_decode_held, 1);
    /* Another write with memory space still clear is not another clear. */
    assert_int_equal(wr(f, 0x04, 2, 0x0400), 0x3);
    assert_int_equal(stats(f).config_decode_held, 1);
    assert_int_equal(dev16(f, 0x04), 0x0402);
    assert_int_equal(wr(f, 0x04, 2, 0x0000), 0x3);
    /* The device still decodes, so the trapped page still works. */
    assert_int_equal(mmio_wr(f, 0x4000, 4, 0x12345678), 0);
    assert_int_equal(mmio_rd(f, 0x4000, 4, &v), 0);
    assert_int_equal(v, 0x12345678);
    /* Set again: the guest sees it; nothing held. */
    assert_int_equal(wr(f, 0x04, 2, 0x0002), 0x3);
    assert_int_equal(rd(f, 0x04, 2) & 0x6, 0x2);
    assert_int_equal(stats(f).config_decode_held, 1);
    /* Session cleanup still turns bus mastering off first. */
    assert_int_equal(wr(f, 0x04, 2, 0x0006), 0x3);
    unsigned nw = f->nwrites;
    vfa_core_client_gone(f->core, A);
    assert_int_equal(f->writes[nw].off, 0x04);
    assert_int_equal(f->writes[nw].val & 0x4, 0);
}

/* Nothing mapped: memory space is the guest's, and MMIO follows it. */
static void test_mse_forwarded_unmapped(void **state)
{
    struct fake *f = *state;
    uint64_t v;

    assert_int_equal(wr(f, 0x04, 2, 0x0000), 0x3);
    assert_int_equal(dev16(f, 0x04) & 0x2, 0);
    f->nmmio = 0;
    assert_int_equal(mmio_rd(f, 0x4000, 8, &v), 0);
    assert_int_equal(v, ~0ull);
    assert_int_equal(mmio_rd(f, 0x4000, 2, &v), 0);
    assert_int_equal(v, 0xffff);
    assert_int_equal(mmio_wr(f, 0x4000, 4, 1), 0);
    assert_int_equal(f->nmmio, 0);
    assert_int_equal(stats(f).mmio_dropped, 3);
    /* Mapping a BAR turns decoding on for good (the guest's view stays
     * cleared), and MMIO flows again. */
    map_bar0(f);
    assert_int_equal(dev16(f, 0x04) & 0x2, 0x2);
    assert_int_equal(rd(f, 0x04, 2) & 0x2, 0);
    assert_int_equal(mmio_wr(f, 0x4000, 4, 1), 0);
    assert_int_equal(f->nmmio, 1);
}

static void test_pm_virtual_while_mapped(void **state)
{
    struct fake *f = *state;
    uint32_t pmcsr = FAKE_PM_CAP + 4;
    uint64_t v;

    map_bar0(f);
    f->nwrites = 0;
    assert_int_equal(wr(f, pmcsr, 2, 0x0003), 0);
    assert_int_equal(f->nwrites, 0);
    assert_int_equal(f->cfg[pmcsr] & 3, 0);             /* device stays in D0 */
    assert_int_equal(rd(f, pmcsr, 2) & 3, 3);           /* guest sees D3hot */
    assert_int_equal(stats(f).config_decode_held, 1);
    assert_int_equal(mmio_rd(f, 0x4000, 4, &v), 0);
    assert_int_equal(f->nmmio, 1);
    assert_int_equal(wr(f, pmcsr, 2, 0x0000), 0);
    assert_int_equal(rd(f, pmcsr, 2) & 3, 0);
}

/* A device the guest left in D3hot cannot be mapped (leaving D3 needs a
 * wait the core cannot do); in D0 it can. */
static void test_map_refused_in_d3(void **state)
{
    struct fake *f = *state;
    void *h;
    uint64_t size;

    assert_int_equal(wr(f, FAKE_PM_CAP + 4, 1, 0x03), 0x1);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), VFA_E_IO);
    assert_int_equal(wr(f, FAKE_PM_CAP + 4, 1, 0x00), 0x1);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), 0);
}

/* A reset clears Command; mapped BARs get memory decoding back at once. */
static void test_reset_restores_decode(void **state)
{
    struct fake *f = *state;
    uint64_t out[16], v;

    map_bar0(f);
    assert_int_equal(wr(f, 0x04, 2, 0x0006), 0x3);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), 0);
    assert_int_equal(dev16(f, 0x04), 0x0002);   /* bus master stays off */
    assert_int_equal(rd(f, 0x04, 2), 0x0000);   /* the guest sees the reset */
    f->nmmio = 0;
    assert_int_equal(mmio_rd(f, 0x4000, 4, &v), 0);
    assert_int_equal(f->nmmio, 1);
}

/* --------------------------------------------------------- MSI-X MMIO -- */

static void test_msix_table_mmio(void **state)
{
    struct fake *f = *state;
    uint64_t v;
    const uint64_t tend = FAKE_MSIX_TABLE + FAKE_MSIX_VECS * 16;

    /* What the host programmed, where the table is. */
    memset(f->bar0 + FAKE_MSIX_TABLE, 0xab, FAKE_MSIX_VECS * 16);
    memset(f->bar0 + FAKE_MSIX_PBA, 0x01, 8);
    f->nmmio = 0;
    for (uint64_t off = FAKE_MSIX_TABLE; off < tend; off += 4) {
        assert_int_equal(mmio_wr(f, off, 4, 0xfee00000), 0);
        assert_int_equal(mmio_rd(f, off, 4, &v), 0);
        assert_int_equal(v, 0);                 /* no host address leaks */
    }
    assert_int_equal(mmio_wr(f, tend - 8, 8, 0), 0);
    assert_int_equal(mmio_wr(f, tend - 1, 1, 0), 0);
    assert_int_equal(mmio_rd(f, FAKE_MSIX_TABLE + 16 + 6, 2, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(f->nmmio, 0);
    assert_int_equal(f->bar0[FAKE_MSIX_TABLE], 0xab);
    /* PBA: writes dropped, reads forwarded. */
    assert_int_equal(mmio_wr(f, FAKE_MSIX_PBA, 8, 0), 0);
    assert_int_equal(f->bar0[FAKE_MSIX_PBA], 0x01);
    assert_int_equal(mmio_rd(f, FAKE_MSIX_PBA, 8, &v), 0);
    assert_int_equal(v, 0x0101010101010101ull);
    assert_int_equal(f->nmmio, 1);
    /* Right next to them is ordinary device memory. */
    assert_int_equal(mmio_wr(f, tend, 4, 0x55), 0);
    assert_int_equal(mmio_wr(f, FAKE_MSIX_TABLE - 4, 4, 0x55), 0);
    assert_int_equal(mmio_wr(f, FAKE_MSIX_PBA + 8, 4, 0x55), 0);
    assert_int_equal(f->nmmio, 4);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.mmio_dropped, FAKE_MSIX_VECS * 8 + 4);
    /* Dropped is not failed: every call succeeded. */
    assert_int_equal(s.errors[VFA_SEL_MMIO_WRITE] + s.errors[VFA_SEL_MMIO_READ], 0);
}

static void check_msix_refused(struct fake *f)
{
    uint64_t out[16];

    assert_int_equal(identity(f).msix_vectors, 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, VFA_IRQ_MSIX, 1), VFA_E_NOTSUP);
    assert_int_equal(f->irq_setup_calls, 0);
    /* MSI still works. */
    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, VFA_IRQ_MSI, 1), 0);
}

static void test_msix_bad_bir(void **state)
{
    struct fake *f = *state;

    assert_int_equal(identity(f).msix_vectors, FAKE_MSIX_VECS);
    for (uint32_t bir = 6; bir <= 7; bir++) {
        fake_put32(f, FAKE_MSIX_CAP + 4, FAKE_MSIX_TABLE | bir);
        reopen(f);
        f->irq_setup_calls = 0;
        check_msix_refused(f);
    }
    /* BIR 1: the upper half of 64-bit BAR0, and BIR 3: absent. */
    for (uint32_t bir = 1; bir <= 3; bir += 2) {
        fake_put32(f, FAKE_MSIX_CAP + 4, FAKE_MSIX_TABLE | bir);
        reopen(f);
        f->irq_setup_calls = 0;
        check_msix_refused(f);
    }
    /* A bad PBA is as bad as a bad table. */
    fake_put32(f, FAKE_MSIX_CAP + 4, FAKE_MSIX_TABLE);
    fake_put32(f, FAKE_MSIX_CAP + 8, FAKE_MSIX_PBA | 5);
    reopen(f);
    f->irq_setup_calls = 0;
    check_msix_refused(f);
    /* ...but the table it does describe is still guarded. */
    assert_int_equal(mmio_wr(f, FAKE_MSIX_TABLE, 4, 1), 0);
    assert_int_equal(f->nmmio, 0);
}

/* A table running past the end of its BAR: MSI-X refused, and the part of
 * the claim inside the BAR guarded anyway. */
static void test_msix_past_bar_end(void **state)
{
    struct fake *f = *state;
    uint64_t v;

    fake_put32(f, FAKE_MSIX_CAP + 4, FAKE_BAR0_SIZE - 64);     /* 8 vectors: 128 bytes */
    reopen(f);
    f->irq_setup_calls = 0;
    check_msix_refused(f);
    f->nmmio = 0;
    assert_int_equal(mmio_wr(f, FAKE_BAR0_SIZE - 8, 8, 1), 0);
    assert_int_equal(mmio_rd(f, FAKE_BAR0_SIZE - 64, 4, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(f->nmmio, 0);
    assert_int_equal(mmio_wr(f, FAKE_BAR0_SIZE - 68, 4, 1), 0);
    assert_int_equal(f->nmmio, 1);
    /* An offset past the BAR altogether, and the largest table there is:
     * refused, nothing to guard, no overflow. */
    fake_put32(f, FAKE_MSIX_CAP + 4, 0xfffffff8u);
    fake_put16(f, FAKE_MSIX_CAP + 2, 0x07ff);
    reopen(f);
    f->irq_setup_calls = 0;
    check_msix_refused(f);
}

/* The platform claims MSI-X vectors the capability list does not show. */
static void test_msix_without_cap(void **state)
{
    struct fake *f = *state;

    f->cfg[FAKE_MSI_CAP + 1] = FAKE_PCIE_CAP;           /* skip MSI-X */
    reopen(f);
    f->irq_setup_calls = 0;
    check_msix_refused(f);
}

/* ------------------------------------------------------------ quirks -- */

static const struct vfa_quirk_allow vsec_allow[] = {
    /* 8 bytes at VSEC+0x10, but the VSEC is 0x18 long: clipped to 8. */
    { .cap_id = VFA_PCI_EXT_CAP_ID_VNDR, .ext = 1, .bits = 0xff, .off = 0x10, .len = 0x40,
      .vsec_id = FAKE_VSEC_ID },
    /* Another vendor's VSEC ID: must not open ours. */
    { .cap_id = VFA_PCI_EXT_CAP_ID_VNDR, .ext = 1, .bits = 0xff, .off = 0x08, .len = 4,
      .vsec_id = 0x9999 },
    /* Partial bits of a standard vendor-specific capability. */
    { .cap_id = VFA_PCI_CAP_ID_VNDR, .ext = 0, .bits = 0x0f, .off = 4, .len = 1 },
    /* Attempts on what the host owns: never opened. */
    { .cap_id = VFA_PCI_CAP_ID_MSIX, .ext = 0, .bits = 0xff, .off = 0, .len = 12 },
    { .cap_id = VFA_PCI_CAP_ID_PM, .ext = 0, .bits = 0xff, .off = 4, .len = 1 },
    /* A DVSEC by its ID, an AER mask. */
    { .cap_id = VFA_PCI_EXT_CAP_ID_DVSEC, .ext = 1, .bits = 0xff, .off = 0x0c, .len = 4,
      .vsec_id = FAKE_DVSEC_ID },
    { .cap_id = VFA_PCI_EXT_CAP_ID_AER, .ext = 1, .bits = 0xff, .off = 0x14, .len = 4,
      .vsec_id = VFA_QUIRK_ANY_VSEC },
};

static void test_quirk_allows(void **state)
{
    struct fake *f = *state;
    const struct vfa_quirk q = {
        .name = "fake vsec", .vendor_id = 0x1b36, .device_id = 0x0010,
        .allow = vsec_allow, .nallow = sizeof(vsec_allow) / sizeof(vsec_allow[0]),
    };

    f->quirks = &q;
    f->nquirks = 1;
    reopen(f);
    assert_int_equal(wr(f, FAKE_VSEC_CAP + 0x10, 4, 0xa1a2a3a4), 0xf);
    assert_int_equal(wr(f, FAKE_VSEC_CAP + 0x14, 4, 0xb1b2b3b4), 0xf);
    assert_int_equal(wr(f, FAKE_VSEC_CAP + 0x18, 4, 0xc1c2c3c4), 0);    /* past its length */
    assert_int_equal(wr(f, FAKE_VSEC_CAP + 0x08, 4, 0xd1d2d3d4), 0);    /* other ID's range */
    assert_int_equal(wr(f, FAKE_DVSEC_CAP + 0x0c, 4, 0xe1e2e3e4), 0xf);
    assert_int_equal(wr(f, FAKE_AER_CAP + 0x14, 4, 0xffffffff), 0xf);
    assert_int_equal(wr(f, FAKE_AER_CAP + 0x10, 4, 0xffffffff), 0);     /* status stays dropped */
    /* Partial bits: the low nibble is the guest's, the rest the device's. */
    f->cfg[FAKE_VNDR_CAP + 4] = 0x40;
    assert_int_equal(wr(f, FAKE_VNDR_CAP + 4, 1, 0xff), 0x1);
    assert_int_equal(f->cfg[FAKE_VNDR_CAP + 4], 0x4f);
    assert_int_equal(wr(f, FAKE_VNDR_CAP + 5, 1, 0xff), 0);
    /* MSI-X and the PMCSR state byte keep their own classes: nothing of
     * MSI-X, and only the state bits of PMCSR. */
    assert_int_equal(wr(f, FAKE_MSIX_CAP + 2, 2, 0xc000), 0);
    assert_false(fake_wrote(f, FAKE_MSIX_CAP, 12));
    assert_int_equal(wr(f, FAKE_PM_CAP + 4, 1, 0xf3), 0x1);
    assert_int_equal(f->cfg[FAKE_PM_CAP + 4], 0x0b);

    /* The same table for another device opens nothing. */
    const struct vfa_quirk other = { .name = "other", .vendor_id = 0x1b36, .device_id = 0x0011,
                                     .allow = q.allow, .nallow = q.nallow };
    f->quirks = &other;
    reopen(f);
    assert_int_equal(wr(f, FAKE_VSEC_CAP + 0x10, 4, 1), 0);
    assert_int_equal(f->nwrites, 0);
}

static void test_quirk_match_and_no_flr(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];
    struct vfa_quirk q = {
        .name = "no flr", .vendor_id = 0x1b36, .device_id = VFA_QUIRK_ANY_DEVICE,
        .class_code = 0x020000, .class_mask = 0xff0000,  /* network: not us */
        .flags = VFA_QUIRK_NO_FLR,
    };

    assert_true(identity(f).flags & VFA_ID_FLR);
    f->quirks = &q;
    f->nquirks = 1;
    reopen(f);
    assert_true(identity(f).flags & VFA_ID_FLR);         /* class differs */
    q.class_code = 0x010000;                             /* mass storage: us */
    reopen(f);
    assert_false(identity(f).flags & VFA_ID_FLR);
    f->flr_count = f->hot_count = 0;
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, VFA_RESET_FLR), VFA_E_NOTSUP);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), 0);
    assert_int_equal(out[0], VFA_RESET_HOT);
    assert_int_equal(f->flr_count, 0);
    /* Session cleanup resets without FLR too. */
    vfa_core_client_gone(f->core, A);
    assert_int_equal(f->flr_count, 0);
    assert_int_equal(f->hot_count, 2);
    /* A count beyond VFA_MAX_QUIRKS is cut to it: the array holds exactly
     * that many entries, none of which matches, so reading one more would
     * read past it. */
    q.vendor_id = 0x8086;
    struct vfa_quirk many[VFA_MAX_QUIRKS] = { [0] = q };
    f->quirks = many;
    f->nquirks = 0xffffffffu;
    reopen(f);
    assert_true(identity(f).flags & VFA_ID_FLR);
    f->quirks = NULL;
}

/* ---------------------------------------------------- hostile layouts -- */

/* A device whose capability list loops must not hang the core, and what
 * was found before the loop is still protected. */
static void test_cap_loop(void **state)
{
    struct fake *f = *state;

    f->cfg[FAKE_MSIX_CAP + 1] = FAKE_MSI_CAP;   /* MSI-X -> MSI -> MSI-X ... */
    reopen(f);
    assert_int_equal(wr(f, FAKE_MSI_CAP + 4, 4, 0xfee00000), 0);
    assert_int_equal(wr(f, FAKE_MSIX_CAP + 2, 2, 0xc000), 0);
    /* The PM capability is unreachable now: its PMCSR is not forwarded. */
    assert_int_equal(wr(f, FAKE_PM_CAP + 4, 1, 0x3), 0);
    assert_int_equal(f->nwrites, 0);
    assert_int_equal(identity(f).msix_vectors, FAKE_MSIX_VECS);
}

static void test_malformed_std(void **state)
{
    struct fake *f = *state;

    /* A capability pointer into the header: no capabilities at all, so
     * the MSI and MSI-X the platform claims are refused. */
    f->cfg[0x34] = 0x10;
    reopen(f);
    assert_int_equal(identity(f).msix_vectors, 0);
    assert_int_equal(identity(f).msi_vectors, 0);
    assert_int_equal(wr(f, FAKE_PM_CAP + 4, 1, 0x3), 0);
    assert_int_equal(f->nwrites, 0);

    /* Overlapping capabilities: a PM capability at 0x5c, whose PMCSR is
     * the MSI-X capability's first dword.  The host-owned bytes win
     * whichever capability the walk meets first. */
    f->cfg[0x5c] = 0x01;
    fake_put16(f, 0x5e, 0x0003);
    f->cfg[FAKE_PCIE_CAP + 1] = FAKE_VNDR_CAP;         /* the real PM unlinked */
    for (int pm_first = 0; pm_first < 2; pm_first++) {
        if (pm_first) {
            f->cfg[0x34] = 0x5c;                        /* PM -> MSI -> MSI-X -> ... */
            f->cfg[0x5d] = FAKE_MSI_CAP;
            f->cfg[FAKE_MSIX_CAP + 1] = FAKE_PCIE_CAP;
        } else {
            f->cfg[0x34] = FAKE_MSI_CAP;                /* ... MSI-X -> PM -> PCIe */
            f->cfg[FAKE_MSIX_CAP + 1] = 0x5c;
            f->cfg[0x5d] = FAKE_PCIE_CAP;
        }
        reopen(f);
        assert_int_equal(wr(f, FAKE_MSIX_CAP, 1, 0x3), 0);
        assert_int_equal(wr(f, FAKE_PM_CAP + 4, 1, 0x3), 0);
        assert_int_equal(f->nwrites, 0);
        assert_int_equal(identity(f).msix_vectors, FAKE_MSIX_VECS);
    }

    /* Truncated capabilities against 0x100: an MSI-X whose PBA field lies
     * in extended space is unusable; a PM whose PMCSR does is ignored. */
    fake_fini(f);
    fake_init(f, 0, 0);
    f->cfg[FAKE_MSI_CAP + 1] = FAKE_PCIE_CAP;           /* the real MSI-X unlinked */
    f->cfg[FAKE_PCIE_CAP + 1] = 0xf8;
    f->cfg[0xf8] = 0x11;
    f->cfg[0xf9] = 0xfc;
    fake_put16(f, 0xfa, 3);
    f->cfg[0xfc] = 0x01;
    f->cfg[0xfd] = 0x00;
    reopen(f);
    assert_int_equal(identity(f).msix_vectors, 0);
    assert_int_equal(wr(f, 0xfc, 4, 0xffffffff), 0);
    assert_int_equal(wr(f, 0xf8, 4, 0xffffffff), 0);
    assert_int_equal(wr(f, 0x100, 4, 0xffffffff), 0);
    assert_int_equal(f->nwrites, 0);
}

static void test_malformed_ext(void **state)
{
    struct fake *f = *state;
    const struct vfa_quirk_allow allow[] = {
        { .cap_id = 0x7777, .ext = 1, .bits = 0xff, .off = 4, .len = 4,
          .vsec_id = VFA_QUIRK_ANY_VSEC },
    };
    const struct vfa_quirk q = { .name = "unk", .vendor_id = 0x1b36, .device_id = 0x0010,
                                 .allow = allow, .nallow = 1 };

    /* With the quirk the unknown capability at the end of the list is
     * writable: proof the walk reaches it.  Then break the list in front
     * of it in every way a device can, and it must not be reached. */
    f->quirks = &q;
    f->nquirks = 1;
    reopen(f);
    assert_int_equal(wr(f, FAKE_UNK_CAP + 4, 4, 1), 0xf);

    static const uint32_t bad_next[] = {
        FAKE_SRIOV_CAP,         /* a cycle back */
        FAKE_DVSEC_CAP,         /* pointing at itself */
        0x0fc,                  /* into standard space */
        0x040,
    };
    for (unsigned i = 0; i < sizeof(bad_next) / sizeof(bad_next[0]); i++) {
        fake_put_ext(f, FAKE_DVSEC_CAP, 0x0023, 1, bad_next[i]);
        reopen(f);
        assert_int_equal(wr(f, FAKE_UNK_CAP + 4, 4, 1), 0);
    }
    /* An all-ones header (a function that stopped answering). */
    fake_put_ext(f, FAKE_DVSEC_CAP, 0x0023, 1, FAKE_UNK_CAP);
    fake_put32(f, FAKE_VSEC_CAP, 0xffffffff);
    reopen(f);
    assert_int_equal(wr(f, FAKE_UNK_CAP + 4, 4, 1), 0);
    /* The last capability running past the end of config space: the
     * quirk range is clipped, never beyond 4 KiB. */
    fake_put_ext(f, FAKE_VSEC_CAP, 0x000b, 1, 0xffc);
    fake_put_ext(f, 0xffc, 0x7777, 1, 0);
    reopen(f);
    assert_int_equal(wr(f, 0xffc, 4, 1), 0);            /* its header: offset 4 starts past it */
    assert_int_equal(f->nwrites, 0);
    /* A conventional function (256 bytes): no extended walk, extended
     * offsets out of range. */
    f->config_size = 256;
    reopen(f);
    uint64_t out[16];
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, FAKE_UNK_CAP + 4, 4, 1), VFA_E_RANGE);
    f->quirks = NULL;
}

/* --------------------------------------------- the walker on its own -- */

static uint32_t buf_rd(void *opaque, uint32_t off, unsigned width)
{
    const uint8_t *b = opaque;
    uint32_t v = 0;

    if (off + width > 4096)
        fail();
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)b[off + i] << (8 * i);
    return v;
}

struct seen {
    unsigned n;
    unsigned id[64];
    uint32_t pos[64];
};

static int record(void *opaque, unsigned id, uint32_t pos)
{
    struct seen *s = opaque;

    if (s->n < 64) {
        s->id[s->n] = id;
        s->pos[s->n] = pos;
    }
    s->n++;
    return 0;
}

static void test_walker(void **state)
{
    struct fake *f = *state;
    struct seen s = { 0 };

    assert_int_equal(vfa_pci_for_each_cap(buf_rd, f->cfg, record, &s), 5);
    assert_int_equal(s.n, 5);
    static const unsigned ids[] = { 0x05, 0x11, 0x10, 0x01, 0x09 };
    static const uint32_t pos[] = { FAKE_MSI_CAP, FAKE_MSIX_CAP, FAKE_PCIE_CAP, FAKE_PM_CAP,
                                    FAKE_VNDR_CAP };
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(s.id[i], ids[i]);
        assert_int_equal(s.pos[i], pos[i]);
    }
    memset(&s, 0, sizeof(s));
    assert_int_equal(vfa_pci_for_each_ext_cap(buf_rd, f->cfg, 4096, record, &s), 9);
    assert_int_equal(s.id[0], VFA_PCI_EXT_CAP_ID_AER);
    assert_int_equal(s.id[5], VFA_PCI_EXT_CAP_ID_SRIOV);
    assert_int_equal(s.pos[8], FAKE_UNK_CAP);
    assert_int_equal(vfa_pci_for_each_ext_cap(buf_rd, f->cfg, 256, record, &s), 0);
    assert_int_equal(vfa_pci_find_cap(buf_rd, f->cfg, VFA_PCI_CAP_ID_PM), FAKE_PM_CAP);
    assert_int_equal(vfa_pci_find_cap(buf_rd, f->cfg, VFA_PCI_CAP_ID_AF), 0);
    assert_int_equal(vfa_pci_find_ext_cap(buf_rd, f->cfg, 4096, VFA_PCI_EXT_CAP_ID_REBAR),
                     FAKE_REBAR_CAP);
    assert_int_equal(vfa_pci_find_ext_cap(buf_rd, f->cfg, 4096, VFA_PCI_EXT_CAP_ID_DPC), 0);
    /* A callback can stop the walk. */
    assert_int_equal(vfa_pci_for_each_cap(buf_rd, f->cfg, vfa_pci_find_cb,
                                          &(struct vfa_pci_find){ 0x11, 0 }), 2);

    /* Worst cases: a list that visits every dword of standard space ends
     * after 48 entries; one that cycles ends at the repeat. */
    uint8_t b[4096] = { 0 };
    b[0x06] = 0x10;
    b[0x34] = 0x40;
    for (uint32_t p = 0x40; p < 0x100; p += 4) {
        b[p] = 0x09;
        b[p + 1] = (uint8_t)(p + 4);        /* 0xfc -> 0x00 ends it */
    }
    assert_int_equal(vfa_pci_for_each_cap(buf_rd, b, NULL, NULL), 48);
    b[0xfd] = 0x40;
    assert_int_equal(vfa_pci_for_each_cap(buf_rd, b, NULL, NULL), 48);
    b[0x81] = 0x44;                         /* 0x40 .. 0x80 -> 0x44: cycle */
    assert_int_equal(vfa_pci_for_each_cap(buf_rd, b, NULL, NULL), 17);
    /* Extended: every dword from 0x100 chained, then a cycle. */
    for (uint32_t p = 0x100; p < 0x1000; p += 4) {
        uint32_t h = 0x0001u | (uint32_t)(p + 4 < 0x1000 ? p + 4 : 0) << 20;
        memcpy(b + p, &h, 4);
    }
    assert_int_equal(vfa_pci_for_each_ext_cap(buf_rd, b, 4096, NULL, NULL), 960);
    uint32_t h = 0x0001u | 0x100u << 20;
    memcpy(b + 0xffc, &h, 4);
    assert_int_equal(vfa_pci_for_each_ext_cap(buf_rd, b, 4096, NULL, NULL), 960);
    /* A 256-byte function's walk never reads past 0xff. */
    assert_int_equal(vfa_pci_for_each_ext_cap(buf_rd, b, 256, NULL, NULL), 0);
    /* Size helpers. */
    assert_int_equal(vfa_pci_msi_size(0), 10);
    assert_int_equal(vfa_pci_msi_size(VFA_PCI_MSI_FLAGS_64BIT | VFA_PCI_MSI_FLAGS_MASKBIT), 24);
    assert_int_equal(vfa_pci_msix_table_size(0x7ff), 2048 * 16);
    assert_int_equal(vfa_pci_msix_pba_size(0), 8);
    assert_int_equal(vfa_pci_msix_pba_size(64), 16);
    assert_true(vfa_pci_cap_fits(0xf8, 8, 0x100));
    assert_false(vfa_pci_cap_fits(0xfc, 8, 0x100));
    assert_false(vfa_pci_cap_fits(0xfffffff0u, 0x20, 0x100));
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, fake_teardown)
    const struct CMUnitTest tests[] = {
        T(test_read_widths),
        T(test_read_validation),
        T(test_block_read),
        T(test_bar_sizing),
        T(test_status_blocked),
        T(test_command_bits),
        T(test_header_allow_list),
        T(test_msi_blocked),
        T(test_msix_blocked),
        T(test_pcie_control_blocked),
        T(test_vendor_cap_dropped),
        T(test_pm_power_state),
        T(test_ext_caps_dropped),
        T(test_write_validation),
        T(test_mse_virtual_while_mapped),
        T(test_mse_forwarded_unmapped),
        T(test_pm_virtual_while_mapped),
        T(test_map_refused_in_d3),
        T(test_reset_restores_decode),
        T(test_msix_table_mmio),
        T(test_msix_bad_bir),
        T(test_msix_past_bar_end),
        T(test_msix_without_cap),
        T(test_quirk_allows),
        T(test_quirk_match_and_no_flr),
        T(test_cap_loop),
        T(test_malformed_std),
        T(test_malformed_ext),
        T(test_walker),
    };
    return cmocka_run_group_tests_name("dext core config policy", tests, NULL, NULL);
}
