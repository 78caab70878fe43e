/*
 * Unit tests of the client library: the functions QEMU calls (client/,
 * built with client/compat standing in for QEMU's osdep and mutex), over
 * the real socket transport, against a scripted fake dext on a real UNIX
 * socket.  The fake answers each request with what the test wants:
 * correct replies, late ones, ones with the wrong sequence number, lying
 * segment lists, oversized struct outputs, truncated memory fds.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "vfio-apple/sim-wire.h"
#include "../../client/vfio-apple-client.h"

/* What the fake does with one request (the test's script). */
enum fake_action {
    FAKE_OK,            /* status 0, scalars from .scalars, struct .sout */
    FAKE_STATUS,        /* status .status */
    FAKE_LATE,          /* reply after .delay_ms */
    FAKE_WRONG_SEQ,     /* reply with seq + 7 */
    FAKE_TWICE,         /* reply twice */
    FAKE_HANG_UP,       /* close the connection */
    FAKE_FD,            /* reply carrying .fd, scalars */
};

struct fake_step {
    enum fake_action action;
    uint32_t status;
    unsigned delay_ms;
    uint64_t scalars[4];
    uint32_t nscalars;
    const void *sout;
    uint32_t sout_len;
    int fd;
};

struct fake {
    char path[108];
    int lfd, cfd;
    pthread_t thread;
    const struct fake_step *steps;
    unsigned nsteps;
    unsigned served;                    /* requests answered or dropped */
    uint32_t seen_sel[32];              /* selectors received, in order */
    uint16_t seen_type[32];
};

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static void reply(struct fake *f, const struct vfa_sim_call *q,
                  const struct fake_step *st, uint32_t seq)
{
    static uint8_t buf[VFA_SIM_MAX_REPLY];
    struct vfa_sim_reply *p = (struct vfa_sim_reply *)buf;

    memset(p, 0, sizeof(*p));
    p->hdr = q->hdr;
    p->hdr.seq = seq;
    p->status = st->action == FAKE_STATUS ? st->status : 0;
    p->nscalars = st->nscalars;
    memcpy(p->scalars, st->scalars, sizeof(st->scalars));
    p->struct_len = st->sout_len;
    if (st->sout_len) {
        memcpy(p + 1, st->sout, st->sout_len);
    }
    vfa_sim_send(f->cfd, buf, sizeof(*p) + st->sout_len,
                 st->action == FAKE_FD ? st->fd : -1, MSG_NOSIGNAL);
}

static void *fake_main(void *opaque)
{
    struct fake *f = opaque;
    static uint8_t req[VFA_SIM_MAX_REQUEST + 1];

    f->cfd = accept(f->lfd, NULL, NULL);
    while (f->cfd >= 0 && f->served < f->nsteps) {
        const struct vfa_sim_call *q = (const void *)req;
        const struct fake_step *st = &f->steps[f->served];
        unsigned nfds;
        int fd, trunc;
        ssize_t n = vfa_sim_recv(f->cfd, req, sizeof(req), 0, &fd, &nfds,
                                 &trunc);

        if (n <= 0) {
            break;
        }
        if (fd >= 0) {
            close(fd);
        }
        if (f->served < 32) {
            f->seen_sel[f->served] = q->selector;
            f->seen_type[f->served] = q->hdr.type;
        }
        f->served++;
        switch (st->action) {
        case FAKE_LATE:
            sleep_ms(st->delay_ms);
            reply(f, q, st, q->hdr.seq);
            break;
        case FAKE_WRONG_SEQ:
            reply(f, q, st, q->hdr.seq + 7);
            break;
        case FAKE_TWICE:
            reply(f, q, st, q->hdr.seq);
            reply(f, q, st, q->hdr.seq);
            break;
        case FAKE_HANG_UP:
            close(f->cfd);
            f->cfd = -1;
            break;
        default:
            reply(f, q, st, q->hdr.seq);
        }
    }
    return NULL;
}

static struct vfa_client *fake_start(struct fake *f,
                                     const struct fake_step *steps,
                                     unsigned nsteps)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct vfa_client *c = NULL;
    char err[256];

    memset(f, 0, sizeof(*f));
    f->steps = steps;
    f->nsteps = nsteps;
    f->cfd = -1;
    snprintf(f->path, sizeof(f->path), "/tmp/vfa-test-client-%d.sock",
             (int)getpid());
    unlink(f->path);
    strcpy(sa.sun_path, f->path);
    f->lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 1), 0);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
    assert_int_equal(vfa_client_connect_socket(f->path, &c, err, sizeof(err)),
                     0);
    /*
     * The fake answers at once: a call still waiting after a second is a
     * bug (or a mutation, tests/mutation) and must fail fast, not hang.
     */
    vfa_client_set_timeout(c, 1000);
    return c;
}

