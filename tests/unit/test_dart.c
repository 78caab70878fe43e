/* Unit tests of the DART model (sim/dart.c). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "../../sim/dart.h"

#define PG DART_PAGE_SIZE

/* 16 KiB-aligned host memory, as the simulator maps client memory. */
static uint8_t *host_alloc(size_t len)
{
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, PG, len), 0);
    memset(p, 0, len);
    return p;
}

static void map_ok(struct dart *d, void *host, uint64_t len, struct dart_segment *segs,
                   unsigned *n, uint64_t *id)
{
    assert_int_equal(dart_map(d, host, len, segs, DART_MAX_SEGMENTS, n, id), 0);
}

static void test_iova_not_host_and_offset_kept(void **state)
{
    struct dart *d = dart_create(NULL);
    uint8_t *mem = host_alloc(4 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id;

    map_ok(d, mem + 0x1234, 100, s, &n, &id);
    assert_int_equal(n, 1);
    assert_int_not_equal(s[0].iova, (uint64_t)(uintptr_t)(mem + 0x1234));
    assert_int_equal(s[0].iova & (PG - 1), 0x1234);
    assert_int_equal(s[0].len, 100);

    /* A write through the IOVA lands at the host address, and back. */
    uint32_t v = 0xdeadbeef, r = 0;
    assert_int_equal(dart_write(d, s[0].iova + 8, &v, sizeof(v)), 0);
    assert_memory_equal(mem + 0x1234 + 8, &v, sizeof(v));
    assert_int_equal(dart_read(d, s[0].iova + 8, &r, sizeof(r)), 0);
    assert_int_equal(r, v);

    /* The whole 16 KiB page is exposed, not only the 100 bytes. */
    assert_int_equal(dart_read(d, s[0].iova - 0x1234, &r, sizeof(r)), 0);
    assert_int_equal(dart_read(d, s[0].iova - 0x1234 + PG - 4, &r, sizeof(r)), 0);
    /* ...but not the next one (guard page). */
    assert_int_equal(dart_read(d, s[0].iova - 0x1234 + PG, &r, sizeof(r)), -EFAULT);

    /* A second mapping of the same memory gets a different IOVA. */
    struct dart_segment s2[DART_MAX_SEGMENTS];
    uint64_t id2;
    map_ok(d, mem + 0x1234, 100, s2, &n, &id2);
    assert_int_not_equal(s2[0].iova, s[0].iova);
    assert_int_not_equal(id2, id);

    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.live_mappings, 2);
    assert_int_equal(st.mapped_bytes, 2 * PG);
    dart_destroy(d);
    free(mem);
}

static void test_iova_avoids_colliding_host_address(void **state)
{
    /*
     * A client address that happens to be exactly where the allocator would
     * put the IOVA (the first free IOVA is the bottom of the space): the
     * DART must pick another one.  Nothing is transferred, so the address
     * need not be real memory.
     */
    struct dart *d = dart_create(NULL);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id, id2;
    uint8_t probe_mem[16];
    map_ok(d, probe_mem, 16, s, &n, &id);
    uint64_t first_iova_page = s[0].iova & ~(uint64_t)(PG - 1);
    assert_int_equal(dart_unmap(d, id), 0);

    void *clash = (void *)(uintptr_t)(first_iova_page + 0x10);
    map_ok(d, clash, 16, s, &n, &id2);
    assert_int_not_equal(s[0].iova, (uint64_t)(uintptr_t)clash);
    assert_int_equal(s[0].iova & (PG - 1), 0x10);
    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.live_mappings, 1);
    /* The range reserved for the retry went back: a new map reuses it. */
    uint64_t id3;
    map_ok(d, probe_mem, 16, s, &n, &id3);
    assert_int_equal(s[0].iova & ~(uint64_t)(PG - 1), first_iova_page);
    dart_destroy(d);
}

static void test_pages_counted_whole(void **state)
{
    struct dart *d = dart_create(NULL);
    uint8_t *mem = host_alloc(4 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id;
    /* 2 bytes straddling a page boundary touch two pages. */
    map_ok(d, mem + PG - 1, 2, s, &n, &id);
    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.mapped_bytes, 2 * PG);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].len, 2);
    dart_destroy(d);
    free(mem);
}

