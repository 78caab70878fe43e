/*
 * vfio-apple-sim's socket server.
 *
 * One thread, one poll loop: requests are handled one at a time, which is
 * the serialisation the dext core asks of its transport (IOUserClient's
 * default queue gives the real dext the same).  Device model threads run
 * concurrently but only touch the core through vfa_core_irq().
 *
 * Robustness: every connection is a client id; whatever the peer does
 * (vanish mid-call, send garbage, stop reading replies) ends with
 * vfa_core_client_gone() and its memory registrations dropped, and the
 * loop carries on serving the others.  Replies are sent non-blocking: a
 * client that does not read its replies is dropped rather than allowed to
 * stall the server.
 *
 * Fairness: connections cost a slot each, so they are bounded per peer
 * process (SO_PEERCRED pid) and, when the table is full anyway, a new one
 * evicts the connection idle the longest, never the session owner's: idle
 * connections cannot lock QEMU out.  Each pass serves at most one request
 * per connection, the owner's first, so no number of busy clients starves
 * the session.  Lines a client can trigger at will are rate-limited (per
 * connection, then globally: see log.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vfio-apple/sim-wire.h"
#include "log.h"
#include "server.h"

#define MAX_CONNS           64
/* A client needs one connection per device (QEMU) or one at a time
 * (`stats`); 16 leaves room for tools without letting one process take
 * the table. */
#define MAX_CONNS_PER_PEER  16
/* Lines a client can trigger: 5 at once, then one a second per connection. */
#define CONN_LOG_BURST      5
#define CONN_LOG_PER_SEC    1

struct conn {
    int fd;
    uint64_t id;
    pid_t pid;
    uint64_t last_active;       /* monotonic ns of its last request (or accept) */
    struct sim_ratelimit log;   /* its share of the log */
};

struct server {
    struct sim_platform *p;
    int lfd;
    struct conn conns[MAX_CONNS];
    unsigned nconns;
    uint64_t next_id;
    uint8_t *rbuf;              /* request: VFA_SIM_MAX_REQUEST + 1 */
    uint8_t *wbuf;              /* reply: VFA_SIM_MAX_REPLY */
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char tmp[sizeof(sa.sun_path)];
    struct stat sb;
    int fd, r;

    if (strlen(path) >= sizeof(sa.sun_path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= sizeof(tmp))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* A socket file left by a dead daemon is reused; a live one is not,
     * nor is anything that is not a socket. */
    if (!lstat(path, &sb)) {
        int probe = S_ISSOCK(sb.st_mode) ? socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) : -1;
        bool alive = probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa));

        if (probe >= 0)
            close(probe);
        if (alive || !S_ISSOCK(sb.st_mode)) {
            close(fd);
            return alive ? -EADDRINUSE : -EEXIST;
        }
    }
    /*
     * Bound under a temporary name and renamed into place once listening:
     * bind() creates the file before listen() makes it accept, so a client
     * that waits for the path to appear (scripts, QEMU's launcher) could
     * otherwise connect in between and be refused.
     */
    strcpy(sa.sun_path, tmp);
    unlink(tmp);
    mode_t old = umask(0077);           /* the socket is for its owner */
    r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r || listen(fd, 16) || rename(tmp, path)) {
        r = -errno;
        unlink(tmp);
        close(fd);
        return r;
    }
    return fd;
}

static void drop(struct server *s, unsigned i, const char *why)
{
    struct conn *c = &s->conns[i];

    if (c->log.suppressed)
        LOG_INFO("client %llu (pid %d) disconnected: %s (%llu of its log lines suppressed)",
                 (unsigned long long)c->id, (int)c->pid, why,
                 (unsigned long long)c->log.suppressed);
    else
        LOG_INFO("client %llu (pid %d) disconnected: %s", (unsigned long long)c->id,
                 (int)c->pid, why);
    /* Core first: it unmaps the DMA, so the regions can go after. */
    vfa_core_client_gone(s->p->core, c->id);
    sim_platform_client_gone(s->p, c->id);
    close(c->fd);
    s->conns[i] = s->conns[--s->nconns];
}

