/*
 * Dext core: dispatcher, sessions, device methods and cleanup, over the
 * fake platform.  Config policy and DMA/IRQ have their own files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_core_fake.h"

#define A 0x1111        /* client ids */
#define B 0x2222

static int setup(void **state)
{
    *state = fake_new(0, 0, 0);
    return 0;
}

static void open_a(struct fake *f)
{
    uint64_t out[16];

    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, VFA_ABI_MINOR), 0);
}

static struct vfa_stats stats(struct fake *f)
{
    struct vfa_stats s;

    vfa_core_get_stats(f->core, &s);
    return s;
}

static void test_version(void **state)
{
    struct fake *f = *state;
    uint64_t out[16] = { 0 };

    assert_int_equal(CALL0(f, 0, VFA_SEL_GET_VERSION, out), 0);
    assert_int_equal(out[0], VFA_ABI_MAJOR);
    assert_int_equal(out[1], VFA_ABI_MINOR);
    /* Growth rule: an unknown trailing input is fine if zero... */
    assert_int_equal(CALLN(f, 0, VFA_SEL_GET_VERSION, out, 0), 0);
    /* ...and a protocol error otherwise. */
    assert_int_equal(CALLN(f, 0, VFA_SEL_GET_VERSION, out, 1), VFA_E_PROTO);
    /* Too few scalar outputs offered. */
    uint64_t in[2] = { 0 };
    struct vfa_call c = { .selector = VFA_SEL_GET_VERSION, .scalars_in = in,
                          .nscalars_out = 2, .scalars_out = out };
    assert_int_equal(vfa_core_dispatch(f->core, 0, &c), VFA_E_PROTO);
    /* Struct input where none is expected. */
    c = (struct vfa_call){ .selector = VFA_SEL_GET_VERSION, .struct_in = in,
                           .struct_in_len = 8, .nscalars_out = 16, .scalars_out = out };
    assert_int_equal(vfa_core_dispatch(f->core, 0, &c), VFA_E_PROTO);
    /* More than 16 scalars. */
    c = (struct vfa_call){ .selector = VFA_SEL_GET_VERSION, .scalars_in = in,
                           .nscalars_in = 17, .nscalars_out = 16, .scalars_out = out };
    assert_int_equal(vfa_core_dispatch(f->core, 0, &c), VFA_E_PROTO);
    /* Scalars claimed but no pointer. */
    c = (struct vfa_call){ .selector = VFA_SEL_OPEN, .nscalars_in = 2,
                           .nscalars_out = 16, .scalars_out = out };
    assert_int_equal(vfa_core_dispatch(f->core, A, &c), VFA_E_PROTO);
    /* Too few inputs. */
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, 1), VFA_E_PROTO);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.calls[VFA_SEL_GET_VERSION], 6);
    assert_int_equal(s.errors[VFA_SEL_GET_VERSION], 4);
    assert_int_equal(s.bad_shape, 6);
    assert_int_equal(s.calls[VFA_SEL_OPEN], 2);
}

static void test_bad_selector(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    assert_int_equal(CALL0(f, A, VFA_SEL_COUNT, out), VFA_E_NOSYS);
    assert_int_equal(CALL0(f, A, 0xffffffffu, out), VFA_E_NOSYS);
    assert_int_equal(stats(f).bad_selector, 2);
    assert_int_equal(vfa_core_dispatch(f->core, A, NULL), VFA_E_INVAL);
}

