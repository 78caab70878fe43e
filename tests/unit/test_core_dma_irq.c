/* Dext core: DMA registry and budget, IRQ page latching and coalescing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "test_core_fake.h"

#define A 0x1111
#define PG VFA_PAGE_SIZE

static struct fake *mk(uint64_t budget, uint32_t maps)
{
    return fake_new(budget, maps, A);
}

static int setup(void **state)
{
    *state = mk(0, 0);
    return 0;
}


static uint32_t map(struct fake *f, uint64_t va, uint64_t len, struct vfa_dma_map_out *mo)
{
    uint64_t in[3] = { va, len, VFA_DMA_BIDIRECTIONAL };
    struct vfa_dma_map_out tmp;
    uint32_t slen = sizeof(tmp);

    return fake_call(f, A, VFA_SEL_DMA_MAP, 3, in, NULL, mo ? mo : &tmp, &slen);
}

static uint32_t unmap(struct fake *f, uint64_t handle)
{
    uint64_t out[16];

    return CALLN(f, A, VFA_SEL_DMA_UNMAP, out, handle);
}

static struct vfa_stats stats(struct fake *f)
{
    struct vfa_stats s;

    vfa_core_get_stats(f->core, &s);
    return s;
}

static void test_map_unmap(void **state)
{
    struct fake *f = *state;
    struct vfa_dma_map_out mo;

    assert_int_equal(map(f, 0x40001234, 3 * PG, &mo), 0);
    assert_int_not_equal(mo.handle, 0);
    assert_int_equal(mo.nsegs, 1);
    assert_int_equal(mo.segs[0].len, 3 * PG);
    assert_int_equal(mo.segs[0].iova & (PG - 1), 0x1234);
    assert_int_not_equal(mo.segs[0].iova, 0x40001234);
    assert_int_equal(f->last_client, A);
    struct vfa_stats s = stats(f);
    /* 3 pages starting mid-page touch 4 pages: charged whole. */
    assert_int_equal(s.dma_mapped_bytes, 4 * PG);
    assert_int_equal(s.dma_live_mappings, 1);
    assert_int_equal(s.dma_maps, 1);
    assert_int_equal(s.dma_segments, 1);

    assert_int_equal(unmap(f, mo.handle), 0);
    assert_int_equal(f->live, 0);
    assert_int_equal(unmap(f, mo.handle), VFA_E_NOENT);
    assert_int_equal(unmap(f, 0), VFA_E_NOENT);
    assert_int_equal(unmap(f, ~0ull), VFA_E_NOENT);
    assert_int_equal(unmap(f, mo.handle + 1), VFA_E_NOENT);
    s = stats(f);
    assert_int_equal(s.dma_mapped_bytes, 0);
    assert_int_equal(s.dma_live_mappings, 0);
    assert_int_equal(s.dma_peak_mapped_bytes, 4 * PG);
    assert_int_equal(s.dma_unmaps, 1);
    assert_int_equal(s.errors[VFA_SEL_DMA_UNMAP], 4);
}

static void test_stale_handle(void **state)
{
    struct fake *f = *state;
    struct vfa_dma_map_out a, b;

    assert_int_equal(map(f, 0x100000, PG, &a), 0);
    assert_int_equal(unmap(f, a.handle), 0);
    assert_int_equal(map(f, 0x200000, PG, &b), 0);      /* reuses a's slot */
    assert_int_not_equal(a.handle, b.handle);
    assert_int_equal(a.handle & 0xffffffff, b.handle & 0xffffffff);
    assert_int_equal(unmap(f, a.handle), VFA_E_NOENT);  /* b survives */
    assert_int_equal(f->live, 1);
    assert_int_equal(unmap(f, b.handle), 0);
}

