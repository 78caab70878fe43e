/*
 * vfa-test-client: talks to a running vfio-apple-sim exactly as QEMU will,
 * through the client library, and prints one line per check:
 *   PASS: <name>
 *   FAIL: <name>: <reason>
 * Exit status is non-zero if any check failed.
 *
 *   vfa-test-client CASE SOCKET [ARG]
 * Cases: basic, busy, dart-fault, kill-mid-io, garbage, budget, fail-nth,
 * dext-gone, fault-fatal.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfio-apple/sim-wire.h"
#include "nvme_drv.h"

static int failures;
static const char *prefix = "";

static void pass(const char *name)
{
    printf("PASS: %s%s\n", prefix, name);
    fflush(stdout);
}

static void fail(const char *name, const char *fmt, ...)
{
    va_list ap;

    printf("FAIL: %s%s: ", prefix, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    failures++;
}

#define CHECK(name, cond, ...) \
    do { if (cond) pass(name); else fail(name, __VA_ARGS__); } while (0)

/* -------------------------------------------------------- stats JSON -- */

/* The number after "key": inside the object that starts at "section":{. */
static long long json_num(const char *json, const char *section, const char *key)
{
    char pat[128];
    const char *p = json;

    if (section) {
        snprintf(pat, sizeof(pat), "\"%s\":{", section);
        p = strstr(json, pat);
        if (!p)
            return -1;
    }
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(p, pat);
    if (!p)
        return -1;
    return strtoll(p + strlen(pat), NULL, 10);
}

static int get_stats(const char *sock, char *buf, size_t len)
{
    struct vfa_client *c;
    char e[256];
    int r = vfa_client_connect(sock, &c, e, sizeof(e));

    if (r)
        return r;
    r = vfa_sim_stats_json(c, buf, len);
    vfa_client_disconnect(c);
    return r;
}

