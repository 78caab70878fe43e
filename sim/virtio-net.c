/*
 * virtio-net loopback model: creation, options, the sim_device ops table,
 * function-level reset and counters.  See virtio-net.h for the file map.
 *
 * Options: mac=XX:XX:XX:XX:XX:XX  the MAC address the device reports
 *                                 (default 02:76:66:61:00:01, locally
 *                                 administered)
 *          queues=1               queue pairs; only 1 (several need
 *                                 VIRTIO_NET_F_MQ and a control queue)
 *          vectors=N              MSI-X vectors, 1..128 (default 3: one per
 *                                 queue and one for configuration changes;
 *                                 Linux shares one between the queues with 2
 *                                 and needs INTx, which is absent, with 1)
 */
#include "virtio-net.h"
#include "model-opts.h"
#include "pci-config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BAR0_NAME       "vfio-apple-sim-virtio-net-bar0"

static const uint8_t default_mac[6] = { 0x02, 0x76, 0x66, 0x61, 0x00, 0x01 };

static int dma_read(void *opaque, uint64_t iova, void *buf, size_t len)
{
    const struct sim_device_host *h = opaque;
    return h->dma_read(h->opaque, iova, buf, len);
}

static int dma_write(void *opaque, uint64_t iova, const void *buf, size_t len)
{
    const struct sim_device_host *h = opaque;
    return h->dma_write(h->opaque, iova, buf, len);
}

/* FLR: power-on state.  The lock orders it against the device thread. */
static void vnet_reset(struct sim_device *dev)
{
    struct vnet *n = (struct vnet *)dev;
    pthread_mutex_lock(&n->lock);
    vnet_device_reset_locked(n);
    vnet_config_init(n);
    sim_msix_table_reset(n->msix_table, n->vectors);
    n->st.flrs++;
    pthread_mutex_unlock(&n->lock);
}

/*
 * BAR0 onto fresh shared memory (see renew_bars in device.h).  Only the
 * notify words live in the shared page, and a device reset clears them,
 * so the new page starts as a reset leaves it; whatever the previous owner
 * writes through its old mapping reaches nothing.
 */
static void vnet_bar_moved(void *opaque, void *mem)
{
    struct vnet *n = opaque;
    n->notify = (volatile uint8_t *)mem + VNET_NOTIFY_OFF;
    vnet_device_reset_locked(n);
    n->st.bar_renewals++;
}

static int vnet_renew_bars(struct sim_device *dev)
{
    struct vnet *n = (struct vnet *)dev;
    return sim_bar_renew(&n->dev.bars[0], BAR0_NAME, &n->lock, vnet_bar_moved, n);
}

static int vnet_start(struct sim_device *dev)
{
    return vnet_thread_start((struct vnet *)dev);
}

static void vnet_stop(struct sim_device *dev)
{
    sim_poller_stop(&((struct vnet *)dev)->poller);
}

static void vnet_destroy(struct sim_device *dev)
{
    struct vnet *n = (struct vnet *)dev;
    if (!n)
        return;
    sim_poller_stop(&n->poller);
    sim_bar_release(&n->dev.bars[0]);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

static void vnet_stats_json(struct sim_device *dev, FILE *out)
{
    struct vnet *n = (struct vnet *)dev;
    pthread_mutex_lock(&n->lock);
    struct vnet_stats s = n->st;
    uint8_t status = n->status;
    uint64_t features = n->drv_features;
    const char *last = n->last_error;
    pthread_mutex_unlock(&n->lock);

    fprintf(out, "\"model\":\"virtio-net\",\"status\":%u,\"driver_ok\":%s,"
            "\"features\":%" PRIu64 ",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",",
            status, (status & VIRTIO_STATUS_DRIVER_OK) ? "true" : "false", features,
            n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
#define F(name) fprintf(out, "\"" #name "\":%" PRIu64 ",", s.name);
    F(frames_tx) F(frames_rx) F(bytes_tx) F(bytes_rx) F(tx_descs) F(rx_descs)
    F(tx_errors) F(rx_errors) F(rx_dropped) F(tx_stalls) F(dma_faults) F(ring_errors)
    F(irqs) F(irqs_suppressed) F(polls) F(busy_polls) F(idle_sleeps)
    F(device_resets) F(flrs) F(bar_renewals) F(features_refused)
#undef F
    fprintf(out, "\"kicks_rx\":%" PRIu64 ",\"kicks_tx\":%" PRIu64 ",\"last_error\":\"%s\"",
            s.kicks[VNET_RXQ], s.kicks[VNET_TXQ], last ? last : "");
}

static const struct sim_device_ops vnet_ops = {
    .name = "virtio-net",
    .destroy = vnet_destroy,
    .config_read = vnet_config_read,
    .config_write = vnet_config_write,
    .mmio_read = vnet_mmio_read,
    .mmio_write = vnet_mmio_write,
    .reset = vnet_reset,
    .renew_bars = vnet_renew_bars,
    .start = vnet_start,
    .stop = vnet_stop,
    .stats_json = vnet_stats_json,
};

struct vnet_opts {
    uint8_t mac[6];
    unsigned queues, vectors;
};

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &tail) != 6)
        return -1;
    for (unsigned i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    /* A multicast address as a station address: no driver would accept it. */
    return mac[0] & 1 ? -1 : 0;
}