static void test_fragmentation(void **state)
{
    struct dart_config c = { .fragment = 4 };
    struct dart *d = dart_create(&c);
    size_t len = 10 * PG;
    uint8_t *mem = host_alloc(len + PG);
    for (size_t i = 0; i < len + PG; i++)
        mem[i] = (uint8_t)(i * 7 + 3);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id;
    map_ok(d, mem + 100, len, s, &n, &id);
    assert_int_equal(n, 4);
    assert_int_equal(s[0].iova & (PG - 1), 100);

    uint64_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        sum += s[i].len;
        if (i > 0) {
            assert_int_equal(s[i].iova & (PG - 1), 0);
            /* Deliberately discontiguous. */
            assert_int_not_equal(s[i - 1].iova + s[i - 1].len, s[i].iova);
        }
    }
    assert_int_equal(sum, len);

    /* Reading each segment reproduces the client's bytes in order. */
    uint8_t *buf = malloc(len);
    size_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(dart_read(d, s[i].iova, buf + off, s[i].len), 0);
        off += s[i].len;
    }
    assert_memory_equal(buf, mem + 100, len);

    /* The caller's max_segs is honoured: no more segments than asked for. */
    uint64_t id2;
    assert_int_equal(dart_map(d, mem, len, s, 2, &n, &id2), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].len + s[1].len, len);

    /* One page cannot be split. */
    assert_int_equal(dart_map(d, mem, 10, s, DART_MAX_SEGMENTS, &n, &id2), 0);
    assert_int_equal(n, 1);
    free(buf);
    dart_destroy(d);
    free(mem);
}

static void test_invalid(void **state)
{
    struct dart *d = dart_create(NULL);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id;
    uint8_t x[16];
    assert_int_equal(dart_map(d, x, 0, s, DART_MAX_SEGMENTS, &n, &id), -EINVAL);
    assert_int_equal(dart_map(d, (void *)(uintptr_t)(UINT64_MAX - 100), 200, s, DART_MAX_SEGMENTS, &n, &id),
                     -EINVAL);
    assert_int_equal(dart_map(d, x, 16, s, 0, &n, &id), -EINVAL);
    assert_int_equal(dart_unmap(d, 12345), -ENOENT);
    dart_destroy(d);
}

static void test_byte_budget(void **state)
{
    struct dart_config c = { .budget_bytes = 4 * PG };
    struct dart *d = dart_create(&c);
    uint8_t *mem = host_alloc(8 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t a, b, x;
    map_ok(d, mem, 3 * PG, s, &n, &a);
    assert_int_equal(dart_map(d, mem, 2 * PG, s, DART_MAX_SEGMENTS, &n, &x), -ENOSPC);
    map_ok(d, mem, PG, s, &n, &b);                          /* exactly full */
    assert_int_equal(dart_map(d, mem, 1, s, DART_MAX_SEGMENTS, &n, &x), -ENOSPC);
    assert_int_equal(dart_map(d, mem, 5 * PG, s, DART_MAX_SEGMENTS, &n, &x), -ENOSPC);

    /* Unmap frees budget. */
    assert_int_equal(dart_unmap(d, a), 0);
    assert_int_equal(dart_unmap(d, a), -ENOENT);
    map_ok(d, mem, 2 * PG, s, &n, &x);
    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.map_failures, 3);
    assert_int_equal(st.mapped_bytes, 3 * PG);
    assert_int_equal(st.peak_mapped_bytes, 4 * PG);
    dart_destroy(d);
    free(mem);
}

static void test_mapping_limit(void **state)
{
    struct dart_config c = { .max_mappings = 3 };
    struct dart *d = dart_create(&c);
    uint8_t *mem = host_alloc(PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id[3], x;
    for (int i = 0; i < 3; i++)
        map_ok(d, mem, 16, s, &n, &id[i]);
    assert_int_equal(dart_map(d, mem, 16, s, DART_MAX_SEGMENTS, &n, &x), -EMFILE);
    assert_int_equal(dart_unmap(d, id[1]), 0);
    map_ok(d, mem, 16, s, &n, &x);
    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.live_mappings, 3);
    assert_int_equal(st.peak_live_mappings, 3);
    assert_int_equal(dart_unmap_all(d), 3);
    dart_get_stats(d, &st);
    assert_int_equal(st.live_mappings, 0);
    assert_int_equal(st.mapped_bytes, 0);
    dart_destroy(d);
    free(mem);
}

