/*
 * The virtio-net model's datapath: a loopback wire.  Every frame the driver
 * puts on transmitq1 comes back on receiveq1, byte for byte, with a
 * virtio_net_hdr that claims nothing (no offloads are negotiated, so the
 * transmit header carries nothing to act on either).
 *
 * The wire never drops a frame for lack of a receive buffer: a frame waits
 * on the transmit ring, untaken, until the driver posts one (a NIC with
 * flow control would push back the same way).  So a driver that stops
 * refilling stalls its own transmit queue, and nothing else.  Frames that
 * cannot be carried (malformed chains, too short, too long, a receive
 * buffer too small) are counted and completed with length 0.
 *
 * The DMA pattern this gives a guest is the one NVMe does not: the
 * driver's receive buffers are long-lived streaming mappings it refills
 * one by one, and every transmitted frame is a fresh small mapping
 * unmapped on completion.
 */
#include "virtio-net.h"

#include <string.h>

#define HDR_NUM_BUFFERS 10      /* offset of num_buffers in virtio_net_hdr */

static bool broken(const struct vnet *n)
{
    return n->status & VIRTIO_STATUS_NEEDS_RESET;
}

static void complete(struct vnet *n, struct vnet_queue *q, uint16_t head, uint32_t len)
{
    if (vq_push(&q->vq, &n->io, head, len))
        vnet_broken_locked(n, "used ring unwritable");
}

/* The frame in n->frame (after its header room) into the next receive buffer. */
static void deliver(struct vnet *n, uint32_t flen)
{
    struct vnet_queue *rq = &n->q[VNET_RXQ];
    struct vq_chain c;
    int r = vq_pop(&rq->vq, &n->io, &c);

    if (r == VQ_E_RING) {
        vnet_broken_locked(n, c.why);
        return;
    }
    if (r == 0) {               /* the driver took its buffer back?  Cannot happen */
        n->st.rx_dropped++;
        return;
    }
    n->st.rx_descs += c.ndesc;
    if (r == VQ_E_CHAIN || c.nread || c.write_bytes < VNET_HDR_LEN + flen) {
        n->last_error = r == VQ_E_CHAIN ? c.why : "receive buffer too small or not writable";
        n->st.rx_errors++;
        n->st.rx_dropped++;
        complete(n, rq, c.head, 0);
        return;
    }
    /* No offloads, no merged buffers: an all-zero header with num_buffers 1. */
    memset(n->frame, 0, VNET_HDR_LEN);
    n->frame[HDR_NUM_BUFFERS] = 1;
    if (vq_chain_write(&n->io, &c, n->frame, VNET_HDR_LEN + flen)) {
        n->st.dma_faults++;
        n->st.rx_dropped++;
        complete(n, rq, c.head, 0);
        return;
    }
    complete(n, rq, c.head, VNET_HDR_LEN + flen);
    n->st.frames_rx++;
    n->st.bytes_rx += flen;
}

/* Whether a receive buffer is waiting; false also when the RX ring broke. */
static bool rx_ready(struct vnet *n)
{
    struct vnet_queue *rq = &n->q[VNET_RXQ];
    uint16_t avail;

    if (!rq->enabled)
        return false;
    if (vq_avail(&rq->vq, &n->io, &avail)) {
        vnet_broken_locked(n, "receive ring index out of range or unreadable");
        return false;
    }
    return avail > 0;
}

/* One transmit chain taken: carried to the receive queue or failed.  Returns 1. */
static unsigned transmit_one(struct vnet *n, struct vnet_queue *tq, int r, struct vq_chain *c)
{
    n->st.tx_descs += c->ndesc;
    if (r == VQ_E_CHAIN || c->nwrite || c->read_bytes < VNET_HDR_LEN + VNET_ETH_HLEN ||
        c->read_bytes - VNET_HDR_LEN > VNET_MAX_FRAME) {
        n->last_error = r == VQ_E_CHAIN ? c->why : "transmit chain of a bad size or writable";
        n->st.tx_errors++;
        complete(n, tq, c->head, 0);
        return 1;
    }
    uint32_t flen = c->read_bytes - VNET_HDR_LEN;
    if (vq_chain_read(&n->io, c, VNET_HDR_LEN, n->frame + VNET_HDR_LEN, flen)) {
        n->st.dma_faults++;
        n->st.tx_errors++;
        complete(n, tq, c->head, 0);
        return 1;
    }
    n->st.frames_tx++;
    n->st.bytes_tx += flen;
    deliver(n, flen);
    /* Transmit buffers are only read: 0 bytes written (section 2.7.8). */
    if (!broken(n))
        complete(n, tq, c->head, 0);
    return 1;
}

unsigned vnet_loop_locked(struct vnet *n)
{
    struct vnet_queue *tq = &n->q[VNET_TXQ];
    unsigned done = 0;

    n->tx_pending = false;
    if (!tq->enabled)
        return 0;
    while (done < VNET_TX_BURST && !broken(n)) {
        struct vq_chain c;
        uint16_t avail;

        if (vq_avail(&tq->vq, &n->io, &avail)) {
            vnet_broken_locked(n, "transmit ring index out of range or unreadable");
            return done;
        }
        if (!avail)
            return done;
        if (!rx_ready(n)) {
            /* Hold the frame on the ring until a receive buffer comes. */
            n->tx_pending = !broken(n);
            n->st.tx_stalls++;
            return done;
        }
        int r = vq_pop(&tq->vq, &n->io, &c);
        if (r == VQ_E_RING) {
            vnet_broken_locked(n, c.why);
            return done;
        }
        done += transmit_one(n, tq, r, &c);
    }
    /* The burst ran out with frames left: the next pass goes on. */
    n->tx_pending = !broken(n);
    return done;
}
