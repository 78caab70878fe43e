/*
 * virtio-net loopback model: definitions shared by its files (not an API of
 * the simulator: the daemon only sees sim_virtio_net_create() in device.h).
 *
 *   virtio-net.c         creation, options, ops table, reset, stats
 *   virtio-net-config.c  PCI config space: header, PM, MSI-X, PCIe and the
 *                        virtio vendor capabilities
 *   virtio-net-regs.c    BAR0: common configuration, ISR, device
 *                        configuration, MSI-X table (trapped page), the
 *                        notify page (shared, polled) and the device thread
 *   virtio-net-loop.c    the datapath: every transmitted frame comes back
 *                        on the receive queue
 *   virtio-vq.c          split virtqueue walker (pure, unit tested)
 *
 * A modern (virtio 1.x, non-transitional) PCI device, ID 0x1041.  It offers
 * VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM and VIRTIO_NET_F_MAC only,
 * one receive and one transmit queue.  Values from the virtio 1.2
 * specification (sections 4.1 and 5.1) unless said otherwise.
 */
#ifndef VFIO_APPLE_SIM_VIRTIO_NET_H
#define VFIO_APPLE_SIM_VIRTIO_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "poll-thread.h"
#include "virtio-vq.h"

/* PCI identity: Red Hat's virtio vendor ID, 0x1040 + device type 1 (net). */
#define VNET_VENDOR             0x1af4u
#define VNET_DEVICE             0x1041u
#define VNET_SUBSYS             0x1100u     /* "virtio, no particular environment" */
#define VNET_REVISION           0x01u       /* section 4.1.2.1: >= 1 for modern-only */
#define VNET_CLASS              0x020000u   /* network, Ethernet */

/*
 * BAR0: 32 KiB.  Page 0 is trapped: its registers have side effects on
 * read or write (feature and queue selectors, status, the ISR's
 * read-to-clear) that a shared page could not give.  Page 1 is shared: the
 * notify region, which the driver only writes, is polled like NVMe
 * doorbells, so kicks cost no trap.
 */
#define VNET_BAR0_SIZE          0x8000u
#define VNET_COMMON_OFF         0x0000u
#define VNET_COMMON_LEN         0x38u       /* struct virtio_pci_common_cfg, 1.0 fields */
#define VNET_ISR_OFF            0x1000u
#define VNET_ISR_LEN            4u
#define VNET_DEVCFG_OFF         0x2000u
#define VNET_DEVCFG_LEN         0x20u
#define VNET_MSIX_TABLE_OFF     0x3000u
#define VNET_MSIX_PBA_OFF       0x3800u
#define VNET_MAX_VECTORS        128u        /* the table ends at the PBA */
#define VNET_NOTIFY_OFF         0x4000u
#define VNET_NOTIFY_MULT        4u          /* notify_off_multiplier: a word per queue */

/* Queues: receiveq1, transmitq1 (section 5.1.2). */
#define VNET_RXQ                0u
#define VNET_TXQ                1u
#define VNET_NUM_QUEUES         2u
#define VNET_QUEUE_MAX          256u        /* queue_size the device offers */

/*
 * A notify word nobody wrote since the device last looked.  The driver
 * writes a queue index (16 bits) into the low half, so any kick changes it.
 */
#define VNET_NOTIFY_IDLE        0xffffffffu

/* Feature bits (sections 5.1.3 and 6). */
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_F_VERSION_1      32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VNET_FEATURES           (1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_F_VERSION_1 | \
                                 1ull << VIRTIO_F_ACCESS_PLATFORM)

/* device_status bits (section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE   0x01u
#define VIRTIO_STATUS_DRIVER        0x02u
#define VIRTIO_STATUS_DRIVER_OK     0x04u
#define VIRTIO_STATUS_FEATURES_OK   0x08u
#define VIRTIO_STATUS_NEEDS_RESET   0x40u
#define VIRTIO_STATUS_FAILED        0x80u

#define VIRTIO_MSI_NO_VECTOR    0xffffu

/*
 * struct virtio_net_hdr as VERSION_1 lays it out (section 5.1.6): 12 bytes
 * with num_buffers, whether or not VIRTIO_NET_F_MRG_RXBUF is negotiated.
 */
