/*
 * IOKit transport to the DriverKit extension (macOS): struct
 * vfa_transport_ops over IOServiceOpen / IOConnectCallMethod /
 * IOConnectMapMemory64 and an IONotificationPort on a dispatch queue.
 *
 * Thin glue: every decision that does not need IOKit (which instance
 * serves a location, which root port it is below, what an IOReturn means,
 * the cache mode, the timeout and "behind" bookkeeping) lives in
 * iokit-match.c and iokit-callq.c, which are unit-tested on Linux.  The
 * semantics are the socket transport's (transport.h):
 *   - every call to the dext runs on the call queue's worker thread, and
 *     the caller waits at most timeout_ms: IOConnectCallMethod itself
 *     cannot time out.  A call given up on leaves us behind; while behind
 *     every call fails at once with -ETIMEDOUT, and the late result is
 *     dropped (stale_replies), never taken for a later call's.
 *   - conn_fd is the read end of a pipe: readable (POLLIN) while a late
 *     result waits for resync, hung up (POLLHUP) once the dext is gone
 *     (the service terminated: cable pulled, dext crashed; or a call found
 *     its port dead).
 *   - the notification fd is the read end of another pipe that the
 *     NOTIFY_REGISTER completion writes 8 bytes to, at most 8 pending, so
 *     it behaves as the eventfd client.c expects (readable only with news,
 *     one read consumes it).
 *
 * The whole file is macOS-only (CONFIG_DARWIN: QEMU's config-host.h, or
 * client/compat's osdep.h outside QEMU); `make macos-check` compiles it on
 * Linux against macos/sdk with -DCONFIG_DARWIN, so it stays consistent
 * with the ABI and the portable code.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"

#ifdef CONFIG_DARWIN

#include <pthread.h>
#include <sys/ioctl.h>

#include <IOKit/IOKitLib.h>

#include "iokit-callq.h"
#include "iokit-match.h"
#include "transport.h"

/* The portable code's numbers are the SDK's. */
_Static_assert(kIOReturnNotAttached == (IOReturn)VFA_KIO_RETURN_NOT_ATTACHED,
               "IOReturn numbers");
_Static_assert(kIOReturnBadArgument == (IOReturn)VFA_KIO_RETURN_BAD_ARGUMENT,
               "IOReturn numbers");
_Static_assert(MACH_SEND_INVALID_DEST == VFA_MACH_SEND_INVALID_DEST,
               "mach numbers");
_Static_assert(sizeof(io_name_t) == VFA_IOKIT_NAME_MAX, "io_name_t");

/* The class every PCI function's nub is (or derives from). */
#define IOKIT_PCI_DEVICE_CLASS "IOPCIDevice"

/* How many dext instances a lookup considers (one per matched function). */
#define IOKIT_MAX_CANDIDATES 64
/* Largest memory type we accept a mapping of (as the socket transport). */
#define IOKIT_MAX_MAP_SIZE (1ull << 40)

enum job_kind {
    JOB_CALL,           /* IOConnectCallMethod */
    JOB_NOTIFY,         /* IOConnectCallAsyncScalarMethod */
    JOB_MAP,            /* IOConnectMapMemory64 */
};

/*
 * The one call in flight, owned by the worker while it runs (and, if it
 * was given up on, until it returns): never on a caller's stack.
 */
struct iokit_job {
    enum job_kind kind;
    io_connect_t conn;
    uint32_t selector;
    uint64_t in[VFA_MAX_SCALARS];
    uint32_t nin;
    uint64_t out[VFA_MAX_SCALARS];
    uint32_t nout;                      /* room in, filled out */
    uint8_t sout[VFA_MAX_STRUCT];
    size_t sout_len;                    /* room in, filled out */
    uint32_t mem_type;
    IOOptionBits map_options;
    mach_vm_address_t addr;
    mach_vm_size_t size;
    IOReturn ior;
};

struct iokit_map {
    void *ptr;
    uint64_t size;
    uint32_t type;
};

