/*
 * vfio-apple dext client: the C API a client (QEMU's vfio-apple-pci, the
 * tests, the tools) uses to drive one host device through the dext.
 *
 * The same source builds inside QEMU (with QEMU's qemu/osdep.h and
 * QemuMutex) and outside it (client/compat/ stands in for those two
 * headers), so the tests exercise exactly the code QEMU runs.  Transports
 * sit behind it (transport.h): the UNIX-socket transport to vfio-apple-sim
 * on Linux, and the IOKit transport to the DriverKit extension on macOS.
 * Nothing above this header changes between them.
 *
 * Errors: every function returns 0 (or a non-negative value where said) or
 * a negative errno; vfa_client_errmsg() then says what failed and why.  A
 * lost connection (simulator died, dext crashed, device unplugged) is
 * -ENODEV, and stays so.
 *
 * Timeouts: with vfa_client_set_timeout(), no call waits longer than the
 * timeout for the dext; it fails with -ETIMEDOUT instead.  The client is
 * then "behind": the dext still owes the replies of the calls that timed
 * out, and every call fails at once with -ETIMEDOUT (no waiting) until
 * vfa_client_resync() (or a later call) finds those replies arrived.  A
 * call that timed out may still have taken effect in the dext.
 *
 * Threads: a client may be used from several threads, one call at a time
 * per client (a mutex serialises them).  vfa_client_errmsg() is meaningful
 * to the thread that made the failed call until that client's next call.
 * The IRQ page and BAR mappings are plain memory: use them from any thread
 * without calls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFIO_APPLE_CLIENT_H
#define VFIO_APPLE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "vfio-apple/dext-abi.h"


struct vfa_client;

/* --- connecting --- */

/*
 * Connect to vfio-apple-sim's socket at @path.  On failure returns a
 * negative errno and writes a message into @err.  Connecting does not open
 * the session: several clients may connect, one at a time may open.
 */
int vfa_client_connect_socket(const char *path, struct vfa_client **out,
                              char *err, size_t errlen);

/*
 * Connect to the dext serving the host PCI function @domain:@bus:@dev.@fn
 * below root port @root_port (may be NULL: any; Apple Silicon reuses bus
 * numbers across root ports, so an ambiguous match is refused with the
 * candidates listed).  IOKit transport only: -ENOTSUP elsewhere.
 */
int vfa_client_connect_device(uint32_t domain, uint8_t bus, uint8_t dev,
                              uint8_t fn, const char *root_port,
                              struct vfa_client **out, char *err,
                              size_t errlen);

/*
 * For tools: "unix:PATH", or a PATH containing '/', names a socket;
 * "pci:[domain:]bus:dev.fn[@root-port]" a host device (IOKit transport).
 */
int vfa_client_connect(const char *target, struct vfa_client **out,
                       char *err, size_t errlen);

/* Unmaps nothing the caller mapped; closes the session if open. */
void vfa_client_disconnect(struct vfa_client *c);
const char *vfa_client_errmsg(const struct vfa_client *c);

enum vfa_transport_kind {
    VFA_TRANSPORT_SOCKET,       /* vfio-apple-sim over a UNIX socket */
    VFA_TRANSPORT_IOKIT,        /* the DriverKit extension (macOS) */
};
enum vfa_transport_kind vfa_client_transport(const struct vfa_client *c);
const char *vfa_client_transport_name(const struct vfa_client *c);

/* --- timeouts --- */

/* 0 (the default): wait for every reply as long as it takes. */
void vfa_client_set_timeout(struct vfa_client *c, unsigned timeout_ms);
/*
 * Wait up to @timeout_ms for the replies the dext owes.  0: in step again
 * (or never behind); -ETIMEDOUT: still behind; -ENODEV: connection lost.
 */
int vfa_client_resync(struct vfa_client *c, unsigned timeout_ms);
bool vfa_client_behind(struct vfa_client *c);

/* --- counters --- */