static int parse_opt(void *ctx, const char *k, const char *v, char *err, size_t errlen)
{
    struct vnet_opts *o = ctx;
    if (!strcmp(k, "mac")) {
        if (parse_mac(v, o->mac)) {
            snprintf(err, errlen, "option 'mac=%s': want a unicast XX:XX:XX:XX:XX:XX", v);
            return -1;
        }
    } else if (!strcmp(k, "queues")) {
        if (sim_opt_uint(v, 1, 1, &o->queues)) {
            snprintf(err, errlen, "option 'queues=%s': only 1 queue pair is modelled", v);
            return -1;
        }
    } else if (!strcmp(k, "vectors")) {
        if (sim_opt_uint(v, 1, VNET_MAX_VECTORS, &o->vectors)) {
            snprintf(err, errlen, "option 'vectors=%s': want 1..%u", v, VNET_MAX_VECTORS);
            return -1;
        }
    } else {
        snprintf(err, errlen, "unknown option '%s' (virtio-net takes mac=, queues=, vectors=)", k);
        return -1;
    }
    return 0;
}

struct sim_device *sim_virtio_net_create(const char *args, const struct sim_device_host *host,
                                         char *err, size_t errlen)
{
    struct vnet_opts o = { .queues = 1, .vectors = VNET_NUM_QUEUES + 1 };

    if (!host || !host->dma_read || !host->dma_write || !host->irq) {
        snprintf(err, errlen, "virtio-net: host services missing");
        return NULL;
    }
    memcpy(o.mac, default_mac, 6);
    if (sim_opts_each(args, parse_opt, &o, err, errlen))
        return NULL;

    struct vnet *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "virtio-net: out of memory");
        return NULL;
    }
    void *mem = NULL;
    int fd = sim_shared_mem_create(BAR0_NAME, VNET_BAR0_SIZE, &mem);
    if (fd < 0) {
        snprintf(err, errlen, "virtio-net: cannot create BAR0: %s", strerror(-fd));
        free(n);
        return NULL;
    }
    pthread_mutex_init(&n->lock, NULL);
    n->host = host;
    n->io = (struct vq_io){ (void *)host, dma_read, dma_write };
    memcpy(n->mac, o.mac, 6);
    n->vectors = o.vectors;

    n->dev.ops = &vnet_ops;
    n->dev.host = host;
    n->dev.bars[0] = (struct sim_bar){
        .flags = SIM_BAR_PRESENT | SIM_BAR_MEM64,
        .size = VNET_BAR0_SIZE,
        .memfd = fd,
        .mem = mem,
        .trapped_pages = 0x1,           /* page 0: registers; page 1 (notify) shared */
    };
    for (unsigned b = 1; b < SIM_PCI_NUM_BARS; b++)
        n->dev.bars[b].memfd = -1;
    n->dev.msi_vectors = 0;
    n->dev.msix_vectors = n->vectors;
    n->notify = (volatile uint8_t *)mem + VNET_NOTIFY_OFF;

    vnet_device_reset_locked(n);
    vnet_config_init(n);
    sim_msix_table_reset(n->msix_table, n->vectors);
    return &n->dev;
}
