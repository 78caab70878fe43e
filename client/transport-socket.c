/*
 * Socket transport to vfio-apple-sim: framing in vfio-apple/sim-wire.h.
 * One request, one reply, in order; the client's mutex guarantees there is
 * never more than one request in flight on the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vfio-apple/sim-wire.h"
#include "transport.h"

struct sock_transport {
    struct vfa_transport base;
    int fd;
    uint32_t seq;
    bool dead;
    uint8_t *rbuf;              /* VFA_SIM_MAX_REPLY */
    uint8_t *sbuf;              /* VFA_SIM_MAX_REQUEST */
};

static struct sock_transport *st_of(struct vfa_transport *t)
{
    return (struct sock_transport *)t;
}

static int send_msg(struct sock_transport *s, const void *buf, size_t len, int fd)
{
    for (;;) {
        ssize_t n = vfa_sim_send(s->fd, buf, len, fd, MSG_NOSIGNAL);

        if (n == (ssize_t)len)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        s->dead = true;
        return -ENODEV;
    }
}

/* Receives one message; *fd gets the first fd passed (others are closed). */
static ssize_t recv_msg(struct sock_transport *s, int *fd)
{
    unsigned nfds;
    int truncated;
    ssize_t n;

    do {
        n = vfa_sim_recv(s->fd, s->rbuf, VFA_SIM_MAX_REPLY, 0, fd, &nfds, &truncated);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        s->dead = true;
        return -ENODEV;
    }
    if (truncated) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return -EPROTO;
    }
    return n;
}

/*
 * One round trip.  Returns 0 with *rep pointing into the receive buffer,
 * or a negative errno.
 */
static int round_trip(struct sock_transport *s, uint16_t type, uint32_t selector,
                      const uint64_t *in, uint32_t nin, uint32_t sout_max, int send_fd,
                      struct vfa_sim_reply **rep, int *rfd)
{
    struct vfa_sim_call *c = (struct vfa_sim_call *)s->sbuf;
    ssize_t n;

    *rfd = -1;
    if (s->dead)
        return -ENODEV;
    if (nin > VFA_MAX_SCALARS || sout_max > VFA_SIM_STATS_MAX)
        return -EINVAL;
    memset(c, 0, sizeof(*c));
    c->hdr.magic = VFA_SIM_MAGIC;
    c->hdr.version = VFA_SIM_WIRE_VERSION;
    c->hdr.type = type;
    c->hdr.seq = ++s->seq;
    c->selector = selector;
    c->nscalars = nin;
    c->struct_out_max = sout_max;
    if (nin)
        memcpy(c->scalars, in, nin * sizeof(uint64_t));
    int r = send_msg(s, c, sizeof(*c), send_fd);
    if (r)
        return r;
    n = recv_msg(s, rfd);
    if (n < 0)
        return (int)n;
    struct vfa_sim_reply *p = (struct vfa_sim_reply *)s->rbuf;
    if ((size_t)n < sizeof(*p) || p->hdr.magic != VFA_SIM_MAGIC || p->hdr.seq != s->seq ||
        p->hdr.type != type || p->nscalars > VFA_MAX_SCALARS ||
        (size_t)n != sizeof(*p) + p->struct_len) {
        /* Out of step with the server: nothing after this can be trusted. */
        if (*rfd >= 0)
            close(*rfd);
        *rfd = -1;
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
    r = round_trip(s, VFA_SIM_MSG_CALL, a->selector, a->in, a->nin, a->sout_len, -1, &p, &fd);
    if (r)
        return r;
    a->status = p->status;
    a->nout = p->nscalars;
    memcpy(a->out, p->scalars, sizeof(p->scalars));
    if (p->struct_len > a->sout_len) {
        if (fd >= 0)
            close(fd);
        return -EPROTO;
    }
    if (p->struct_len)
        memcpy(a->sout, p + 1, p->struct_len);
    a->sout_len = p->struct_len;
    a->fd = fd;
    return 0;
}

static int s_map_memory(struct vfa_transport *t, uint32_t type, void **ptr, uint64_t *size,
                        uint32_t *flags, uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    uint64_t in[1] = { type };
    int fd, r;

    r = round_trip(s, VFA_SIM_MSG_MAP_MEMORY, 0, in, 1, 0, -1, &p, &fd);
    if (r)
        return r;
    *status = p->status;
    if (p->status) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if (fd < 0 || p->nscalars < 2 || !p->scalars[0] || p->scalars[0] > (1ull << 40)) {
        if (fd >= 0)
            close(fd);
        return -EPROTO;
    }
    /* Read/write, never executable: see dext-abi.h. */
    void *m = mmap(NULL, p->scalars[0], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED)
        return -e;
    *ptr = m;
    *size = p->scalars[0];
    if (flags)
        *flags = (uint32_t)p->scalars[1];
    return 0;
}

static int s_unmap_memory(struct vfa_transport *t, void *ptr, uint64_t size)
{
    return munmap(ptr, size) ? -errno : 0;
}

static int s_register_memory(struct vfa_transport *t, void *va, uint64_t len, int fd,
                             uint64_t fd_off, uint64_t *id, uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    uint64_t in[3] = { (uint64_t)(uintptr_t)va, len, fd_off };
    int rfd, r;

    if (fd < 0)
        return -EBADF;
    r = round_trip(s, VFA_SIM_MSG_REGISTER_MEM, 0, in, 3, 0, fd, &p, &rfd);
    if (r)
        return r;
    if (rfd >= 0)
        close(rfd);
    *status = p->status;
    if (!p->status && id)
        *id = p->scalars[0];
    return 0;
}

static int s_unregister_memory(struct vfa_transport *t, uint64_t id, uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    uint64_t in[1] = { id };
    int rfd, r;

    r = round_trip(s, VFA_SIM_MSG_UNREGISTER_MEM, 0, in, 1, 0, -1, &p, &rfd);
    if (r)
        return r;
    if (rfd >= 0)
        close(rfd);
    *status = p->status;
    return 0;
}

static int s_stats_json(struct vfa_transport *t, char *buf, size_t len, uint32_t *status)
{
    struct sock_transport *s = st_of(t);
    struct vfa_sim_reply *p;
    int rfd, r;

    if (!len)
        return -EINVAL;
    r = round_trip(s, VFA_SIM_MSG_STATS_JSON, 0, NULL, 0, VFA_SIM_STATS_MAX, -1, &p, &rfd);
    if (r)
        return r;
    if (rfd >= 0)
        close(rfd);
    *status = p->status;
    if (p->status)
        return 0;
    if (p->struct_len >= len)
        return -ENOBUFS;
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

    if (s->fd >= 0)
        close(s->fd);
    free(s->rbuf);
    free(s->sbuf);
    free(s);
}

static const struct vfa_transport_ops socket_ops = {
    .name = "unix-socket",
    .call = s_call,
    .map_memory = s_map_memory,
    .unmap_memory = s_unmap_memory,
    .register_memory = s_register_memory,
    .unregister_memory = s_unregister_memory,
    .stats_json = s_stats_json,
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
        snprintf(err, errlen, "socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    s = calloc(1, sizeof(*s));
    if (!s || !(s->rbuf = malloc(VFA_SIM_MAX_REPLY)) || !(s->sbuf = malloc(VFA_SIM_MAX_REQUEST))) {
        if (s) {
            free(s->rbuf);
            free(s);
        }
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->base.ops = &socket_ops;
    s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
        e = errno;
        snprintf(err, errlen, "cannot connect to vfio-apple-sim at %s: %s", path, strerror(e));
        s_destroy(&s->base);
        return -e;
    }
    *out = &s->base;
    return 0;
}