struct iokit_transport {
    struct vfa_transport base;
    io_service_t service;
    io_connect_t conn;
    IONotificationPortRef port;
    dispatch_queue_t queue;
    io_object_t interest;
    struct vfa_callq q;
    struct iokit_job job;
    /* conn_fd: read end polled by the client; write end ours (fd_lock). */
    int conn_r, conn_w;
    /* notification fd: read end handed out (dup), write end ours. */
    int notify_r, notify_w;
    pthread_mutex_t fd_lock;
    bool dead;                          /* atomic */
    struct iokit_map maps[VFA_NUM_BARS + 1];
    /* What the lookup checked: the function's registry ID, its root port. */
    uint64_t regid;
    char root_port[sizeof(((struct vfa_host_loc *)0)->root_port)];
};

/* Memory the dext may DMA to: on IOKit the client's own range. */
struct iokit_shared {
    void *va;
    uint64_t len;
};

static struct iokit_transport *it_of(struct vfa_transport *t)
{
    return (struct iokit_transport *)t;
}

static bool is_dead(struct iokit_transport *s)
{
    return __atomic_load_n(&s->dead, __ATOMIC_ACQUIRE);
}

/* The dext is gone: fail everything from now on, hang up conn_fd. */
static void mark_dead(struct iokit_transport *s)
{
    __atomic_store_n(&s->dead, true, __ATOMIC_RELEASE);
    pthread_mutex_lock(&s->fd_lock);
    if (s->conn_w >= 0) {
        close(s->conn_w);
        s->conn_w = -1;
    }
    pthread_mutex_unlock(&s->fd_lock);
}