static char stats_buf[VFA_SIM_STATS_MAX + 1];

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void fill_pattern(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;

    for (size_t i = 0; i < n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
}

/* ------------------------------------------------------------- basic -- */

#define IO_BYTES    (16u << 20)
#define IO_CHUNK    (512u << 10)

static int write_read_verify(struct drv *d, uint64_t seed, char *why, size_t whylen)
{
    uint8_t *wbuf = d->mem + DRV_DATA_OFF, *rbuf = wbuf + IO_BYTES;
    int st;

    fill_pattern(wbuf, IO_BYTES, seed);
    memset(rbuf, 0, IO_BYTES);
    uint64_t want = fnv1a(wbuf, IO_BYTES);
    for (uint32_t off = 0; off < IO_BYTES; off += IO_CHUNK) {
        st = drv_rw(d, (off / IO_CHUNK) % DRV_NIOQ, true, off / d->lba_size, DRV_DATA_OFF + off,
                    IO_CHUNK);
        if (st) {
            snprintf(why, whylen, "write at %u: status %#x %s", off, st, st < 0 ? d->err : "");
            return -1;
        }
    }
    for (uint32_t off = 0; off < IO_BYTES; off += IO_CHUNK) {
        st = drv_rw(d, (off / IO_CHUNK + 1) % DRV_NIOQ, false, off / d->lba_size,
                    DRV_DATA_OFF + IO_BYTES + off, IO_CHUNK);
        if (st) {
            snprintf(why, whylen, "read at %u: status %#x %s", off, st, st < 0 ? d->err : "");
            return -1;
        }
    }
    uint64_t got = fnv1a(rbuf, IO_BYTES);
    if (got != want) {
        snprintf(why, whylen, "checksum %016llx != %016llx", (unsigned long long)got,
                 (unsigned long long)want);
        return -1;
    }
    return 0;
}

static int case_basic(const char *sock, int min_segs)
{
    struct drv d;
    struct vfa_identity id;
    uint8_t cfg[4096];
    char why[512];
    int r;

    r = drv_attach(&d, sock);
    if (r) {
        fail("attach", "%s", d.err);
        drv_detach(&d);
        return 1;
    }
    pass("attach (session, BAR0 and IRQ page mapped, memory registered and DMA-mapped)");

    r = vfa_get_identity(d.c, &id);
    CHECK("identity", !r && id.vendor_id == 0x7a7a && id.class_code == 0x010802 &&
                      id.msix_vectors >= 4 && (id.bar_flags[0] & VFA_BAR_MAPPABLE) &&
                      (id.flags & VFA_ID_SIMULATED) && !strncmp(id.location, "sim:", 4),
          "r=%d vendor %#x class %#x msix %u", r, id.vendor_id, id.class_code, id.msix_vectors);

    r = vfa_config_read_block(d.c, 0, cfg, sizeof(cfg));
    uint32_t bar0, bar1;
    memcpy(&bar0, cfg + 0x10, 4);
    memcpy(&bar1, cfg + 0x14, 4);
    CHECK("config block read", !r && cfg[0] == 0x7a && cfg[1] == 0x7a && cfg[0x0b] == 0x01 &&
                               (bar0 & 0xf) == 0x4 && cfg[0x34] >= 0x40,
          "r=%d %s vendor %02x%02x bar0 %#x", r, r ? vfa_client_errmsg(d.c) : "",
          cfg[1], cfg[0], bar0);

    /* The MSI-X capability belongs to the host: a guest write is dropped. */
    uint8_t msix = 0;
    for (uint32_t p = cfg[0x34]; p >= 0x40 && p < 0x100; p = cfg[p + 1])
        if (cfg[p] == 0x11) {
            msix = (uint8_t)p;
            break;
        }
    uint32_t before = 0, after = 0, fwd = 0xff;
    r = msix ? vfa_config_read(d.c, msix + 2, 2, &before) : -ENOENT;
    if (!r)
        r = vfa_config_write(d.c, msix + 2, 2, 0x4000, &fwd);      /* function mask */
    if (!r)
        r = vfa_config_read(d.c, msix + 2, 2, &after);
    CHECK("config policy: MSI-X control write dropped", !r && fwd == 0 && after == before &&
                                                        (after & 0x8000),
          "r=%d fwd %#x before %#x after %#x", r, fwd, before, after);

    struct vfa_bar_info bi;
    r = vfa_bar_info(d.c, 0, &bi);
    CHECK("BAR info", !r && bi.size == d.bar0_size && (bi.flags & VFA_BAR_MEM64) &&
                      bi.trapped_pages == 0x2,
          "r=%d size %llu flags %#x trapped %#llx", r, (unsigned long long)bi.size, bi.flags,
          (unsigned long long)bi.trapped_pages);
    uint64_t mv = 0;
    r = vfa_mmio_read(d.c, 0, 0x4000 + 12, 4, &mv);     /* MSI-X vector 0 control, trapped */
    CHECK("trapped MMIO read (MSI-X table)", !r && mv == 0, "r=%d value %#llx", r,
          (unsigned long long)mv);

    static uint8_t rom[64 << 10];
    uint8_t sum = 0;
    r = vfa_rom_read(d.c, 0, rom, sizeof(rom));
    for (size_t i = 0; i < sizeof(rom); i++)
        sum += rom[i];
    CHECK("expansion ROM", !r && rom[0] == 0x55 && rom[1] == 0xaa && sum == 0 &&
                           !memcmp(rom + 0x40, "PCIR", 4),
          "r=%d sig %02x%02x sum %u", r, rom[0], rom[1], sum);

    CHECK("DART mapping", d.map.nsegs >= (unsigned)min_segs &&
                          drv_iova(&d, DRV_MEM_SIZE - 1) != 0,
          "%u segments, wanted >= %d", d.map.nsegs, min_segs);

    r = drv_init_controller(&d);
    CHECK("NVMe admin queue, identify, I/O queues", !r, "%s", d.err);
    if (r)
        goto out;

    r = write_read_verify(&d, 0x1234567, why, sizeof(why));
    CHECK("write and read back 16 MiB with PRP lists", !r, "%s", why);

    /* Every vector fired (device-side counts in the page), and the client
     * was woken through the notification and took them from the page. */
    CHECK("MSI-X through the IRQ page", d.irq->count[0] && d.irq->count[1] && d.irq->count[2] &&
                                       d.irqs_seen[0] + d.irqs_seen[1] + d.irqs_seen[2] > 0,
          "vectors seen %llu/%llu/%llu", (unsigned long long)d.irqs_seen[0],
          (unsigned long long)d.irqs_seen[1], (unsigned long long)d.irqs_seen[2]);

    /* Latching end to end: an interrupt on a disabled vector stays pending
     * in the IRQ page without a notification, and enabling the vector
     * delivers it. */
    uint64_t seen1 = d.irqs_seen[1];
    r = vfa_irq_enable(d.c, 1, 1, false);
    int io = r ? r : drv_rw(&d, 0, false, 0, DRV_DATA_OFF, 4096);
    uint64_t pend = __atomic_load_n(&d.irq->pending[0], __ATOMIC_SEQ_CST);
    struct pollfd npf = { .fd = d.notify_fd, .events = POLLIN };
    vfa_notify_ack(d.c);
    int quiet = poll(&npf, 1, 50) == 0;
    r = io ? io : vfa_irq_enable(d.c, 1, 1, true);
    int woke = !r && poll(&npf, 1, 2000) == 1;
    vfa_notify_ack(d.c);
    uint64_t got = vfa_irq_take(d.irq, 0);
    CHECK("interrupt on a disabled vector latched, delivered on enable",
          !r && (pend & 2) && quiet && woke && (got & 2) && d.irqs_seen[1] == seen1,
          "r=%d pending %#llx quiet %d woke %d taken %#llx", r, (unsigned long long)pend, quiet,
          woke, (unsigned long long)got);

    uint32_t used = 0;
    r = vfa_reset(d.c, 0, &used);
    uint32_t csts = __atomic_load_n((volatile uint32_t *)(d.bar0 + 0x1c), __ATOMIC_ACQUIRE);
    CHECK("reset (FLR)", !r && used == VFA_RESET_FLR && !(csts & 1),
          "r=%d used %#x CSTS %#x", r, used, csts);
    /* After the reset the device works again from scratch. */
    if (!r) {
        r = drv_init_controller(&d);
        CHECK("controller usable after reset", !r, "%s", d.err);
        /* The host re-programmed MSI-X after the reset: I/O interrupts
         * still arrive. */
        uint64_t before1 = (uint64_t)d.irq->count[1] + d.irq->count[2];
        for (int i = 0; !r && i < 8; i++)
            r = drv_rw(&d, i % DRV_NIOQ, false, 0, DRV_DATA_OFF, IO_CHUNK);
        uint64_t after1 = (uint64_t)d.irq->count[1] + d.irq->count[2];
        CHECK("MSI-X after reset", !r && after1 >= before1 + 8,
              "r=%d vectors 1+2 fired %llu -> %llu", r, (unsigned long long)before1,
              (unsigned long long)after1);
    }

    struct vfa_stats st;
    r = vfa_get_stats(d.c, &st);
    CHECK("core statistics", !r && st.calls[VFA_SEL_DMA_MAP] >= 1 && st.dma_live_mappings == 1 &&
                             st.irq_received > 0 && st.notifications > 0 &&
                             st.config_writes_filtered >= 1,
          "r=%d maps %llu live %llu irqs %llu", r, (unsigned long long)st.calls[VFA_SEL_DMA_MAP],
          (unsigned long long)st.dma_live_mappings, (unsigned long long)st.irq_received);
out:
    r = vfa_session_close(d.c);
    CHECK("close", !r, "%s", vfa_client_errmsg(d.c));
    r = get_stats(sock, stats_buf, sizeof(stats_buf));
    CHECK("no live mappings after close", !r && json_num(stats_buf, "dart", "live_mappings") == 0 &&
                                          json_num(stats_buf, "core", "dma_live_mappings") == 0,
          "r=%d dart live %lld", r, json_num(stats_buf, "dart", "live_mappings"));
    drv_detach(&d);
    return failures ? 1 : 0;
}

/* -------------------------------------------------------------- busy -- */

static int case_busy(const char *sock)
{
    struct vfa_client *a, *b;
    char e[256];
    int r;

    if ((r = vfa_client_connect(sock, &a, e, sizeof(e))) ||
        (r = vfa_client_connect(sock, &b, e, sizeof(e)))) {
        fail("connect", "%s", e);
        return 1;
    }
    r = vfa_session_open(a);
    CHECK("first client opens", !r, "%s", vfa_client_errmsg(a));
    r = vfa_session_open(b);
    CHECK("second client refused (busy)", r == -EBUSY && strstr(vfa_client_errmsg(b), "in use"),
          "r=%d: %s", r, vfa_client_errmsg(b));
    /* The refused client still gets identity and stats. */
    struct vfa_identity id;
    struct vfa_stats st;
    r = vfa_get_identity(b, &id);
    if (!r)
        r = vfa_get_stats(b, &st);
    CHECK("stats while another client holds the session",
          !r && st.sessions_refused_busy >= 1 && get_stats(sock, stats_buf, sizeof(stats_buf)) == 0 &&
          strstr(stats_buf, "\"session_open\":true"),
          "r=%d refused %llu", r, (unsigned long long)st.sessions_refused_busy);
    uint32_t v;
    r = vfa_config_read(b, 0, 4, &v);
    CHECK("non-owner cannot touch the device", r == -EPERM, "r=%d", r);
    vfa_session_close(a);
    r = vfa_session_open(b);
    CHECK("second client opens after the first closed", !r, "%s", vfa_client_errmsg(b));
    vfa_client_disconnect(a);
    vfa_client_disconnect(b);
    return failures ? 1 : 0;
}

/* -------------------------------------------------------- dart-fault -- */

/* A submission queue entry, for the cases that build commands by hand. */
struct raw_sqe {
    uint8_t opcode, flags;
    uint16_t cid;
    uint32_t nsid, cdw2, cdw3;
    uint64_t mptr, prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

static int case_dart_fault(const char *sock)
{
    struct drv d;
    char why[512];
    int r = drv_attach(&d, sock);

    if (!r)
        r = drv_init_controller(&d);
    if (r) {
        fail("setup", "%s", d.err);
        drv_detach(&d);
        return 1;
    }
    if (get_stats(sock, stats_buf, sizeof(stats_buf))) {
        fail("stats", "no stats");
        drv_detach(&d);
        return 1;
    }
    long long faults0 = json_num(stats_buf, "dart", "faults");

    /* A read whose PRP is the client's own address, as if a guest-physical
     * address had leaked to the device: the DART has no such IOVA. */
    struct raw_sqe s = { .opcode = 0x02, .nsid = 1, .cdw12 = 7,
                         .prp1 = (uint64_t)(uintptr_t)(d.mem + DRV_DATA_OFF) };
    int st = drv_submit_wait(&d, &d.io[0], &s, NULL);
    CHECK("unmapped PRP gives an NVMe error status", st > 0 && (st & 0xff) == 0x04,
          "status %#x %s", st, st < 0 ? d.err : "");

    /* A PRP list whose second entry points nowhere. */
    uint64_t *list = (uint64_t *)(d.mem + 0x30000);
    list[0] = drv_iova(&d, DRV_DATA_OFF + 4096);
    list[1] = 0x7000000000ull;
    memset(&s, 0, sizeof(s));
    s.opcode = 0x01;
    s.nsid = 1;
    s.prp1 = drv_iova(&d, DRV_DATA_OFF);
    s.prp2 = drv_iova(&d, 0x30000);
    s.cdw12 = 3 * 4096 / d.lba_size - 1;
    st = drv_submit_wait(&d, &d.io[1], &s, NULL);
    CHECK("unmapped PRP list entry gives an NVMe error status", st > 0,
          "status %#x %s", st, st < 0 ? d.err : "");

    r = get_stats(sock, stats_buf, sizeof(stats_buf));
    long long faults1 = json_num(stats_buf, "dart", "faults");
    CHECK("DART faults counted and logged", !r && faults1 >= faults0 + 2 &&
                                           strstr(stats_buf, "\"fault_log\":[{"),
          "faults %lld -> %lld", faults0, faults1);

    /* The simulator, the device and the session all survived. */
    r = write_read_verify(&d, 42, why, sizeof(why));
    CHECK("I/O works after the faults", !r, "%s", why);
    drv_detach(&d);
    return failures ? 1 : 0;
}

/* ------------------------------------------------------- kill-mid-io -- */

static int case_kill_mid_io(const char *sock)
{
    int pfd[2];
    pid_t pid;
    char c;

    if (pipe(pfd)) {
        fail("pipe", "%s", strerror(errno));
        return 1;
    }
    pid = fork();
    if (pid == 0) {
        struct drv d;
        char why[256];

        close(pfd[0]);
        if (drv_attach(&d, sock) || drv_init_controller(&d))
            _exit(2);
        fill_pattern(d.mem + DRV_DATA_OFF, IO_BYTES, 7);
        for (unsigned i = 0;; i++) {
            if (drv_rw(&d, i % DRV_NIOQ, i & 1, (i * 128) % (IO_BYTES / 512),
                       DRV_DATA_OFF + (i % 32) * IO_CHUNK, IO_CHUNK))
                _exit(3);
            if (i == 4 && write(pfd[1], "r", 1) != 1)
                _exit(4);
        }
        (void)why;
    }
    close(pfd[1]);
    if (read(pfd[0], &c, 1) != 1) {
        fail("child started I/O", "child exited before I/O");
        waitpid(pid, NULL, 0);
        return 1;
    }
    pass("child started I/O");
    usleep(50000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pfd[0]);

    /* The server notices the hang-up asynchronously: give it a moment. */
    int r = -1;
    for (int i = 0; i < 100; i++) {
        r = get_stats(sock, stats_buf, sizeof(stats_buf));
        if (!r && strstr(stats_buf, "\"session_open\":false"))
            break;
        usleep(20000);
    }
    CHECK("session released after client death", !r && strstr(stats_buf, "\"session_open\":false"),
          "r=%d", r);
    CHECK("zero live mappings in stats",
          json_num(stats_buf, "dart", "live_mappings") == 0 &&
          json_num(stats_buf, "core", "dma_live_mappings") == 0 &&
          json_num(stats_buf, "platform", "registered_regions") == 0 &&
          json_num(stats_buf, "core", "sessions_client_died") >= 1,
          "dart live %lld core live %lld regions %lld died %lld",
          json_num(stats_buf, "dart", "live_mappings"),
          json_num(stats_buf, "core", "dma_live_mappings"),
          json_num(stats_buf, "platform", "registered_regions"),
          json_num(stats_buf, "core", "sessions_client_died"));

    struct drv d;
    char why[512];
    r = drv_attach(&d, sock);
    if (!r)
        r = drv_init_controller(&d);
    CHECK("next client gets a working device", !r, "%s", d.err);
    if (!r) {
        r = write_read_verify(&d, 99, why, sizeof(why));
        CHECK("I/O after the dead client", !r, "%s", why);
    }
    drv_detach(&d);
    return failures ? 1 : 0;
}

/* ----------------------------------------------------------- garbage -- */

static int raw_connect(const char *sock)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Sends a message; returns the reply status, or -1 if the server hung up. */
static long raw_exchange(int fd, const void *msg, size_t len, int pass_fd)
{
    static uint8_t buf[VFA_SIM_MAX_REPLY];

    if (vfa_sim_send(fd, msg, len, pass_fd, MSG_NOSIGNAL) < 0)
        return -1;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 2000) <= 0)
        return -2;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
        return -1;
    if ((size_t)n < sizeof(struct vfa_sim_reply))
        return -3;
    return ((struct vfa_sim_reply *)buf)->status;
}

