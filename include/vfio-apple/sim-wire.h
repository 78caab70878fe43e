/*
 * Socket transport of the dext ABI, spoken between the client library and
 * vfio-apple-sim (Linux).  It carries dext-abi.h unchanged; it adds only
 * what IOKit gives a macOS client for free:
 *   - REGISTER_MEM: the simulator cannot see the client's address space, so
 *     the client shares its memory (a memfd) and says at which client VA it
 *     lives.  DMA_MAP's client VA range is translated through these.
 *   - MAP_MEMORY: IOConnectMapMemory64; the reply carries the memory's fd.
 *   - the notification eventfd, attached to NOTIFY_REGISTER's reply.
 *   - STATS_JSON: the simulator's full counters (core, DART, model) as text.
 *
 * Socket: AF_UNIX, SOCK_SEQPACKET (message boundaries kept, connection
 * state visible: a vanished client is a hang-up, not silence).  One request
 * message, one reply message, strictly alternating per connection.  File
 * descriptors travel as SCM_RIGHTS ancillary data, at most one per message.
 * The server accepts only peers with its own uid, or root (SO_PEERCRED),
 * at most 16 connections per peer process, 64 in all; when all 64 are
 * taken a new connection closes the one idle the longest (never the
 * session owner's), so idle connections cannot lock a client out.
 *
 * Shared memory (wire version 1 since the start; these rules tightened it
 * without changing a layout):
 *   - fds the server hands out (MAP_MEMORY) are memfds sealed with
 *     F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL: they cannot be resized.
 *     They belong to the session: the IRQ page is new for every session,
 *     and the BARs move to new memory when a session ends, so a mapping
 *     kept past CLOSE reaches only orphaned memory, never the device.
 *     Map them again after every OPEN.
 *   - memory a client registers (REGISTER_MEM) must carry F_SEAL_SHRINK
 *     (F_GET_SEALS), or it is refused with VFA_E_INVAL: memory that could
 *     shrink under the device would fault the simulator.  QEMU's
 *     memory-backend-memfd seals by default (seal=on).
 *
 * A malformed request (short, bad magic, bad lengths, unexpected fd) gets a
 * reply with status VFA_E_PROTO if the header could be read, and the
 * connection is closed if not; the server never trusts a length it was
 * sent beyond the bytes it actually received.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef VFIO_APPLE_SIM_WIRE_H
#define VFIO_APPLE_SIM_WIRE_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio-apple/dext-abi.h"

#define VFA_SIM_MAGIC           0x56464153u     /* "SAFV" little-endian */
#define VFA_SIM_WIRE_VERSION    1u

enum vfa_sim_msg_type {
    /* A dext method: vfa_sim_call in, vfa_sim_reply out. */
    VFA_SIM_MSG_CALL            = 1,
    /* Client memory for DMA: fd attached; arg[0] client VA, arg[1] length,
     * arg[2] offset in the fd.  VA, length and offset multiples of
     * VFA_PAGE_SIZE (host pages are 16 KiB on the platform we model).
     * Reply scalar[0]: a registration id.  Needs the session (VFA_E_PERM
     * otherwise: registering costs the server address space); ends with
     * it.  Overlapping an existing registration, or an fd not sealed
     * against shrinking (see above), is VFA_E_INVAL; more than 256
     * registrations or more bytes than the server's --max-registered
     * (default 64 GiB) per session is VFA_E_NOSPC. */
    VFA_SIM_MSG_REGISTER_MEM    = 2,
    /* arg[0] registration id.  Fails VFA_E_BUSY while a DMA mapping still
     * uses it (unmapping memory under a live DART mapping is the bug the
     * real platform punishes with a panic). */
    VFA_SIM_MSG_UNREGISTER_MEM  = 3,
    /* arg[0] enum vfa_memory_type.  Reply: fd attached (a sealed memfd,
     * valid for this session only), scalar[0] size, scalar[1] flags
     * (VFA_BAR_* for a BAR). */
    VFA_SIM_MSG_MAP_MEMORY      = 4,
    /* No args; reply struct: JSON text (not NUL-terminated). No session. */
    VFA_SIM_MSG_STATS_JSON      = 5,
};