static void poke(struct iokit_transport *s, int fd)
{
    uint64_t one = 1;
    ssize_t n;

    do {
        n = write(fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full, the reader has news waiting anyway. */
}

static void notify_done(void *refcon, IOReturn result, void **args,
                        uint32_t nargs);

/* --- worker side (iokit-callq.h's run/late/orphan_free) --- */

static void job_run(void *opaque)
{
    struct iokit_transport *s = opaque;
    struct iokit_job *j = &s->job;
    uint64_t ref[kOSAsyncRef64Count];
    void *sout = j->sout_len ? j->sout : NULL;

    switch (j->kind) {
    case JOB_CALL:
        j->ior = IOConnectCallMethod(j->conn, j->selector, j->in, j->nin,
                                     NULL, 0, j->out, &j->nout, sout,
                                     sout ? &j->sout_len : NULL);
        break;
    case JOB_NOTIFY:
        /*
         * The dext keeps this reference (an OSAction on its side) and
         * completes it whenever the IRQ page has news; the port's dispatch
         * queue then runs notify_done.
         */
        memset(ref, 0, sizeof(ref));
        ref[kIOAsyncCalloutFuncIndex] = (uint64_t)(uintptr_t)notify_done;
        ref[kIOAsyncCalloutRefconIndex] = (uint64_t)(uintptr_t)s;
        j->ior = IOConnectCallAsyncScalarMethod(j->conn, j->selector,
                                                IONotificationPortGetMachPort(
                                                    s->port),
                                                ref, kOSAsyncRef64Count,
                                                NULL, 0, j->out, &j->nout);
        break;
    case JOB_MAP:
        j->addr = 0;
        j->size = 0;
        j->ior = IOConnectMapMemory64(j->conn, j->mem_type, mach_task_self(),
                                      &j->addr, &j->size, j->map_options);
        break;
    }
}

/* A call we gave up on returned (worker thread). */
static void job_late(void *opaque)
{
    struct iokit_transport *s = opaque;
    struct iokit_job *j = &s->job;

    /* Nobody will own a mapping made that late: take it back. */
    if (j->kind == JOB_MAP && j->ior == kIOReturnSuccess && j->addr) {
        IOConnectUnmapMemory64(j->conn, j->mem_type, mach_task_self(),
                               j->addr);
    }
    pthread_mutex_lock(&s->fd_lock);
    if (s->conn_w >= 0) {
        poke(s, s->conn_w);
    }
    pthread_mutex_unlock(&s->fd_lock);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void free_transport(void *opaque)
{
    struct iokit_transport *s = opaque;

    close_fd(&s->conn_r);
    close_fd(&s->conn_w);
    close_fd(&s->notify_r);
    close_fd(&s->notify_w);
    pthread_mutex_destroy(&s->fd_lock);
    free(s);
}

/* Late results were dropped: conn_fd need not say so any more. */
static void drain_conn(struct iokit_transport *s)
{
    uint64_t junk;
    ssize_t n;

    do {
        n = read(s->conn_r, &junk, sizeof(junk));
    } while (n > 0 || (n < 0 && errno == EINTR));
}

/*
 * Before filling the job buffer: the worker may still own it (a call
 * that timed out).  Take its late result if it has come; else fail at
 * once, as the socket transport does while a reply is owed.
 */
static int job_begin(struct iokit_transport *s)
{
    if (is_dead(s)) {
        return -ENODEV;
    }
    if (vfa_callq_behind(&s->q)) {
        if (vfa_callq_resync(&s->q, 0)) {
            return -ETIMEDOUT;
        }
        drain_conn(s);
    }
    return 0;
}

/*
 * Run the filled job on the worker within the timeout and read its
 * IOReturn.  0 with *status, or -ETIMEDOUT / -ENODEV (transport.h).
 */
static int run_job(struct iokit_transport *s, uint32_t *status)
{
    int r = vfa_callq_call(&s->q, s->base.timeout_ms);

    if (r) {
        return r;
    }
    r = vfa_iokit_result((uint32_t)s->job.ior, status);
    if (r == -ENODEV) {
        mark_dead(s);
    }
    return r;
}

/* Fill the job for a method call (after job_begin). */
static void job_call(struct iokit_transport *s, enum job_kind kind,
                     io_connect_t conn, uint32_t sel, const uint64_t *in,
                     uint32_t nin, size_t sout_room)
{
    struct iokit_job *j = &s->job;

    j->kind = kind;
    j->conn = conn;
    j->selector = sel;
    j->nin = nin;
    if (nin) {
        memcpy(j->in, in, nin * sizeof(uint64_t));
    }
    j->nout = vfa_iokit_out_room(sel);
    j->sout_len = sout_room;
}

/* --- notifications (the port's dispatch queue) --- */

/*
 * The dext completed NOTIFY_REGISTER's reference: the IRQ page has news.
 * At most one 8-byte token waits in the pipe: the reader (vfa_notify_ack)
 * consumes it before scanning the page, so a token seen here is one the
 * reader has yet to take, and it will see this news too.
 */
static void notify_done(void *refcon, IOReturn result, void **args,
                        uint32_t nargs)
{
    struct iokit_transport *s = refcon;
    uint32_t status;
    int queued = 0;

    if (vfa_iokit_result((uint32_t)result, &status) == -ENODEV) {
        mark_dead(s);
        return;
    }
    if (ioctl(s->notify_r, FIONREAD, &queued) == 0 &&
        queued >= (int)sizeof(uint64_t)) {
        return;
    }
    poke(s, s->notify_w);
}

/* Surprise removal: the service goes away under us. */
static void service_interest(void *refcon, io_service_t service,
                             uint32_t type, void *arg)
{
    if (type == kIOMessageServiceIsTerminated) {
        mark_dead(refcon);
    }
}

/* --- ops --- */

/*
 * GET_IDENTITY's location is the function's registry ID as the dext
 * reports it ("regid:0x..."); the lookup checked that ID against the
 * IORegistry and found the root port above it.  The client is given the
 * root port's name, as dext-abi.h describes `location` on macOS, only
 * while the reply still carries the ID that was checked.
 */
static void identity_location(struct iokit_transport *s,
                              struct vfa_call_args *a)
{
    const size_t at = offsetof(struct vfa_identity, location);
    char loc[sizeof(((struct vfa_identity *)0)->location)];
    uint64_t regid;

    if (a->sout_len < at + sizeof(loc) || !s->root_port[0]) {
        return;
    }
    memcpy(loc, (char *)a->sout + at, sizeof(loc));
    loc[sizeof(loc) - 1] = 0;
    if (vfa_iokit_parse_regid(loc, &regid) || regid != s->regid) {
        return;
    }
    memset(loc, 0, sizeof(loc));
    snprintf(loc, sizeof(loc), "%s", s->root_port);
    memcpy((char *)a->sout + at, loc, sizeof(loc));
}

static int k_call(struct vfa_transport *t, struct vfa_call_args *a)
{
    struct iokit_transport *s = it_of(t);
    struct iokit_job *j = &s->job;
    bool notify = a->selector == VFA_SEL_NOTIFY_REGISTER;
    int r;

    a->fd = -1;
    if (a->nin > VFA_MAX_SCALARS || a->sout_len > VFA_MAX_STRUCT) {
        return -EINVAL;
    }
    r = job_begin(s);
    if (r) {
        return r;
    }
    job_call(s, notify ? JOB_NOTIFY : JOB_CALL, s->conn, a->selector, a->in,
             a->nin, a->sout_len);
    r = run_job(s, &a->status);
    if (r) {
        return r;
    }
    /* More than the room offered: a broken dext (or IOKit). */
    if (j->nout > VFA_MAX_SCALARS || j->sout_len > a->sout_len) {
        return -EPROTO;
    }
    a->nout = j->nout;
    memcpy(a->out, j->out, j->nout * sizeof(uint64_t));
    if (j->sout_len) {
        memcpy(a->sout, j->sout, j->sout_len);
    }
    a->sout_len = (uint32_t)j->sout_len;
    if (a->selector == VFA_SEL_GET_IDENTITY && !a->status) {
        identity_location(s, a);
    }
    if (notify && !a->status) {
        /* The client owns (and closes) its copy of the read end. */
        a->fd = dup(s->notify_r);
        if (a->fd < 0) {
            return -errno;
        }
    }
    return 0;
}

static int k_map_memory(struct vfa_transport *t, uint32_t type, void **ptr,
                        uint64_t *size, uint32_t *flags, uint32_t *status)
{
    struct iokit_transport *s = it_of(t);
    struct iokit_job *j = &s->job;
    uint32_t bar_flags = 0;
    unsigned slot;
    int cache, r;

    if (type < VFA_MEM_BAR0 + VFA_NUM_BARS) {
        /* The cache mode depends on the BAR: ask the dext what it is. */
        uint64_t in[1] = { type - VFA_MEM_BAR0 };

        r = job_begin(s);
        if (r) {
            return r;
        }
        job_call(s, JOB_CALL, s->conn, VFA_SEL_BAR_INFO, in, 1, 0);
        r = run_job(s, status);
        if (r || *status) {
            return r;
        }
        bar_flags = (uint32_t)j->out[0];
    }
    r = job_begin(s);
    if (r) {
        return r;
    }
    cache = vfa_iokit_map_cache(type, bar_flags);
    /* A type or BAR the dext will refuse: let it say why. */
    if (cache < 0) {
        cache = VFA_IOKIT_CACHE_DEFAULT;
    }
    j->kind = JOB_MAP;
    j->conn = s->conn;
    j->mem_type = type;
    /*
     * Read/write, never executable: IOConnectMapMemory64 maps without
     * execute permission, and kIOMapReadOnly is not set.
     */
    j->map_options = kIOMapAnywhere |
                     (cache == VFA_IOKIT_CACHE_WRITE_COMBINE ?
                      kIOMapWriteCombineCache : kIOMapDefaultCache);
    r = run_job(s, status);
    if (r || *status) {
        return r;
    }
    slot = type == VFA_MEM_IRQ_PAGE ? VFA_NUM_BARS : type - VFA_MEM_BAR0;
    if (!j->addr || !j->size || j->size > IOKIT_MAX_MAP_SIZE ||
        slot > VFA_NUM_BARS || s->maps[slot].ptr) {
        /* Not a mapping we can account for: give it back. */
        if (j->addr) {
            IOConnectUnmapMemory64(s->conn, type, mach_task_self(), j->addr);
        }
        return -EPROTO;
    }
    s->maps[slot] = (struct iokit_map) {
        .ptr = (void *)(uintptr_t)j->addr, .size = j->size, .type = type,
    };
    *ptr = s->maps[slot].ptr;
    *size = j->size;
    if (flags) {
        *flags = bar_flags;
    }
    return 0;
}

static int k_unmap_memory(struct vfa_transport *t, void *ptr, uint64_t size)
{
    struct iokit_transport *s = it_of(t);
    unsigned i;

    for (i = 0; i <= VFA_NUM_BARS; i++) {
        if (s->maps[i].ptr == ptr && s->maps[i].size == size) {
            IOReturn ior = IOConnectUnmapMemory64(s->conn, s->maps[i].type,
                                                  mach_task_self(),
                                                  (mach_vm_address_t)
                                                  (uintptr_t)ptr);

            s->maps[i].ptr = NULL;
            return ior == kIOReturnSuccess ? 0 : -EIO;
        }
    }
    return -EINVAL;
}

/*
 * DMA_MAP names client memory by its address (the dext wraps it with
 * CreateMemoryDescriptorFromClient), so sharing needs no round trip: the
 * DMA view is the range itself.  Only the ABI's alignment is checked, so
 * a misaligned range fails here as it does on the socket transport.
 */
static int k_share_memory(struct vfa_transport *t, void *va, uint64_t len,
                          int fd, uint64_t fd_off, void **dma_va,
                          void **cookie, uint32_t *status)
{
    struct iokit_shared *sh;

    *status = VFA_OK;
    if (is_dead(it_of(t))) {
        return -ENODEV;
    }
    if (!len || len % VFA_PAGE_SIZE || (uintptr_t)va % VFA_PAGE_SIZE) {
        *status = VFA_E_INVAL;
        return 0;
    }
    sh = calloc(1, sizeof(*sh));
    if (!sh) {
        return -ENOMEM;
    }
    sh->va = va;
    sh->len = len;
    *dma_va = va;
    *cookie = sh;
    return 0;
}

static int k_unshare_memory(struct vfa_transport *t, void *cookie,
                            uint32_t *status)
{
    /* The dext's descriptors hold their own reference to the pages. */
    *status = VFA_OK;
    free(cookie);
    return 0;
}

static bool k_behind(struct vfa_transport *t)
{
    return vfa_callq_behind(&it_of(t)->q);
}

static int k_resync(struct vfa_transport *t, unsigned timeout_ms)
{
    struct iokit_transport *s = it_of(t);
    int r;

    if (is_dead(s)) {
        return -ENODEV;
    }
    r = vfa_callq_resync(&s->q, timeout_ms);
    if (!r) {
        drain_conn(s);
    }
    return r;
}

static int k_conn_fd(struct vfa_transport *t)
{
    return it_of(t)->conn_r;
}

/* Runs on the notification queue: everything queued before it is done. */
static void queue_drained(void *ctx)
{
}

static void k_destroy(struct vfa_transport *t)
{
    struct iokit_transport *s = it_of(t);
    unsigned i;

    if (s->interest) {
        IOObjectRelease(s->interest);
    }
    /*
     * No callback may run once s is gone: destroying the port stops new
     * ones, and a round trip through the serial queue waits out any that
     * was already queued or running.
     */
    if (s->port) {
        IONotificationPortDestroy(s->port);
    }
    if (s->queue) {
        dispatch_sync_f(s->queue, NULL, queue_drained);
        dispatch_release(s->queue);
    }
    for (i = 0; i <= VFA_NUM_BARS; i++) {
        if (s->maps[i].ptr) {
            IOConnectUnmapMemory64(s->conn, s->maps[i].type,
                                   mach_task_self(),
                                   (mach_vm_address_t)(uintptr_t)
                                   s->maps[i].ptr);
        }
    }
    /*
     * Closing the connection ends the session in the dext (its client-died
     * cleanup), and lets a call stuck in it return.
     */
    if (s->conn) {
        IOServiceClose(s->conn);
    }
    if (s->service) {
        IOObjectRelease(s->service);
    }
    if (vfa_callq_destroy(&s->q)) {
        free_transport(s);
    }
    /* else the worker frees s when its call returns. */
}

static const struct vfa_transport_ops iokit_ops = {
    .kind = VFA_TRANSPORT_IOKIT,
    .name = "iokit",
    .call = k_call,
    .map_memory = k_map_memory,
    .unmap_memory = k_unmap_memory,
    .share_memory = k_share_memory,
    .unshare_memory = k_unshare_memory,
    .behind = k_behind,
    .resync = k_resync,
    .conn_fd = k_conn_fd,
    .destroy = k_destroy,
};

/* --- lookup --- */

static int nonblocking_pipe(int fds[2])
{
    int i;

    if (pipe(fds)) {
        return -errno;
    }
    for (i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFL, O_NONBLOCK) ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC)) {
            int e = errno;

            close(fds[0]);
            close(fds[1]);
            return -e;
        }
    }
    return 0;
}