/*
 * What the client did, by kind: the dext's selectors, then the transport's
 * own operations.  Every round trip to the dext is counted here once.
 */
enum {
    VFA_CLIENT_OP_MAP_MEMORY = VFA_SEL_COUNT,
    VFA_CLIENT_OP_SHARE_MEMORY,
    VFA_CLIENT_OP_UNSHARE_MEMORY,
    VFA_CLIENT_OP_STATS_JSON,
    VFA_CLIENT_OP_COUNT,
};

struct vfa_client_stats {
    uint64_t calls[VFA_CLIENT_OP_COUNT];    /* round trips, by kind */
    uint64_t round_trips;       /* all of the above */
    uint64_t errors;            /* calls that failed (dext or transport) */
    uint64_t timeouts;          /* calls that waited the whole timeout */
    uint64_t fast_failures;     /* calls refused at once while behind */
    uint64_t stale_replies;     /* late replies discarded on resync */
    uint64_t wait_ns_total;     /* time spent waiting for replies */
    uint64_t wait_ns_max;
};

void vfa_client_get_stats(struct vfa_client *c, struct vfa_client_stats *st);
/* The name of a kind (a method of the ABI, or the transport's). */
const char *vfa_client_op_name(unsigned kind);

/* --- methods (dext-abi.h describes each) --- */

int vfa_get_version(struct vfa_client *c, uint32_t *major, uint32_t *minor,
                    uint64_t *features);
int vfa_get_identity(struct vfa_client *c, struct vfa_identity *id);
int vfa_get_stats(struct vfa_client *c, struct vfa_stats *st);

/* -EBUSY if another client holds the device. */
int vfa_session_open(struct vfa_client *c);
int vfa_session_close(struct vfa_client *c);

int vfa_config_read(struct vfa_client *c, uint32_t off, unsigned width,
                    uint32_t *val);
/* Any length; split into VFA_MAX_STRUCT calls.  off, len multiples of 4. */
int vfa_config_read_block(struct vfa_client *c, uint32_t off, void *buf,
                          uint32_t len);
/* *forwarded (may be NULL): bit i set if byte off+i reached the device. */
int vfa_config_write(struct vfa_client *c, uint32_t off, unsigned width,
                     uint32_t val, uint32_t *forwarded);
/*
 * The same, and *now (may be NULL) gets what a read of the register
 * returns after the write.  Returns 1 with *now set, 0 if the dext is too
 * old to say (ABI 1.0), or a negative errno.
 */
int vfa_config_write_readback(struct vfa_client *c, uint32_t off,
                              unsigned width, uint32_t val,
                              uint32_t *forwarded, uint32_t *now);

struct vfa_bar_info {
    uint32_t flags;             /* VFA_BAR_* (0: no BAR) */
    uint32_t memory_index;
    uint64_t size;
    uint64_t trapped_pages;     /* 16 KiB pages to access via MMIO calls */
};
int vfa_bar_info(struct vfa_client *c, unsigned bar, struct vfa_bar_info *bi);
int vfa_mmio_read(struct vfa_client *c, unsigned bar, uint64_t off,
                  unsigned width, uint64_t *val);
int vfa_mmio_write(struct vfa_client *c, unsigned bar, uint64_t off,
                   unsigned width, uint64_t val);

int vfa_irq_setup(struct vfa_client *c, uint32_t type, uint32_t count);
int vfa_irq_enable(struct vfa_client *c, uint32_t first, uint32_t count,
                   bool enable);

/* @allowed: VFA_RESET_* bits, 0 = any; *used: the one that worked. */
int vfa_reset(struct vfa_client *c, uint32_t allowed, uint32_t *used);

/*
 * Map [va, va + len) for device DMA.  va must lie in memory shared with
 * vfa_share_memory(), named by its DMA view (vfa_shared_mem_dma_va()).
 * The reply is checked: 1..VFA_MAX_DMA_SEGMENTS segments, none empty,
 * none wrapping, their lengths adding up to len.
 */