/* The connection idle the longest that does not hold the session. */
static int eviction_victim(const struct server *s)
{
    uint64_t owner = vfa_core_session_owner(s->p->core);
    int v = -1;

    for (unsigned i = 0; i < s->nconns; i++)
        if (s->conns[i].id != owner &&
            (v < 0 || s->conns[i].last_active < s->conns[v].last_active))
            v = (int)i;
    return v;
}

static void accept_one(struct server *s)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);
    unsigned same = 0;
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd < 0)
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
        (cr.uid != geteuid() && cr.uid != 0)) {
        s->p->srv.refused_uid++;
        LOG_WARN("refused a client with uid %d (only uid %d or root)", (int)cr.uid, (int)geteuid());
        close(fd);
        return;
    }
    for (unsigned i = 0; i < s->nconns; i++)
        same += s->conns[i].pid == cr.pid;
    if (same >= MAX_CONNS_PER_PEER) {
        s->p->srv.refused_per_peer++;
        LOG_WARN("refused a connection from pid %d: it has %u already (limit %d per process)",
                 (int)cr.pid, same, MAX_CONNS_PER_PEER);
        close(fd);
        return;
    }
    if (s->nconns == MAX_CONNS) {
        /* Full: the longest-idle non-owner makes room (MAX_CONNS > 1 and
         * only one connection owns the session, so there is one). */
        int v = eviction_victim(s);

        s->p->srv.evicted++;
        drop(s, (unsigned)v, "evicted: connection table full and it was idle the longest");
    }
    s->p->srv.accepted++;
    s->conns[s->nconns++] = (struct conn){
        .fd = fd, .id = ++s->next_id, .pid = cr.pid, .last_active = now_ns(),
        .log = SIM_RATELIMIT(CONN_LOG_BURST, CONN_LOG_PER_SEC),
    };
    LOG_INFO("client %llu connected (pid %d)", (unsigned long long)s->next_id, (int)cr.pid);
}