static void test_fragmented(void **state)
{
    struct fake *f = *state;
    struct vfa_dma_map_out mo;

    f->fragment = 5;
    assert_int_equal(map(f, 0x1000000, 10 * PG + 100, &mo), 0);
    assert_int_equal(mo.nsegs, 5);
    uint64_t sum = 0;
    for (unsigned i = 0; i < mo.nsegs; i++)
        sum += mo.segs[i].len;
    assert_int_equal(sum, 10 * PG + 100);
    assert_int_equal(mo.segs[5].len, 0);
    assert_int_equal(stats(f).dma_segments, 5);
    /* 32 is the ceiling. */
    f->fragment = 40;
    assert_int_equal(map(f, 0x4000000, 64 * PG, &mo), 0);
    assert_int_equal(mo.nsegs, VFA_MAX_DMA_SEGMENTS);
}

static void test_map_validation(void **state)
{
    struct fake *f = *state;
    uint64_t in[3];
    struct vfa_dma_map_out mo;
    uint32_t slen;

    struct { uint64_t va, len, flags; uint32_t rc; } bad[] = {
        { 0x1000, 0, VFA_DMA_TO_DEVICE, VFA_E_INVAL },
        { 0x1000, PG, 0, VFA_E_INVAL },
        { 0x1000, PG, 4, VFA_E_INVAL },
        { 0x1000, PG, ~0ull, VFA_E_INVAL },
        { ~0ull - 10, 100, VFA_DMA_TO_DEVICE, VFA_E_INVAL },
        { ~0ull - PG, 10, VFA_DMA_TO_DEVICE, VFA_E_INVAL },   /* page round-up wraps */
        { 0, ~0ull, VFA_DMA_TO_DEVICE, VFA_E_INVAL },
        { 0x1000, 2ull << 30, VFA_DMA_TO_DEVICE, VFA_E_NOSPC }, /* over the default budget */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in[0] = bad[i].va;
        in[1] = bad[i].len;
        in[2] = bad[i].flags;
        slen = sizeof(mo);
        assert_int_equal(fake_call(f, A, VFA_SEL_DMA_MAP, 3, in, NULL, &mo, &slen), bad[i].rc);
    }
    /* Output too small for a whole segment list. */
    in[0] = 0x1000;
    in[1] = PG;
    in[2] = VFA_DMA_TO_DEVICE;
    slen = sizeof(mo) - 1;
    assert_int_equal(fake_call(f, A, VFA_SEL_DMA_MAP, 3, in, NULL, &mo, &slen), VFA_E_INVAL);
    assert_int_equal(f->prepares, 0);       /* none of it reached the DART */
    struct vfa_stats s = stats(f);
    assert_int_equal(s.dma_map_failures, 8);
    assert_int_equal(s.errors[VFA_SEL_DMA_MAP], 9);
}

static void test_platform_failures(void **state)
{
    struct fake *f = *state;

    f->prepare_fails = true;
    assert_int_equal(map(f, 0x1000, PG, NULL), VFA_E_FAULT);
    f->prepare_fails = false;
    /* A platform returning segments that do not add up is not believed. */
    f->prepare_bad_segments = true;
    assert_int_equal(map(f, 0x1000, PG, NULL), VFA_E_IO);
    assert_int_equal(f->live, 0);           /* and its mapping was undone */
    f->prepare_bad_segments = false;
    struct vfa_stats s = stats(f);
    assert_int_equal(s.dma_map_failures, 2);
    assert_int_equal(s.dma_live_mappings, 0);
    assert_int_equal(s.dma_mapped_bytes, 0);
}

static void test_budget_bytes(void **state)
{
    struct fake *f = mk(4 * PG, 0);
    struct vfa_dma_map_out a, b;

    assert_int_equal(map(f, 0x100000, 3 * PG, &a), 0);
    assert_int_equal(map(f, 0x200000, PG, &b), 0);
    unsigned prepares = f->prepares;
    assert_int_equal(map(f, 0x300000, 1, NULL), VFA_E_NOSPC);
    assert_int_equal(f->prepares, prepares);
    assert_int_equal(unmap(f, b.handle), 0);
    /* Two bytes straddling a page boundary cost two pages. */
    assert_int_equal(map(f, 0x300000 + PG - 1, 2, NULL), VFA_E_NOSPC);
    assert_int_equal(map(f, 0x300000 + PG - 1, 1, &b), 0);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.dma_fail_budget_bytes, 2);
    assert_int_equal(s.dma_fail_budget_maps, 0);
    assert_int_equal(s.dma_mapped_bytes, 4 * PG);
    assert_int_equal(s.dma_peak_mapped_bytes, 4 * PG);
    fake_fini(f);
    assert_int_equal(f->live, 0);
    free(f);
    (void)state;
}

