/*
 * vfio-apple dext client: the C API a client (QEMU's vfio-apple-pci, tests,
 * tools) uses to drive one host device through the dext.
 *
 * Plain C and libc only, so it compiles unchanged into QEMU and into the
 * test programs.  Transports sit behind it: the UNIX-socket transport to
 * vfio-apple-sim (Linux, here) and the IOKit transport to the DriverKit
 * extension (macOS, later); nothing above this header changes between them.
 *
 * Errors: every function returns 0 (or a non-negative value where said) or
 * a negative errno; vfa_client_errmsg() then says what failed and why.  A
 * lost connection (simulator died, dext crashed or device unplugged) is
 * -ENODEV, and stays so.
 *
 * Threads: a client may be used from several threads, one call at a time
 * per client (a mutex serialises them).  vfa_client_errmsg() is meaningful
 * to the thread that made the failed call until that client's next call.
 * The IRQ page and BAR mappings are plain memory: use them from any thread
 * without calls.
 */
#ifndef VFIO_APPLE_CLIENT_H
#define VFIO_APPLE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio-apple/dext-abi.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vfa_client;

/*
 * Connect to a device.  `target` names it by transport:
 *   "unix:PATH" or a PATH containing '/'   vfio-apple-sim's socket
 *   (macOS, later) "iokit:..."              a dext service
 * On failure returns a negative errno and writes a message into err.
 * Connecting does not open the session (several clients may connect; one
 * at a time may open).
 */
int vfa_client_connect(const char *target, struct vfa_client **out, char *err, size_t errlen);
/* Unmaps nothing the caller mapped; closes the session if open. */
void vfa_client_disconnect(struct vfa_client *c);
const char *vfa_client_errmsg(const struct vfa_client *c);
const char *vfa_client_transport(const struct vfa_client *c);

/* --- methods (dext-abi.h describes each) --- */
int vfa_get_version(struct vfa_client *c, uint32_t *major, uint32_t *minor, uint64_t *features);
int vfa_get_identity(struct vfa_client *c, struct vfa_identity *id);
int vfa_get_stats(struct vfa_client *c, struct vfa_stats *st);

/* -EBUSY if another client holds the device. */
int vfa_session_open(struct vfa_client *c);
int vfa_session_close(struct vfa_client *c);

int vfa_config_read(struct vfa_client *c, uint32_t off, unsigned width, uint32_t *val);
/* Any length; split into VFA_MAX_STRUCT calls.  off, len multiples of 4. */
int vfa_config_read_block(struct vfa_client *c, uint32_t off, void *buf, uint32_t len);
/* *forwarded (may be NULL): bit i set if byte off+i reached the device. */
int vfa_config_write(struct vfa_client *c, uint32_t off, unsigned width, uint32_t val,
                     uint32_t *forwarded);

struct vfa_bar_info {
    uint32_t flags;             /* VFA_BAR_* (0: no BAR) */
    uint32_t memory_index;
    uint64_t size;
    uint64_t trapped_pages;     /* 16 KiB pages to access via MMIO calls */
};
int vfa_bar_info(struct vfa_client *c, unsigned bar, struct vfa_bar_info *bi);
int vfa_mmio_read(struct vfa_client *c, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
int vfa_mmio_write(struct vfa_client *c, unsigned bar, uint64_t off, unsigned width, uint64_t val);

int vfa_irq_setup(struct vfa_client *c, uint32_t type, uint32_t count);
int vfa_irq_enable(struct vfa_client *c, uint32_t first, uint32_t count, bool enable);

/* allowed: VFA_RESET_* bits, 0 = any; *used: the one that worked. */
int vfa_reset(struct vfa_client *c, uint32_t allowed, uint32_t *used);

/* Map [va, va+len) of this process for device DMA.  On the socket
 * transport the range must lie in memory registered below. */
int vfa_dma_map(struct vfa_client *c, const void *va, uint64_t len, uint32_t flags,
                struct vfa_dma_map_out *out);
int vfa_dma_unmap(struct vfa_client *c, uint64_t handle);

/* Any length; split into VFA_MAX_STRUCT calls. */
int vfa_rom_read(struct vfa_client *c, uint64_t off, void *buf, uint64_t len);

/* --- shared memory and notification --- */

/*
 * Map a memory type (VFA_MEM_BAR(n), VFA_MEM_IRQ_PAGE) read/write, never
 * executable.  *flags (may be NULL) gets the BAR's VFA_BAR_* flags.
 */
int vfa_map_memory(struct vfa_client *c, uint32_t type, void **ptr, uint64_t *size,
                   uint32_t *flags);
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
 * Client memory the dext may DMA to.  On the socket transport the
 * simulator cannot see this process, so memory must be a shared fd (memfd)
 * mapped at va; va, len and fd_off multiples of VFA_PAGE_SIZE.  On macOS
 * this is a no-op (the dext wraps the caller's own address space).
 */
int vfa_register_memory(struct vfa_client *c, void *va, uint64_t len, int fd,
                        uint64_t fd_off, uint64_t *id);
int vfa_unregister_memory(struct vfa_client *c, uint64_t id);

/*
 * A file descriptor to poll (no events needed) that reports POLLHUP or
 * POLLERR once the connection to the dext is lost (simulator died, dext
 * crashed), so a client notices between calls.  The fd belongs to the
 * client: do not read, write or close it.  -ENOTSUP if the transport has
 * none (then a lost connection shows as -ENODEV on the next call).
 */
int vfa_client_conn_fd(struct vfa_client *c);

/* Simulator only: its full counters as JSON (NUL-terminated). -ENOTSUP elsewhere. */
int vfa_sim_stats_json(struct vfa_client *c, char *buf, size_t len);

/*
 * IRQ page helper: take the pending interrupts of enabled vectors in word w
 * (vectors 64w..64w+63), leaving latched interrupts of disabled vectors in
 * place (the protocol in dext-abi.h).  Returns the bits taken.
 */
static inline uint64_t vfa_irq_take(struct vfa_irq_page *p, unsigned w)
{
    uint64_t en = __atomic_load_n(&p->enabled[w], __ATOMIC_SEQ_CST);

    if (!en)
        return 0;
    return __atomic_fetch_and(&p->pending[w], ~en, __ATOMIC_SEQ_CST) & en;
}

static inline uint64_t vfa_irq_take_events(struct vfa_irq_page *p)
{
    return __atomic_exchange_n(&p->events, 0, __ATOMIC_SEQ_CST);
}

#ifdef __cplusplus
}
#endif

#endif