static void fake_stop(struct fake *f, struct vfa_client *c)
{
    vfa_client_disconnect(c);
    pthread_join(f->thread, NULL);
    if (f->cfd >= 0) {
        close(f->cfd);
    }
    close(f->lfd);
    unlink(f->path);
}

/* ------------------------------------------------------------ IRQ page -- */

/*
 * vfa_irq_take() takes the pending bits of enabled vectors only: a vector
 * that fired while disabled stays latched until it is enabled.
 */
static void test_irq_take_keeps_latched_disabled(void **state)
{
    struct vfa_irq_page *p = calloc(1, sizeof(*p));

    p->enabled[0] = 0x0full;
    p->pending[0] = 0xf5ull;        /* 0, 2 enabled; 4..7 disabled */
    p->enabled[1] = 0;
    p->pending[1] = 1;

    assert_int_equal(vfa_irq_take(p, 0), 0x05ull);
    assert_int_equal(p->pending[0], 0xf0ull);   /* latched ones survive */
    assert_int_equal(vfa_irq_take(p, 0), 0);
    assert_int_equal(vfa_irq_take(p, 1), 0);    /* all disabled */
    assert_int_equal(p->pending[1], 1);

    p->enabled[0] = 0xf0ull;                    /* enable them: delivered */
    assert_int_equal(vfa_irq_take(p, 0), 0xf0ull);
    assert_int_equal(p->pending[0], 0);

    p->events = 3;
    assert_int_equal(vfa_irq_take_events(p), 3);
    assert_int_equal(p->events, 0);
    free(p);
}

/* ---------------------------------------------------------- sequencing -- */

/* A reply whose sequence number is not the request's: out of step. */
static void test_wrong_sequence_is_fatal(void **state)
{
    const struct fake_step steps[] = {
        { .action = FAKE_WRONG_SEQ, .nscalars = 3, .scalars = { 1, 0, 0 } },
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 1);
    uint32_t major = 0;

    assert_int_equal(vfa_get_version(c, &major, NULL, NULL), -EPROTO);
    assert_int_equal(major, 0);
    /* Nothing after an out-of-step reply can be trusted: lost for good. */
    assert_int_equal(vfa_get_version(c, &major, NULL, NULL), -ENODEV);
    fake_stop(&f, c);
}

/* Two replies to one request: the second must not answer the next call. */
static void test_duplicate_reply_not_taken_for_next(void **state)
{
    const struct fake_step steps[] = {
        { .action = FAKE_TWICE, .nscalars = 3, .scalars = { 1, 0, 0 } },
        { .action = FAKE_OK, .nscalars = 1, .scalars = { 0x1234 } },
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 2);
    uint32_t major = 0, val = 0;

    assert_int_equal(vfa_get_version(c, &major, NULL, NULL), 0);
    assert_int_equal(major, 1);
    sleep_ms(50);   /* let the duplicate arrive first */
    assert_int_not_equal(vfa_config_read(c, 0, 4, &val), 0);
    assert_int_not_equal(val, 1);
    fake_stop(&f, c);
}

/*
 * A call that times out leaves the dext owing its reply: later calls fail
 * at once (no waiting) until the late reply has arrived, which is then
 * dropped, never taken for another call's answer.
 */
static void test_timeout_then_fast_fail_then_resync(void **state)
{
    const struct fake_step steps[] = {
        { .action = FAKE_LATE, .delay_ms = 300, .nscalars = 1,
          .scalars = { 0xdead } },
        { .action = FAKE_OK, .nscalars = 1, .scalars = { 0xbeef } },
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 2);
    struct vfa_client_stats st;
    uint32_t val = 0;
    struct timespec t0, t1;

    vfa_client_set_timeout(c, 100);
    assert_int_equal(vfa_config_read(c, 0, 4, &val), -ETIMEDOUT);
    assert_true(vfa_client_behind(c));
    assert_non_null(strstr(vfa_client_errmsg(c), "no reply"));

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vfa_config_read(c, 4, 4, &val), -ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Refused without waiting for another timeout. */
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
                (t1.tv_nsec - t0.tv_nsec) / 1000000 < 50);
    assert_int_equal(f.served, 1);          /* and not even sent */

    assert_int_equal(vfa_client_resync(c, 2000), 0);
    assert_false(vfa_client_behind(c));
    assert_int_equal(vfa_config_read(c, 8, 4, &val), 0);
    assert_int_equal(val, 0xbeef);

    vfa_client_get_stats(c, &st);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.fast_failures, 1);
    assert_int_equal(st.stale_replies, 1);
    assert_int_equal(st.calls[VFA_SEL_CONFIG_READ], 2);
    assert_int_equal(st.round_trips, 2);
    fake_stop(&f, c);
}

