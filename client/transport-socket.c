/*
 * Socket transport to vfio-apple-sim: framing in vfio-apple/sim-wire.h.
 *
 * One request, one reply, in order; the client's mutex guarantees there is
 * never more than one caller on the socket.  Requests carry a sequence
 * number and replies echo it: after a timeout the transport is "behind"
 * (s->acked < s->seq) and takes the late replies as they arrive, by
 * number, before anything else, so a late reply is never taken for the
 * answer to a later request.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"

#ifndef CONFIG_DARWIN

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "vfio-apple/sim-wire.h"
#include "transport.h"

struct sock_transport {
    struct vfa_transport base;
    int fd;
    uint32_t seq;               /* last request sent */
    uint32_t acked;             /* last request whose reply was taken */
    bool dead;
    uint8_t *rbuf;              /* VFA_SIM_MAX_REPLY */
    uint8_t *sbuf;              /* VFA_SIM_MAX_REQUEST */
};

/* Memory shared with the simulator: our 16 KiB-aligned view of it. */
struct sock_shared {
    void *view;
    uint64_t len;
    uint64_t id;
};

static struct sock_transport *st_of(struct vfa_transport *t)
{
    return (struct sock_transport *)t;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_msg(struct sock_transport *s, const void *buf, size_t len,
                    int fd)
{
    for (;;) {
        ssize_t n = vfa_sim_send(s->fd, buf, len, fd, MSG_NOSIGNAL);

        if (n == (ssize_t)len) {
            return 0;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        s->dead = true;
        return -ENODEV;
    }
}

/*
 * Wait until a message can be read, until @deadline (CLOCK_MONOTONIC ms;
 * -1: forever).  0, -ETIMEDOUT or -ENODEV.
 */
static int wait_readable(struct sock_transport *s, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        int timeout = -1, r;

        if (deadline >= 0) {
            int64_t left = deadline - now_ms();

            timeout = left > 0 ? (left > INT32_MAX ? INT32_MAX : (int)left)
                               : 0;
        }
        r = poll(&pfd, 1, timeout);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            s->dead = true;
            return -ENODEV;
        }
        if (r == 0) {
            return -ETIMEDOUT;
        }
        /* POLLHUP with data still queued reads the data first. */
        return 0;
    }
}

/*
 * Receive one reply.  *fd gets the first fd passed (others are closed).
 * Returns its length, or -ENODEV / -EPROTO (connection unusable).
 */
static ssize_t recv_msg(struct sock_transport *s, int *fd)
{
    unsigned nfds;
    int truncated;
    ssize_t n;

    do {
        n = vfa_sim_recv(s->fd, s->rbuf, VFA_SIM_MAX_REPLY, MSG_DONTWAIT, fd,
                         &nfds, &truncated);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        return -EAGAIN;
    }
    if (n <= 0) {
        s->dead = true;
        return -ENODEV;
    }
    if (truncated) {
        if (*fd >= 0) {
            close(*fd);
        }
        *fd = -1;
        s->dead = true;
        return -EPROTO;
    }
    return n;
}

/* A reply's header and lengths, checked before anything in it is used. */
static bool reply_well_formed(const struct vfa_sim_reply *p, ssize_t n)
{
    return (size_t)n >= sizeof(*p) && p->hdr.magic == VFA_SIM_MAGIC &&
           p->hdr.version == VFA_SIM_WIRE_VERSION &&
           p->nscalars <= VFA_MAX_SCALARS &&
           p->struct_len <= VFA_SIM_STATS_MAX &&
           (size_t)n == sizeof(*p) + p->struct_len;
}

/*
 * Take replies until the one for request @want has arrived (or, with
 * @want == 0, until none is owed), waiting until @deadline.  Replies to
 * requests that timed out earlier are counted (stale_replies) and dropped.
 * Returns 0 with the reply in rbuf (and *fd), -ETIMEDOUT, or -ENODEV /
 * -EPROTO when the connection cannot be trusted any more.
 */