int vfa_dma_map(struct vfa_client *c, const void *va, uint64_t len,
                uint32_t flags, struct vfa_dma_map_out *out);
int vfa_dma_unmap(struct vfa_client *c, uint64_t handle);

/* Any length; split into VFA_MAX_STRUCT calls. */
int vfa_rom_read(struct vfa_client *c, uint64_t off, void *buf, uint64_t len);

/* --- shared memory and notification --- */

/*
 * Map a memory type (VFA_MEM_BAR(n), VFA_MEM_IRQ_PAGE) read/write, never
 * executable.  *flags (may be NULL) gets the BAR's VFA_BAR_* flags.
 */
int vfa_map_memory(struct vfa_client *c, uint32_t type, void **ptr,
                   uint64_t *size, uint32_t *flags);
int vfa_unmap_memory(struct vfa_client *c, void *ptr, uint64_t size);

/*
 * The notification file descriptor: readable when the IRQ page has news
 * (interrupts on enabled vectors, events).  Registers on first call; the fd
 * belongs to the client (do not close it).  vfa_notify_ack() consumes the
 * readiness; call it before scanning the page, so nothing falls between.
 */
int vfa_notify_fd(struct vfa_client *c);
int vfa_notify_ack(struct vfa_client *c);

/*
 * Client memory the device may DMA to, the same way on every transport.
 * [va, va + len) of this process, backed by @fd at @fd_off (a memfd sealed
 * against shrinking: the socket transport shares it with the simulator,
 * which cannot see this process; IOKit wraps the range itself and ignores
 * the fd).  DMA_MAP then names the memory by its DMA view,
 * vfa_shared_mem_dma_va(): on the socket transport a 16 KiB-aligned second
 * mapping of the same pages (the platform's page size; the build host may
 * only align to 4 KiB), on IOKit va itself.  fd_off and len must be
 * multiples of VFA_PAGE_SIZE.
 */
struct vfa_shared_mem;
int vfa_share_memory(struct vfa_client *c, void *va, uint64_t len, int fd,
                     uint64_t fd_off, struct vfa_shared_mem **out);
void *vfa_shared_mem_dma_va(const struct vfa_shared_mem *m);
/* Fails -EBUSY while a DMA mapping still uses the memory. */
int vfa_unshare_memory(struct vfa_client *c, struct vfa_shared_mem *m);

/*
 * A file descriptor to poll that reports POLLHUP or POLLERR once the
 * connection to the dext is lost (simulator died, dext crashed), and
 * POLLIN while late replies wait to be taken by vfa_client_resync().  The
 * fd belongs to the client: do not read, write or close it.  -ENOTSUP if
 * the transport has none.
 */
int vfa_client_conn_fd(struct vfa_client *c);

/* Simulator only: its counters as JSON (NUL-terminated).  -ENOTSUP else. */
int vfa_sim_stats_json(struct vfa_client *c, char *buf, size_t len);

/* Socket transport only (tests): the raw memory registration messages. */
int vfa_register_memory(struct vfa_client *c, void *va, uint64_t len, int fd,
                        uint64_t fd_off, uint64_t *id);
int vfa_unregister_memory(struct vfa_client *c, uint64_t id);

/*
 * IRQ page helper: take the pending interrupts of enabled vectors in word
 * @w (vectors 64w..64w+63), leaving latched interrupts of disabled vectors
 * in place (the protocol in dext-abi.h).  Returns the bits taken.
 */
static inline uint64_t vfa_irq_take(struct vfa_irq_page *p, unsigned w)
{
    uint64_t en = __atomic_load_n(&p->enabled[w], __ATOMIC_SEQ_CST);

    if (!en) {
        return 0;
    }
    return __atomic_fetch_and(&p->pending[w], ~en, __ATOMIC_SEQ_CST) & en;
}

static inline uint64_t vfa_irq_take_events(struct vfa_irq_page *p)
{
    return __atomic_exchange_n(&p->events, 0, __ATOMIC_SEQ_CST);
}


#endif
