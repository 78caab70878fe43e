/* Unit tests of the PRP / PRP-list walker (sim/nvme-prp.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../sim/nvme.h"

/* Fake device memory: 64 KiB at address 0x100000. */
#define MEM_BASE 0x100000ull
#define MEM_SIZE 0x10000u
static uint8_t mem[MEM_SIZE];
static unsigned reads;

static int rd(void *opaque, uint64_t addr, void *buf, size_t len)
{
    reads++;
    if (addr < MEM_BASE || addr + len > MEM_BASE + MEM_SIZE)
        return -EFAULT;
    memcpy(buf, mem + (addr - MEM_BASE), len);
    return 0;
}

static void set_entry(uint64_t addr, uint64_t val)
{
    memcpy(mem + (addr - MEM_BASE), &val, 8);
}

static struct nvme_prp_seg segs[200];
static unsigned nsegs;

static uint16_t walk(uint64_t prp1, uint64_t prp2, uint32_t len)
{
    reads = 0;
    memset(segs, 0, sizeof(segs));
    return nvme_prp_walk(prp1, prp2, len, 12, rd, NULL, segs, 200, &nsegs);
}

static void test_single_page(void **state)
{
    assert_int_equal(walk(0x5000 + 0x200, 0xdead000, 0x100), 0);
    assert_int_equal(nsegs, 1);
    assert_int_equal(segs[0].addr, 0x5200);
    assert_int_equal(segs[0].len, 0x100);
    assert_int_equal(reads, 0);               /* PRP2 ignored, nothing read */
    assert_int_equal(walk(0x5000, 0, 0), 0);
    assert_int_equal(nsegs, 0);
}

static void test_two_pages(void **state)
{
    /* Offset into the first page; the rest in PRP2, which is merged if adjacent. */
    assert_int_equal(walk(0x5800, 0x9000, 0x1000), 0);
    assert_int_equal(nsegs, 2);
    assert_int_equal(segs[0].len, 0x800);
    assert_int_equal(segs[1].addr, 0x9000);
    assert_int_equal(segs[1].len, 0x800);
    assert_int_equal(walk(0x5800, 0x6000, 0x1000), 0);
    assert_int_equal(nsegs, 1);
    assert_int_equal(segs[0].len, 0x1000);
    /* PRP2 as a data pointer must be page-aligned. */
    assert_int_equal(walk(0x5000, 0x6010, 0x2000), NVME_SC_INVALID_PRP_OFFSET | NVME_DNR);
    /* PRP1 must be dword-aligned. */
    assert_int_equal(walk(0x5002, 0, 8), NVME_SC_INVALID_PRP_OFFSET | NVME_DNR);
}

static void test_list(void **state)
{
    /* 5 pages: PRP1 + list of 4 entries, non-contiguous. */
    uint64_t list = MEM_BASE + 0x100;        /* lists may start mid-page */
    for (int i = 0; i < 4; i++)
        set_entry(list + i * 8, 0x40000 + i * 0x2000);
    assert_int_equal(walk(0x20000, list, 5 * 4096), 0);
    assert_int_equal(nsegs, 5);
    uint32_t sum = 0;
    for (unsigned i = 0; i < nsegs; i++)
        sum += segs[i].len;
    assert_int_equal(sum, 5 * 4096);
    assert_int_equal(segs[4].addr, 0x46000);
    /* A misaligned data entry in the list. */
    set_entry(list + 8, 0x42008);
    assert_int_equal(walk(0x20000, list, 5 * 4096), NVME_SC_INVALID_PRP_OFFSET | NVME_DNR);
    /* Last page partial: length still exact. */
    set_entry(list + 8, 0x42000);
    assert_int_equal(walk(0x20000, list, 4 * 4096 + 10), 0);
    assert_int_equal(segs[nsegs - 1].len, 10);
}

static void test_chained_list(void **state)
{
    /* The list starts 2 slots before the end of its page: 1 data + 1 chain. */
    uint64_t l1 = MEM_BASE + 0x1000 - 16, l2 = MEM_BASE + 0x3000;
    set_entry(l1, 0x80000);
    set_entry(l1 + 8, l2);
    for (int i = 0; i < 600; i++)           /* crosses into a third list page */
        set_entry(l2 + i * 8, 0x100000000ull + i * 0x1000);
    /* Entry 511 of l2 is a chain pointer: point it at a page holding the tail. */
    uint64_t l3 = MEM_BASE + 0x6000;
    set_entry(l2 + 511 * 8, l3);
    set_entry(l3, 0x100000000ull + 511 * 0x1000);
    set_entry(l3 + 8, 0x100000000ull + 512 * 0x1000);
    /* 1 (PRP1) + 1 (l1) + 511 (l2) + 2 (l3) pages. */
    uint32_t len = 515 * 4096;
    assert_int_equal(walk(0x10000, l1, len), 0);
    uint64_t sum = 0;
    for (unsigned i = 0; i < nsegs; i++)
        sum += segs[i].len;
    assert_int_equal(sum, len);
    /* 0x100000000.. entries are contiguous: merged into one range. */
    assert_int_equal(nsegs, 3);
    assert_int_equal(segs[2].addr, 0x100000000ull);
    assert_int_equal(segs[2].len, 513 * 4096);
}

static void test_list_fault_and_loops(void **state)
{
    /* List pointer outside memory: the read faults -> data transfer error. */
    assert_int_equal(walk(0x10000, 0x900000, 3 * 4096), NVME_SC_DATA_XFER_ERROR);
    /* List pointer misaligned. */
    assert_int_equal(walk(0x10000, MEM_BASE + 4, 3 * 4096), NVME_SC_INVALID_PRP_OFFSET | NVME_DNR);
    /* A chain whose only slot points back at itself makes no progress. */
    uint64_t l = MEM_BASE + 0x2000 - 8;
    set_entry(l, l);
    assert_int_equal(walk(0x10000, l, 4 * 4096), NVME_SC_INVALID_FIELD | NVME_DNR);
    /* Too many ranges for the caller's array. */
    uint64_t list = MEM_BASE + 0x4000;
    for (int i = 0; i < 8; i++)
        set_entry(list + i * 8, 0x200000 + i * 0x2000);
    struct nvme_prp_seg few[3];
    unsigned n;
    assert_int_equal(nvme_prp_walk(0x10000, list, 9 * 4096, 12, rd, NULL, few, 3, &n),
                     NVME_SC_INVALID_FIELD | NVME_DNR);
}

static void test_page_size_16k(void **state)
{
    /* CC.MPS = 2: 16 KiB pages, so 32 KiB at offset 0 fits in PRP1 + PRP2. */
    struct nvme_prp_seg s[4];
    unsigned n;
    assert_int_equal(nvme_prp_walk(0x10000, 0x80000, 0x8000, 14, rd, NULL, s, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s[1].addr, 0x80000);
    assert_int_equal(nvme_prp_walk(0x10000, 0x81000, 0x8000, 14, rd, NULL, s, 4, &n),
                     NVME_SC_INVALID_PRP_OFFSET | NVME_DNR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_page),
        cmocka_unit_test(test_two_pages),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_chained_list),
        cmocka_unit_test(test_list_fault_and_loops),
        cmocka_unit_test(test_page_size_16k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