static int take_replies(struct sock_transport *s, uint32_t want,
                        int64_t deadline, int *fd)
{
    *fd = -1;
    for (;;) {
        struct vfa_sim_reply *p = (struct vfa_sim_reply *)s->rbuf;
        uint32_t owed = s->seq - s->acked;
        ssize_t n;
        int r;

        if (!want && !owed) {
            return 0;
        }
        n = recv_msg(s, fd);
        if (n == -EAGAIN) {
            r = wait_readable(s, deadline);
            if (r) {
                return r;
            }
            continue;
        }
        if (n < 0) {
            return (int)n;
        }
        /*
         * The sequence number must be one we sent and still wait for:
         * (acked, seq].  Anything else means we are out of step with the
         * server, and nothing after this can be trusted.
         */
        if (!reply_well_formed(p, n) || p->hdr.seq - s->acked - 1 >= owed) {
            if (*fd >= 0) {
                close(*fd);
                *fd = -1;
            }
            s->dead = true;
            return -EPROTO;
        }
        s->acked = p->hdr.seq;
        if (want && p->hdr.seq == want) {
            return 0;
        }
        /* A late reply to a request we gave up on: drop it. */
        if (*fd >= 0) {
            close(*fd);
            *fd = -1;
        }
        s->base.stale_replies++;
    }
}

static bool s_behind(struct vfa_transport *t)
{
    struct sock_transport *s = st_of(t);

    return s->acked != s->seq;
}

static int s_resync(struct vfa_transport *t, unsigned timeout_ms)
{
    struct sock_transport *s = st_of(t);
    int fd;

    if (s->dead) {
        return -ENODEV;
    }
    return take_replies(s, 0, now_ms() + timeout_ms, &fd);
}

/*
 * One round trip.  Returns 0 with *rep pointing into the receive buffer,
 * or a negative errno.
 */
static int round_trip(struct sock_transport *s, uint16_t type,
                      uint32_t selector, const uint64_t *in, uint32_t nin,
                      uint32_t sout_max, int send_fd,
                      struct vfa_sim_reply **rep, int *rfd)
{
    struct vfa_sim_call *c = (struct vfa_sim_call *)s->sbuf;
    struct vfa_sim_reply *p = (struct vfa_sim_reply *)s->rbuf;
    int64_t deadline = -1;
    int r;

    *rfd = -1;
    if (s->dead) {
        return -ENODEV;
    }
    if (nin > VFA_MAX_SCALARS || sout_max > VFA_SIM_STATS_MAX) {
        return -EINVAL;
    }
    /* Late replies first; still owed ones make this call fail at once. */
    if (s->acked != s->seq) {
        r = take_replies(s, 0, now_ms(), rfd);
        if (r) {
            return r;
        }
    }
    if (s->base.timeout_ms) {
        deadline = now_ms() + s->base.timeout_ms;
    }

    memset(c, 0, sizeof(*c));
    c->hdr.magic = VFA_SIM_MAGIC;
    c->hdr.version = VFA_SIM_WIRE_VERSION;
    c->hdr.type = type;
    c->hdr.seq = s->seq + 1;
    c->selector = selector;
    c->nscalars = nin;
    c->struct_out_max = sout_max;
    if (nin) {
        memcpy(c->scalars, in, nin * sizeof(uint64_t));
    }
    r = send_msg(s, c, sizeof(*c), send_fd);
    if (r) {
        return r;
    }
    s->seq++;
    r = take_replies(s, s->seq, deadline, rfd);
    if (r) {
        return r;
    }
    if (p->hdr.type != type) {
        if (*rfd >= 0) {
            close(*rfd);
            *rfd = -1;
        }
        s->dead = true;
        return -EPROTO;
    }
    *rep = p;
    return 0;
}

static int s_call(struct vfa_transport *t, struct vfa_call_args *a)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    int fd, r;

    a->fd = -1;
    r = round_trip(s, VFA_SIM_MSG_CALL, a->selector, a->in, a->nin,
                   a->sout_len, -1, &p, &fd);
    if (r) {
        return r;
    }
    /* More struct output than the caller has room for: a broken server. */
    if (p->struct_len > a->sout_len) {
        if (fd >= 0) {
            close(fd);
        }
        return -EPROTO;
    }
    a->status = p->status;
    a->nout = p->nscalars;
    memcpy(a->out, p->scalars, sizeof(p->scalars));
    if (p->struct_len) {
        memcpy(a->sout, p + 1, p->struct_len);
    }
    a->sout_len = p->struct_len;
    a->fd = fd;
    return 0;
}

