/*
 * Transport interface of the dext client: how a method call, a memory
 * mapping, shared client memory and the notification reach the dext.
 * client.c implements the API once over these; each host adds one
 * transport file (transport-socket.c here; transport-iokit.c on macOS).
 *
 * Return values: 0 or a negative errno for transport failures: -ENODEV
 * when the connection is gone, -ETIMEDOUT when no reply came within
 * timeout_ms.  A method's own result comes back in *status (enum vfa_err)
 * with the call itself returning 0.
 *
 * Timeouts: an operation that times out leaves the transport owing that
 * reply ("behind").  While behind, every operation first takes whatever
 * late replies have arrived (resync with a zero timeout) and fails with
 * -ETIMEDOUT at once if some are still owed: a late reply must never be
 * taken for the answer to a later request.  On IOKit, where
 * IOConnectCallMethod cannot time out, the transport runs calls on a
 * worker thread and gives up waiting for it in the same way.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFIO_APPLE_CLIENT_TRANSPORT_H
#define VFIO_APPLE_CLIENT_TRANSPORT_H

#include "vfio-apple-client.h"

struct vfa_transport;

struct vfa_call_args {
    uint32_t selector;
    const uint64_t *in;
    uint32_t nin;
    uint64_t *out;              /* VFA_MAX_SCALARS entries */
    uint32_t nout;              /* out: filled */
    void *sout;
    uint32_t sout_len;          /* in: capacity, out: filled */
    uint32_t status;            /* enum vfa_err */
    int fd;                     /* out: an fd the reply carried, or -1 */
};

struct vfa_transport_ops {
    enum vfa_transport_kind kind;
    const char *name;
    int (*call)(struct vfa_transport *t, struct vfa_call_args *a);
    int (*map_memory)(struct vfa_transport *t, uint32_t type, void **ptr,
                      uint64_t *size, uint32_t *flags, uint32_t *status);
    int (*unmap_memory)(struct vfa_transport *t, void *ptr, uint64_t size);
    /* See vfa_share_memory(): *dma_va is what DMA_MAP must name. */
    int (*share_memory)(struct vfa_transport *t, void *va, uint64_t len,
                        int fd, uint64_t fd_off, void **dma_va,
                        void **cookie, uint32_t *status);
    int (*unshare_memory)(struct vfa_transport *t, void *cookie,
                          uint32_t *status);
    /* Optional (socket only): the raw registration messages. */
    int (*register_memory)(struct vfa_transport *t, void *va, uint64_t len,
                           int fd, uint64_t fd_off, uint64_t *id,
                           uint32_t *status);
    int (*unregister_memory)(struct vfa_transport *t, uint64_t id,
                             uint32_t *status);
    /* Optional (simulator only). */
    int (*stats_json)(struct vfa_transport *t, char *buf, size_t len,
                      uint32_t *status);
    /* Does the dext owe replies to calls that timed out? */
    bool (*behind)(struct vfa_transport *t);
    /* Take late replies for up to timeout_ms; 0 once none is owed. */
    int (*resync)(struct vfa_transport *t, unsigned timeout_ms);
    /* Optional: an fd polling POLLHUP/POLLERR once the dext is gone. */
    int (*conn_fd)(struct vfa_transport *t);
    void (*destroy)(struct vfa_transport *t);
};

struct vfa_transport {
    const struct vfa_transport_ops *ops;
    unsigned timeout_ms;        /* 0: wait as long as it takes */
    uint64_t stale_replies;     /* late replies taken and dropped */
};

/* transport-socket.c */
int vfa_socket_transport_create(const char *path, struct vfa_transport **out,
                                char *err, size_t errlen);

#ifdef CONFIG_DARWIN
/*
 * transport-iokit.c: the dext instance serving @want (iokit-match.h).
 * -ENODEV when none does (or the dext is unreachable), -EINVAL when @want
 * is ambiguous; @err says which instances there are.
 */
struct vfa_host_loc;
int vfa_iokit_transport_create(const struct vfa_host_loc *want,
                               struct vfa_transport **out, char *err,
                               size_t errlen);
#endif

#endif