static struct iokit_transport *transport_new(char *err, size_t errlen)
{
    struct iokit_transport *s = calloc(1, sizeof(*s));
    int p[2], n[2];

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &iokit_ops;
    s->conn_r = s->conn_w = s->notify_r = s->notify_w = -1;
    pthread_mutex_init(&s->fd_lock, NULL);
    if (nonblocking_pipe(p) || nonblocking_pipe(n)) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        free_transport(s);
        return NULL;
    }
    s->conn_r = p[0];
    s->conn_w = p[1];
    s->notify_r = n[0];
    s->notify_w = n[1];
    if (vfa_callq_init(&s->q, job_run, job_late, free_transport, s,
                       &s->base.stale_replies)) {
        snprintf(err, errlen, "cannot start the IOKit call thread");
        free_transport(s);
        return NULL;
    }
    return s;
}

/* --- the IORegistry, as vfa_iokit_root_port walks it --- */

static uintptr_t reg_parent(void *ctx, uintptr_t obj)
{
    io_registry_entry_t p = IO_OBJECT_NULL;

    if (IORegistryEntryGetParentEntry((io_registry_entry_t)obj,
                                      kIOServicePlane, &p) != KERN_SUCCESS) {
        return 0;
    }
    return p;
}

static bool reg_is_pci_device(void *ctx, uintptr_t obj)
{
    return IOObjectConformsTo((io_object_t)obj, IOKIT_PCI_DEVICE_CLASS);
}

