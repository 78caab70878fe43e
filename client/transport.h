/*
 * Transport interface of the dext client: how a method call, a memory
 * mapping and the notification reach the dext.  client.c implements the
 * API once over these; each host adds one transport file.
 *
 * Return values: 0 or a negative errno for transport failures (the
 * connection is gone: -ENODEV).  A method's own result comes back in
 * *status (enum vfa_err) with the call itself returning 0.
 */
#ifndef VFIO_APPLE_CLIENT_TRANSPORT_H
#define VFIO_APPLE_CLIENT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

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
    const char *name;
    int  (*call)(struct vfa_transport *t, struct vfa_call_args *a);
    int  (*map_memory)(struct vfa_transport *t, uint32_t type, void **ptr, uint64_t *size,
                       uint32_t *flags, uint32_t *status);
    int  (*unmap_memory)(struct vfa_transport *t, void *ptr, uint64_t size);
    int  (*register_memory)(struct vfa_transport *t, void *va, uint64_t len, int fd,
                            uint64_t fd_off, uint64_t *id, uint32_t *status);
    int  (*unregister_memory)(struct vfa_transport *t, uint64_t id, uint32_t *status);
    int  (*stats_json)(struct vfa_transport *t, char *buf, size_t len, uint32_t *status);
    /* Optional: an fd that polls POLLHUP/POLLERR once the dext is gone. */
    int  (*conn_fd)(struct vfa_transport *t);
    void (*destroy)(struct vfa_transport *t);
};

struct vfa_transport {
    const struct vfa_transport_ops *ops;
};

/* transport-socket.c */
int vfa_socket_transport_create(const char *path, struct vfa_transport **out,
                                char *err, size_t errlen);

#endif