/*
 * Memory the simulator hands out must be a memfd sealed against resizing
 * (sim-wire.h): one it could shrink under our mapping would SIGBUS the
 * next access, a vCPU's or the notification thread's.
 */
static bool sealed_fixed_size(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);

    return seals >= 0 &&
           (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
           (F_SEAL_SHRINK | F_SEAL_GROW);
}

/* Largest memory type the simulator can hand out (BARs, the IRQ page). */
#define SOCK_MAX_MAP_SIZE (1ull << 40)

static int s_map_memory(struct vfa_transport *t, uint32_t type, void **ptr,
                        uint64_t *size, uint32_t *flags, uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    uint64_t in[1] = { type };
    struct stat sb;
    void *m;
    int fd, r, e;

    r = round_trip(s, VFA_SIM_MSG_MAP_MEMORY, 0, in, 1, 0, -1, &p, &fd);
    if (r) {
        return r;
    }
    *status = p->status;
    if (p->status) {
        if (fd >= 0) {
            close(fd);
        }
        return 0;
    }
    /*
     * The size is the server's word: bound it, and check it against the
     * memory behind the fd, so a mapping never reaches past the file
     * (which would SIGBUS on access).
     */
    if (fd < 0 || p->nscalars < 2 || !p->scalars[0] ||
        p->scalars[0] > SOCK_MAX_MAP_SIZE || fstat(fd, &sb) ||
        (uint64_t)sb.st_size < p->scalars[0] || !sealed_fixed_size(fd)) {
        if (fd >= 0) {
            close(fd);
        }
        return -EPROTO;
    }
    /* Read/write, never executable: see dext-abi.h. */
    m = mmap(NULL, p->scalars[0], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        return -e;
    }
    *ptr = m;
    *size = p->scalars[0];
    if (flags) {
        *flags = (uint32_t)p->scalars[1];
    }
    return 0;
}

static int s_unmap_memory(struct vfa_transport *t, void *ptr, uint64_t size)
{
    return munmap(ptr, size) ? -errno : 0;
}

static int s_register_memory(struct vfa_transport *t, void *va, uint64_t len,
                             int fd, uint64_t fd_off, uint64_t *id,
                             uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    uint64_t in[3] = { (uint64_t)(uintptr_t)va, len, fd_off };
    int rfd, r;

    if (fd < 0) {
        return -EBADF;
    }
    r = round_trip(s, VFA_SIM_MSG_REGISTER_MEM, 0, in, 3, 0, fd, &p, &rfd);
    if (r) {
        return r;
    }
    if (rfd >= 0) {
        close(rfd);
    }
    *status = p->status;
    if (!p->status && id) {
        *id = p->scalars[0];
    }
    return 0;
}

static int s_unregister_memory(struct vfa_transport *t, uint64_t id,
                               uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    uint64_t in[1] = { id };
    int rfd, r;

    r = round_trip(s, VFA_SIM_MSG_UNREGISTER_MEM, 0, in, 1, 0, -1, &p, &rfd);
    if (r) {
        return r;
    }
    if (rfd >= 0) {
        close(rfd);
    }
    *status = p->status;
    return 0;
}

/*
 * The simulator models 16 KiB host pages and wants registrations aligned
 * to them, but the build host may align memory to 4 KiB only.  So the
 * simulator gets its own 16 KiB-aligned view of the same shared pages, and
 * the memory is named by addresses in that view.
 */
static int s_share_memory(struct vfa_transport *t, void *va, uint64_t len,
                          int fd, uint64_t fd_off, void **dma_va,
                          void **cookie, uint32_t *status)
{
    struct sock_shared *sh;
    uint8_t *base, *view;
    uint64_t resv = len + VFA_PAGE_SIZE;
    int r, e;

    if (fd < 0) {
        return -EBADF;
    }
    if (!len || len % VFA_PAGE_SIZE || fd_off % VFA_PAGE_SIZE ||
        len > UINT64_MAX - VFA_PAGE_SIZE) {
        return -EINVAL;
    }
    sh = calloc(1, sizeof(*sh));
    if (!sh) {
        return -ENOMEM;
    }
    base = mmap(NULL, resv, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        e = errno;
        free(sh);
        return -e;
    }
    view = (uint8_t *)(((uintptr_t)base + VFA_PAGE_SIZE - 1) &
                       ~(uintptr_t)(VFA_PAGE_SIZE - 1));
    if (view > base) {
        munmap(base, view - base);
    }
    munmap(view + len, base + resv - (view + len));
    if (mmap(view, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
             fd_off) == MAP_FAILED) {
        e = errno;
        munmap(view, len);
        free(sh);
        return -e;
    }
    r = s_register_memory(t, view, len, fd, fd_off, &sh->id, status);
    if (r || *status) {
        munmap(view, len);
        free(sh);
        return r;
    }
    sh->view = view;
    sh->len = len;
    *dma_va = view;
    *cookie = sh;
    return 0;
}