static int reg_name(void *ctx, uintptr_t obj, char *buf, size_t len)
{
    io_name_t name;

    if (IORegistryEntryGetName((io_registry_entry_t)obj, name) !=
        KERN_SUCCESS) {
        return -1;
    }
    name[sizeof(name) - 1] = 0;
    snprintf(buf, len, "%s", name);
    return 0;
}

static int reg_id(void *ctx, uintptr_t obj, uint64_t *id)
{
    return IORegistryEntryGetRegistryEntryID((io_registry_entry_t)obj, id) ==
           KERN_SUCCESS ? 0 : -1;
}

static void reg_release(void *ctx, uintptr_t obj)
{
    IOObjectRelease((io_object_t)obj);
}

static const struct vfa_iokit_registry_ops registry_ops = {
    .parent = reg_parent,
    .is_pci_device = reg_is_pci_device,
    .name = reg_name,
    .registry_id = reg_id,
    .release = reg_release,
};

/*
 * What the dext's GET_IDENTITY says @c serves, completed from the
 * IORegistry: the dext names the function by its registry ID, the root
 * port's name is found above the dext's service @svc.  0, or the walk's
 * error with the reason in @why.
 */
static int locate(io_service_t svc, const struct vfa_identity *id,
                  struct vfa_iokit_candidate *c, char *why, size_t whylen)
{
    char bdf[32], e[192];
    int r;

