/*
 * The dext client API over a transport (see vfio-apple-client.h).
 *
 * Argument shapes come from the ABI's method table, so the client sends
 * exactly what the dext validates.  Each call holds the client's mutex for
 * its whole round trip: one caller at a time, as the header promises.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"
#include "vfio-apple-client.h"

struct vfa_client {
    pthread_mutex_t lock;
    struct vfa_transport *t;
    int notify_fd;
    bool session;
    bool lost;
    char err[256];
};

static const char *const method_names[VFA_SEL_COUNT] = {
#define N(name, sel, ...) [sel] = #name,
    VFA_METHODS(N)
#undef N
};

static int fail(struct vfa_client *c, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct vfa_client *c, int e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return e;
}

static int transport_fail(struct vfa_client *c, int r, const char *what)
{
    if (r == -ENODEV || r == -EPROTO)
        c->lost = true;
    if (r == -ENODEV)
        return fail(c, r, "%s: connection to the dext lost (%s)", what, c->t->ops->name);
    return fail(c, r, "%s: transport error: %s", what, strerror(-r));
}

int vfa_client_connect(const char *target, struct vfa_client **out, char *err, size_t errlen)
{
    struct vfa_transport *t = NULL;
    struct vfa_client *c;
    int r;

    if (!target || !out) {
        snprintf(err, errlen, "no target given");
        return -EINVAL;
    }
    if (!strncmp(target, "unix:", 5)) {
        r = vfa_socket_transport_create(target + 5, &t, err, errlen);
    } else if (strchr(target, '/')) {
        r = vfa_socket_transport_create(target, &t, err, errlen);
    } else {
        snprintf(err, errlen, "unknown dext target '%s' (want unix:PATH or a socket path)",
                 target);
        return -EINVAL;
    }
    if (r)
        return r;
    c = calloc(1, sizeof(*c));
    if (!c) {
        t->ops->destroy(t);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->t = t;
    c->notify_fd = -1;
    *out = c;
    return 0;
}

const char *vfa_client_errmsg(const struct vfa_client *c)
{
    return c->err;
}

const char *vfa_client_transport(const struct vfa_client *c)
{
    return c->t->ops->name;
}

/*
 * One method call.  Locking is the caller's (call() takes it).  Returns 0,
 * or a negative errno with the message set.
 */
static int call_locked(struct vfa_client *c, uint32_t sel, const uint64_t *in, uint32_t nin,
                       uint64_t *out, void *sout, uint32_t *sout_len, int *fd)
{
    uint64_t tmp[VFA_MAX_SCALARS];
    struct vfa_call_args a = {
        .selector = sel, .in = in, .nin = nin, .out = out ? out : tmp,
        .sout = sout, .sout_len = sout_len ? *sout_len : 0, .fd = -1,
    };
    const char *name = sel < VFA_SEL_COUNT ? method_names[sel] : "?";
    int r;

    if (fd)
        *fd = -1;
    if (c->lost)
        return fail(c, -ENODEV, "%s: connection to the dext was lost earlier", name);
    r = c->t->ops->call(c->t, &a);
    if (r)
        return transport_fail(c, r, name);
    if (a.status) {
        if (a.fd >= 0)
            close(a.fd);
        return fail(c, vfa_err_to_errno(a.status), "%s: %s", name, vfa_err_name(a.status));
    }
    if (sout_len)
        *sout_len = a.sout_len;
    if (fd)
        *fd = a.fd;
    else if (a.fd >= 0)
        close(a.fd);
    return 0;
}

static int call(struct vfa_client *c, uint32_t sel, const uint64_t *in, uint32_t nin,
                uint64_t *out, void *sout, uint32_t *sout_len)
{
    pthread_mutex_lock(&c->lock);
    int r = call_locked(c, sel, in, nin, out, sout, sout_len, NULL);
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_get_version(struct vfa_client *c, uint32_t *major, uint32_t *minor, uint64_t *features)
{
    uint64_t out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_GET_VERSION, NULL, 0, out, NULL, NULL);

    if (r)
        return r;
    if (major)
        *major = (uint32_t)out[0];
    if (minor)
        *minor = (uint32_t)out[1];
    if (features)
        *features = out[2];
    return 0;
}

int vfa_get_identity(struct vfa_client *c, struct vfa_identity *id)
{
    uint32_t len = sizeof(*id);

    memset(id, 0, sizeof(*id));
    return call(c, VFA_SEL_GET_IDENTITY, NULL, 0, NULL, id, &len);
}

int vfa_get_stats(struct vfa_client *c, struct vfa_stats *st)
{
    uint32_t len = sizeof(*st);

    memset(st, 0, sizeof(*st));
    return call(c, VFA_SEL_GET_STATS, NULL, 0, NULL, st, &len);
}