static int send_reply(struct server *s, struct conn *c, size_t len, int fd)
{
    ssize_t n = vfa_sim_send(c->fd, s->wbuf, len, fd, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == (ssize_t)len ? 0 : -1;
}

static uint32_t do_call(struct server *s, struct conn *c, const struct vfa_sim_call *q,
                        struct vfa_sim_reply *rep, int *rfd)
{
    struct vfa_call call = {
        .selector = q->selector,
        .nscalars_in = q->nscalars,
        .scalars_in = q->scalars,
        .struct_in = q->struct_len ? (const void *)(q + 1) : NULL,
        .struct_in_len = q->struct_len,
        .nscalars_out = VFA_MAX_SCALARS,
        .scalars_out = rep->scalars,
        .struct_out = rep + 1,
        .struct_out_len = q->struct_out_max,
    };
    uint32_t st = vfa_core_dispatch(s->p->core, c->id, &call);

    rep->nscalars = call.nscalars_out;
    rep->struct_len = call.struct_out_len;
    if (!st && q->selector == VFA_SEL_NOTIFY_REGISTER)
        *rfd = s->p->notify_fd;
    return st;
}

static uint32_t do_stats(struct server *s, struct vfa_sim_reply *rep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return VFA_E_NOMEM;
    /* Who holds the session, for `vfio-apple status` (0: nobody). */
    s->p->srv.owner_pid = 0;
    for (unsigned i = 0; i < s->nconns; i++)
        if (s->conns[i].id == vfa_core_session_owner(s->p->core))
            s->p->srv.owner_pid = s->conns[i].pid;
    sim_platform_stats_json(s->p, f);
    fclose(f);
    if (len > VFA_SIM_STATS_MAX) {
        free(buf);
        return VFA_E_NOMEM;
    }
    memcpy(rep + 1, buf, len);
    rep->struct_len = (uint32_t)len;
    free(buf);
    return 0;
}

/* Handles one request; returns -1 when the connection must go. */
static int serve_one(struct server *s, unsigned i)
{
    struct conn *c = &s->conns[i];
    int in_fd = -1, rfd = -1, truncated;
    unsigned nfds;
    /* One byte more than the largest request, so an oversized one shows. */
    ssize_t n = vfa_sim_recv(c->fd, s->rbuf, VFA_SIM_MAX_REQUEST + 1, MSG_DONTWAIT,
                             &in_fd, &nfds, &truncated);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        if (in_fd >= 0)
            close(in_fd);
        return -1;
    }

    const struct vfa_sim_call *q = (const void *)s->rbuf;
    struct vfa_sim_reply *rep = (void *)s->wbuf;
    char why[256] = "";
    uint32_t st = 0;

    c->last_active = now_ns();
    if ((size_t)n < sizeof(q->hdr) || q->hdr.magic != VFA_SIM_MAGIC ||
        q->hdr.version != VFA_SIM_WIRE_VERSION) {
        /* Not our protocol at all: nothing sensible to reply to. */
        s->p->srv.protocol_errors++;
        if (in_fd >= 0)
            close(in_fd);
        sim_log_limited(&c->log, SIM_LOG_WARN,
                        "client %llu sent a malformed message (%zd bytes); dropping it",
                        (unsigned long long)c->id, n);
        return -1;
    }
    memset(rep, 0, sizeof(*rep));
    rep->hdr = q->hdr;

    bool fd_ok = q->hdr.type == VFA_SIM_MSG_REGISTER_MEM && nfds == 1;
    if (truncated || (size_t)n < sizeof(*q) ||
        q->nscalars > VFA_MAX_SCALARS || q->struct_len > VFA_MAX_STRUCT ||
        (size_t)n != sizeof(*q) + q->struct_len ||
        q->struct_out_max > (q->hdr.type == VFA_SIM_MSG_STATS_JSON ? VFA_SIM_STATS_MAX
                                                                     : VFA_MAX_STRUCT) ||
        (nfds && !fd_ok)) {
        st = VFA_E_PROTO;
    } else {
        if (q->hdr.type <= VFA_SIM_MSG_STATS_JSON)
            s->p->srv.requests[q->hdr.type]++;
        switch (q->hdr.type) {
        case VFA_SIM_MSG_CALL:
            st = do_call(s, c, q, rep, &rfd);
            break;
        case VFA_SIM_MSG_REGISTER_MEM:
            if (in_fd < 0 || q->nscalars < 3)
                st = VFA_E_PROTO;
            else
                st = sim_platform_register(s->p, c->id, in_fd, q->scalars[0], q->scalars[1],
                                           q->scalars[2], &rep->scalars[0], why, sizeof(why));
            rep->nscalars = st ? 0 : 1;
            break;
        case VFA_SIM_MSG_UNREGISTER_MEM:
            st = q->nscalars < 1 ? VFA_E_PROTO
                                 : sim_platform_unregister(s->p, c->id, q->scalars[0]);
            break;
        case VFA_SIM_MSG_MAP_MEMORY: {
            void *h = NULL;
            uint64_t size = 0;

            if (q->nscalars < 1 || q->scalars[0] > UINT32_MAX) {
                st = VFA_E_PROTO;
                break;
            }
            st = vfa_core_map_memory(s->p->core, c->id, (uint32_t)q->scalars[0], &h, &size);
            if (!st) {
                const struct sim_mem_handle *mh2 = h;

                rfd = mh2->fd;
                rep->nscalars = 2;
                rep->scalars[0] = size;
                rep->scalars[1] = mh2->flags;
            }
            break;
        }
        case VFA_SIM_MSG_STATS_JSON:
            st = do_stats(s, rep);
            break;
        default:
            st = VFA_E_PROTO;
            break;
        }
    }
    if (in_fd >= 0)
        close(in_fd);               /* registered memory keeps its own mapping */
    if (st == VFA_E_PROTO) {
        s->p->srv.protocol_errors++;
        sim_log_limited(&c->log, SIM_LOG_WARN,
                        "client %llu: malformed request (type %u, %zd bytes)",
                        (unsigned long long)c->id, q->hdr.type, n);
    } else if (*why) {
        sim_log_limited(&c->log, SIM_LOG_WARN, "client %llu: %s", (unsigned long long)c->id, why);
    }
    rep->status = st;
    if (st) {
        rep->nscalars = 0;
        rep->struct_len = 0;
        rfd = -1;
    }
    if (send_reply(s, c, sizeof(*rep) + rep->struct_len, rfd))
        return -1;
    return 0;
}