static void test_injected_map_failure(void **state)
{
    struct dart_config c = { .fail_every_nth_map = 3 };
    struct dart *d = dart_create(&c);
    uint8_t *mem = host_alloc(PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id;
    int results[6];
    for (int i = 0; i < 6; i++)
        results[i] = dart_map(d, mem, 16, s, DART_MAX_SEGMENTS, &n, &id);
    assert_int_equal(results[0], 0);
    assert_int_equal(results[1], 0);
    assert_int_equal(results[2], -EIO);
    assert_int_equal(results[3], 0);
    assert_int_equal(results[4], 0);
    assert_int_equal(results[5], -EIO);
    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.live_mappings, 4);
    assert_int_equal(st.map_failures, 2);
    dart_destroy(d);
    free(mem);
}

static void test_faults_counted_and_logged(void **state)
{
    struct dart *d = dart_create(NULL);
    uint8_t *mem = host_alloc(2 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t id;
    uint8_t buf[64] = { 0 };
    memset(mem, 0x5a, 2 * PG);
    map_ok(d, mem, PG, s, &n, &id);

    /* A leaked host/guest address: not mapped. */
    assert_int_equal(dart_read(d, (uint64_t)(uintptr_t)mem, buf, 8), -EFAULT);
    /* A range that starts mapped and runs past the end: nothing transferred. */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(dart_write(d, s[0].iova + PG - 8, buf, 16), -EFAULT);
    assert_int_equal(mem[PG - 8], 0x5a);
    /* Injected: the next transfer faults even though it is mapped... */
    dart_fault_next_transfer(d);
    assert_int_equal(dart_read(d, s[0].iova, buf, 8), -EFAULT);
    /* ...and only that one. */
    assert_int_equal(dart_read(d, s[0].iova, buf, 8), 0);

    /* After unmap the IOVA faults. */
    assert_int_equal(dart_unmap(d, id), 0);
    assert_int_equal(dart_read(d, s[0].iova, buf, 8), -EFAULT);

    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.faults, 4);
    assert_int_equal(st.dma_reads, 1);

    struct dart_fault f[8];
    assert_int_equal(dart_fault_log(d, f, 8), 4);
    assert_int_equal(f[0].seq, 1);
    assert_int_equal(f[0].iova, (uint64_t)(uintptr_t)mem);
    assert_int_equal(f[0].is_write, 0);
    assert_int_equal(f[1].is_write, 1);
    assert_int_equal(f[1].len, 16);
    assert_int_equal(f[3].seq, 4);
    assert_int_equal(f[3].iova, s[0].iova);
    /* Asking for fewer returns the newest. */
    assert_int_equal(dart_fault_log(d, f, 1), 1);
    assert_int_equal(f[0].seq, 4);
    dart_destroy(d);
    free(mem);
}

static void test_fault_ring_wraps(void **state)
{
    struct dart *d = dart_create(NULL);
    uint8_t b;
    for (unsigned i = 0; i < DART_FAULT_LOG_SIZE + 10; i++)
        assert_int_equal(dart_read(d, 0x1000 + i, &b, 1), -EFAULT);
    struct dart_fault f[DART_FAULT_LOG_SIZE + 10];
    size_t n = dart_fault_log(d, f, DART_FAULT_LOG_SIZE + 10);
    assert_int_equal(n, DART_FAULT_LOG_SIZE);
    assert_int_equal(f[0].seq, 11);
    assert_int_equal(f[n - 1].seq, DART_FAULT_LOG_SIZE + 10);
    assert_int_equal(f[n - 1].iova, 0x1000 + DART_FAULT_LOG_SIZE + 9);
    dart_destroy(d);
}

static void test_reuse_after_unmap(void **state)
{
    struct dart *d = dart_create(NULL);
    uint8_t *mem = host_alloc(4 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t ids[1000];
    /* Many map/unmap cycles never run out: space is reused. */
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 1000; i++)
            map_ok(d, mem + (i % 4) * 512, 3 * PG, s, &n, &ids[i]);
        /* Unmap in an interleaved order to fragment and then re-merge. */
        for (int i = 0; i < 1000; i += 2)
            assert_int_equal(dart_unmap(d, ids[i]), 0);
        for (int i = 1; i < 1000; i += 2)
            assert_int_equal(dart_unmap(d, ids[i]), 0);
    }
    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.live_mappings, 0);
    assert_int_equal(st.maps, 200000);
    assert_int_equal(st.map_failures, 0);
    dart_destroy(d);
    free(mem);
}

