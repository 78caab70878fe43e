/*
 * The dext client API over a transport (see vfio-apple-client.h).
 *
 * Each operation holds the client's mutex for its whole round trip: one
 * caller at a time, as the header promises.  Every round trip is counted
 * here, by kind, with the time spent waiting for the dext, so that callers
 * (QEMU's monitor, benchmarks) read the client's own account rather than
 * re-deriving it.  Replies are checked before anything in them is used.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/thread.h"
#include <time.h>

#ifdef CONFIG_DARWIN
#include "iokit-match.h"
#endif
#include "transport.h"
#include "vfio-apple-client.h"

struct vfa_client {
    QemuMutex lock;
    struct vfa_transport *t;
    int notify_fd;
    bool session;
    bool lost;
    struct vfa_client_stats st;
    uint32_t last_nout;         /* scalars the last reply filled (lock) */
    char err[256];
};

static const char *const op_names[VFA_CLIENT_OP_COUNT - VFA_SEL_COUNT] = {
    [VFA_CLIENT_OP_MAP_MEMORY - VFA_SEL_COUNT] = "MAP_MEMORY",
    [VFA_CLIENT_OP_SHARE_MEMORY - VFA_SEL_COUNT] = "SHARE_MEMORY",
    [VFA_CLIENT_OP_UNSHARE_MEMORY - VFA_SEL_COUNT] = "UNSHARE_MEMORY",
    [VFA_CLIENT_OP_STATS_JSON - VFA_SEL_COUNT] = "STATS_JSON",
};

const char *vfa_client_op_name(unsigned kind)
{
    const char *n = NULL;

    if (kind < VFA_SEL_COUNT) {
        n = vfa_method_name(kind);
    } else if (kind < VFA_CLIENT_OP_COUNT) {
        n = op_names[kind - VFA_SEL_COUNT];
    }
    return n ? n : "?";
}

