/*
 * Unit tests of the IOKit transport's portable half (client/iokit-match.c,
 * client/iokit-callq.c): the code that decides which dext instance serves
 * a host location, what an IOReturn means, how memory is mapped, and how a
 * call that never returns is given up on.  transport-iokit.c only glues
 * these to IOKit, so this is what the macOS transport's behaviour rests on.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../client/iokit-callq.h"
#include "../../client/iokit-match.h"

/* ------------------------------------------------------------ parsing -- */

static void test_parse_forms(void **state)
{
    struct vfa_host_loc l;
    char err[256];

    assert_int_equal(vfa_iokit_parse_location("0000:03:00.0", &l, err,
                                              sizeof(err)), 0);
    assert_int_equal(l.domain, 0);
    assert_int_equal(l.bus, 3);
    assert_int_equal(l.dev, 0);
    assert_int_equal(l.fn, 0);
    assert_string_equal(l.root_port, "");

    assert_int_equal(vfa_iokit_parse_location("a:1f.7", &l, err,
                                              sizeof(err)), 0);
    assert_int_equal(l.domain, 0);
    assert_int_equal(l.bus, 0xa);
    assert_int_equal(l.dev, 0x1f);
    assert_int_equal(l.fn, 7);

    assert_int_equal(vfa_iokit_parse_location("0001:C2:1e.3@pcic1-bridge",
                                              &l, err, sizeof(err)), 0);
    assert_int_equal(l.domain, 1);
    assert_int_equal(l.bus, 0xc2);
    assert_int_equal(l.dev, 0x1e);
    assert_int_equal(l.fn, 3);
    assert_string_equal(l.root_port, "pcic1-bridge");
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "", "03", "03:00", "03:00.", "03:20.0", "03:00.8", "100:00.0",
        "0000:100:00.0", "0000:03:00.0x", "0000:03:00.0@", ":03:00.0",
        "g:00.0", "0:0:0:00.0",
        "0000:03:00.0@0123456789012345678901234567890123456789012345678901"
        "234567890123",
    };
    struct vfa_host_loc l;
    char err[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        if (vfa_iokit_parse_location(bad[i], &l, err, sizeof(err)) !=
            -EINVAL) {
            fail_msg("accepted '%s'", bad[i]);
        }
        assert_true(err[0] != 0);
    }
    assert_int_equal(vfa_iokit_parse_location(NULL, &l, err, sizeof(err)),
                     -EINVAL);
}

static void test_format_round_trip(void **state)
{
    struct vfa_host_loc l, m;
    char buf[96], err[256];

    assert_int_equal(vfa_iokit_parse_location("2:c0:1f.7@apcie0", &l, err,
                                              sizeof(err)), 0);
    vfa_iokit_format_location(&l, buf, sizeof(buf));
    assert_string_equal(buf, "0002:c0:1f.7@apcie0");
    assert_int_equal(vfa_iokit_parse_location(buf, &m, err, sizeof(err)), 0);
    assert_memory_equal(&l, &m, sizeof(l));
}

/* ----------------------------------------------------------- choosing -- */

static struct vfa_iokit_candidate cand(uint8_t bus, uint8_t dev, uint8_t fn,
                                       const char *root, uint16_t vendor)
{
    struct vfa_iokit_candidate c = { .vendor_id = vendor, .device_id = 0x1 };

    c.loc.bus = bus;
    c.loc.dev = dev;
    c.loc.fn = fn;
    snprintf(c.loc.root_port, sizeof(c.loc.root_port), "%s", root);
    return c;
}

static struct vfa_host_loc want(uint8_t bus, uint8_t dev, uint8_t fn,
                                const char *root)
{
    struct vfa_host_loc l = { .bus = bus, .dev = dev, .fn = fn };

    snprintf(l.root_port, sizeof(l.root_port), "%s", root);
    return l;
}

static void test_choose_unique(void **state)
{
    struct vfa_iokit_candidate c[3] = {
        cand(1, 0, 0, "pcic0", 0x144d), cand(3, 0, 0, "pcic2", 0x1002),
        cand(3, 0, 1, "pcic2", 0x1002),
    };
    struct vfa_host_loc w = want(3, 0, 1, "");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 2);
    w = want(3, 0, 0, "pcic2");
    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 1);
}

