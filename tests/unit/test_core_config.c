/* Dext core: config space reads, BAR emulation and the write policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_core_fake.h"

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

static void test_read_widths(void **state)
{
    struct fake *f = *state;

    assert_int_equal(rd(f, 0, 4), 0x00101b36);
    assert_int_equal(rd(f, 0, 2), 0x1b36);
    assert_int_equal(rd(f, 2, 2), 0x0010);
    assert_int_equal(rd(f, 1, 1), 0x1b);
    assert_int_equal(rd(f, 0xa0, 4), 0x11223344);
    /* Reads of blocked registers still show the device's values. */
    assert_int_equal(rd(f, FAKE_PCIE_CAP + 8, 2), 0x2810);
    assert_int_equal(rd(f, FAKE_MSI_CAP, 1), 0x05);
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
    struct vfa_stats s;
    vfa_core_get_stats(f->core, &s);
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
    /* Header and capabilities are the device's... */
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
    struct vfa_stats s;
    vfa_core_get_stats(f->core, &s);
    assert_int_equal(s.config_block_bytes, 4096 + 64);
}

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

    f->cfg[0x04] = 0x40;        /* a host-owned bit (parity) already set */
    assert_int_equal(wr(f, 0x04, 2, 0xffff), 0x3);
    /* Only memory space, bus master and INTx disable changed; the host's
     * bit is kept; I/O space (bit 0) never set on a platform without it. */
    assert_int_equal(rd(f, 0x04, 2), 0x0446);
    assert_int_equal(wr(f, 0x04, 2, 0x0000), 0x3);
    assert_int_equal(rd(f, 0x04, 2), 0x0040);
    /* A dword write over Command+Status reaches only Command, as a 16-bit
     * write: Status's write-1-to-clear bits are never written back. */
    f->nwrites = 0;
    assert_int_equal(wr(f, 0x04, 4, 0xffff0006), 0x3);
    assert_int_equal(f->nwrites, 1);
    assert_int_equal(f->writes[0].off, 0x04);
    assert_int_equal(f->writes[0].width, 2);
    assert_int_equal(f->writes[0].val, 0x0046);
    struct vfa_stats s;
    vfa_core_get_stats(f->core, &s);
    assert_int_equal(s.config_writes, 3);
    /* 0xffff and 0x0000 both tried to change the host-owned bit 0x40; the
     * dword also dropped Status. */
    assert_int_equal(s.config_writes_filtered, 3);
    assert_int_equal(s.config_bytes_dropped, 2);
}

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
    /* The byte after it is ordinary config space. */
    assert_int_equal(wr(f, FAKE_MSI_CAP + 24, 1, 0xab), 1);
    assert_true(fake_wrote(f, FAKE_MSI_CAP + 24, 1));
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

    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x08, 2, 0x5fff), 0);    /* Device Control */
    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x28, 2, 0xffff), 0);    /* Device Control 2 */
    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x10, 2, 0x0010), 0);    /* Link Control: disable */
    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x09, 1, 0x50), 0);
    assert_false(fake_wrote(f, FAKE_PCIE_CAP + 0x08, 2));
    assert_false(fake_wrote(f, FAKE_PCIE_CAP + 0x28, 2));
    assert_false(fake_wrote(f, FAKE_PCIE_CAP + 0x10, 2));
    assert_int_equal(rd(f, FAKE_PCIE_CAP + 0x08, 2), 0x2810);
    /* Device Status next to Device Control is forwarded, alone. */
    f->nwrites = 0;
    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x08, 4, 0x000f5fff), 0xc);
    assert_int_equal(f->nwrites, 1);
    assert_int_equal(f->writes[0].off, FAKE_PCIE_CAP + 0x0a);
    assert_int_equal(f->writes[0].width, 2);
    assert_int_equal(f->writes[0].val, 0x000f);
}

static void test_forwarded_write(void **state)
{
    struct fake *f = *state;

    assert_int_equal(wr(f, 0xa0, 4, 0xcafef00d), 0xf);
    assert_int_equal(f->nwrites, 1);
    assert_int_equal(f->writes[0].off, 0xa0);
    assert_int_equal(f->writes[0].width, 4);
    assert_int_equal(f->writes[0].val, 0xcafef00d);
    assert_int_equal(rd(f, 0xa0, 4), 0xcafef00d);
    assert_int_equal(wr(f, 0xffc, 4, 0x1), 0xf);
    assert_int_equal(wr(f, 0xa2, 1, 0x77), 0x1);
    assert_int_equal(rd(f, 0xa0, 4), 0xca77f00d);
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

/* A device whose capability list loops must not hang the core, and what
 * was found before the loop is still protected. */
static void test_cap_loop(void **state)
{
    struct fake *f = *state;

    fake_fini(f);
    f->cfg[FAKE_MSIX_CAP + 1] = FAKE_MSI_CAP;   /* MSI-X -> MSI -> MSI-X ... */
    f->core = fake_core(f, 0, 0);
    assert_non_null(f->core);
    uint64_t out[16];
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    assert_int_equal(wr(f, FAKE_MSI_CAP + 4, 4, 0xfee00000), 0);
    assert_int_equal(wr(f, FAKE_MSIX_CAP + 2, 2, 0xc000), 0);
    assert_false(fake_wrote(f, FAKE_MSI_CAP, 24));
    assert_false(fake_wrote(f, FAKE_MSIX_CAP, 12));
    /* The PCIe capability is unreachable now, so it is ordinary space. */
    assert_int_equal(wr(f, FAKE_PCIE_CAP + 0x08, 2, 0x1), 0x3);
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
        T(test_msi_blocked),
        T(test_msix_blocked),
        T(test_pcie_control_blocked),
        T(test_forwarded_write),
        T(test_write_validation),
        T(test_cap_loop),
    };
    return cmocka_run_group_tests_name("dext core config policy", tests, NULL, NULL);
}