static int case_garbage(const char *sock)
{
    struct vfa_sim_call q;
    int fd;
    long st;

    fd = raw_connect(sock);
    st = raw_exchange(fd, "hello, is this the dext?", 24, -1);
    CHECK("garbage bytes: connection dropped", st == -1, "status %ld", st);
    close(fd);

    fd = raw_connect(sock);
    memset(&q, 0, sizeof(q));
    q.hdr = (struct vfa_sim_hdr){ VFA_SIM_MAGIC, VFA_SIM_WIRE_VERSION, VFA_SIM_MSG_CALL, 1, 0 };
    q.selector = VFA_SEL_GET_VERSION;
    q.struct_len = 100;             /* claims bytes that are not there */
    st = raw_exchange(fd, &q, sizeof(q), -1);
    CHECK("lying length: protocol error", st == VFA_E_PROTO, "status %ld", st);
    q.struct_len = 0;
    q.nscalars = 200;
    st = raw_exchange(fd, &q, sizeof(q), -1);
    CHECK("too many scalars: protocol error", st == VFA_E_PROTO, "status %ld", st);
    q.nscalars = 0;
    q.hdr.type = 99;
    st = raw_exchange(fd, &q, sizeof(q), -1);
    CHECK("unknown message type: protocol error", st == VFA_E_PROTO, "status %ld", st);
    q.hdr.type = VFA_SIM_MSG_CALL;
    st = raw_exchange(fd, &q, sizeof(q), 0);        /* stdin passed where no fd belongs */
    CHECK("unexpected fd: protocol error", st == VFA_E_PROTO, "status %ld", st);
    q.selector = 12345;
    st = raw_exchange(fd, &q, sizeof(q), -1);
    CHECK("unknown selector: ENOSYS", st == VFA_E_NOSYS, "status %ld", st);
    q.selector = VFA_SEL_GET_VERSION;
    q.hdr.type = VFA_SIM_MSG_REGISTER_MEM;
    q.nscalars = 3;
    q.scalars[0] = 0x10000;
    q.scalars[1] = 16384;
    int mfd = drv_sealed_memfd("garbage", 65536);
    st = raw_exchange(fd, &q, sizeof(q), mfd);
    CHECK("memory registration without the session refused", st == VFA_E_PERM, "status %ld", st);
    struct vfa_sim_call open_q = { .hdr = q.hdr, .selector = VFA_SEL_OPEN, .nscalars = 2,
                                   .scalars = { VFA_ABI_MAJOR, VFA_ABI_MINOR } };
    open_q.hdr.type = VFA_SIM_MSG_CALL;
    st = raw_exchange(fd, &open_q, sizeof(open_q), -1);
    CHECK("raw session open", st == 0, "status %ld", st);
    q.scalars[0] = 0x1000;          /* not 16 KiB aligned */
    st = raw_exchange(fd, &q, sizeof(q), mfd);
    CHECK("misaligned memory registration refused", st == VFA_E_INVAL, "status %ld", st);
    q.scalars[0] = 0x10000;
    q.scalars[1] = 1 << 20;         /* bigger than the memfd */
    st = raw_exchange(fd, &q, sizeof(q), mfd);
    CHECK("registration beyond the fd refused", st == VFA_E_INVAL, "status %ld", st);
    close(mfd);
    mfd = memfd_create("garbage-unsealed", MFD_CLOEXEC);
    q.scalars[1] = 16384;
    st = ftruncate(mfd, 65536) ? -4 : raw_exchange(fd, &q, sizeof(q), mfd);
    CHECK("memory that can shrink refused", st == VFA_E_INVAL, "status %ld", st);
    close(mfd);
    /* Hang up with a request unanswered. */
    q.hdr.type = VFA_SIM_MSG_CALL;
    q.nscalars = 0;
    send(fd, &q, sizeof(q), MSG_NOSIGNAL);
    close(fd);

    int r = get_stats(sock, stats_buf, sizeof(stats_buf));
    CHECK("daemon still serving after garbage", !r && json_num(stats_buf, "core", "bad_selector") >= 1,
          "r=%d", r);
    return failures ? 1 : 0;
}