/* A late reply that arrives before the next call is dropped there. */
static void test_late_reply_dropped_by_next_call(void **state)
{
    const struct fake_step steps[] = {
        { .action = FAKE_LATE, .delay_ms = 150, .nscalars = 1,
          .scalars = { 0xdead } },
        { .action = FAKE_OK, .nscalars = 1, .scalars = { 0xbeef } },
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 2);
    uint32_t val = 0;

    vfa_client_set_timeout(c, 50);
    assert_int_equal(vfa_config_read(c, 0, 4, &val), -ETIMEDOUT);
    sleep_ms(300);
    assert_int_equal(vfa_config_read(c, 4, 4, &val), 0);
    assert_int_equal(val, 0xbeef);
    fake_stop(&f, c);
}

static void test_hang_up_is_sticky_nodev(void **state)
{
    const struct fake_step steps[] = { { .action = FAKE_HANG_UP } };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 1);
    uint32_t val;

    assert_int_equal(vfa_config_read(c, 0, 4, &val), -ENODEV);
    assert_int_equal(vfa_config_read(c, 0, 4, &val), -ENODEV);
    assert_int_equal(vfa_client_resync(c, 0), -ENODEV);
    fake_stop(&f, c);
}

/* ------------------------------------------------------ lying replies -- */

static void dma_map_expect_eproto(const struct vfa_dma_map_out *lie,
                                  uint64_t len)
{
    const struct fake_step steps[] = {
        { .action = FAKE_OK, .sout = lie, .sout_len = sizeof(*lie) },
        { .action = FAKE_OK },          /* the DMA_UNMAP of the handle */
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 2);
    struct vfa_dma_map_out out;

    assert_int_equal(vfa_dma_map(c, (void *)0x10000, len,
                                 VFA_DMA_BIDIRECTIONAL, &out), -EPROTO);
    assert_non_null(strstr(vfa_client_errmsg(c), "segment"));
    fake_stop(&f, c);
    /* Whatever the dext mapped is given back. */
    assert_int_equal(f.served, 2);
    assert_int_equal(f.seen_sel[1], VFA_SEL_DMA_UNMAP);
}

/*
 * 33 segments: more than the ABI allows and than the array holds.  The
 * caller's buffer goes on with what would make a 33rd segment add up, so
 * only the bound on nsegs can refuse it (not the length check).
 */
static void test_dma_segments_bounded(void **state)
{
    struct vfa_dma_map_out lie = { .handle = 7, .nsegs = 33 };
    const struct fake_step steps[] = {
        { .action = FAKE_OK, .sout = &lie, .sout_len = sizeof(lie) },
        { .action = FAKE_OK },
    };
    struct {
        struct vfa_dma_map_out out;
        struct vfa_dma_segment beyond;
    } buf = { .beyond = { 0x9900000, 0x4000 } };
    struct fake f;
    struct vfa_client *c;
    unsigned i;

    for (i = 0; i < VFA_MAX_DMA_SEGMENTS; i++) {
        lie.segs[i].iova = 0x100000ull * (i + 1);
        lie.segs[i].len = 0x4000;
    }
    c = fake_start(&f, steps, 2);
    assert_int_equal(vfa_dma_map(c, (void *)0x10000, 33 * 0x4000,
                                 VFA_DMA_BIDIRECTIONAL, &buf.out), -EPROTO);
    fake_stop(&f, c);
}