static void test_first_fit_reuses_holes(void **state)
{
    /*
     * Freeing every other mapping leaves one-page holes (plus guard pages):
     * a small map is placed in the first hole, a large one past the sieve.
     */
    struct dart_config c = { .budget_bytes = 80 * PG, .max_mappings = 64 };
    struct dart *d = dart_create(&c);
    uint8_t *mem = host_alloc(64 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    uint64_t ids[64], iovas[64];
    for (int i = 0; i < 64; i++) {
        map_ok(d, mem, 1, s, &n, &ids[i]);
        iovas[i] = s[0].iova;
    }
    for (int i = 0; i < 64; i += 2)
        assert_int_equal(dart_unmap(d, ids[i]), 0);
    uint64_t x;
    map_ok(d, mem, 32 * PG, s, &n, &x);
    assert_true(s[0].iova > iovas[63]);
    map_ok(d, mem, 1, s, &n, &x);
    assert_int_equal(s[0].iova, iovas[0]);
    struct dart_stats st;
    dart_get_stats(d, &st);
    assert_int_equal(st.mapped_bytes, 65 * PG);
    dart_destroy(d);
    free(mem);
}

/* The accessed-range gauges bound every successful transfer, and only those. */
static void test_accessed_range(void **state)
{
    struct dart *d = dart_create(NULL);
    uint8_t *mem = host_alloc(4 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    struct dart_stats st;
    unsigned n;
    uint64_t id, v = 0;

    dart_get_stats(d, &st);
    assert_int_equal(st.iova_lo, 0);
    assert_int_equal(st.iova_hi, 0);
    map_ok(d, mem, 4 * PG, s, &n, &id);
    assert_int_equal(dart_read(d, s[0].iova + PG, &v, 8), 0);
    assert_int_equal(dart_write(d, s[0].iova + 100, &v, 8), 0);
    assert_int_equal(dart_read(d, s[0].iova + 3 * PG, &v, 8), 0);
    /* A faulting access is not part of the range. */
    assert_int_equal(dart_read(d, s[0].iova + 64 * PG, &v, 8), -EFAULT);
    dart_get_stats(d, &st);
    assert_int_equal(st.iova_lo, s[0].iova + 100);
    assert_int_equal(st.iova_hi, s[0].iova + 3 * PG + 8);
    dart_destroy(d);
    free(mem);
}

/*
 * Concurrency: map/unmap on one thread while two others transfer, in
 * lockstep rounds so nothing depends on timing.  In round r the accessors
 * use two mappings: `live` (mapped before the round, unmapped only after
 * it), whose every access must succeed, and `stale`, which the mapper
 * unmaps during the round, so each access to it races the unmap and may
 * succeed or fault (both are counted).  After the round, with the unmap
 * returned, the stale IOVA must fault for anyone.
 */
#define CONC_THREADS    2
#define CONC_ROUNDS     5000
#define CONC_ACCESSES   8

struct conc {
    struct dart *d;
    pthread_barrier_t *start, *done;
    uint64_t live, stale;           /* set by the mapper before `start` */
    int stop;
    uint64_t ok, faults, live_faults, other;
};

static void *accessor(void *arg)
{
    struct conc *c = arg;
    uint8_t buf[256] = { 0 };

    for (;;) {
        pthread_barrier_wait(c->start);     /* also orders the fields above */
        if (c->stop)
            return NULL;
        for (int k = 0; k < CONC_ACCESSES; k++) {
            int r = (k & 1) ? dart_read(c->d, c->stale, buf, sizeof(buf))
                            : dart_write(c->d, c->stale, buf, sizeof(buf));
            if (!r)
                c->ok++;
            else if (r == -EFAULT)
                c->faults++;
            else
                c->other++;
            r = (k & 1) ? dart_write(c->d, c->live, buf, sizeof(buf))
                        : dart_read(c->d, c->live, buf, sizeof(buf));
            if (!r)
                c->ok++;
            else
                c->live_faults++;
        }
        pthread_barrier_wait(c->done);
    }
}

static void test_concurrent_smoke(void **state)
{
    struct dart *d = dart_create(NULL);
    uint8_t *mem = host_alloc(16 * PG);
    pthread_barrier_t start, done;
    struct conc c[CONC_THREADS];
    pthread_t t[CONC_THREADS];
    struct dart_segment s[DART_MAX_SEGMENTS];
    uint64_t id, old_iova, after_faults = 0;
    unsigned n;
    uint8_t b;

    assert_int_equal(pthread_barrier_init(&start, NULL, CONC_THREADS + 1), 0);
    assert_int_equal(pthread_barrier_init(&done, NULL, CONC_THREADS + 1), 0);
    map_ok(d, mem, 2 * PG, s, &n, &id);
    old_iova = s[0].iova;
    for (int i = 0; i < CONC_THREADS; i++) {
        c[i] = (struct conc){ .d = d, .start = &start, .done = &done };
        assert_int_equal(pthread_create(&t[i], NULL, accessor, &c[i]), 0);
    }
    for (int r = 0; r < CONC_ROUNDS; r++) {
        uint64_t nid;

        map_ok(d, mem + (r % 8) * PG, 2 * PG, s, &n, &nid);
        for (int i = 0; i < CONC_THREADS; i++) {
            c[i].live = s[0].iova + 16;
            c[i].stale = old_iova + 16;
        }
        pthread_barrier_wait(&start);
        assert_int_equal(dart_unmap(d, id), 0);     /* races the stale accesses */
        pthread_barrier_wait(&done);
        assert_int_equal(dart_read(d, old_iova, &b, 1), -EFAULT);
        after_faults++;
        id = nid;
        old_iova = s[0].iova;
    }
    for (int i = 0; i < CONC_THREADS; i++)
        c[i].stop = 1;
    pthread_barrier_wait(&start);
    for (int i = 0; i < CONC_THREADS; i++)
        pthread_join(t[i], NULL);

    struct dart_stats st;
    uint64_t ok = 0, faults = 0;
    dart_get_stats(d, &st);
    for (int i = 0; i < CONC_THREADS; i++) {
        /* Every access to a live mapping worked; every access was one or the other. */
        assert_int_equal(c[i].live_faults, 0);
        assert_int_equal(c[i].other, 0);
        assert_true(c[i].ok >= (uint64_t)CONC_ROUNDS * CONC_ACCESSES);
        assert_int_equal(c[i].ok + c[i].faults, (uint64_t)CONC_ROUNDS * CONC_ACCESSES * 2);
        ok += c[i].ok;
        faults += c[i].faults;
    }
    /* The model's counters agree with what the accessors saw, exactly. */
    assert_int_equal(st.faults, faults + after_faults);
    assert_int_equal(st.dma_reads + st.dma_writes, ok);
    assert_int_equal(st.maps, CONC_ROUNDS + 1);
    assert_int_equal(st.unmaps, CONC_ROUNDS);
    assert_int_equal(st.live_mappings, 1);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&done);
    dart_destroy(d);
    free(mem);
}

/* ------------------------------------------------------- IOVA base -- */

/* The page of the first IOVA a fresh DART hands out. */
static uint64_t first_iova(const struct dart_config *cfg)
{
    struct dart *d = dart_create(cfg);
    struct dart_segment s[DART_MAX_SEGMENTS];
    uint8_t x[16];
    unsigned n;
    uint64_t id;

    assert_non_null(d);
    map_ok(d, x, 1, s, &n, &id);
    dart_destroy(d);
    return s[0].iova & ~(uint64_t)(PG - 1);
}

static void test_iova_base_default(void **state)
{
    assert_int_equal(first_iova(NULL), DART_DEFAULT_IOVA_BASE);
    assert_int_equal(DART_DEFAULT_IOVA_BASE, 32ull << 30);
    /* Setting other options keeps the default base. */
    struct dart_config c = { .fragment = 4, .budget_bytes = 64 * PG };
    assert_int_equal(first_iova(&c), DART_DEFAULT_IOVA_BASE);
}

/*
 * Bases where IOVAs overlap what the guest sees at the same numbers:
 * its RAM (QEMU virt: 1 GiB up), the GIC (0x08000000), PCIe MMIO
 * (0x10000000).  The model hands them out like any other and keeps every
 * mapping inside [base, base + space).
 */
static void test_iova_base_overlapping_guest_addresses(void **state)
{
    static const uint64_t bases[] = { 0x40000000ull, 0x08000000ull, 0x10000000ull, PG };
    uint8_t *mem = host_alloc(8 * PG);

    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        struct dart_config c = { .iova_base = bases[i], .iova_base_set = 1, .fragment = 3,
                                 .budget_bytes = 64 * PG, .max_mappings = 16 };
        struct dart *d = dart_create(&c);
        struct dart_segment s[DART_MAX_SEGMENTS];
        unsigned n;
        uint64_t id, v = 0x1122334455667788ull, r = 0;
        /* The space: 2 * budget + (fragment + 1) per mapping + 64 pages. */
        uint64_t end = bases[i] + (2 * 64 + 16 * 4 + 64) * (uint64_t)PG;

        assert_non_null(d);
        map_ok(d, mem + 100, 6 * PG, s, &n, &id);
        assert_int_equal(n, 3);
        assert_int_equal(s[0].iova, bases[i] + 100);
        for (unsigned k = 0; k < n; k++) {
            assert_true(s[k].iova >= bases[i]);
            assert_true(s[k].iova + s[k].len <= end);
        }
        /* Transfers work there, and below the base nothing is mapped. */
        assert_int_equal(dart_write(d, s[1].iova + 8, &v, 8), 0);
        assert_int_equal(dart_read(d, s[1].iova + 8, &r, 8), 0);
        assert_int_equal(r, v);
        assert_int_equal(dart_read(d, bases[i] - 8, &r, 8), -EFAULT);
        /* Exhausting the budget never leaves the space. */
        uint64_t more;
        while (dart_map(d, mem, 3 * PG, s, DART_MAX_SEGMENTS, &n, &more) == 0)
            for (unsigned k = 0; k < n; k++)
                assert_true(s[k].iova >= bases[i] && s[k].iova + s[k].len <= end);
        dart_destroy(d);
    }
    free(mem);
}