static void test_identity(void **state)
{
    struct fake *f = *state;
    struct vfa_identity id;
    uint32_t len = sizeof(id);

    memset(&id, 0xee, sizeof(id));
    /* No session needed. */
    assert_int_equal(fake_call(f, B, VFA_SEL_GET_IDENTITY, 0, NULL, NULL, &id, &len), 0);
    assert_int_equal(len, sizeof(id));
    assert_int_equal(id.vendor_id, 0x1b36);
    assert_int_equal(id.device_id, 0x0010);
    assert_int_equal(id.subsys_vendor_id, 0x1af4);
    assert_int_equal(id.class_code, 0x010802);
    assert_int_equal(id.bus, 3);
    assert_string_equal(id.location, "fake:test");
    assert_int_equal(id.config_size, 4096);
    assert_true(id.flags & VFA_ID_PCIE);
    assert_true(id.flags & VFA_ID_FLR);
    assert_true(id.flags & VFA_ID_HOT_RESET);
    assert_int_equal(id.num_bars, 2);
    assert_true(id.bar_flags[0] & VFA_BAR_MEM64);
    assert_true(id.bar_flags[0] & VFA_BAR_TRAPPED);
    assert_int_equal(id.bar_size[0], FAKE_BAR0_SIZE);
    assert_int_equal(id.bar_flags[1], 0);
    assert_true(id.bar_flags[2] & VFA_BAR_PREFETCHABLE);
    assert_int_equal(id.rom_size, FAKE_ROM_SIZE);
    assert_int_equal(id.msi_vectors, FAKE_MSI_VECS);
    assert_int_equal(id.msix_vectors, FAKE_MSIX_VECS);
    assert_int_equal(id.dma_budget_bytes, VFA_DEFAULT_DMA_BUDGET_BYTES);
    assert_int_equal(id.dma_max_mappings, VFA_DEFAULT_DMA_MAX_MAPPINGS);
    assert_int_equal(id.dma_page_size, VFA_PAGE_SIZE);

    /* A shorter (older) struct gets the prefix. */
    uint8_t small[8];
    len = sizeof(small);
    assert_int_equal(fake_call(f, B, VFA_SEL_GET_IDENTITY, 0, NULL, NULL, small, &len), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(small, &id, 8);
    /* Struct capacity above the ABI maximum. */
    len = VFA_MAX_STRUCT + 1;
    assert_int_equal(fake_call(f, B, VFA_SEL_GET_IDENTITY, 0, NULL, NULL, &id, &len),
                     VFA_E_PROTO);
}

static void test_open_busy_already(void **state)
{
    struct fake *f = *state;
    uint64_t out[16] = { 0 };

    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR + 1, 0), VFA_E_PROTO);
    assert_int_equal(CALLN(f, 0, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    assert_int_equal(out[0], VFA_ABI_MAJOR);
    assert_int_equal(vfa_core_session_owner(f->core), A);
    assert_int_equal(f->begins, 1);
    assert_int_equal(f->pages_alloc, 1);
    assert_int_equal(CALLN(f, B, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), VFA_E_BUSY);
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), VFA_E_ALREADY);
    assert_int_equal(stats(f).sessions_refused_busy, 1);
    assert_int_equal(stats(f).sessions_opened, 1);
    /* B may still read identity and stats while A holds the session. */
    struct vfa_stats s;
    uint32_t len = sizeof(s);
    assert_int_equal(fake_call(f, B, VFA_SEL_GET_STATS, 0, NULL, NULL, &s, &len), 0);
    assert_int_equal(len, sizeof(s));
    assert_int_equal(s.size, sizeof(s));
    assert_int_equal(s.nselectors, VFA_SEL_COUNT);
    assert_int_equal(s.sessions_refused_busy, 1);
    assert_int_equal(s.calls[VFA_SEL_OPEN], 5);
    assert_int_equal(s.errors[VFA_SEL_OPEN], 4);
    /* And B cannot close A's session. */
    assert_int_equal(CALL0(f, B, VFA_SEL_CLOSE, out), VFA_E_PERM);
    assert_int_equal(vfa_core_session_owner(f->core), A);
}

static void test_open_platform_failures(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    f->begin_fails = true;
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), VFA_E_IO);
    assert_int_equal(vfa_core_session_owner(f->core), 0);
    f->begin_fails = false;
    f->page_alloc_fails = true;
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), VFA_E_NOMEM);
    assert_int_equal(vfa_core_session_owner(f->core), 0);
    assert_int_equal(f->ends, 1);       /* begin undone */
    f->page_alloc_fails = false;
    open_a(f);
}