static bool handle_signals(struct server *s, int sigfd)
{
    struct signalfd_siginfo si;

    while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGUSR1:
            LOG_WARN("SIGUSR1: simulating device removal");
            vfa_core_device_gone(s->p->core);
            break;
        case SIGUSR2:
            LOG_WARN("SIGUSR2: the device's next transfer will fault");
            dart_fault_next_transfer(s->p->dart);
            break;
        default:
            LOG_INFO("signal %u: stopping", si.ssi_signo);
            return false;
        }
    }
    return true;
}

int sim_server_run(struct sim_platform *p, const char *path, int sigfd)
{
    struct server s = { .p = p };
    struct pollfd pfd[MAX_CONNS + 2];
    int ret = 0;

    s.lfd = listen_on(path);
    if (s.lfd < 0)
        return s.lfd;
    s.rbuf = malloc(VFA_SIM_MAX_REQUEST + 1);
    s.wbuf = malloc(VFA_SIM_MAX_REPLY);
    if (!s.rbuf || !s.wbuf) {
        ret = -ENOMEM;
        goto out;
    }
    LOG_INFO("listening on %s (device %s)", path, p->model);

    for (;;) {
        struct ready { uint64_t id; short ev; } ready[MAX_CONNS];
        unsigned n = 0, nready = 0;
        uint64_t owner;

        pfd[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
        pfd[n++] = (struct pollfd){ .fd = s.lfd, .events = POLLIN };
        for (unsigned i = 0; i < s.nconns; i++)
            pfd[n++] = (struct pollfd){ .fd = s.conns[i].fd, .events = POLLIN };
        /* Wake within a second to announce log lines the limit held back. */
        if (poll(pfd, n, sim_log_pending() ? 1000 : -1) < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            break;
        }
        sim_log_flush();
        if ((pfd[0].revents & POLLIN) && !handle_signals(&s, sigfd))
            break;
        /* Ready connections by id (serving one may drop and move others),
         * the session owner's first. */
        owner = vfa_core_session_owner(p->core);
        for (unsigned i = 0; i < s.nconns; i++) {
            short ev = pfd[2 + i].revents;

            if (!ev)
                continue;
            if (s.conns[i].id == owner && nready) {
                ready[nready++] = ready[0];
                ready[0] = (struct ready){ s.conns[i].id, ev };
            } else {
                ready[nready++] = (struct ready){ s.conns[i].id, ev };
            }
        }
        for (unsigned k = 0; k < nready; k++) {
            unsigned i = 0;

            while (i < s.nconns && s.conns[i].id != ready[k].id)
                i++;
            if (i == s.nconns)
                continue;               /* gone meanwhile */
            if (ready[k].ev & POLLIN) {
                if (serve_one(&s, i))
                    drop(&s, i, "hung up or misbehaved");
            } else if (ready[k].ev & (POLLHUP | POLLERR | POLLNVAL)) {
                drop(&s, i, "hung up");
            }
        }
        if (pfd[1].revents & POLLIN)
            accept_one(&s);
    }
out:
    while (s.nconns)
        drop(&s, s.nconns - 1, "server stopping");
    close(s.lfd);
    unlink(path);
    free(s.rbuf);
    free(s.wbuf);
    return ret;
}