int vfa_session_open(struct vfa_client *c)
{
    uint64_t in[2] = { VFA_ABI_MAJOR, VFA_ABI_MINOR }, out[VFA_MAX_SCALARS];
    int r;

    pthread_mutex_lock(&c->lock);
    r = call_locked(c, VFA_SEL_OPEN, in, 2, out, NULL, NULL, NULL);
    if (r == -EBUSY)
        fail(c, r, "OPEN: the device is in use by another client (exclusive session)");
    else if (r == -EPROTO)
        fail(c, r, "OPEN: dext speaks another ABI major version (client %u.%u)",
             VFA_ABI_MAJOR, VFA_ABI_MINOR);
    if (!r)
        c->session = true;
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_session_close(struct vfa_client *c)
{
    pthread_mutex_lock(&c->lock);
    int r = call_locked(c, VFA_SEL_CLOSE, NULL, 0, NULL, NULL, NULL, NULL);
    c->session = false;
    if (c->notify_fd >= 0) {
        close(c->notify_fd);
        c->notify_fd = -1;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_config_read(struct vfa_client *c, uint32_t off, unsigned width, uint32_t *val)
{
    uint64_t in[2] = { off, width }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_CONFIG_READ, in, 2, out, NULL, NULL);

    if (!r)
        *val = (uint32_t)out[0];
    return r;
}

/*
 * Reads [off, off + len) with a method taking (offset, length) and
 * returning the bytes as struct output, in VFA_MAX_STRUCT pieces.
 */
static int read_chunked(struct vfa_client *c, uint32_t sel, const char *name, uint64_t off,
                        void *buf, uint64_t len)
{
    uint8_t *p = buf;

    while (len) {
        uint32_t n = len > VFA_MAX_STRUCT ? VFA_MAX_STRUCT : (uint32_t)len, got = n;
        uint64_t in[2] = { off, n };
        int r = call(c, sel, in, 2, NULL, p, &got);

        if (r)
            return r;
        if (got != n)
            return fail(c, -EPROTO, "%s: short reply", name);
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int vfa_config_read_block(struct vfa_client *c, uint32_t off, void *buf, uint32_t len)
{
    return read_chunked(c, VFA_SEL_CONFIG_READ_BLOCK, "CONFIG_READ_BLOCK", off, buf, len);
}

int vfa_config_write(struct vfa_client *c, uint32_t off, unsigned width, uint32_t val,
                     uint32_t *forwarded)
{
    uint64_t in[3] = { off, width, val }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_CONFIG_WRITE, in, 3, out, NULL, NULL);

    if (!r && forwarded)
        *forwarded = (uint32_t)out[0];
    return r;
}

int vfa_bar_info(struct vfa_client *c, unsigned bar, struct vfa_bar_info *bi)
{
    uint64_t in[1] = { bar }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_BAR_INFO, in, 1, out, NULL, NULL);

    if (r)
        return r;
    bi->flags = (uint32_t)out[0];
    bi->size = out[1];
    bi->memory_index = (uint32_t)out[2];
    bi->trapped_pages = out[3];
    return 0;
}

int vfa_mmio_read(struct vfa_client *c, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
    uint64_t in[3] = { bar, off, width }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_MMIO_READ, in, 3, out, NULL, NULL);

    if (!r)
        *val = out[0];
    return r;
}

int vfa_mmio_write(struct vfa_client *c, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
    uint64_t in[4] = { bar, off, width, val };

    return call(c, VFA_SEL_MMIO_WRITE, in, 4, NULL, NULL, NULL);
}

int vfa_irq_setup(struct vfa_client *c, uint32_t type, uint32_t count)
{
    uint64_t in[2] = { type, count };

    return call(c, VFA_SEL_IRQ_SETUP, in, 2, NULL, NULL, NULL);
}

int vfa_irq_enable(struct vfa_client *c, uint32_t first, uint32_t count, bool enable)
{
    uint64_t in[3] = { first, count, enable ? 1 : 0 };

    return call(c, VFA_SEL_IRQ_ENABLE, in, 3, NULL, NULL, NULL);
}

int vfa_reset(struct vfa_client *c, uint32_t allowed, uint32_t *used)
{
    uint64_t in[1] = { allowed }, out[VFA_MAX_SCALARS];
    int r = call(c, VFA_SEL_RESET, in, 1, out, NULL, NULL);

    if (!r && used)
        *used = (uint32_t)out[0];
    return r;
}

int vfa_dma_map(struct vfa_client *c, const void *va, uint64_t len, uint32_t flags,
                struct vfa_dma_map_out *out)
{
    uint64_t in[3] = { (uint64_t)(uintptr_t)va, len, flags };
    uint32_t olen = sizeof(*out);
    int r = call(c, VFA_SEL_DMA_MAP, in, 3, NULL, out, &olen);

    if (r)
        return r;
    if (olen != sizeof(*out) || !out->nsegs || out->nsegs > VFA_MAX_DMA_SEGMENTS)
        return fail(c, -EPROTO, "DMA_MAP: malformed reply");
    return 0;
}

int vfa_dma_unmap(struct vfa_client *c, uint64_t handle)
{
    uint64_t in[1] = { handle };

    return call(c, VFA_SEL_DMA_UNMAP, in, 1, NULL, NULL, NULL);
}

int vfa_rom_read(struct vfa_client *c, uint64_t off, void *buf, uint64_t len)
{
    return read_chunked(c, VFA_SEL_ROM_READ, "ROM_READ", off, buf, len);
}

int vfa_map_memory(struct vfa_client *c, uint32_t type, void **ptr, uint64_t *size,
                   uint32_t *flags)
{
    uint32_t status = 0;
    int r;

    pthread_mutex_lock(&c->lock);
    if (c->lost) {
        r = fail(c, -ENODEV, "map memory type %u: connection lost earlier", type);
    } else {
        r = c->t->ops->map_memory(c->t, type, ptr, size, flags, &status);
        if (r)
            r = transport_fail(c, r, "map memory");
        else if (status)
            r = fail(c, vfa_err_to_errno(status), "map memory type %u: %s", type,
                     vfa_err_name(status));
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_unmap_memory(struct vfa_client *c, void *ptr, uint64_t size)
{
    pthread_mutex_lock(&c->lock);
    int r = c->t->ops->unmap_memory(c->t, ptr, size);
    if (r)
        fail(c, r, "unmap memory: %s", strerror(-r));
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_notify_fd(struct vfa_client *c)
{
    int fd, r;

    pthread_mutex_lock(&c->lock);
    if (c->notify_fd >= 0) {
        r = c->notify_fd;
    } else {
        r = call_locked(c, VFA_SEL_NOTIFY_REGISTER, NULL, 0, NULL, NULL, NULL, &fd);
        if (!r && fd < 0)
            r = fail(c, -EPROTO, "NOTIFY_REGISTER: no notification fd in the reply");
        if (!r)
            r = c->notify_fd = fd;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_notify_ack(struct vfa_client *c)
{
    uint64_t v;
    int fd = __atomic_load_n(&c->notify_fd, __ATOMIC_ACQUIRE);

    /* No lock: this runs on the notification thread while the vCPU
     * thread may be in a call; reading an eventfd needs no transport. */
    if (fd < 0)
        return -EBADF;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return -errno;
    return 0;
}

int vfa_register_memory(struct vfa_client *c, void *va, uint64_t len, int fd,
                        uint64_t fd_off, uint64_t *id)
{
    uint32_t status = 0;
    int r;

    pthread_mutex_lock(&c->lock);
    if (c->lost) {
        r = fail(c, -ENODEV, "register memory: connection lost earlier");
    } else {
        r = c->t->ops->register_memory(c->t, va, len, fd, fd_off, id, &status);
        if (r)
            r = transport_fail(c, r, "register memory");
        else if (status)
            r = fail(c, vfa_err_to_errno(status), "register memory %p+%#llx: %s%s", va,
                     (unsigned long long)len, vfa_err_name(status),
                     status == VFA_E_INVAL ? " (16 KiB alignment, no overlap, fd big enough?)" : "");
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_unregister_memory(struct vfa_client *c, uint64_t id)
{
    uint32_t status = 0;
    int r;

    pthread_mutex_lock(&c->lock);
    r = c->t->ops->unregister_memory(c->t, id, &status);
    if (r)
        r = transport_fail(c, r, "unregister memory");
    else if (status)
        r = fail(c, vfa_err_to_errno(status), "unregister memory %llu: %s",
                 (unsigned long long)id, vfa_err_name(status));
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vfa_client_conn_fd(struct vfa_client *c)
{
    if (!c->t->ops->conn_fd)
        return -ENOTSUP;
    return c->t->ops->conn_fd(c->t);
}

int vfa_sim_stats_json(struct vfa_client *c, char *buf, size_t len)
{
    uint32_t status = 0;
    int r;

    pthread_mutex_lock(&c->lock);
    if (!c->t->ops->stats_json) {
        r = fail(c, -ENOTSUP, "stats JSON: only the simulator has it");
    } else {
        r = c->t->ops->stats_json(c->t, buf, len, &status);
        if (r)
            r = transport_fail(c, r, "stats JSON");
        else if (status)
            r = fail(c, vfa_err_to_errno(status), "stats JSON: %s", vfa_err_name(status));
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

void vfa_client_disconnect(struct vfa_client *c)
{
    if (!c)
        return;
    /* Closing the session explicitly is a courtesy: the dext cleans up a
     * vanished client anyway, but counts it as a death. */
    if (c->session && !c->lost)
        vfa_session_close(c);
    if (c->notify_fd >= 0)
        close(c->notify_fd);
    c->t->ops->destroy(c->t);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