static void test_budget_mappings(void **state)
{
    struct fake *f = mk(0, 3);
    struct vfa_dma_map_out a;
    struct vfa_identity id;
    uint32_t len = sizeof(id);

    assert_int_equal(fake_call(f, A, VFA_SEL_GET_IDENTITY, 0, NULL, NULL, &id, &len), 0);
    assert_int_equal(id.dma_max_mappings, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(map(f, 0x100000 * (i + 1), PG, &a), 0);
    assert_int_equal(map(f, 0x900000, PG, NULL), VFA_E_MFILE);
    assert_int_equal(unmap(f, a.handle), 0);
    assert_int_equal(map(f, 0x900000, PG, NULL), 0);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.dma_fail_budget_maps, 1);
    assert_int_equal(s.dma_fail_budget_bytes, 0);
    assert_int_equal(s.dma_peak_live_mappings, 3);
    fake_fini(f);
    free(f);
    (void)state;
}

/* Many mappings, freed in a scrambled order: handles stay unique and every
 * lookup finds its own mapping. */
static void test_registry_churn(void **state)
{
    struct fake *f = *state;
    enum { N = 3000 };
    static uint64_t h[N];

    for (unsigned round = 0; round < 2; round++) {
        for (unsigned i = 0; i < N; i++) {
            struct vfa_dma_map_out mo;

            assert_int_equal(map(f, (uint64_t)(i + 1) << 20, PG, &mo), 0);
            h[i] = mo.handle;
        }
        for (unsigned i = 1; i < N; i++)
            assert_int_not_equal(h[i], h[i - 1]);
        for (unsigned k = 0; k < N; k++) {
            unsigned i = (k * 7919u) % N;       /* 7919 is prime to 3000 */

            assert_int_equal(unmap(f, h[i]), 0);
            assert_int_equal(unmap(f, h[i]), VFA_E_NOENT);
        }
        assert_int_equal(f->live, 0);
        assert_int_equal(stats(f).dma_live_mappings, 0);
    }
    assert_int_equal(stats(f).dma_peak_live_mappings, N);
}

/* ---------------------------------------------------------------- IRQ -- */

static struct vfa_irq_page *page(struct fake *f)
{
    void *h;
    uint64_t size;

    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_IRQ_PAGE, &h, &size), 0);
    return h;
}

static void irq_on(struct fake *f, uint32_t type, uint32_t n)
{
    uint64_t out[16];

    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, type, n), 0);
    assert_int_equal(out[0], n);
}

static uint32_t enable(struct fake *f, uint64_t first, uint64_t count, uint64_t en)
{
    uint64_t out[16];

    return CALLN(f, A, VFA_SEL_IRQ_ENABLE, out, first, count, en);
}

/* What a client does on a notification: take pending bits of enabled vectors. */
static uint64_t consume(struct vfa_irq_page *p, unsigned w)
{
    uint64_t en = __atomic_load_n(&p->enabled[w], __ATOMIC_SEQ_CST);

    return __atomic_fetch_and(&p->pending[w], ~en, __ATOMIC_SEQ_CST) & en;
}