static int s_unshare_memory(struct vfa_transport *t, void *cookie,
                            uint32_t *status)
{
    struct sock_shared *sh = cookie;
    int r = s_unregister_memory(t, sh->id, status);

    /*
     * Keep the view while the simulator still uses it (a live DMA
     * mapping: VFA_E_BUSY); drop it once it let go, or is gone.
     */
    if (!r && *status == VFA_E_BUSY) {
        return 0;
    }
    munmap(sh->view, sh->len);
    free(sh);
    return r;
}

static int s_stats_json(struct vfa_transport *t, char *buf, size_t len,
                        uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    int rfd, r;

    if (!len) {
        return -EINVAL;
    }
    r = round_trip(s, VFA_SIM_MSG_STATS_JSON, 0, NULL, 0, VFA_SIM_STATS_MAX,
                   -1, &p, &rfd);
    if (r) {
        return r;
    }
    if (rfd >= 0) {
        close(rfd);
    }
    *status = p->status;
    if (p->status) {
        return 0;
    }
    if (p->struct_len >= len) {
        return -ENOBUFS;
    }
    memcpy(buf, p + 1, p->struct_len);
    buf[p->struct_len] = 0;
    return 0;
}

static int s_conn_fd(struct vfa_transport *t)
{
    return st_of(t)->fd;
}

static void s_destroy(struct vfa_transport *t)
{
    struct sock_transport *s = st_of(t);

    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->rbuf);
    free(s->sbuf);
    free(s);
}

static const struct vfa_transport_ops socket_ops = {
    .kind = VFA_TRANSPORT_SOCKET,
    .name = "unix-socket",
    .call = s_call,
    .map_memory = s_map_memory,
    .unmap_memory = s_unmap_memory,
    .share_memory = s_share_memory,
    .unshare_memory = s_unshare_memory,
    .register_memory = s_register_memory,
    .unregister_memory = s_unregister_memory,
    .stats_json = s_stats_json,
    .behind = s_behind,
    .resync = s_resync,
    .conn_fd = s_conn_fd,
    .destroy = s_destroy,
};

int vfa_socket_transport_create(const char *path, struct vfa_transport **out,
                                char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct sock_transport *s;
    int e;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "socket path too long (%zu bytes, at most %zu): "
                 "%s", strlen(path), sizeof(sa.sun_path) - 1, path);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s = calloc(1, sizeof(*s));
    if (s) {
        s->fd = -1;
        s->rbuf = malloc(VFA_SIM_MAX_REPLY);
        s->sbuf = malloc(VFA_SIM_MAX_REQUEST);
    }
    if (!s || !s->rbuf || !s->sbuf) {
        if (s) {
            s_destroy(&s->base);
        }
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->base.ops = &socket_ops;
    s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
        e = errno;
        snprintf(err, errlen, "cannot connect to vfio-apple-sim at %s: %s",
                 path, strerror(e));
        s_destroy(&s->base);
        return -e;
    }
    *out = &s->base;
    return 0;
}

#else

#include "transport.h"

/*
 * vfio-apple-sim is Linux-only (memfds with seals, SOCK_SEQPACKET with
 * SOCK_CLOEXEC): on macOS the dext is reached through transport-iokit.c.
 */
int vfa_socket_transport_create(const char *path, struct vfa_transport **out,
                                char *err, size_t errlen)
{
    snprintf(err, errlen, "cannot connect to %s: vfio-apple-sim runs on Linux "
             "only; on macOS the dext serves the device (host=)", path);
    return -ENOTSUP;
}

#endif