static int fail(struct vfa_client *c, int e, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static int fail(struct vfa_client *c, int e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    c->st.errors++;
    return e;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * Before a round trip of @kind (lock held): refuse it if the connection
 * was lost, or, without waiting, if the dext still owes replies to calls
 * that timed out.  Returns 0 to go ahead.
 */
static int op_begin(struct vfa_client *c, unsigned kind, uint64_t *t0)
{
    const char *name = vfa_client_op_name(kind);
    int r;

    if (c->lost) {
        return fail(c, -ENODEV, "%s: the connection to the dext was lost "
                    "earlier", name);
    }
    if (c->t->ops->behind(c->t)) {
        r = c->t->ops->resync(c->t, 0);
        if (r == -ETIMEDOUT) {
            c->st.fast_failures++;
            return fail(c, r, "%s: not sent: the dext has not answered an "
                        "earlier call yet (it may be stuck)", name);
        }
        if (r) {
            c->lost = true;
            return fail(c, -ENODEV, "%s: the connection to the dext was "
                        "lost (%s)", name, c->t->ops->name);
        }
    }
    c->st.calls[kind]++;
    c->st.round_trips++;
    *t0 = now_ns();
    return 0;
}

/*
 * After the round trip (lock held): account the wait; turn a transport
 * failure @r into the caller's error.
 */
static int op_end(struct vfa_client *c, unsigned kind, uint64_t t0, int r)
{
    uint64_t dt = now_ns() - t0;
    const char *name = vfa_client_op_name(kind);

    c->st.wait_ns_total += dt;
    if (dt > c->st.wait_ns_max) {
        c->st.wait_ns_max = dt;
    }
    if (!r) {
        return 0;
    }
    if (r == -ETIMEDOUT) {
        c->st.timeouts++;
        return fail(c, r, "%s: no reply from the dext within %u ms (it may "
                    "be stuck); later calls fail at once until it answers",
                    name, c->t->timeout_ms);
    }
    if (r == -ENODEV || r == -EPROTO) {
        c->lost = true;
    }
    if (r == -ENODEV) {
        return fail(c, r, "%s: connection to the dext lost (%s)", name,
                    c->t->ops->name);
    }
    if (r == -EPROTO) {
        return fail(c, r, "%s: the dext's reply was malformed; the "
                    "connection cannot be trusted any more", name);
    }
    return fail(c, r, "%s: transport error: %s", name, strerror(-r));
}

/* A method's own failure (enum vfa_err @status). */
static int op_status(struct vfa_client *c, unsigned kind, uint32_t status)
{
    if (!status) {
        return 0;
    }
    return fail(c, vfa_err_to_errno(status), "%s: %s",
                vfa_client_op_name(kind), vfa_err_name(status));
}

static struct vfa_client *client_new(struct vfa_transport *t)
{
    struct vfa_client *c = calloc(1, sizeof(*c));

    if (!c) {
        return NULL;
    }
    qemu_mutex_init(&c->lock);
    c->t = t;
    c->notify_fd = -1;
    return c;
}

/* A client over transport @t (consumed, even on failure). */
static int client_wrap(struct vfa_transport *t, struct vfa_client **out,
                       char *err, size_t errlen)
{
    *out = client_new(t);
    if (!*out) {
        t->ops->destroy(t);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

int vfa_client_connect_socket(const char *path, struct vfa_client **out,
                              char *err, size_t errlen)
{
    struct vfa_transport *t = NULL;
    int r = vfa_socket_transport_create(path, &t, err, errlen);

    return r ? r : client_wrap(t, out, err, errlen);
}

#ifdef CONFIG_DARWIN
int vfa_client_connect_device(uint32_t domain, uint8_t bus, uint8_t dev,
                              uint8_t fn, const char *root_port,
                              struct vfa_client **out, char *err,
                              size_t errlen)
{
    struct vfa_host_loc want = {
        .domain = domain, .bus = bus, .dev = dev, .fn = fn,
    };
    struct vfa_transport *t = NULL;
    int r;

    if (root_port && strlen(root_port) >= sizeof(want.root_port)) {
        snprintf(err, errlen, "root port name too long: %s", root_port);
        return -EINVAL;
    }
    if (root_port) {
        memcpy(want.root_port, root_port, strlen(root_port) + 1);
    }
    r = vfa_iokit_transport_create(&want, &t, err, errlen);
    return r ? r : client_wrap(t, out, err, errlen);
}
#else
int vfa_client_connect_device(uint32_t domain, uint8_t bus, uint8_t dev,
                              uint8_t fn, const char *root_port,
                              struct vfa_client **out, char *err,
                              size_t errlen)
{
    snprintf(err, errlen, "cannot reach %04x:%02x:%02x.%x: this build has "
             "no IOKit transport (the dext serves devices on macOS; on "
             "Linux, connect to vfio-apple-sim's socket)", domain, bus, dev,
             fn);
    return -ENOTSUP;
}
#endif

int vfa_client_connect(const char *target, struct vfa_client **out,
                       char *err, size_t errlen)
{
    if (!target || !out) {
        snprintf(err, errlen, "no target given");
        return -EINVAL;
    }
    if (!strncmp(target, "unix:", 5)) {
        return vfa_client_connect_socket(target + 5, out, err, errlen);
    }
    if (strchr(target, '/')) {
        return vfa_client_connect_socket(target, out, err, errlen);
    }
#ifdef CONFIG_DARWIN
    if (!strncmp(target, "pci:", 4)) {
        struct vfa_host_loc l;
        int r = vfa_iokit_parse_location(target + 4, &l, err, errlen);

        return r ? r : vfa_client_connect_device(l.domain, l.bus, l.dev, l.fn,
                                                 l.root_port[0] ?
                                                 l.root_port : NULL, out,
                                                 err, errlen);
    }
#endif
    snprintf(err, errlen, "unknown dext target '%s' (want unix:PATH or a "
             "socket path; on macOS also pci:[domain:]bus:dev.fn[@root-port])",
             target);
    return -EINVAL;
}

const char *vfa_client_errmsg(const struct vfa_client *c)
{
    return c->err;
}

enum vfa_transport_kind vfa_client_transport(const struct vfa_client *c)
{
    return c->t->ops->kind;
}

const char *vfa_client_transport_name(const struct vfa_client *c)
{
    return c->t->ops->name;
}

void vfa_client_set_timeout(struct vfa_client *c, unsigned timeout_ms)
{
    qemu_mutex_lock(&c->lock);
    c->t->timeout_ms = timeout_ms;
    qemu_mutex_unlock(&c->lock);
}

int vfa_client_resync(struct vfa_client *c, unsigned timeout_ms)
{
    int r;

    qemu_mutex_lock(&c->lock);
    if (c->lost) {
        r = -ENODEV;
    } else {
        r = c->t->ops->resync(c->t, timeout_ms);
        if (r && r != -ETIMEDOUT) {
            c->lost = true;
            r = -ENODEV;
        }
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

bool vfa_client_behind(struct vfa_client *c)
{
    bool b;

    qemu_mutex_lock(&c->lock);
    b = !c->lost && c->t->ops->behind(c->t);
    qemu_mutex_unlock(&c->lock);
    return b;
}

void vfa_client_get_stats(struct vfa_client *c, struct vfa_client_stats *st)
{
    qemu_mutex_lock(&c->lock);
    *st = c->st;
    st->stale_replies = c->t->stale_replies;
    qemu_mutex_unlock(&c->lock);
}

/*
 * One method call.  The caller holds the lock.  Returns 0, or a negative
 * errno with the message set.  *fd (may be NULL) gets an fd the reply
 * carried; without @fd any such fd is closed.
 */
static int call_locked(struct vfa_client *c, uint32_t sel, const uint64_t *in,
                       uint32_t nin, uint64_t *out, void *sout,
                       uint32_t *sout_len, int *fd)
{
    uint64_t tmp[VFA_MAX_SCALARS], t0;
    struct vfa_call_args a = {
        .selector = sel, .in = in, .nin = nin, .out = out ? out : tmp,
        .sout = sout, .sout_len = sout_len ? *sout_len : 0, .fd = -1,
    };
    int r;

    if (fd) {
        *fd = -1;
    }
    r = op_begin(c, sel, &t0);
    if (r) {
        return r;
    }
    r = op_end(c, sel, t0, c->t->ops->call(c->t, &a));
    if (!r) {
        r = op_status(c, sel, a.status);
    }
    if (r) {
        if (a.fd >= 0) {
            close(a.fd);
        }
        return r;
    }
    if (sout_len) {
        *sout_len = a.sout_len;
    }
    /* Bounded by the transport: at most VFA_MAX_SCALARS. */
    c->last_nout = a.nout;
    if (fd) {
        *fd = a.fd;
    } else if (a.fd >= 0) {
        close(a.fd);
    }
    return 0;
}

static int call(struct vfa_client *c, uint32_t sel, const uint64_t *in,
                uint32_t nin, uint64_t *out, void *sout, uint32_t *sout_len)
{
    int r;

    qemu_mutex_lock(&c->lock);
    r = call_locked(c, sel, in, nin, out, sout, sout_len, NULL);
    qemu_mutex_unlock(&c->lock);
    return r;
}

/* A method whose reply must carry exactly @len bytes of struct output. */
static int call_struct(struct vfa_client *c, uint32_t sel, const uint64_t *in,
                       uint32_t nin, void *sout, uint32_t len)
{
    uint32_t got = len;
    int r;

    qemu_mutex_lock(&c->lock);
    r = call_locked(c, sel, in, nin, NULL, sout, &got, NULL);
    if (!r && got != len) {
        r = fail(c, -EPROTO, "%s: the dext returned %u bytes, not %u",
                 vfa_client_op_name(sel), got, len);
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_get_version(struct vfa_client *c, uint32_t *major, uint32_t *minor,
                    uint64_t *features)
{
    uint64_t out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_GET_VERSION, NULL, 0, out, NULL, NULL);

    if (r) {
        return r;
    }
    if (major) {
        *major = (uint32_t)out[0];
    }
    if (minor) {
        *minor = (uint32_t)out[1];
    }
    if (features) {
        *features = out[2];
    }
    return 0;
}

int vfa_get_identity(struct vfa_client *c, struct vfa_identity *id)
{
    int r;

    memset(id, 0, sizeof(*id));
    r = call_struct(c, VFA_SEL_GET_IDENTITY, NULL, 0, id, sizeof(*id));
    /* The one string in the ABI: never trust its terminator. */
    id->location[sizeof(id->location) - 1] = 0;
    return r;
}

int vfa_get_stats(struct vfa_client *c, struct vfa_stats *st)
{
    uint32_t len = sizeof(*st);
    int r;

    memset(st, 0, sizeof(*st));
    /* A dext of another minor fills more or less: st->size says. */
    qemu_mutex_lock(&c->lock);
    r = call_locked(c, VFA_SEL_GET_STATS, NULL, 0, NULL, st, &len, NULL);
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_session_open(struct vfa_client *c)
{
    uint64_t in[2] = { VFA_ABI_MAJOR, VFA_ABI_MINOR }, out[VFA_MAX_SCALARS];
    int r;

    qemu_mutex_lock(&c->lock);
    r = call_locked(c, VFA_SEL_OPEN, in, 2, out, NULL, NULL, NULL);
    if (r == -EBUSY) {
        fail(c, r, "OPEN: the device is in use by another client (the "
             "session is exclusive)");
    } else if (r == -EPROTO && !c->lost) {
        fail(c, r, "OPEN: the dext speaks another ABI major version than "
             "this client (%u.%u)", VFA_ABI_MAJOR, VFA_ABI_MINOR);
    }
    if (!r) {
        c->session = true;
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_session_close(struct vfa_client *c)
{
    int r;

    qemu_mutex_lock(&c->lock);
    r = call_locked(c, VFA_SEL_CLOSE, NULL, 0, NULL, NULL, NULL, NULL);
    c->session = false;
    if (c->notify_fd >= 0) {
        close(c->notify_fd);
        c->notify_fd = -1;
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_config_read(struct vfa_client *c, uint32_t off, unsigned width,
                    uint32_t *val)
{
    uint64_t in[2] = { off, width }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_CONFIG_READ, in, 2, out, NULL, NULL);

    if (!r) {
        *val = (uint32_t)out[0];
    }
    return r;
}

/*
 * Reads [off, off + len) with a method taking (offset, length) and
 * returning the bytes as struct output, in VFA_MAX_STRUCT pieces.
 */
static int read_chunked(struct vfa_client *c, uint32_t sel, uint64_t off,
                        void *buf, uint64_t len)
{
    uint8_t *p = buf;

    while (len) {
        uint32_t n = len > VFA_MAX_STRUCT ? VFA_MAX_STRUCT : (uint32_t)len;
        uint64_t in[2] = { off, n };
        int r = call_struct(c, sel, in, 2, p, n);

        if (r) {
            return r;
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int vfa_config_read_block(struct vfa_client *c, uint32_t off, void *buf,
                          uint32_t len)
{
    return read_chunked(c, VFA_SEL_CONFIG_READ_BLOCK, off, buf, len);
}

int vfa_config_write_readback(struct vfa_client *c, uint32_t off,
                              unsigned width, uint32_t val,
                              uint32_t *forwarded, uint32_t *now)
{
    uint64_t in[3] = { off, width, val }, out[VFA_MAX_SCALARS];
    int r;

    qemu_mutex_lock(&c->lock);
    r = call_locked(c, VFA_SEL_CONFIG_WRITE, in, 3, out, NULL, NULL, NULL);
    if (!r) {
        if (forwarded) {
            *forwarded = (uint32_t)out[0];
        }
        /* A 1.0 dext does not say; only the bytes of the register count. */
        r = c->last_nout >= 2;
        if (r && now) {
            *now = (uint32_t)out[1] &
                   (width >= 4 ? ~0u : (1u << (width * 8)) - 1);
        }
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_config_write(struct vfa_client *c, uint32_t off, unsigned width,
                     uint32_t val, uint32_t *forwarded)
{
    int r = vfa_config_write_readback(c, off, width, val, forwarded, NULL);

    return r < 0 ? r : 0;
}

int vfa_bar_info(struct vfa_client *c, unsigned bar, struct vfa_bar_info *bi)
{
    uint64_t in[1] = { bar }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_BAR_INFO, in, 1, out, NULL, NULL);

    if (r) {
        return r;
    }
    bi->flags = (uint32_t)out[0];
    bi->size = out[1];
    bi->memory_index = (uint32_t)out[2];
    bi->trapped_pages = out[3];
    return 0;
}

int vfa_mmio_read(struct vfa_client *c, unsigned bar, uint64_t off,
                  unsigned width, uint64_t *val)
{
    uint64_t in[3] = { bar, off, width }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_MMIO_READ, in, 3, out, NULL, NULL);

    if (!r) {
        *val = out[0];
    }
    return r;
}

int vfa_mmio_write(struct vfa_client *c, unsigned bar, uint64_t off,
                   unsigned width, uint64_t val)
{
    uint64_t in[4] = { bar, off, width, val };

    return call(c, VFA_SEL_MMIO_WRITE, in, 4, NULL, NULL, NULL);
}

int vfa_irq_setup(struct vfa_client *c, uint32_t type, uint32_t count)
{
    uint64_t in[2] = { type, count };

    return call(c, VFA_SEL_IRQ_SETUP, in, 2, NULL, NULL, NULL);
}

int vfa_irq_enable(struct vfa_client *c, uint32_t first, uint32_t count,
                   bool enable)
{
    uint64_t in[3] = { first, count, enable ? 1 : 0 };

    return call(c, VFA_SEL_IRQ_ENABLE, in, 3, NULL, NULL, NULL);
}

int vfa_reset(struct vfa_client *c, uint32_t allowed, uint32_t *used)
{
    uint64_t in[1] = { allowed }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_RESET, in, 1, out, NULL, NULL);

    if (!r && used) {
        *used = (uint32_t)out[0];
    }
    return r;
}

/*
 * The segment list of a DMA_MAP reply, checked before anyone uses it: it
 * decides which IOVAs the guest will hand the device.
 */
/*
 * The segment list of a DMA_MAP reply, checked before anyone uses it: it
 * decides which IOVAs the guest will hand the device.  NULL if it is
 * sound, else what is wrong with it.  The ABI (dext-abi.h): 1..32
 * segments, none empty or wrapping, lengths adding up to len, the first
 * IOVA keeping va's offset in its 16 KiB page, the others starting on a
 * page (DART pages are whole pages), no two overlapping (one bus address
 * for two client addresses).
 */
static const char *dma_segments_bad(const struct vfa_dma_map_out *out,
                                    const void *va, uint64_t len)
{
    uint64_t total = 0, off = (uintptr_t)va % VFA_PAGE_SIZE;
    uint32_t i, j;

    if (!out->handle) {
        return "no handle";
    }
    if (!out->nsegs || out->nsegs > VFA_MAX_DMA_SEGMENTS) {
        return "segment count out of range";
    }
    for (i = 0; i < out->nsegs; i++) {
        const struct vfa_dma_segment *s = &out->segs[i];

        if (!s->len || s->iova + s->len < s->iova) {
            return "an empty or wrapping segment";
        }
        if (s->len > len - total) {
            return "longer than the range mapped";
        }
        if (s->iova % VFA_PAGE_SIZE != (i ? 0 : off)) {
            return "an IOVA not aligned like the address it maps";
        }
        for (j = 0; j < i; j++) {
            const struct vfa_dma_segment *t = &out->segs[j];

            if (s->iova < t->iova + t->len && t->iova < s->iova + s->len) {
                return "IOVA ranges that overlap";
            }
        }
        total += s->len;
    }
    return total == len ? NULL : "shorter than the range mapped";
}

int vfa_dma_map(struct vfa_client *c, const void *va, uint64_t len,
                uint32_t flags, struct vfa_dma_map_out *out)
{
    uint64_t in[3] = { (uint64_t)(uintptr_t)va, len, flags };
    const char *bad;
    int r;

    r = call_struct(c, VFA_SEL_DMA_MAP, in, 3, out, sizeof(*out));
    if (r) {
        return r;
    }
    bad = dma_segments_bad(out, va, len);
    if (bad) {
        /*
         * The dext mapped something, but we cannot tell what: give it
         * back (by the handle, if there is one) and fail.
         */
        if (out->handle) {
            vfa_dma_unmap(c, out->handle);
        }
        qemu_mutex_lock(&c->lock);
        r = fail(c, -EPROTO, "DMA_MAP: malformed segment list (%u "
                 "segments) for 0x%" PRIx64 " bytes: %s", out->nsegs, len,
                 bad);
        qemu_mutex_unlock(&c->lock);
        return r;
    }
    return 0;
}

int vfa_dma_unmap(struct vfa_client *c, uint64_t handle)
{
    uint64_t in[1] = { handle };

    return call(c, VFA_SEL_DMA_UNMAP, in, 1, NULL, NULL, NULL);
}

int vfa_rom_read(struct vfa_client *c, uint64_t off, void *buf, uint64_t len)
{
    return read_chunked(c, VFA_SEL_ROM_READ, off, buf, len);
}

int vfa_map_memory(struct vfa_client *c, uint32_t type, void **ptr,
                   uint64_t *size, uint32_t *flags)
{
    const unsigned kind = VFA_CLIENT_OP_MAP_MEMORY;
    uint32_t status = 0;
    uint64_t t0;
    int r;

    qemu_mutex_lock(&c->lock);
    r = op_begin(c, kind, &t0);
    if (!r) {
        r = op_end(c, kind, t0, c->t->ops->map_memory(c->t, type, ptr, size,
                                                      flags, &status));
    }
    if (!r && status) {
        r = fail(c, vfa_err_to_errno(status), "MAP_MEMORY of type %u: %s",
                 type, vfa_err_name(status));
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_unmap_memory(struct vfa_client *c, void *ptr, uint64_t size)
{
    int r;

    qemu_mutex_lock(&c->lock);
    r = c->t->ops->unmap_memory(c->t, ptr, size);
    if (r) {
        fail(c, r, "unmap memory: %s", strerror(-r));
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

/*
 * The notification fd the simulator passes must behave as an eventfd:
 * readable only when there is news.  A file that is always readable would
 * make a notification thread spin.  Linux says what an fd is in /proc.
 * (The IOKit transport makes its fd itself, a pipe it never overfills, so
 * only the socket transport's fd is checked.)
 */
static bool notify_fd_ok(int fd)
{
#ifdef __linux__
    char path[64], buf[512];
    ssize_t n;
    int f;

    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        return false;
    }
    n = read(f, buf, sizeof(buf) - 1);
    close(f);
    if (n <= 0) {
        return false;
    }
    buf[n] = 0;
    return strstr(buf, "eventfd-count:") != NULL;
#else
    return true;
#endif
}

int vfa_notify_fd(struct vfa_client *c)
{
    int fd, r;

    qemu_mutex_lock(&c->lock);
    if (c->notify_fd >= 0) {
        r = c->notify_fd;
    } else {
        r = call_locked(c, VFA_SEL_NOTIFY_REGISTER, NULL, 0, NULL, NULL, NULL,
                        &fd);
        if (!r && fd < 0) {
            r = fail(c, -EPROTO, "NOTIFY_REGISTER: no notification fd in "
                     "the reply");
        } else if (!r && c->t->ops->kind == VFA_TRANSPORT_SOCKET &&
                   !notify_fd_ok(fd)) {
            close(fd);
            r = fail(c, -EPROTO, "NOTIFY_REGISTER: the notification fd is "
                     "not an eventfd");
        }
        if (!r) {
            r = c->notify_fd = fd;
        }
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_notify_ack(struct vfa_client *c)
{
    uint64_t v;
    ssize_t n;
    int fd = __atomic_load_n(&c->notify_fd, __ATOMIC_ACQUIRE);

    /*
     * No lock: this runs on a notification thread while another thread
     * may be in a call; reading an eventfd needs no transport.
     */
    if (fd < 0) {
        return -EBADF;
    }
    /* An eventfd reads 8 bytes, or EAGAIN when nothing is pending. */
    n = read(fd, &v, sizeof(v));
    if (n < 0 && errno == EAGAIN) {
        return 0;
    }
    if (n < 0) {
        return -errno;
    }
    return n == sizeof(v) ? 0 : -EPROTO;
}

struct vfa_shared_mem {
    void *dma_va;
    void *cookie;
};

int vfa_share_memory(struct vfa_client *c, void *va, uint64_t len, int fd,
                     uint64_t fd_off, struct vfa_shared_mem **out)
{
    const unsigned kind = VFA_CLIENT_OP_SHARE_MEMORY;
    struct vfa_shared_mem *m = calloc(1, sizeof(*m));
    uint32_t status = 0;
    uint64_t t0;
    int r;

    if (!m) {
        return -ENOMEM;
    }
    qemu_mutex_lock(&c->lock);
    r = op_begin(c, kind, &t0);
    if (!r) {
        r = op_end(c, kind, t0, c->t->ops->share_memory(c->t, va, len, fd,
                                                        fd_off, &m->dma_va,
                                                        &m->cookie, &status));
    }
    if (!r && status) {
        r = fail(c, vfa_err_to_errno(status), "SHARE_MEMORY %p+0x%" PRIx64
                 ": %s%s", va, len, vfa_err_name(status),
                 status == VFA_E_INVAL ? " (16 KiB multiples, a memfd sealed "
                 "against shrinking, no overlap with memory shared before?)"
                 : "");
    }
    qemu_mutex_unlock(&c->lock);
    if (r) {
        free(m);
        return r;
    }
    *out = m;
    return 0;
}

void *vfa_shared_mem_dma_va(const struct vfa_shared_mem *m)
{
    return m->dma_va;
}

int vfa_unshare_memory(struct vfa_client *c, struct vfa_shared_mem *m)
{
    const unsigned kind = VFA_CLIENT_OP_UNSHARE_MEMORY;
    uint32_t status = 0;
    uint64_t t0;
    int r;

    qemu_mutex_lock(&c->lock);
    r = op_begin(c, kind, &t0);
    if (!r) {
        r = op_end(c, kind, t0, c->t->ops->unshare_memory(c->t, m->cookie,
                                                          &status));
    } else {
        /* The dext is gone or stuck: its session cleanup releases it. */
        c->t->ops->unshare_memory(c->t, m->cookie, &status);
    }
    if (!r && status) {
        r = fail(c, vfa_err_to_errno(status), "UNSHARE_MEMORY: %s",
                 vfa_err_name(status));
    }
    qemu_mutex_unlock(&c->lock);
    if (r != -EBUSY) {
        free(m);
    }
    return r;
}

int vfa_client_conn_fd(struct vfa_client *c)
{
    if (!c->t->ops->conn_fd) {
        return -ENOTSUP;
    }
    return c->t->ops->conn_fd(c->t);
}

int vfa_sim_stats_json(struct vfa_client *c, char *buf, size_t len)
{
    const unsigned kind = VFA_CLIENT_OP_STATS_JSON;
    uint32_t status = 0;
    uint64_t t0;
    int r;

    qemu_mutex_lock(&c->lock);
    if (!c->t->ops->stats_json) {
        r = fail(c, -ENOTSUP, "STATS_JSON: only the simulator has it");
    } else {
        r = op_begin(c, kind, &t0);
        if (!r) {
            r = op_end(c, kind, t0,
                       c->t->ops->stats_json(c->t, buf, len, &status));
        }
        if (!r) {
            r = op_status(c, kind, status);
        }
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_register_memory(struct vfa_client *c, void *va, uint64_t len, int fd,
                        uint64_t fd_off, uint64_t *id)
{
    const unsigned kind = VFA_CLIENT_OP_SHARE_MEMORY;
    uint32_t status = 0;
    uint64_t t0;
    int r;

    qemu_mutex_lock(&c->lock);
    if (!c->t->ops->register_memory) {
        r = fail(c, -ENOTSUP, "REGISTER_MEMORY: socket transport only");
    } else {
        r = op_begin(c, kind, &t0);
        if (!r) {
            r = op_end(c, kind, t0,
                       c->t->ops->register_memory(c->t, va, len, fd, fd_off,
                                                  id, &status));
        }
        if (!r) {
            r = op_status(c, kind, status);
        }
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

int vfa_unregister_memory(struct vfa_client *c, uint64_t id)
{
    const unsigned kind = VFA_CLIENT_OP_UNSHARE_MEMORY;
    uint32_t status = 0;
    uint64_t t0;
    int r;

    qemu_mutex_lock(&c->lock);
    if (!c->t->ops->unregister_memory) {
        r = fail(c, -ENOTSUP, "UNREGISTER_MEMORY: socket transport only");
    } else {
        r = op_begin(c, kind, &t0);
        if (!r) {
            r = op_end(c, kind, t0,
                       c->t->ops->unregister_memory(c->t, id, &status));
        }
        if (!r) {
            r = op_status(c, kind, status);
        }
    }
    qemu_mutex_unlock(&c->lock);
    return r;
}

void vfa_client_disconnect(struct vfa_client *c)
{
    if (!c) {
        return;
    }
    /*
     * Closing the session explicitly is a courtesy: the dext cleans up a
     * vanished client anyway, but counts it as a death.
     */
    if (c->session && !c->lost) {
        vfa_session_close(c);
    }
    if (c->notify_fd >= 0) {
        close(c->notify_fd);
    }
    c->t->ops->destroy(c->t);
    qemu_mutex_destroy(&c->lock);
    free(c);
}