static void test_dma_segments_must_add_up(void **state)
{
    struct vfa_dma_map_out lie = { .handle = 7, .nsegs = 2 };

    lie.segs[0] = (struct vfa_dma_segment){ 0x100000, 0x4000 };
    lie.segs[1] = (struct vfa_dma_segment){ 0x200000, 0x4000 };
    dma_map_expect_eproto(&lie, 0xc000);            /* short */
    lie.segs[1].len = 0x8000 + 0x4000;
    dma_map_expect_eproto(&lie, 0xc000);            /* long */
    lie.segs[1] = (struct vfa_dma_segment){ ~0ull - 0x1000, 0x8000 };
    dma_map_expect_eproto(&lie, 0xc000);            /* wraps */
    lie.segs[1] = (struct vfa_dma_segment){ 0x200000, 0 };
    lie.nsegs = 2;
    dma_map_expect_eproto(&lie, 0x4000);            /* empty segment */
}

/* Two segments for one bus address; an IOVA off the address's page offset. */
static void test_dma_segments_disjoint_and_aligned(void **state)
{
    struct vfa_dma_map_out lie = { .handle = 7, .nsegs = 2 };

    lie.segs[0] = (struct vfa_dma_segment){ 0x100000, 0x8000 };
    lie.segs[1] = (struct vfa_dma_segment){ 0x104000, 0x8000 };
    dma_map_expect_eproto(&lie, 0x10000);           /* overlap */
    lie.segs[0] = (struct vfa_dma_segment){ 0x100001, 0x8000 };
    lie.segs[1] = (struct vfa_dma_segment){ 0x200000, 0x8000 };
    dma_map_expect_eproto(&lie, 0x10000);           /* first off its page */
    lie.segs[0] = (struct vfa_dma_segment){ 0x100000, 0x8000 };
    lie.segs[1] = (struct vfa_dma_segment){ 0x200200, 0x8000 };
    dma_map_expect_eproto(&lie, 0x10000);           /* later not on a page */
}

static void test_dma_map_good_reply(void **state)
{
    struct vfa_dma_map_out good = { .handle = 9, .nsegs = 2 };
    const struct fake_step steps[] = {
        { .action = FAKE_OK, .sout = &good, .sout_len = sizeof(good) },
    };
    struct fake f;
    struct vfa_client *c;
    struct vfa_dma_map_out out;

    good.segs[0] = (struct vfa_dma_segment){ 0x100000, 0x4000 };
    good.segs[1] = (struct vfa_dma_segment){ 0x300000, 0x8000 };
    c = fake_start(&f, steps, 1);
    assert_int_equal(vfa_dma_map(c, (void *)0x10000, 0xc000,
                                 VFA_DMA_BIDIRECTIONAL, &out), 0);
    assert_int_equal(out.handle, 9);
    assert_int_equal(out.nsegs, 2);
    assert_int_equal(out.segs[1].iova, 0x300000);
    fake_stop(&f, c);
}

/* The one string of the ABI is terminated whatever the dext sent. */
static void test_identity_location_terminated(void **state)
{
    struct vfa_identity lie;
    const struct fake_step steps[] = {
        { .action = FAKE_OK, .sout = &lie, .sout_len = sizeof(lie) },
    };
    struct fake f;
    struct vfa_client *c;
    struct vfa_identity id;

    memset(&lie, 'A', sizeof(lie));
    c = fake_start(&f, steps, 1);
    assert_int_equal(vfa_get_identity(c, &id), 0);
    assert_int_equal(strlen(id.location), sizeof(id.location) - 1);
    fake_stop(&f, c);
}

/* A short identity is a protocol error, not a half-filled struct. */
static void test_identity_short_reply(void **state)
{
    struct vfa_identity lie = { .vendor_id = 1 };
    const struct fake_step steps[] = {
        { .action = FAKE_OK, .sout = &lie, .sout_len = 16 },
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 1);
    struct vfa_identity id;

    assert_int_equal(vfa_get_identity(c, &id), -EPROTO);
    fake_stop(&f, c);
}

/* More struct output than the caller has room for: refused. */
static void test_struct_output_overflow(void **state)
{
    static uint8_t big[VFA_MAX_STRUCT];
    const struct fake_step steps[] = {
        { .action = FAKE_OK, .sout = big, .sout_len = 64 },
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 1);
    uint8_t buf[16];

    assert_int_equal(vfa_config_read_block(c, 0, buf, 16), -EPROTO);
    fake_stop(&f, c);
}