static void test_session_required(void **state)
{
    struct fake *f = *state;
    /* Every session method, with its input count from the ABI table. */
    static const struct { uint32_t sel; unsigned nin; bool sout; } m[] = {
        { VFA_SEL_CLOSE, 0, false }, { VFA_SEL_CONFIG_READ, 2, false },
        { VFA_SEL_CONFIG_READ_BLOCK, 2, true }, { VFA_SEL_CONFIG_WRITE, 3, false },
        { VFA_SEL_BAR_INFO, 1, false }, { VFA_SEL_MMIO_READ, 3, false },
        { VFA_SEL_MMIO_WRITE, 4, false }, { VFA_SEL_IRQ_SETUP, 2, false },
        { VFA_SEL_IRQ_ENABLE, 3, false }, { VFA_SEL_RESET, 1, false },
        { VFA_SEL_DMA_MAP, 3, true }, { VFA_SEL_DMA_UNMAP, 1, false },
        { VFA_SEL_ROM_READ, 2, true }, { VFA_SEL_NOTIFY_REGISTER, 0, false },
    };
    uint64_t in[4] = { 0, 4, 0, 0 }, out[16];
    uint8_t buf[4096];

    open_a(f);
    unsigned before = f->platform_calls;
    for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        uint32_t len = m[i].sout ? sizeof(buf) : 0;

        /* B is not the owner; 0 is nobody. */
        assert_int_equal(fake_call(f, B, m[i].sel, m[i].nin, in, out, buf, &len), VFA_E_PERM);
        assert_int_equal(fake_call(f, 0, m[i].sel, m[i].nin, in, out, buf, &len), VFA_E_PERM);
    }
    /* Refused before reaching the platform. */
    assert_int_equal(f->platform_calls, before);
}

static void test_close(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    open_a(f);
    assert_int_equal(CALL0(f, A, VFA_SEL_NOTIFY_REGISTER, out), 0);
    assert_int_equal(CALL0(f, A, VFA_SEL_CLOSE, out), 0);
    assert_int_equal(vfa_core_session_owner(f->core), 0);
    assert_int_equal(f->ends, 1);
    assert_int_equal(f->pages_free, 1);
    assert_int_equal(stats(f).sessions_closed, 1);
    assert_int_equal(stats(f).sessions_client_died, 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 0, 4), VFA_E_PERM);
    /* A later client-gone for A (orderly disconnect) changes nothing. */
    vfa_core_client_gone(f->core, A);
    assert_int_equal(stats(f).sessions_client_died, 0);
    /* B can have it now. */
    assert_int_equal(CALLN(f, B, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
}

static void test_bar_info(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    open_a(f);
    assert_int_equal(CALLN(f, A, VFA_SEL_BAR_INFO, out, 0), 0);
    assert_int_equal(out[0], VFA_BAR_PRESENT | VFA_BAR_MEM64 | VFA_BAR_MAPPABLE | VFA_BAR_TRAPPED);
    assert_int_equal(out[1], FAKE_BAR0_SIZE);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 0x2);
    assert_int_equal(CALLN(f, A, VFA_SEL_BAR_INFO, out, 1), 0);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_BAR_INFO, out, 2), 0);
    assert_int_equal(out[0], VFA_BAR_PRESENT | VFA_BAR_PREFETCHABLE);
    assert_int_equal(out[2], 1);        /* memory index differs from BAR number */
    assert_int_equal(CALLN(f, A, VFA_SEL_BAR_INFO, out, 6), VFA_E_RANGE);
    assert_int_equal(CALLN(f, A, VFA_SEL_BAR_INFO, out, ~0ull), VFA_E_RANGE);
}

