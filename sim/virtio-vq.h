/*
 * Split virtqueue, device side (virtio 1.2, section 2.7): takes descriptor
 * chains off the available ring and returns them on the used ring.
 *
 * Pure logic over DMA callbacks, like the NVMe PRP walker, so unit tests
 * and fuzzers can drive it with arbitrary memory: every address here is
 * an IOVA the driver wrote, and every ring entry and descriptor is read
 * through the callbacks (the DART, in the simulator), bounded and checked
 * before use.  A hostile driver can make a chain fail or the queue break;
 * it cannot make this code loop, read outside the ring, or overflow.
 *
 * Not thread safe: the model's lock covers a queue.
 */
#ifndef VFIO_APPLE_SIM_VIRTIO_VQ_H
#define VFIO_APPLE_SIM_VIRTIO_VQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VQ_DESC_F_NEXT          1u
#define VQ_DESC_F_WRITE         2u
#define VQ_DESC_F_INDIRECT      4u
#define VQ_AVAIL_F_NO_INTERRUPT 1u

#define VQ_MAX_SIZE             32768u      /* the split ring's limit */
/*
 * Descriptors one chain may have.  The spec only bounds a chain by the
 * queue size; we bound it lower, as devices may (QEMU's virtio caps
 * requests at 1024 segments).  Linux's virtio_net uses at most
 * MAX_SKB_FRAGS + 2 (19) per packet, and one per receive buffer.
 */
#define VQ_MAX_SEGS             64u
/* Bytes one chain may describe in each direction (keeps sums in 32 bits). */
#define VQ_MAX_CHAIN_BYTES      (1u << 20)

/* Device-memory access: 0, or a negative errno (-EFAULT on a DART fault). */
struct vq_io {
    void *opaque;
    int (*read)(void *opaque, uint64_t addr, void *buf, size_t len);
    int (*write)(void *opaque, uint64_t addr, const void *buf, size_t len);
};

struct vq {
    bool     ready;             /* vq_enable() accepted the layout */
    uint16_t size;              /* entries: a power of two */
    uint64_t desc, avail, used; /* ring addresses (IOVAs) */
    uint16_t last_avail;        /* next available-ring index to take */
    uint16_t used_idx;          /* next used-ring index to fill */
    uint16_t signalled_used;    /* used_idx when the driver was last notified */
};

struct vq_seg {
    uint64_t addr;
    uint32_t len;
};

/* A chain taken off the ring: device-readable segments first, then writable. */
struct vq_chain {
    uint16_t head;
    uint16_t ndesc;             /* descriptors walked, empty ones included */
    unsigned nread, nwrite;     /* segments: seg[0..nread) then seg[nread..nread+nwrite) */
    uint32_t read_bytes, write_bytes;
    const char *why;            /* after VQ_E_CHAIN or VQ_E_RING: what was wrong */
    struct vq_seg seg[VQ_MAX_SEGS];
};

enum vq_err {
    VQ_OK = 0,
    /* The chain at c->head is malformed; it was taken off the ring and must
     * still be returned (vq_push with length 0). */
    VQ_E_CHAIN = -1,
    /* The rings cannot be trusted (unreadable, an index out of range, more
     * entries claimed than the ring holds): the queue is broken. */
    VQ_E_RING = -2,
};

/*
 * Checks a layout the driver wrote (queue size, ring addresses and their
 * alignment) and, if sane, makes the queue ready with empty indexes.
 * Returns false, leaving the queue not ready, otherwise.
 */
bool vq_enable(struct vq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used);
void vq_disable(struct vq *q);

/*
 * Entries the driver has made available and the device not yet taken, in
 * *n.  VQ_OK or VQ_E_RING.
 */
int vq_avail(struct vq *q, const struct vq_io *io, uint16_t *n);

/*
 * Takes the next available chain into *c.  Returns 1 with a chain, 0 when
 * the ring is empty, VQ_E_CHAIN (chain consumed, malformed: c->head is set)
 * or VQ_E_RING.
 */
int vq_pop(struct vq *q, const struct vq_io *io, struct vq_chain *c);

/* Returns chain `head` with `len` bytes written by the device.  VQ_OK or VQ_E_RING. */
int vq_push(struct vq *q, const struct vq_io *io, uint16_t head, uint32_t len);

/*
 * After pushes: whether the driver wants an interrupt for them (used
 * entries since the last one, and no VIRTQ_AVAIL_F_NO_INTERRUPT).  Marks
 * them signalled either way.  An unreadable avail ring answers yes.
 */
bool vq_should_notify(struct vq *q, const struct vq_io *io);

/*
 * Copies between buf and a chain's segments: `len` bytes of its readable
 * part from byte `off` on, or into its writable part from its start.
 * 0, or the callback's error.  The caller checks the lengths first.
 */
int vq_chain_read(const struct vq_io *io, const struct vq_chain *c, uint32_t off, void *buf,
                  uint32_t len);
int vq_chain_write(const struct vq_io *io, const struct vq_chain *c, const void *buf,
                   uint32_t len);

#endif