struct vfa_sim_hdr {
    uint32_t magic;             /* VFA_SIM_MAGIC */
    uint16_t version;           /* VFA_SIM_WIRE_VERSION */
    uint16_t type;              /* enum vfa_sim_msg_type */
    uint32_t seq;               /* echoed in the reply */
    uint32_t _pad;
};

/*
 * Request.  For CALL, `selector` and the scalar inputs are those of the dext
 * method; for the other types `nscalars` and `scalars` are the message's
 * arguments.  struct_len bytes of struct input follow the fixed part; the
 * message length must be exactly sizeof(struct vfa_sim_call) + struct_len.
 * struct_out_max is the caller's struct output capacity (<= VFA_MAX_STRUCT).
 */
struct vfa_sim_call {
    struct vfa_sim_hdr hdr;
    uint32_t selector;
    uint32_t nscalars;          /* <= VFA_MAX_SCALARS */
    uint32_t struct_len;        /* <= VFA_MAX_STRUCT */
    uint32_t struct_out_max;    /* <= VFA_MAX_STRUCT */
    uint64_t scalars[VFA_MAX_SCALARS];
    /* uint8_t struct_in[struct_len]; */
};

/*
 * Reply: status (enum vfa_err), scalar and struct outputs.  struct_len
 * bytes follow; for STATS_JSON up to VFA_SIM_STATS_MAX.
 */
struct vfa_sim_reply {
    struct vfa_sim_hdr hdr;
    uint32_t status;
    uint32_t nscalars;
    uint32_t struct_len;
    uint32_t _pad;
    uint64_t scalars[VFA_MAX_SCALARS];
    /* uint8_t struct_out[struct_len]; */
};

#define VFA_SIM_STATS_MAX       (64u * 1024)
#define VFA_SIM_MAX_REQUEST     (sizeof(struct vfa_sim_call) + VFA_MAX_STRUCT)
#define VFA_SIM_MAX_REPLY       (sizeof(struct vfa_sim_reply) + VFA_SIM_STATS_MAX)

_Static_assert(sizeof(struct vfa_sim_hdr) == 16, "sim hdr layout");
_Static_assert(sizeof(struct vfa_sim_call) == 16 + 16 + 8 * VFA_MAX_SCALARS,
               "sim call layout");
_Static_assert(sizeof(struct vfa_sim_reply) == 16 + 16 + 8 * VFA_MAX_SCALARS,
               "sim reply layout");

/*
 * Send one message with at most one fd (fd < 0: none) as SCM_RIGHTS, the
 * only way either side frames a message.  Returns sendmsg()'s result.
 */
static inline ssize_t vfa_sim_send(int sock, const void *buf, size_t len,
                                   int fd, int flags)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (fd >= 0) {
        struct cmsghdr *c;

        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.b;
        mh.msg_controllen = sizeof(cm.b);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    return sendmsg(sock, &mh, flags);
}

/*
 * Receive one message into buf.  *fd gets the first fd that came with it
 * (-1: none; any others are closed at once), *nfds how many came, and
 * *truncated is set when the message or its fds did not fit.  Returns
 * recvmsg()'s result (fds are taken with MSG_CMSG_CLOEXEC).
 */
static inline ssize_t vfa_sim_recv(int sock, void *buf, size_t len,
                                   int flags, int *fd, unsigned *nfds,
                                   int *truncated)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(4 * sizeof(int))];
    } cm;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = cm.b,
                         .msg_controllen = sizeof(cm.b) };
    ssize_t n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    struct cmsghdr *c;

    *fd = -1;
    *nfds = 0;
    *truncated = 0;
    if (n < 0) {
        return n;
    }
    for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        size_t i, nf = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        for (i = 0; i < nf; i++) {
            int f;

            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if ((*nfds)++ == 0) {
                *fd = f;
            } else {
                close(f);
            }
        }
    }
    *truncated = !!(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
    return n;
}

#endif