    vfa_iokit_format_location(&c->loc, bdf, sizeof(bdf));
    if (vfa_iokit_parse_regid(id->location, &c->regid)) {
        snprintf(why, whylen, "the dext's instance for %s (%04x:%04x) "
                 "reports location '%s', not regid:0x<id>", bdf,
                 id->vendor_id, id->device_id, id->location);
        return -EPROTO;
    }
    r = vfa_iokit_root_port(&registry_ops, NULL, svc, c->regid,
                            c->loc.root_port, sizeof(c->loc.root_port), e,
                            sizeof(e));
    if (r) {
        snprintf(why, whylen, "the dext's instance for %s (%04x:%04x): %s",
                 bdf, id->vendor_id, id->device_id, e);
    }
    return r;
}

/*
 * Ask one dext instance what it serves (GET_IDENTITY needs no session, so
 * this does not disturb a VM using it).  Bounded by the setup timeout.
 * An instance whose identity does not check out is refused, with the
 * reason in @why.
 */
static int probe(struct iokit_transport *s, io_service_t svc,
                 io_connect_t conn, struct vfa_iokit_candidate *c, char *why,
                 size_t whylen)
{
    struct vfa_identity id;
    uint32_t status;
    int r;

    r = job_begin(s);
    if (r) {
        return r;
    }
    job_call(s, JOB_CALL, conn, VFA_SEL_GET_IDENTITY, NULL, 0, sizeof(id));
    r = run_job(s, &status);
    if (r || status || s->job.sout_len != sizeof(id)) {
        return r ? r : -EPROTO;
    }
    memcpy(&id, s->job.sout, sizeof(id));
    id.location[sizeof(id.location) - 1] = 0;
    memset(c, 0, sizeof(*c));
    c->loc.domain = id.domain;
    c->loc.bus = id.bus;
    c->loc.dev = id.dev;
    c->loc.fn = id.fn;
    c->vendor_id = id.vendor_id;
    c->device_id = id.device_id;
    return locate(svc, &id, c, why, whylen);
}