/* Apple Silicon: bus 1 below two root ports.  Never guess. */
static void test_choose_ambiguous_lists_candidates(void **state)
{
    struct vfa_iokit_candidate c[3] = {
        cand(1, 0, 0, "pcic0-bridge", 0x144d),
        cand(1, 0, 0, "pcic2-bridge", 0x1002),
        cand(2, 0, 0, "pcic2-bridge", 0x10de),
    };
    struct vfa_host_loc w = want(1, 0, 0, "");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "ambiguous"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic0-bridge (144d:0001)"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic2-bridge (1002:0001)"));
    /* Only the candidates for that BDF. */
    assert_null(strstr(err, "0000:02:00.0"));

    /* The root port settles it. */
    w = want(1, 0, 0, "pcic2-bridge");
    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 1);
    w = want(1, 0, 0, "pcic0-bridge");
    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 0);
}

/* Two instances claiming the same BDF and root port: refused too. */
static void test_choose_duplicate_refused(void **state)
{
    struct vfa_iokit_candidate c[2] = {
        cand(4, 0, 0, "pcic1", 0x8086), cand(4, 0, 0, "pcic1", 0x8086),
    };
    struct vfa_host_loc w = want(4, 0, 0, "pcic1");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, sizeof(err)), -EEXIST);
}

static void test_choose_not_found(void **state)
{
    struct vfa_iokit_candidate c[2] = {
        cand(1, 0, 0, "pcic0", 0x144d), cand(5, 0, 0, "pcic3", 0x10de),
    };
    struct vfa_host_loc w = want(9, 0, 0, "");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "not served"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic0"));
    assert_non_null(strstr(err, "0000:05:00.0@pcic3"));

    /* Right BDF, wrong root port: says where it is. */
    w = want(5, 0, 0, "pcic0");
    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "below root port 'pcic0'"));
    assert_non_null(strstr(err, "0000:05:00.0@pcic3"));

    /* Nothing at all: points at the extension. */
    assert_int_equal(vfa_iokit_choose(c, 0, &w, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "systemextensionsctl"));
}

/* A tiny error buffer is cut, never overrun. */
static void test_choose_small_buffer(void **state)
{
    struct vfa_iokit_candidate c[2] = {
        cand(1, 0, 0, "pcic0", 1), cand(1, 0, 0, "pcic1", 2),
    };
    struct vfa_host_loc w = want(1, 0, 0, "");
    char err[24];

    memset(err, 'x', sizeof(err));
    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, 16), -EEXIST);
    assert_int_equal(strlen(err), 15);
    assert_int_equal(err[16], 'x');
}

/* ----------------------------------------------------------- IOReturn -- */

static void test_result_dext_codes(void **state)
{
    uint32_t st = 99;

    assert_int_equal(vfa_iokit_result(0, &st), 0);
    assert_int_equal(st, VFA_OK);
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_BUSY), &st), 0);
    assert_int_equal(st, VFA_E_BUSY);
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_NOSPC), &st), 0);
    assert_int_equal(st, VFA_E_NOSPC);
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_ALREADY), &st), 0);
    assert_int_equal(st, VFA_E_ALREADY);
    /* A method's NODEV is its answer, not a lost connection. */
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_NODEV), &st), 0);
    assert_int_equal(st, VFA_E_NODEV);
}

static void test_result_gone(void **state)
{
    static const uint32_t gone[] = {
        VFA_KIO_RETURN_NOT_ATTACHED, VFA_KIO_RETURN_NO_DEVICE,
        VFA_KIO_RETURN_OFFLINE, VFA_KIO_RETURN_IPC_ERROR,
        VFA_KIO_RETURN_ABORTED, VFA_MACH_SEND_INVALID_DEST,
        VFA_MACH_RCV_PORT_DIED,
    };
    uint32_t st;
    size_t i;

    for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        assert_int_equal(vfa_iokit_result(gone[i], &st), -ENODEV);
    }
}