/* Base 0: IOVA page 0 is never handed out (see dart.h for why). */
static void test_iova_base_zero_skips_page_zero(void **state)
{
    struct dart_config c = { .iova_base = 0, .iova_base_set = 1, .max_mappings = 64 };
    struct dart *d = dart_create(&c);
    uint8_t *mem = host_alloc(4 * PG);
    struct dart_segment s[DART_MAX_SEGMENTS];
    uint64_t ids[64];
    unsigned n;
    uint8_t b;

    assert_int_equal(first_iova(&c), PG);
    assert_non_null(d);
    /* Map, free the first one, map again: first fit reuses space from the
     * bottom, and the bottom is page 1. */
    for (int i = 0; i < 64; i++) {
        map_ok(d, mem + 5, 1, s, &n, &ids[i]);
        assert_true(s[0].iova >= PG);
    }
    assert_int_equal(dart_unmap(d, ids[0]), 0);
    map_ok(d, mem + 5, 1, s, &n, &ids[0]);
    assert_int_equal(s[0].iova, PG + 5);
    assert_int_equal(dart_read(d, 0, &b, 1), -EFAULT);
    assert_int_equal(dart_read(d, PG - 1, &b, 1), -EFAULT);
    assert_int_equal(dart_read(d, PG + 5, &b, 1), 0);
    dart_destroy(d);
    free(mem);
}