static void test_irq_setup(void **state)
{
    struct fake *f = *state;
    struct vfa_irq_page *p = page(f);
    uint64_t out[16];

    assert_int_equal(p->magic, VFA_IRQ_PAGE_MAGIC);
    assert_int_equal(p->version, VFA_ABI_MAJOR << 16 | VFA_ABI_MINOR);
    assert_int_equal(enable(f, 0, 1, 1), VFA_E_INVAL);      /* nothing set up */
    irq_on(f, VFA_IRQ_MSIX, FAKE_MSIX_VECS);
    assert_int_equal(f->irq_type, VFA_IRQ_MSIX);
    assert_int_equal(f->irq_count, FAKE_MSIX_VECS);
    assert_int_equal(p->nvectors, FAKE_MSIX_VECS);
    assert_int_equal(p->irq_type, VFA_IRQ_MSIX);
    irq_on(f, VFA_IRQ_MSI, 4);
    assert_int_equal(f->irq_type, VFA_IRQ_MSI);

    unsigned calls = f->irq_setup_calls;
    struct { uint64_t type, n; uint32_t rc; } bad[] = {
        { 3, 1, VFA_E_INVAL },
        { VFA_IRQ_MSIX, 0, VFA_E_INVAL },
        { VFA_IRQ_MSIX, FAKE_MSIX_VECS + 1, VFA_E_RANGE },
        { VFA_IRQ_MSIX, ~0ull, VFA_E_RANGE },
        { VFA_IRQ_MSI, 3, VFA_E_INVAL },
        { VFA_IRQ_MSI, 8, VFA_E_RANGE },
        { VFA_IRQ_NONE, 1, VFA_E_INVAL },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, bad[i].type, bad[i].n), bad[i].rc);
    assert_int_equal(f->irq_setup_calls, calls);
    assert_int_equal(f->irq_type, VFA_IRQ_MSI);     /* failures changed nothing */

    assert_int_equal(enable(f, 0, 0, 1), VFA_E_INVAL);
    assert_int_equal(enable(f, 0, 1, 2), VFA_E_INVAL);
    assert_int_equal(enable(f, 4, 1, 1), VFA_E_RANGE);
    assert_int_equal(enable(f, 2, 3, 1), VFA_E_RANGE);
    assert_int_equal(enable(f, ~0ull, 2, 1), VFA_E_RANGE);

    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, VFA_IRQ_NONE, 0), 0);
    assert_int_equal(f->irq_type, VFA_IRQ_NONE);
    assert_int_equal(p->nvectors, 0);
    vfa_core_irq(f->core, 0);                       /* after teardown: ignored */
    assert_int_equal(stats(f).irq_received, 0);
    assert_int_equal(stats(f).irq_setups, 2);
}

static void test_irq_no_msix(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    fake_fini(f);
    f->no_msix = true;
    f->core = fake_core(f, 0, 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, VFA_IRQ_MSIX, 1), VFA_E_NOTSUP);
    assert_int_equal(f->irq_setup_calls, 0);
    irq_on(f, VFA_IRQ_MSI, 1);
}

static void test_irq_latch(void **state)
{
    struct fake *f = *state;
    struct vfa_irq_page *p = page(f);

    irq_on(f, VFA_IRQ_MSIX, FAKE_MSIX_VECS);
    unsigned n0 = f->notifies;
    /* All vectors start disabled: interrupts latch, nobody is woken. */
    vfa_core_irq(f->core, 3);
    vfa_core_irq(f->core, 3);
    assert_int_equal(f->notifies, n0);
    assert_int_equal(p->pending[0], 1u << 3);
    assert_int_equal(p->count[3], 2);
    assert_int_equal(consume(p, 0), 0);             /* not deliverable yet */
    assert_int_equal(p->pending[0], 1u << 3);       /* and not lost */
    /* Enabling another vector does not wake anybody. */
    assert_int_equal(enable(f, 0, 1, 1), 0);
    assert_int_equal(f->notifies, n0);
    /* Enabling vector 3 delivers the latched interrupt. */
    assert_int_equal(enable(f, 3, 1, 1), 0);
    assert_int_equal(f->notifies, n0 + 1);
    assert_int_equal(p->enabled[0], (1u << 3) | 1u);
    assert_int_equal(consume(p, 0), 1u << 3);
    assert_int_equal(p->pending[0], 0);
    /* Disable again: the next one latches. */
    assert_int_equal(enable(f, 3, 1, 0), 0);
    vfa_core_irq(f->core, 3);
    assert_int_equal(f->notifies, n0 + 1);
    assert_int_equal(p->pending[0], 1u << 3);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.irq_received, 3);
    assert_int_equal(s.irq_latched, 3);
    assert_int_equal(s.notifications, 1);
    assert_int_equal(p->notifications, 1);
    /* Out-of-range vectors are ignored, not counted into someone's bit. */
    vfa_core_irq(f->core, FAKE_MSIX_VECS);
    vfa_core_irq(f->core, 100000);
    assert_int_equal(stats(f).irq_received, 3);
}