/* A memory fd smaller than the size the dext claims is refused. */
static void test_map_memory_size_checked_against_fd(void **state)
{
    int fd = memfd_create("vfa-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    struct fake_step steps[] = {
        { .action = FAKE_FD, .nscalars = 2, .scalars = { 1 << 20, 0 } },
    };
    struct fake f;
    struct vfa_client *c;
    void *p = NULL;
    uint64_t size = 0;

    assert_int_equal(ftruncate(fd, 16384), 0);
    /* Sealed as it should be, so only the size can be wrong. */
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    steps[0].fd = fd;
    c = fake_start(&f, steps, 1);
    assert_int_equal(vfa_map_memory(c, VFA_MEM_IRQ_PAGE, &p, &size, NULL),
                     -EPROTO);
    assert_null(p);
    fake_stop(&f, c);
    close(fd);
}

/* Memory the dext hands out must be sealed against resizing. */
static void test_map_memory_needs_seals(void **state)
{
    int fd = memfd_create("vfa-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    struct fake_step steps[] = {
        { .action = FAKE_FD, .nscalars = 2, .scalars = { 16384, 0 } },
        { .action = FAKE_FD, .nscalars = 2, .scalars = { 16384, 0 } },
    };
    struct fake f;
    struct vfa_client *c;
    void *p = NULL;
    uint64_t size = 0;

    assert_int_equal(ftruncate(fd, 16384), 0);
    steps[0].fd = steps[1].fd = fd;
    c = fake_start(&f, steps, 2);
    assert_int_equal(vfa_map_memory(c, VFA_MEM_IRQ_PAGE, &p, &size, NULL),
                     -EPROTO);
    fake_stop(&f, c);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    c = fake_start(&f, steps, 1);
    assert_int_equal(vfa_map_memory(c, VFA_MEM_IRQ_PAGE, &p, &size, NULL), 0);
    assert_int_equal(size, 16384);
    vfa_unmap_memory(c, p, size);
    fake_stop(&f, c);
    close(fd);
}

/* A notification fd that is not an eventfd would make a thread spin. */
static void test_notify_fd_must_be_eventfd(void **state)
{
    int fd = memfd_create("vfa-test", MFD_CLOEXEC);
    struct fake_step steps[] = { { .action = FAKE_FD, .fd = fd } };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 1);

    assert_int_equal(vfa_notify_fd(c), -EPROTO);
    assert_non_null(strstr(vfa_client_errmsg(c), "eventfd"));
    fake_stop(&f, c);
    close(fd);
}

/* Method failures carry the method's name and the error. */
static void test_status_message(void **state)
{
    const struct fake_step steps[] = {
        { .action = FAKE_STATUS, .status = VFA_E_BUSY },
    };
    struct fake f;
    struct vfa_client *c = fake_start(&f, steps, 1);

    assert_int_equal(vfa_session_open(c), -EBUSY);
    assert_non_null(strstr(vfa_client_errmsg(c), "another client"));
    fake_stop(&f, c);
}

static void test_op_names(void **state)
{
    assert_string_equal(vfa_client_op_name(VFA_SEL_DMA_MAP), "DMA_MAP");
    assert_string_equal(vfa_client_op_name(VFA_CLIENT_OP_MAP_MEMORY),
                        "MAP_MEMORY");
    assert_string_equal(vfa_client_op_name(VFA_CLIENT_OP_COUNT), "?");
    assert_null(vfa_method_name(VFA_SEL_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irq_take_keeps_latched_disabled),
        cmocka_unit_test(test_wrong_sequence_is_fatal),
        cmocka_unit_test(test_duplicate_reply_not_taken_for_next),
        cmocka_unit_test(test_timeout_then_fast_fail_then_resync),
        cmocka_unit_test(test_late_reply_dropped_by_next_call),
        cmocka_unit_test(test_hang_up_is_sticky_nodev),
        cmocka_unit_test(test_dma_segments_bounded),
        cmocka_unit_test(test_dma_segments_must_add_up),
        cmocka_unit_test(test_dma_segments_disjoint_and_aligned),
        cmocka_unit_test(test_dma_map_good_reply),
        cmocka_unit_test(test_map_memory_needs_seals),
        cmocka_unit_test(test_notify_fd_must_be_eventfd),
        cmocka_unit_test(test_identity_location_terminated),
        cmocka_unit_test(test_identity_short_reply),
        cmocka_unit_test(test_struct_output_overflow),
        cmocka_unit_test(test_map_memory_size_checked_against_fd),
        cmocka_unit_test(test_status_message),
        cmocka_unit_test(test_op_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