static void test_mmio(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    open_a(f);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_WRITE, out, 0, 0x4000, 8, 0x0123456789abcdefull), 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0x4000, 8), 0);
    assert_int_equal(out[0], 0x0123456789abcdefull);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0x4004, 4), 0);
    assert_int_equal(out[0], 0x01234567);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0x4006, 2), 0);
    assert_int_equal(out[0], 0x0123);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0x4007, 1), 0);
    assert_int_equal(out[0], 0x01);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_WRITE, out, 2, FAKE_BAR2_SIZE - 1, 1, 0x5a), 0);
    assert_int_equal(f->bar2[FAKE_BAR2_SIZE - 1], 0x5a);

    unsigned before = f->platform_calls;
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0, 3), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0, 16), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 2, 4), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, FAKE_BAR0_SIZE, 4), VFA_E_RANGE);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, ~7ull, 8), VFA_E_RANGE);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 1, 0, 4), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 6, 0, 4), VFA_E_RANGE);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_WRITE, out, 0, 0, 2, 0x10000), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_WRITE, out, 2, FAKE_BAR2_SIZE - 2, 4, 0), VFA_E_INVAL);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_WRITE, out, 2, FAKE_BAR2_SIZE, 1, 0), VFA_E_RANGE);
    assert_int_equal(f->platform_calls, before);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.mmio_reads, 4);
    assert_int_equal(s.mmio_writes, 2);
    assert_int_equal(s.errors[VFA_SEL_MMIO_READ], 7);
}

static void test_rom(void **state)
{
    struct fake *f = *state;
    uint8_t buf[4096];
    uint32_t len = sizeof(buf);
    uint64_t in[2] = { 0, 4096 };

    open_a(f);
    assert_int_equal(fake_call(f, A, VFA_SEL_ROM_READ, 2, in, NULL, buf, &len), 0);
    assert_int_equal(len, 4096);
    assert_memory_equal(buf, f->rom, 4096);
    assert_int_equal(buf[0], 0x55);
    in[0] = FAKE_ROM_SIZE - 16;
    in[1] = 16;
    len = sizeof(buf);
    assert_int_equal(fake_call(f, A, VFA_SEL_ROM_READ, 2, in, NULL, buf, &len), 0);
    assert_int_equal(len, 16);
    assert_memory_equal(buf, f->rom + FAKE_ROM_SIZE - 16, 16);

    unsigned before = f->platform_calls;
    struct { uint64_t off, len; uint32_t cap, rc; } bad[] = {
        { 0, 0, 4096, VFA_E_INVAL },
        { 0, 4097, 4096, VFA_E_INVAL },
        { FAKE_ROM_SIZE, 1, 4096, VFA_E_RANGE },
        { FAKE_ROM_SIZE - 16, 17, 4096, VFA_E_RANGE },
        { ~0ull, 16, 4096, VFA_E_RANGE },
        { 0, 64, 32, VFA_E_INVAL },     /* output capacity too small */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in[0] = bad[i].off;
        in[1] = bad[i].len;
        len = bad[i].cap;
        assert_int_equal(fake_call(f, A, VFA_SEL_ROM_READ, 2, in, NULL, buf, &len), bad[i].rc);
        assert_int_equal(len, 0);
    }
    assert_int_equal(f->platform_calls, before);
    assert_int_equal(stats(f).rom_reads, 2);
}

static void test_rom_absent(void **state)
{
    struct fake *f = *state;
    uint8_t buf[16];
    uint32_t len = sizeof(buf);
    uint64_t in[2] = { 0, 16 };

    fake_fini(f);
    f->no_rom = true;
    f->core = fake_core(f, 0, 0);
    open_a(f);
    assert_int_equal(fake_call(f, A, VFA_SEL_ROM_READ, 2, in, NULL, buf, &len), VFA_E_NOTSUP);
}