static void test_result_iokit_refusals(void **state)
{
    uint32_t st;

    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_BAD_ARGUMENT, &st), 0);
    assert_int_equal(st, VFA_E_PROTO);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_UNSUPPORTED, &st), 0);
    assert_int_equal(st, VFA_E_NOSYS);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_NOT_PRIVILEGED, &st), 0);
    assert_int_equal(st, VFA_E_PERM);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_EXCLUSIVE_ACCESS, &st),
                     0);
    assert_int_equal(st, VFA_E_BUSY);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_NO_MEMORY, &st), 0);
    assert_int_equal(st, VFA_E_NOMEM);
    /* Anything else: the operation failed, the connection stands. */
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_ERROR, &st), 0);
    assert_int_equal(st, VFA_E_IO);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_TIMEOUT, &st), 0);
    assert_int_equal(st, VFA_E_IO);
    /* The vendor base with code 0 is not a dext code. */
    assert_int_equal(vfa_iokit_result(VFA_IORETURN_BASE, &st), 0);
    assert_int_equal(st, VFA_E_IO);
}

/* -------------------------------------------------------- cache modes -- */

static void test_map_cache(void **state)
{
    const uint32_t m = VFA_BAR_PRESENT | VFA_BAR_MAPPABLE;

    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_IRQ_PAGE, 0),
                     VFA_IOKIT_CACHE_DEFAULT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(0), m),
                     VFA_IOKIT_CACHE_DEFAULT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(2),
                                         m | VFA_BAR_PREFETCHABLE |
                                         VFA_BAR_MEM64),
                     VFA_IOKIT_CACHE_WRITE_COMBINE);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(5),
                                         VFA_BAR_PRESENT |
                                         VFA_BAR_PREFETCHABLE), -ENOENT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(1), 0), -ENOENT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(6), m), -EINVAL);
    assert_int_equal(vfa_iokit_map_cache(17, m), -EINVAL);
}

/* What the dext's dispatch table checks the output count against. */
static void test_out_room(void **state)
{
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_GET_VERSION), 3);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_CONFIG_WRITE), 2);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_BAR_INFO), 4);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_DMA_MAP), 0);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_COUNT + 5), VFA_MAX_SCALARS);
}

/* --------------------------------------------------------- call queue -- */

/* A fake IOConnectCallMethod: blocks while @hold, counts its runs. */
struct fake_call {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool hold;
    int runs;
    int lates;
    int freed;
    uint64_t stale;
    struct vfa_callq q;
};

static void fake_run(void *opaque)
{
    struct fake_call *f = opaque;

    pthread_mutex_lock(&f->lock);
    while (f->hold) {
        pthread_cond_wait(&f->cond, &f->lock);
    }
    f->runs++;
    pthread_mutex_unlock(&f->lock);
}

static void fake_late(void *opaque)
{
    struct fake_call *f = opaque;

    pthread_mutex_lock(&f->lock);
    f->lates++;
    pthread_mutex_unlock(&f->lock);
}

static void fake_free(void *opaque)
{
    struct fake_call *f = opaque;

    __atomic_store_n(&f->freed, 1, __ATOMIC_SEQ_CST);
}

