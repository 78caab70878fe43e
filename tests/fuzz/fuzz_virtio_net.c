/*
 * libFuzzer target for the virtio-net model: its virtqueue walker and
 * loopback datapath against rings and descriptors a hostile guest wrote.
 *
 * The model sees a fake host: 64 KiB of "guest memory" at IOVA 0x10000,
 * filled from the input; any DMA outside it faults, as a DART fault would.
 * The model is brought up through its registers as Linux would, both
 * queues over rings inside that memory, then driven synchronously (no
 * device thread): the harness kicks the queues and runs poll passes.
 *
 * Input layout:
 *   byte 0   bits 0-3: log2 of the RX queue size (clamped to 8), bits 4-7: TX
 *   byte 1   poll passes (1..16)
 *   byte 2   bit 0: bus mastering off for the first pass; bit 1: write
 *            `byte 3` into the TX avail index before each pass (racing driver)
 *   byte 3   see above
 *   the rest copied over guest memory from its start: descriptor tables at
 *            0x0000 (RX) and 0x2000 (TX), avail rings at 0x1000 / 0x3000,
 *            used rings at 0x1800 / 0x3800, buffers anywhere
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../sim/virtio-net.h"

#define MEM_BASE    0x10000ull
#define MEM_SIZE    0x10000u

#include "fuzz-mem.h"

static void f_irq(void *o, unsigned v)
{
}

static const struct sim_device_host host = { NULL, f_read, f_write, f_irq };

static void wr(struct sim_device *d, uint64_t off, unsigned w, uint64_t v)
{
    d->ops->mmio_write(d, 0, off, w, v);
}

static void queue(struct sim_device *d, unsigned q, unsigned size, uint64_t base)
{
    wr(d, 0x16, 2, q);
    wr(d, 0x18, 2, size);
    wr(d, 0x20, 8, base);
    wr(d, 0x28, 8, base + 0x1000);
    wr(d, 0x30, 8, base + 0x1800);
    wr(d, 0x1a, 2, q);
    wr(d, 0x1c, 2, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sim_device *d;
    char err[128];

    if (size < 4)
        return 0;
    if (!d && !(d = sim_virtio_net_create(NULL, &host, err, sizeof(err)))) {
        fprintf(stderr, "create: %s\n", err);
        return 0;
    }
    struct vnet *n = (struct vnet *)d;
    unsigned rxlog = data[0] & 15, txlog = data[0] >> 4, passes = 1 + data[1] % 16;

    memset(mem, 0, sizeof(mem));
    memcpy(mem, data + 4, size - 4 < MEM_SIZE ? size - 4 : MEM_SIZE);
    d->ops->reset(d);
    d->ops->config_write(d, 0x04, 2, (data[2] & 1) ? 0x0002 : 0x0006);
    wr(d, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(d, 0x08, 4, 0);
    wr(d, 0x0c, 4, (uint32_t)VNET_FEATURES);
    wr(d, 0x08, 4, 1);
    wr(d, 0x0c, 4, (uint32_t)(VNET_FEATURES >> 32));
    wr(d, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(d, 0x10, 2, 2);
    queue(d, VNET_RXQ, 1u << (rxlog > 8 ? 8 : rxlog), MEM_BASE);
    queue(d, VNET_TXQ, 1u << (txlog > 8 ? 8 : txlog), MEM_BASE + 0x2000);
    wr(d, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);

    for (unsigned p = 0; p < passes; p++) {
        if (p == 1)
            d->ops->config_write(d, 0x04, 2, 0x0006);
        if (data[2] & 2)
            mem[0x3002] = (uint8_t)(mem[0x3002] + data[3]);
        for (unsigned q = 0; q < VNET_NUM_QUEUES; q++)
            __atomic_store_n((volatile uint16_t *)(n->notify + q * VNET_NOTIFY_MULT),
                             (uint16_t)q, __ATOMIC_RELEASE);
        pthread_mutex_lock(&n->lock);
        vnet_poll_locked(n);
        pthread_mutex_unlock(&n->lock);
    }
    return 0;
}