static void test_iova_base_invalid(void **state)
{
    struct dart_config c = { .iova_base_set = 1 };

    c.iova_base = 0x1000;                       /* not a DART page */
    assert_null(dart_create(&c));
    c.iova_base = UINT64_MAX & ~(uint64_t)(PG - 1);   /* space would pass 2^64 */
    assert_null(dart_create(&c));
    c.iova_base = 1ull << 63;                   /* high but fits */
    assert_int_equal(first_iova(&c), 1ull << 63);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iova_not_host_and_offset_kept),
        cmocka_unit_test(test_iova_avoids_colliding_host_address),
        cmocka_unit_test(test_pages_counted_whole),
        cmocka_unit_test(test_fragmentation),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_byte_budget),
        cmocka_unit_test(test_mapping_limit),
        cmocka_unit_test(test_injected_map_failure),
        cmocka_unit_test(test_faults_counted_and_logged),
        cmocka_unit_test(test_fault_ring_wraps),
        cmocka_unit_test(test_reuse_after_unmap),
        cmocka_unit_test(test_first_fit_reuses_holes),
        cmocka_unit_test(test_accessed_range),
        cmocka_unit_test(test_concurrent_smoke),
        cmocka_unit_test(test_iova_base_default),
        cmocka_unit_test(test_iova_base_overlapping_guest_addresses),
        cmocka_unit_test(test_iova_base_zero_skips_page_zero),
        cmocka_unit_test(test_iova_base_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