/* How long a lookup waits for each dext instance to answer. */
#define IOKIT_PROBE_TIMEOUT_MS 5000

/* Every dext instance, opened and asked what it serves. */
struct lookup {
    struct vfa_iokit_candidate cand[IOKIT_MAX_CANDIDATES];
    io_service_t svc[IOKIT_MAX_CANDIDATES];
    io_connect_t conn[IOKIT_MAX_CANDIDATES];
    size_t n;
    char refused[384];          /* why the first refused instance was */
};

/*
 * Fill @l using @s's worker for the probes (bounded by the probe
 * timeout).  0, or -ENODEV with @err saying why nothing can be listed
 * (no matching, an instance stuck, this process refused).
 */
static int lookup_all(struct iokit_transport *s, struct lookup *l,
                      char *err, size_t errlen)
{
    io_iterator_t iter = IO_OBJECT_NULL;
    io_service_t o;
    kern_return_t kr, open_err = KERN_SUCCESS;
    char why[sizeof(l->refused)];

    l->n = 0;
    l->refused[0] = 0;
    /* The matching dictionary is consumed by the call. */
    kr = IOServiceGetMatchingServices(kIOMainPortDefault,
                                      IOServiceNameMatching(
                                          VFA_IOKIT_SERVICE_NAME),
                                      &iter);
    if (kr != KERN_SUCCESS) {
        snprintf(err, errlen, "IOServiceGetMatchingServices(%s) failed: "
                 "0x%x", VFA_IOKIT_SERVICE_NAME, (unsigned)kr);
        return -ENODEV;
    }
    s->base.timeout_ms = IOKIT_PROBE_TIMEOUT_MS;
    while ((o = IOIteratorNext(iter)) != IO_OBJECT_NULL) {
        io_connect_t c = 0;

        if (l->n == IOKIT_MAX_CANDIDATES) {
            IOObjectRelease(o);
            continue;
        }
        kr = IOServiceOpen(o, mach_task_self(), 0, &c);
        if (kr != KERN_SUCCESS) {
            open_err = kr;
            IOObjectRelease(o);
            continue;
        }
        why[0] = 0;
        if (probe(s, o, c, &l->cand[l->n], why, sizeof(why))) {
            if (!l->refused[0]) {
                snprintf(l->refused, sizeof(l->refused), "%s", why);
            }
            IOServiceClose(c);
            IOObjectRelease(o);
            if (vfa_callq_behind(&s->q)) {
                /* That instance is stuck: its worker cannot be reused. */
                break;
            }
            continue;
        }
        l->svc[l->n] = o;
        l->conn[l->n] = c;
        l->n++;
    }
    IOObjectRelease(iter);
    s->base.timeout_ms = 0;
    if (vfa_callq_behind(&s->q)) {
        snprintf(err, errlen, "a vfio-apple dext instance did not answer "
                 "GET_IDENTITY within %u ms", IOKIT_PROBE_TIMEOUT_MS);
        return -ENODEV;
    }
    if (!l->n && open_err == kIOReturnNotPrivileged) {
        snprintf(err, errlen, "the vfio-apple dext refused this process "
                 "(kIOReturnNotPrivileged): it needs the "
                 "com.apple.developer.driverkit.userclient-access "
                 "entitlement naming the dext (docs/macos-user-guide.md, "
                 "'Signing')");
        return -ENODEV;
    }
    if (!l->n && l->refused[0]) {
        snprintf(err, errlen, "no vfio-apple dext instance could be used: "
                 "%s", l->refused);
        return -ENODEV;
    }
    return 0;
}

