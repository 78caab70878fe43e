/*
 * BAR0 of the virtio-net model and the device thread that runs it.
 *
 * Page 0 is trapped (vnet_mmio_read/write): the common configuration
 * (section 4.1.4.3), the ISR (4.1.4.5), the device configuration (5.1.4)
 * and the MSI-X table.  Its registers need a device that answers at once:
 * a driver writes device_feature_select and reads device_feature straight
 * after, writes a queue's MSI-X vector and reads it back to see whether
 * the device took it, writes 0 to device_status and expects a reset.
 *
 * Page 1 is shared memory holding the notify words.  The driver writes a
 * queue index there to kick a queue, as a guest writes a real BAR through
 * its stage-2 mapping, with no trap; the device thread swaps each word
 * back to VNET_NOTIFY_IDLE every pass, so a kick is never lost: a write
 * lands either before the swap (seen now) or after it (seen next pass).
 */
#include "virtio-net.h"
#include "pci-config.h"

#include <string.h>

/* Common configuration offsets (struct virtio_pci_common_cfg). */
enum {
    CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
    CC_MSIX = 0x10, CC_NUMQ = 0x12, CC_STATUS = 0x14, CC_CFGGEN = 0x15,
    CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c,
    CC_Q_NOFF = 0x1e, CC_Q_DESC = 0x20, CC_Q_DRIVER = 0x28, CC_Q_DEVICE = 0x30,
};

static const struct { uint8_t off, len; } cc_fields[] = {
    { CC_DFSELECT, 4 }, { CC_DF, 4 }, { CC_GFSELECT, 4 }, { CC_GF, 4 },
    { CC_MSIX, 2 }, { CC_NUMQ, 2 }, { CC_STATUS, 1 }, { CC_CFGGEN, 1 },
    { CC_Q_SELECT, 2 }, { CC_Q_SIZE, 2 }, { CC_Q_MSIX, 2 }, { CC_Q_ENABLE, 2 },
    { CC_Q_NOFF, 2 }, { CC_Q_DESC, 8 }, { CC_Q_DRIVER, 8 }, { CC_Q_DEVICE, 8 },
};

static struct vnet_queue *selected(struct vnet *n)
{
    return n->queue_select < VNET_NUM_QUEUES ? &n->q[n->queue_select] : NULL;
}

static void put64(uint8_t *b, unsigned off, uint64_t v)
{
    sim_put32(b, off, (uint32_t)v);
    sim_put32(b, off + 4, (uint32_t)(v >> 32));
}

/* The common configuration as the driver would read it now. */
static void common_render(struct vnet *n, uint8_t *b)
{
    const struct vnet_queue *q = selected(n);
    uint32_t df = n->dev_feature_select == 0 ? (uint32_t)VNET_FEATURES
                : n->dev_feature_select == 1 ? (uint32_t)(VNET_FEATURES >> 32) : 0;
    uint32_t gf = n->drv_feature_select < 2 ?
                  (uint32_t)(n->drv_features >> (32 * n->drv_feature_select)) : 0;

    memset(b, 0, VNET_COMMON_LEN);
    sim_put32(b, CC_DFSELECT, n->dev_feature_select);
    sim_put32(b, CC_DF, df);
    sim_put32(b, CC_GFSELECT, n->drv_feature_select);
    sim_put32(b, CC_GF, gf);
    sim_put16(b, CC_MSIX, n->msix_config);
    sim_put16(b, CC_NUMQ, VNET_NUM_QUEUES);
    sim_put8(b, CC_STATUS, n->status);
    sim_put8(b, CC_CFGGEN, n->config_generation);
    sim_put16(b, CC_Q_SELECT, n->queue_select);
    /* A queue that does not exist reads as size 0 (section 4.1.4.3). */
    if (q) {
        sim_put16(b, CC_Q_SIZE, q->size);
        sim_put16(b, CC_Q_MSIX, q->msix_vector);
        sim_put16(b, CC_Q_ENABLE, q->enabled);
        sim_put16(b, CC_Q_NOFF, n->queue_select);
        put64(b, CC_Q_DESC, q->desc);
        put64(b, CC_Q_DRIVER, q->driver);
        put64(b, CC_Q_DEVICE, q->device);
    }
}