#define VNET_HDR_LEN            12u
#define VNET_ETH_HLEN           14u
/* Largest frame carried.  No GSO is offered, so a frame is at most the MTU
 * plus headers; 9216 leaves room for jumbo MTUs a user might set. */
#define VNET_MAX_FRAME          9216u
#define VNET_TX_BURST           64u         /* frames per pass (fairness with RX refills) */

/* Counters for stats_json. */
struct vnet_stats {
    uint64_t frames_tx, frames_rx, bytes_tx, bytes_rx;  /* frame bytes, without the header */
    uint64_t tx_descs, rx_descs;                        /* descriptors walked */
    uint64_t tx_errors, rx_errors;                      /* malformed chains, bad sizes */
    uint64_t rx_dropped;                                /* frames with nowhere to go */
    uint64_t tx_stalls;                                 /* passes that held TX: no receive buffer */
    uint64_t dma_faults, ring_errors;                   /* broken queues: NEEDS_RESET */
    uint64_t kicks[VNET_NUM_QUEUES];
    uint64_t irqs, irqs_suppressed;
    uint64_t polls, busy_polls, idle_sleeps;
    uint64_t device_resets, flrs, bar_renewals, features_refused;
};

struct vnet_queue {
    struct vq vq;
    /* Common-config registers of this queue, as the driver last wrote them. */
    uint16_t size, msix_vector;
    bool     enabled;
    uint64_t desc, driver, device;
};

struct vnet {
    struct sim_device dev;          /* first: container_of by cast */
    const struct sim_device_host *host;
    struct vq_io io;                /* host->dma_* as the virtqueue code wants them */

    /* Options. */
    uint8_t  mac[6];
    unsigned vectors;               /* MSI-X vectors */

    /* PCI side. */
    uint8_t  cfg[SIM_CONFIG_SIZE];
    uint8_t  cfg_wmask[SIM_CONFIG_SIZE];
    uint8_t  msix_table[VNET_MAX_VECTORS * 16];

    /* Everything below is guarded by lock (the device thread holds it for one pass). */
    pthread_mutex_t lock;
    volatile uint8_t *notify;       /* BAR0 page 1 (shared); moves on renew_bars */
    uint32_t dev_feature_select, drv_feature_select;
    uint64_t drv_features;
    uint16_t msix_config, queue_select;
    uint8_t  status, config_generation, isr;
    struct vnet_queue q[VNET_NUM_QUEUES];
    bool     tx_pending;            /* TX work left over: no RX buffer, or the burst ran out */
    const char *last_error;         /* the latest thing the driver got wrong, for stats */
    uint8_t  frame[VNET_HDR_LEN + VNET_MAX_FRAME];

    struct sim_poller poller;       /* the device thread */
    struct vnet_stats st;
};

/* virtio-net-config.c */
void vnet_config_init(struct vnet *n);
uint32_t vnet_config_read(struct sim_device *dev, uint32_t off, unsigned len);
void vnet_config_write(struct sim_device *dev, uint32_t off, unsigned len, uint32_t val);
bool vnet_bus_master(const struct vnet *n);

/* virtio-net-regs.c */
void vnet_device_reset_locked(struct vnet *n);
void vnet_notify_init(struct vnet *n);
unsigned vnet_poll_locked(struct vnet *n);
void vnet_broken_locked(struct vnet *n, const char *why);
int vnet_thread_start(struct vnet *n);
uint64_t vnet_mmio_read(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width);
void vnet_mmio_write(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val);

/* virtio-net-loop.c: moves frames TX -> RX; returns frames handled. */
unsigned vnet_loop_locked(struct vnet *n);

#endif