/* Close every instance in @l but @keep (-1: all). */
static void lookup_release(struct lookup *l, int keep)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if ((int)i != keep) {
            IOServiceClose(l->conn[i]);
            IOObjectRelease(l->svc[i]);
        }
    }
}

int vfa_iokit_list(struct vfa_iokit_candidate *out, size_t max, size_t *n,
                   char *err, size_t errlen)
{
    struct iokit_transport *s = transport_new(err, errlen);
    struct lookup *l = calloc(1, sizeof(*l));
    int r = -ENOMEM;

    *n = 0;
    if (s && l) {
        r = lookup_all(s, l, err, errlen);
        if (!r) {
            *n = l->n < max ? l->n : max;
            memcpy(out, l->cand, *n * sizeof(*out));
            /* Usable instances listed: say which one was left out. */
            snprintf(err, errlen, "%s", l->refused);
        }
        lookup_release(l, -1);
    }
    if (s) {
        k_destroy(&s->base);
    }
    free(l);
    return r;
}

int vfa_iokit_transport_create(const struct vfa_host_loc *want,
                               struct vfa_transport **out, char *err,
                               size_t errlen)
{
    struct iokit_transport *s = transport_new(err, errlen);
    struct lookup *l = calloc(1, sizeof(*l));
    kern_return_t kr;
    int pick = -ENOMEM;

    if (s && l) {
        pick = lookup_all(s, l, err, errlen);
        if (!pick) {
            pick = vfa_iokit_choose(l->cand, l->n, want, err, errlen);
        }
        if (pick == -ENOENT && l->refused[0]) {
            size_t used = strlen(err);

            /* It may be the one refused: say why. */
            snprintf(err + used, errlen - used, "; refused: %s", l->refused);
        }
        lookup_release(l, pick);
    }
    if (pick < 0) {
        if (s) {
            k_destroy(&s->base);
        }
        free(l);
        return pick == -EEXIST || pick == -EINVAL ? -EINVAL :
               pick == -ENOMEM ? -ENOMEM : -ENODEV;
    }
    s->service = l->svc[pick];
    s->conn = l->conn[pick];
    s->regid = l->cand[pick].regid;
    memcpy(s->root_port, l->cand[pick].loc.root_port, sizeof(s->root_port));
    free(l);

    s->port = IONotificationPortCreate(kIOMainPortDefault);
    s->queue = dispatch_queue_create("org.vfio-apple.iokit",
                                     DISPATCH_QUEUE_SERIAL);
    if (!s->port || !s->queue) {
        snprintf(err, errlen, "cannot create an IOKit notification port");
        k_destroy(&s->base);
        return -ENOMEM;
    }
    IONotificationPortSetDispatchQueue(s->port, s->queue);
    kr = IOServiceAddInterestNotification(s->port, s->service,
                                          kIOGeneralInterest,
                                          service_interest, s, &s->interest);
    if (kr != KERN_SUCCESS) {
        snprintf(err, errlen, "cannot watch the dext's service for "
                 "removal: 0x%x", (unsigned)kr);
        k_destroy(&s->base);
        return -ENODEV;
    }
    *out = &s->base;
    return 0;
}

#else

/* Not macOS: client.c never asks for this transport. */
typedef int vfa_transport_iokit_unused;

#endif