/* A vector the device can use, else NO_VECTOR: how a driver learns it was refused. */
static uint16_t vector_or_none(const struct vnet *n, uint64_t v)
{
    return v < n->vectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

void vnet_notify_init(struct vnet *n)
{
    for (unsigned q = 0; q < VNET_NUM_QUEUES; q++)
        __atomic_store_n((volatile uint32_t *)(n->notify + q * VNET_NOTIFY_MULT),
                         VNET_NOTIFY_IDLE, __ATOMIC_RELEASE);
}

/* Device reset (device_status 0, or part of FLR): section 2.4. */
void vnet_device_reset_locked(struct vnet *n)
{
    n->dev_feature_select = n->drv_feature_select = 0;
    n->drv_features = 0;
    n->msix_config = VIRTIO_MSI_NO_VECTOR;
    n->queue_select = 0;
    n->status = 0;
    n->isr = 0;
    n->tx_pending = false;
    for (unsigned i = 0; i < VNET_NUM_QUEUES; i++) {
        n->q[i] = (struct vnet_queue){ .size = VNET_QUEUE_MAX, .msix_vector = VIRTIO_MSI_NO_VECTOR };
        vq_disable(&n->q[i].vq);
    }
    if (n->notify)
        vnet_notify_init(n);
}

/*
 * Something the driver set up cannot be trusted (a ring index out of
 * range, a ring the device cannot reach): stop, set DEVICE_NEEDS_RESET and
 * tell the driver with a configuration change notification (section 2.1.2).
 * Nothing more happens on the queues until the driver resets the device.
 */
void vnet_broken_locked(struct vnet *n, const char *why)
{
    if (n->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    n->status |= VIRTIO_STATUS_NEEDS_RESET;
    n->config_generation++;
    n->st.ring_errors++;
    n->last_error = why;
    if (n->msix_config != VIRTIO_MSI_NO_VECTOR) {
        n->st.irqs++;
        n->host->irq(n->host->opaque, n->msix_config);
    }
}

static void set_status(struct vnet *n, uint8_t v)
{
    uint8_t old = n->status;

    if (!v) {
        vnet_device_reset_locked(n);
        n->st.device_resets++;
        return;
    }
    /*
     * FEATURES_OK is where the device accepts or refuses the driver's
     * features (section 3.1.1): it reads back clear when refused.  We
     * refuse a driver without ACCESS_PLATFORM: it would hand us guest
     * physical addresses, not IOVAs, and every one would be a DART fault.
     */
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        uint64_t need = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_ACCESS_PLATFORM;
        if ((n->drv_features & ~VNET_FEATURES) || (n->drv_features & need) != need) {
            v &= ~VIRTIO_STATUS_FEATURES_OK;
            n->st.features_refused++;
            n->last_error = "driver features refused (VERSION_1 and ACCESS_PLATFORM are required)";
        }
    }
    /* NEEDS_RESET is the device's to set and only a reset clears it. */
    n->status = (v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
}

static void queue_enable(struct vnet *n, struct vnet_queue *q)
{
    if (q->enabled)
        return;             /* only a reset disables a queue (no VIRTIO_F_RING_RESET) */
    /* The driver may shrink a queue, never grow it past what we offered. */
    if (q->size > VNET_QUEUE_MAX || !vq_enable(&q->vq, q->size, q->desc, q->driver, q->device)) {
        vnet_broken_locked(n, "queue enabled with a bad size or ring address");
        return;
    }
    q->enabled = true;
}

static void common_field_write(struct vnet *n, unsigned off, const uint8_t *b)
{
    struct vnet_queue *q = selected(n);
    uint64_t v = off >= CC_Q_DESC ? sim_get(b, off, 4) | (uint64_t)sim_get(b, off + 4, 4) << 32
               : off == CC_STATUS ? b[off] : sim_get(b, off, off < CC_MSIX ? 4 : 2);
    /* A queue's layout is fixed once enabled, as are features after FEATURES_OK. */
    bool q_open = q && !q->enabled;

    switch (off) {
    case CC_DFSELECT: n->dev_feature_select = (uint32_t)v; break;
    case CC_GFSELECT: n->drv_feature_select = (uint32_t)v; break;
    case CC_GF:
        if (n->drv_feature_select < 2 && !(n->status & VIRTIO_STATUS_FEATURES_OK)) {
            unsigned sh = 32 * n->drv_feature_select;
            n->drv_features = (n->drv_features & ~(0xffffffffull << sh)) | v << sh;
        }
        break;
    case CC_MSIX: n->msix_config = vector_or_none(n, v); break;
    case CC_STATUS: set_status(n, (uint8_t)v); break;
    case CC_Q_SELECT: n->queue_select = (uint16_t)v; break;
    case CC_Q_SIZE: if (q_open) q->size = (uint16_t)v; break;
    case CC_Q_MSIX: if (q) q->msix_vector = vector_or_none(n, v); break;
    case CC_Q_ENABLE: if (q && v == 1) queue_enable(n, q); break;
    case CC_Q_DESC: if (q_open) q->desc = v; break;
    case CC_Q_DRIVER: if (q_open) q->driver = v; break;
    case CC_Q_DEVICE: if (q_open) q->device = v; break;
    default: break;         /* read-only: device_feature, num_queues, generation, notify_off */
    }
}

/*
 * Any width at any offset: the write lands on the current register image
 * and every field it touched takes its new value, one after another.
 */
static void common_write(struct vnet *n, unsigned off, unsigned width, uint64_t val)
{
    uint8_t b[VNET_COMMON_LEN];

    common_render(n, b);
    for (unsigned i = 0; i < width; i++)
        b[off + i] = (uint8_t)(val >> (8 * i));
    for (size_t i = 0; i < sizeof(cc_fields) / sizeof(cc_fields[0]); i++) {
        unsigned fo = cc_fields[i].off, fl = cc_fields[i].len;
        if (fo < off + width && off < fo + fl)
            common_field_write(n, fo, b);
    }
}

/* Device configuration: struct virtio_net_config (section 5.1.4). */
static void devcfg_render(const struct vnet *n, uint8_t *b)
{
    memset(b, 0, VNET_DEVCFG_LEN);
    memcpy(b, n->mac, 6);
    sim_put16(b, 6, 1);                 /* status: VIRTIO_NET_S_LINK_UP (read only with F_STATUS) */
    sim_put16(b, 8, 1);                 /* max_virtqueue_pairs (read only with F_MQ) */
}

static bool within(uint64_t off, unsigned width, uint64_t base, uint64_t len)
{
    return off >= base && off - base < len && width <= len - (off - base);
}

uint64_t vnet_mmio_read(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width)
{
    struct vnet *n = (struct vnet *)dev;
    uint8_t b[VNET_COMMON_LEN > VNET_DEVCFG_LEN ? VNET_COMMON_LEN : VNET_DEVCFG_LEN];
    uint64_t v = 0;

    if (bar != 0 || off >= SIM_PAGE_SIZE || width > 8 || width > SIM_PAGE_SIZE - off)
        return ~0ull;
    pthread_mutex_lock(&n->lock);
    if (within(off, width, VNET_COMMON_OFF, VNET_COMMON_LEN)) {
        common_render(n, b);
        memcpy(&v, b + (off - VNET_COMMON_OFF), width);
    } else if (within(off, width, VNET_ISR_OFF, VNET_ISR_LEN)) {
        /* Read to clear (section 4.1.4.5).  Always 0 here: with MSI-X the
         * device does not use it, and there is no INTx on the platform. */
        if (off == VNET_ISR_OFF)
            v = n->isr;
        n->isr = 0;
    } else if (within(off, width, VNET_DEVCFG_OFF, VNET_DEVCFG_LEN)) {
        devcfg_render(n, b);
        memcpy(&v, b + (off - VNET_DEVCFG_OFF), width);
    } else if (within(off, width, VNET_MSIX_TABLE_OFF, n->vectors * 16u)) {
        memcpy(&v, n->msix_table + (off - VNET_MSIX_TABLE_OFF), width);
    }
    /* PBA and unused space read 0: pending state lives in the platform's IRQ page. */
    pthread_mutex_unlock(&n->lock);
    return v;
}

void vnet_mmio_write(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
    struct vnet *n = (struct vnet *)dev;

    if (bar != 0 || off >= SIM_PAGE_SIZE || width > 8 || width > SIM_PAGE_SIZE - off)
        return;
    pthread_mutex_lock(&n->lock);
    if (within(off, width, VNET_COMMON_OFF, VNET_COMMON_LEN))
        common_write(n, (unsigned)(off - VNET_COMMON_OFF), width, val);
    else if (within(off, width, VNET_MSIX_TABLE_OFF, n->vectors * 16u))
        memcpy(n->msix_table + (off - VNET_MSIX_TABLE_OFF), &val, width);
    /* The ISR, the device configuration (MAC is read-only in 1.x) and the PBA ignore writes. */
    pthread_mutex_unlock(&n->lock);
}

static void raise_irqs(struct vnet *n)
{
    for (unsigned i = 0; i < VNET_NUM_QUEUES; i++) {
        struct vnet_queue *q = &n->q[i];
        bool fresh = q->vq.used_idx != q->vq.signalled_used;

        if (!q->enabled || !fresh)
            continue;
        if (vq_should_notify(&q->vq, &n->io) && q->msix_vector != VIRTIO_MSI_NO_VECTOR) {
            n->st.irqs++;
            n->host->irq(n->host->opaque, q->msix_vector);
        } else {
            n->st.irqs_suppressed++;
        }
    }
}

unsigned vnet_poll_locked(struct vnet *n)
{
    const uint8_t live = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
    bool kicked[VNET_NUM_QUEUES];
    unsigned work = 0;

    n->st.polls++;
    /* Before DRIVER_OK, after a failure, or with bus mastering off: no DMA.
     * Kicks stay in their words until then. */
    if ((n->status & live) != live ||
        (n->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) || !vnet_bus_master(n))
        return 0;
    for (unsigned i = 0; i < VNET_NUM_QUEUES; i++) {
        uint32_t w = __atomic_exchange_n((volatile uint32_t *)(n->notify + i * VNET_NOTIFY_MULT),
                                         VNET_NOTIFY_IDLE, __ATOMIC_ACQ_REL);
        kicked[i] = w != VNET_NOTIFY_IDLE;
        n->st.kicks[i] += kicked[i];
        work += kicked[i];
    }
    /* A receive kick matters only to frames waiting for a buffer, which
     * tx_pending already covers: the loop looks at the RX ring itself. */
    if (kicked[VNET_TXQ] || n->tx_pending)
        work += vnet_loop_locked(n);
    raise_irqs(n);
    return work;
}

static unsigned poll_pass(void *opaque)
{
    return vnet_poll_locked(opaque);
}

int vnet_thread_start(struct vnet *n)
{
    return sim_poller_start(&n->poller, &n->lock, poll_pass, n, &n->st.busy_polls,
                            &n->st.idle_sleeps);
}