/* ------------------------------------------------- budget / fail-nth -- */

static int mem_client(const char *sock, struct vfa_client **c, uint8_t **mem, size_t len)
{
    char e[256];
    int fd = drv_sealed_memfd("budget", len);

    if (vfa_client_connect(sock, c, e, sizeof(e)) || vfa_session_open(*c) || fd < 0)
        return -1;
    uint8_t *res = mmap(NULL, len + VFA_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *al = (uint8_t *)(((uintptr_t)res + VFA_PAGE_SIZE - 1) & ~(uintptr_t)(VFA_PAGE_SIZE - 1));
    if (res == MAP_FAILED ||
        mmap(al, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
        return -1;
    *mem = al;
    uint64_t id;
    int r = vfa_register_memory(*c, al, len, fd, 0, &id);
    close(fd);
    return r;
}

/* Against a simulator started with --dart-budget 1M --dart-max-mappings 8. */
static int case_budget(const char *sock)
{
    struct vfa_client *c;
    struct vfa_dma_map_out mo;
    uint8_t *mem;
    int r;

    if (mem_client(sock, &c, &mem, 4 << 20)) {
        fail("setup", "cannot open a session with memory");
        return 1;
    }
    r = vfa_dma_map(c, mem, 2 << 20, VFA_DMA_BIDIRECTIONAL, &mo);
    CHECK("byte budget: ENOSPC", r == -ENOSPC && strstr(vfa_client_errmsg(c), "budget"),
          "r=%d %s", r, vfa_client_errmsg(c));
    int ok = 0;
    for (int i = 0; i < 8; i++)
        ok += !vfa_dma_map(c, mem + i * 65536, 4096, VFA_DMA_TO_DEVICE, &mo);
    r = vfa_dma_map(c, mem + 9 * 65536, 4096, VFA_DMA_TO_DEVICE, &mo);
    CHECK("mapping-count limit: EMFILE", ok == 8 && r == -EMFILE, "ok %d r=%d %s", ok, r,
          vfa_client_errmsg(c));
    struct vfa_stats st;
    vfa_get_stats(c, &st);
    CHECK("budget failures counted", st.dma_fail_budget_bytes >= 1 && st.dma_fail_budget_maps >= 1,
          "bytes %llu maps %llu", (unsigned long long)st.dma_fail_budget_bytes,
          (unsigned long long)st.dma_fail_budget_maps);
    vfa_client_disconnect(c);
    r = get_stats(sock, stats_buf, sizeof(stats_buf));
    CHECK("budget mappings released on disconnect",
          !r && json_num(stats_buf, "dart", "live_mappings") == 0, "r=%d", r);
    return failures ? 1 : 0;
}

/* ----------------------------------------------------------- dext-gone -- */

/*
 * The simulator (pid given) dies while a client holds its session: the
 * client's connection fd reports the hang-up without a call, and the next
 * call fails with -ENODEV.
 */
static int case_dext_gone(const char *sock, pid_t sim)
{
    struct vfa_client *c;
    char e[256];
    int r, fd;

    if (sim <= 0) {
        fail("setup", "no simulator pid given");
        return 1;
    }
    if ((r = vfa_client_connect(sock, &c, e, sizeof(e))) || (r = vfa_session_open(c))) {
        fail("setup", "cannot open a session: %s", r ? e : "");
        return 1;
    }
    fd = vfa_client_conn_fd(c);
    struct pollfd p = { .fd = fd, .events = 0 };
    r = fd >= 0 ? poll(&p, 1, 0) : -1;
    CHECK("connection fd quiet while the dext lives", fd >= 0 && r == 0, "fd %d poll %d revents 0x%x",
          fd, r, p.revents);
    kill(sim, SIGKILL);
    p.revents = 0;
    r = poll(&p, 1, 5000);
    CHECK("connection fd reports the dext gone", r == 1 && (p.revents & (POLLHUP | POLLERR)),
          "poll %d revents 0x%x", r, p.revents);
    uint32_t v;
    r = vfa_config_read(c, 0, 4, &v);
    CHECK("next call fails with ENODEV", r == -ENODEV, "r=%d %s", r, vfa_client_errmsg(c));
    vfa_client_disconnect(c);
    return failures ? 1 : 0;
}

/*
 * Against a simulator started with --dart-fault-fatal: the first DART
 * fault (a PRP that is the client's own address, as if a guest-physical
 * address had leaked) ends the simulator; the client sees the hang-up.
 * run.sh checks the exit status and the log line.
 */
static int case_fault_fatal(const char *sock)
{
    struct drv d;
    int r = drv_attach(&d, sock);

    if (!r)
        r = drv_init_controller(&d);
    CHECK("setup: controller up, no fault yet", !r, "%s", d.err);
    if (r) {
        drv_detach(&d);
        return 1;
    }
    struct raw_sqe s = { .opcode = 0x02, .nsid = 1,
                         .prp1 = (uint64_t)(uintptr_t)(d.mem + DRV_DATA_OFF) };
    int st = drv_submit_wait(&d, &d.io[0], &s, NULL);
    struct pollfd p = { .fd = vfa_client_conn_fd(d.c), .events = 0 };
    int pr = poll(&p, 1, 5000);
    CHECK("simulator gone after the first DART fault",
          st < 0 && pr == 1 && (p.revents & (POLLHUP | POLLERR)),
          "status %d poll %d revents 0x%x", st, pr, p.revents);
    drv_detach(&d);
    return failures ? 1 : 0;
}

/* Against a simulator started with --fail-every-nth-map 3. */
static int case_fail_nth(const char *sock)
{
    struct vfa_client *c;
    struct vfa_dma_map_out mo;
    uint8_t *mem;
    int rc[6];

    if (mem_client(sock, &c, &mem, 1 << 20)) {
        fail("setup", "cannot open a session with memory");
        return 1;
    }
    for (int i = 0; i < 6; i++)
        rc[i] = vfa_dma_map(c, mem + i * 65536, 4096, VFA_DMA_FROM_DEVICE, &mo);
    CHECK("every 3rd DART map fails with EIO", !rc[0] && !rc[1] && rc[2] == -EIO && !rc[3] &&
                                               !rc[4] && rc[5] == -EIO,
          "results %d %d %d %d %d %d", rc[0], rc[1], rc[2], rc[3], rc[4], rc[5]);
    vfa_client_disconnect(c);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CASE SOCKET [ARG]\n"
                "cases: basic [min-segments], busy, dart-fault, kill-mid-io, garbage, budget, "
                "fail-nth, dext-gone SIMPID, fault-fatal\n", argv[0]);
        return 2;
    }
    const char *cs = argv[1], *sock = argv[2];
    static char pfx[64];

    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(pfx, sizeof(pfx), "%s: ", cs);
    prefix = pfx;
    if (!strcmp(cs, "basic"))
        return case_basic(sock, argc > 3 ? atoi(argv[3]) : 1);
    if (!strcmp(cs, "busy"))
        return case_busy(sock);
    if (!strcmp(cs, "dart-fault"))
        return case_dart_fault(sock);
    if (!strcmp(cs, "kill-mid-io"))
        return case_kill_mid_io(sock);
    if (!strcmp(cs, "garbage"))
        return case_garbage(sock);
    if (!strcmp(cs, "budget"))
        return case_budget(sock);
    if (!strcmp(cs, "fail-nth"))
        return case_fail_nth(sock);
    if (!strcmp(cs, "fault-fatal"))
        return case_fault_fatal(sock);
    if (!strcmp(cs, "dext-gone"))
        return case_dext_gone(sock, argc > 3 ? (pid_t)atoi(argv[3]) : 0);
    fprintf(stderr, "unknown case %s\n", cs);
    return 2;
}