static void test_reset(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    open_a(f);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), 0);
    assert_int_equal(out[0], VFA_RESET_FLR);
    assert_int_equal(f->flr_count, 1);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, VFA_RESET_HOT), 0);
    assert_int_equal(out[0], VFA_RESET_HOT);
    assert_int_equal(f->hot_count, 1);
    f->flr_fails = true;
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, VFA_RESET_FLR | VFA_RESET_HOT), 0);
    assert_int_equal(out[0], VFA_RESET_HOT);
    assert_int_equal(f->hot_count, 2);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, VFA_RESET_FLR), VFA_E_IO);
    f->hot_fails = true;
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), VFA_E_IO);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 4), VFA_E_INVAL);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.resets_flr, 1);
    assert_int_equal(s.resets_hot, 2);
    assert_int_equal(s.reset_failures, 2);

    /* Interrupts configured before a reset are programmed again after it. */
    f->flr_fails = f->hot_fails = false;
    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, VFA_IRQ_MSIX, 4), 0);
    unsigned calls = f->irq_setup_calls;
    f->irq_type = 0;
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), 0);
    assert_true(f->irq_setup_calls > calls);
    assert_int_equal(f->irq_type, VFA_IRQ_MSIX);
    assert_int_equal(f->irq_count, 4);
}

static void test_reset_unavailable(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    fake_fini(f);
    f->reset_methods = VFA_RESET_HOT;   /* no FLR on this device */
    f->core = fake_core(f, 0, 0);
    open_a(f);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, VFA_RESET_FLR), VFA_E_NOTSUP);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), 0);
    assert_int_equal(out[0], VFA_RESET_HOT);
    assert_int_equal(f->flr_count, 0);
}

static void test_map_memory(void **state)
{
    struct fake *f = *state;
    void *h;
    uint64_t size;

    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), VFA_E_PERM);
    open_a(f);
    assert_int_equal(vfa_core_map_memory(f->core, B, VFA_MEM_BAR(0), &h, &size), VFA_E_PERM);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), 0);
    assert_ptr_equal(h, f->bar0);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_IRQ_PAGE, &h, &size), 0);
    assert_ptr_equal(h, f->irq_page);
    assert_int_equal(size, VFA_IRQ_PAGE_SIZE);
    struct vfa_irq_page *p = h;
    assert_int_equal(p->magic, VFA_IRQ_PAGE_MAGIC);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(1), &h, &size), VFA_E_INVAL);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(2), &h, &size), VFA_E_NOTSUP);
    assert_int_equal(vfa_core_map_memory(f->core, A, 6, &h, &size), VFA_E_INVAL);
    assert_int_equal(vfa_core_map_memory(f->core, A, 0xffffffffu, &h, &size), VFA_E_INVAL);
    assert_int_equal(stats(f).memory_maps, 2);
    vfa_core_device_gone(f->core);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), VFA_E_NODEV);
}