static void test_irq_coalesce(void **state)
{
    struct fake *f = *state;
    struct vfa_irq_page *p = page(f);

    irq_on(f, VFA_IRQ_MSIX, FAKE_MSIX_VECS);
    assert_int_equal(enable(f, 0, FAKE_MSIX_VECS, 1), 0);
    unsigned n0 = f->notifies;
    for (int i = 0; i < 5; i++)
        vfa_core_irq(f->core, 1);
    vfa_core_irq(f->core, 2);       /* another vector: its own 0->1 edge */
    assert_int_equal(f->notifies, n0 + 2);
    assert_int_equal(consume(p, 0), (1u << 1) | (1u << 2));
    vfa_core_irq(f->core, 1);       /* consumed, so this one wakes again */
    assert_int_equal(f->notifies, n0 + 3);
    assert_int_equal(p->count[1], 6);
    struct vfa_stats s = stats(f);
    assert_int_equal(s.irq_received, 7);
    assert_int_equal(s.irq_coalesced, 4);
    assert_int_equal(s.irq_latched, 0);
    assert_int_equal(s.notifications, 3);
}

/* Device threads fire while the client toggles enables: every interrupt
 * fired on a vector is either delivered or still pending at the end. */
struct storm { struct vfa_core *core; unsigned vec; unsigned n; };

static void *storm_thread(void *arg)
{
    struct storm *s = arg;

    for (unsigned i = 0; i < s->n; i++)
        vfa_core_irq(s->core, s->vec);
    return NULL;
}

static void test_irq_concurrent(void **state)
{
    struct fake *f = *state;
    struct vfa_irq_page *p = page(f);
    pthread_t t[2];
    struct storm s[2] = { { f->core, 0, 20000 }, { f->core, 5, 20000 } };

    irq_on(f, VFA_IRQ_MSIX, FAKE_MSIX_VECS);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, storm_thread, &s[i]), 0);
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(enable(f, 0, FAKE_MSIX_VECS, i & 1), 0);
        consume(p, 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    /* One more interrupt on each, with vectors disabled: it must latch. */
    assert_int_equal(enable(f, 0, FAKE_MSIX_VECS, 0), 0);
    vfa_core_irq(f->core, 0);
    vfa_core_irq(f->core, 5);
    assert_int_equal(p->pending[0] & 0x21, 0x21);
    unsigned n = f->notifies;
    assert_int_equal(enable(f, 0, FAKE_MSIX_VECS, 1), 0);
    assert_int_equal(f->notifies, n + 1);
    assert_int_equal(p->count[0], 20001);
    assert_int_equal(p->count[5], 20001);
    struct vfa_stats st = stats(f);
    assert_int_equal(st.irq_received, 40002);
    /* Each interrupt was latched, coalesced or woke the client. */
    assert_true(st.irq_latched + st.irq_coalesced <= st.irq_received);
    assert_true(st.irq_received - st.irq_latched - st.irq_coalesced <= st.notifications);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, fake_teardown)
    const struct CMUnitTest tests[] = {
        T(test_map_unmap),
        T(test_stale_handle),
        T(test_fragmented),
        T(test_map_validation),
        T(test_platform_failures),
        cmocka_unit_test(test_budget_bytes),
        cmocka_unit_test(test_budget_mappings),
        T(test_registry_churn),
        T(test_irq_setup),
        T(test_irq_no_msix),
        T(test_irq_latch),
        T(test_irq_coalesce),
        T(test_irq_concurrent),
    };
    return cmocka_run_group_tests_name("dext core DMA and IRQ", tests, NULL, NULL);
}