static void fake_release(struct fake_call *f)
{
    pthread_mutex_lock(&f->lock);
    f->hold = false;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static struct fake_call *fake_new(void)
{
    struct fake_call *f = calloc(1, sizeof(*f));

    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    assert_int_equal(vfa_callq_init(&f->q, fake_run, fake_late, fake_free,
                                    f, &f->stale), 0);
    return f;
}

static int64_t ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_callq_in_step(void **state)
{
    struct fake_call *f = fake_new();
    int i;

    for (i = 0; i < 100; i++) {
        assert_int_equal(vfa_callq_call(&f->q, i % 2 ? 1000 : 0), 0);
    }
    assert_int_equal(f->runs, 100);
    assert_false(vfa_callq_behind(&f->q));
    assert_int_equal(vfa_callq_resync(&f->q, 0), 0);
    assert_int_equal(f->stale, 0);
    assert_int_equal(f->lates, 0);
    assert_true(vfa_callq_destroy(&f->q));
    free(f);
}

/*
 * The transport.h contract: a call that times out leaves us behind; while
 * behind, calls fail at once without reaching the worker; the late result
 * is dropped (stale), never taken for a later call's; then all is well.
 */
static void test_callq_timeout_behind_resync(void **state)
{
    struct fake_call *f = fake_new();
    int64_t t0;

    f->hold = true;
    t0 = ms_now();
    assert_int_equal(vfa_callq_call(&f->q, 50), -ETIMEDOUT);
    assert_true(ms_now() - t0 >= 50);
    assert_true(vfa_callq_behind(&f->q));

    /* Fast failure: no wait, nothing posted. */
    t0 = ms_now();
    assert_int_equal(vfa_callq_call(&f->q, 5000), -ETIMEDOUT);
    assert_true(ms_now() - t0 < 1000);
    assert_int_equal(vfa_callq_resync(&f->q, 20), -ETIMEDOUT);
    assert_int_equal(f->runs, 0);

    fake_release(f);
    assert_int_equal(vfa_callq_resync(&f->q, 5000), 0);
    assert_false(vfa_callq_behind(&f->q));
    assert_int_equal(f->runs, 1);
    assert_int_equal(f->stale, 1);
    /*
     * The late hook ran (on the worker, once), and before the call could
     * be settled: a poller woken by it always finds the result there.
     */
    assert_int_equal(f->lates, 1);

    /* In step again: the next call is its own. */
    assert_int_equal(vfa_callq_call(&f->q, 1000), 0);
    assert_int_equal(f->runs, 2);
    assert_int_equal(f->stale, 1);
    assert_true(vfa_callq_destroy(&f->q));
    free(f);
}

/* A call that comes after the late one finished settles it itself. */
static void test_callq_next_call_settles(void **state)
{
    struct fake_call *f = fake_new();

    f->hold = true;
    assert_int_equal(vfa_callq_call(&f->q, 10), -ETIMEDOUT);
    fake_release(f);
    while (__atomic_load_n(&f->runs, __ATOMIC_SEQ_CST) < 1) {
        usleep(1000);
    }
    usleep(10000);
    assert_int_equal(vfa_callq_call(&f->q, 1000), 0);
    assert_int_equal(f->runs, 2);
    assert_int_equal(f->stale, 1);
    assert_false(vfa_callq_behind(&f->q));
    assert_true(vfa_callq_destroy(&f->q));
    free(f);
}

/*
 * Destroy while the worker is stuck in the dext: destroy returns at once,
 * and the worker frees the transport when its call returns.
 */
static void test_callq_destroy_stuck_orphans(void **state)
{
    struct fake_call *f = fake_new();
    int64_t t0;

    f->hold = true;
    assert_int_equal(vfa_callq_call(&f->q, 10), -ETIMEDOUT);
    t0 = ms_now();
    assert_false(vfa_callq_destroy(&f->q));
    assert_true(ms_now() - t0 < 1000);
    assert_int_equal(__atomic_load_n(&f->freed, __ATOMIC_SEQ_CST), 0);
    fake_release(f);
    for (t0 = ms_now(); ms_now() - t0 < 5000 &&
         !__atomic_load_n(&f->freed, __ATOMIC_SEQ_CST);) {
        usleep(1000);
    }
    assert_int_equal(f->freed, 1);
    /* The orphaned call's late hook is not run: nobody listens. */
    assert_int_equal(f->lates, 0);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_choose_unique),
        cmocka_unit_test(test_choose_ambiguous_lists_candidates),
        cmocka_unit_test(test_choose_duplicate_refused),
        cmocka_unit_test(test_choose_not_found),
        cmocka_unit_test(test_choose_small_buffer),
        cmocka_unit_test(test_result_dext_codes),
        cmocka_unit_test(test_result_gone),
        cmocka_unit_test(test_result_iokit_refusals),
        cmocka_unit_test(test_map_cache),
        cmocka_unit_test(test_out_room),
        cmocka_unit_test(test_callq_in_step),
        cmocka_unit_test(test_callq_timeout_behind_resync),
        cmocka_unit_test(test_callq_next_call_settles),
        cmocka_unit_test(test_callq_destroy_stuck_orphans),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