/* The client vanishes holding DMA mappings, interrupts and bus mastering. */
static void test_cleanup_on_client_death(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];
    struct vfa_dma_map_out mo;

    open_a(f);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_WRITE, out, 0x04, 2, 0x0006), 0);
    assert_int_equal(f->cfg[0x04] & 0x04, 0x04);
    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, VFA_IRQ_MSIX, 8), 0);
    for (unsigned i = 0; i < 3; i++) {
        uint64_t in[3] = { 0x10000000ull + i * 0x100000, 0x8000, VFA_DMA_BIDIRECTIONAL };
        uint32_t len = sizeof(mo);

        assert_int_equal(fake_call(f, A, VFA_SEL_DMA_MAP, 3, in, out, &mo, &len), 0);
    }
    assert_int_equal(f->live, 3);
    unsigned nw = f->nwrites;

    vfa_core_client_gone(f->core, B);          /* not the owner: nothing */
    assert_int_equal(f->live, 3);
    vfa_core_client_gone(f->core, A);

    /* Bus mastering was turned off before the unmaps... */
    assert_true(f->nwrites > nw);
    assert_int_equal(f->writes[nw].off, 0x04);
    assert_int_equal(f->writes[nw].val & 0x04, 0);
    /* ...every mapping is gone, the device was reset, the sources freed. */
    assert_int_equal(f->live, 0);
    assert_int_equal(f->completes, 3);
    assert_int_equal(f->flr_count, 1);
    assert_int_equal(f->irq_type, VFA_IRQ_NONE);
    assert_int_equal(f->pages_free, 1);
    assert_null(f->irq_page);
    assert_int_equal(f->ends, 1);
    assert_int_equal(vfa_core_session_owner(f->core), 0);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.sessions_client_died, 1);
    assert_int_equal(s.dma_live_mappings, 0);
    assert_int_equal(s.dma_mapped_bytes, 0);
    assert_int_equal(s.dma_cleanup_unmaps, 3);
    assert_int_equal(s.dma_peak_live_mappings, 3);
    /* The device is usable by the next client. */
    assert_int_equal(CALLN(f, B, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    assert_int_equal(f->pages_alloc, 2);
}

static void test_device_gone(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];
    void *h;
    uint64_t size;

    open_a(f);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_IRQ_PAGE, &h, &size), 0);
    struct vfa_irq_page *p = h;
    unsigned n0 = f->notifies;
    vfa_core_device_gone(f->core);
    vfa_core_device_gone(f->core);     /* idempotent */
    assert_int_equal(f->notifies, n0 + 1);
    assert_true(p->events & VFA_EVENT_DEVICE_GONE);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 0, 4), VFA_E_NODEV);
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0, 4), VFA_E_NODEV);
    assert_int_equal(CALLN(f, A, VFA_SEL_RESET, out, 0), VFA_E_NODEV);
    assert_int_equal(CALLN(f, B, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), VFA_E_NODEV);
    assert_int_equal(stats(f).device_gone, 1);
    /* Version, stats and close still work, and close touches no device. */
    assert_int_equal(CALL0(f, A, VFA_SEL_GET_VERSION, out), 0);
    unsigned nw = f->nwrites;
    assert_int_equal(CALL0(f, A, VFA_SEL_CLOSE, out), 0);
    assert_int_equal(f->nwrites, nw);
    assert_int_equal(f->flr_count, 0);
    assert_int_equal(f->pages_free, 1);
}

static void test_create_failure(void **state)
{
    struct fake *f = *state;
    uint32_t err = 0;

    f->info_fails = true;
    assert_null(vfa_core_create(&f->ops, f, NULL, &err));
    assert_int_equal(err, VFA_E_IO);
    f->info_fails = false;
}

static void test_err_mapping(void **state)
{
    (void)state;
    assert_int_equal(vfa_err_to_errno(VFA_OK), 0);
    assert_int_equal(vfa_err_to_errno(VFA_E_BUSY), -EBUSY);
    assert_int_equal(vfa_err_to_errno(VFA_E_NOSPC), -ENOSPC);
    assert_int_equal(vfa_err_to_errno(VFA_E_MFILE), -EMFILE);
    assert_int_equal(vfa_err_to_errno(VFA_E_PROTO), -EPROTO);
    assert_int_equal(vfa_err_to_errno(9999), -EIO);
    assert_string_equal(vfa_err_name(VFA_E_BUSY), "device busy (another session)");
    assert_int_equal(VFA_IORETURN(VFA_E_BUSY), 0xe3ff8010u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_version, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_bad_selector, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_identity, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_open_busy_already, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_open_platform_failures, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_session_required, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_close, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_bar_info, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_mmio, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_rom, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_rom_absent, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_reset_unavailable, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_map_memory, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_cleanup_on_client_death, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_device_gone, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_create_failure, setup, fake_teardown),
        cmocka_unit_test(test_err_mapping),
    };
    return cmocka_run_group_tests_name("dext core", tests, NULL, NULL);
}
