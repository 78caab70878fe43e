/*
 * vfio-apple-pci: the device's state, shared by its files:
 *   pci.c      QOM type, properties, realize and release, device loss
 *   device.c   VFIODeviceIOOps: regions, BARs, reset
 *   config.c   the config space cache
 *   irq.c      interrupts and the notification thread
 *   monitor.c  x-query-vfio-apple and info vfio-apple
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VFIO_APPLE_PCI_H
#define HW_VFIO_APPLE_PCI_H

#include "qemu/event_notifier.h"
#include "qemu/thread.h"
#include "qapi/qapi-types-sockets.h"
#include "qapi/qapi-types-vfio-apple.h"
#include "hw/vfio/pci.h"
#include "hw/vfio-apple/vfio-apple.h"
#include "client/vfio-apple-client.h"

OBJECT_DECLARE_TYPE(VFIOApplePCIDevice, VFIOApplePCIClass, VFIO_APPLE_PCI)

struct VFIOApplePCIClass {
    PCIDeviceClass parent_class;
    void (*parent_exit)(PCIDevice *pdev);
};

typedef struct VFIOAppleBAR {
    struct vfa_bar_info info;
    void *map;                  /* the dext's mapping of the whole BAR */
    uint64_t map_size;
} VFIOAppleBAR;

struct VFIOApplePCIDevice {
    VFIOPCIDevice parent_obj;

    /* properties (host= is VFIOPCIDevice's, a PCI host address) */
    SocketAddress *socket;      /* vfio-apple-sim's socket (Linux) */
    char *host_root_port;       /* disambiguates host= on macOS */
    int dma_mode;               /* VfioAppleDmaMode */
    uint64_t window_size;
    uint32_t msg_timeout_ms;    /* bound of every dext call at run time */
    uint32_t lost_timeout_ms;   /* unresponsive this long: device lost */

    struct vfa_client *client;
    struct vfa_identity id;
    bool session;               /* the dext session is ours */

    /* Device or dext gone for good: atomic, set from any thread. */
    bool lost;
    bool lost_reported;
    QEMUBH *lost_bh;
    char *lost_why;
    QEMUBH *resync_bh;          /* the dext answers again */

    /*
     * The dext stopped answering (a call timed out): since when, in
     * QEMU_CLOCK_REALTIME ms, 0 while it answers.  Calls fail at once
     * meanwhile; the notification thread watches for its late replies.
     */
    int64_t stuck_since;
    uint64_t stuck_episodes;
    uint64_t stuck_ms_total;

    QLIST_ENTRY(VFIOApplePCIDevice) next;

    /*
     * dma-mode=companion: the apple-dma-pci serving this device, which
     * maps chunks through our client.  It is told before the device
     * releases its session, and detaches itself (BQL held).
     */
    void *companion;
    void (*companion_release)(void *companion);
    void (*companion_info)(void *companion, VfioAppleInfo *info);
    bool (*companion_ready)(void *companion);
    bool bme_wanted;            /* the guest set bus mastering */
    uint64_t bme_held;          /* ... before the companion was ready */

    /* config space: one block read at realize, read-only bytes cached */
    uint8_t *cfg;
    uint8_t *cfg_cached;        /* per byte: enum in config.c */
    bool cfg_fresh;             /* nothing written since the block read */

    VFIOAppleBAR bars[PCI_ROM_SLOT];

    /* interrupts */
    struct vfa_irq_page *irq_page;
    uint64_t irq_page_size;
    uint32_t irq_type;          /* enum vfa_irq_type set up in the dext */
    uint32_t irq_count;
    unsigned long *irq_enabled; /* what we told the dext (IRQ_ENABLE) */
    int *irq_fds;               /* per vector: our dup of QEMU's notifier */
    QemuMutex irq_lock;         /* irq_fds vs. the notification thread */
    QemuThread irq_thread;
    bool irq_thread_running;
    EventNotifier irq_stop;     /* wakes the thread to exit */
    EventNotifier irq_kick;     /* ... to watch a silent dext */
    bool irq_stop_ready;        /* both notifiers exist */

    Error *migration_blocker;
    Notifier exit_notifier;

    /* counters (atomic where the notification thread touches them) */
    uint64_t calls_realize;     /* client round trips while setting up */
    uint64_t cfg_cache_hits;
    uint64_t cfg_writes_spared;
    uint64_t refused_stuck;     /* accesses answered without the dext */
    uint64_t interrupts;
    uint64_t notifications;
};

static inline VFIOApplePCIDevice *vfio_apple_from_vbasedev(VFIODevice *vbd)
{
    return VFIO_APPLE_PCI(container_of(vbd, VFIOPCIDevice, vbasedev));
}

/* pci.c */
const char *vfio_apple_name(VFIOApplePCIDevice *a);
/* The device or the dext went away for good: called from any thread. */
void vfio_apple_pci_lost(VFIOApplePCIDevice *a, const char *why);
/*
 * A dext call failed with @ret: note a lost connection or a dext that
 * stopped answering; pass @ret on.
 */
int vfio_apple_failed(VFIOApplePCIDevice *a, int ret);
/* Is the device answering, i.e. worth a dext call? */
bool vfio_apple_reachable(VFIOApplePCIDevice *a);
/* The notification thread saw the dext answer again. */
void vfio_apple_answering(VFIOApplePCIDevice *a);

/* device.c */
extern VFIODeviceIOOps vfio_apple_io_ops;
bool vfio_apple_bars_open(VFIOApplePCIDevice *a, Error **errp);
void vfio_apple_bars_close(VFIOApplePCIDevice *a);
/* Reset through the dext: @allowed VFA_RESET_* bits, 0 = any. */
int vfio_apple_pci_do_reset(VFIOApplePCIDevice *a, uint32_t allowed);

/* config.c */
void vfio_apple_cfg_setup(VFIOApplePCIDevice *a);
bool vfio_apple_cfg_check(VFIOApplePCIDevice *a, Error **errp);
void vfio_apple_cfg_invalidate(VFIOApplePCIDevice *a);
/* The companion is enabled: apply bus mastering the guest asked for. */
void vfio_apple_companion_ready(VFIOApplePCIDevice *a);
int vfio_apple_config_read(VFIOApplePCIDevice *a, off_t off, uint32_t size,
                           void *data);
int vfio_apple_config_write(VFIOApplePCIDevice *a, off_t off, uint32_t size,
                            void *data);

/* irq.c */
int vfio_apple_io_get_irq_info(VFIODevice *vbasedev,
                               struct vfio_irq_info *info);
int vfio_apple_io_set_irqs(VFIODevice *vbasedev, struct vfio_irq_set *irq);
bool vfio_apple_irq_start(VFIOApplePCIDevice *a, Error **errp);
void vfio_apple_irq_stop(VFIOApplePCIDevice *a);
void vfio_apple_irq_teardown(VFIOApplePCIDevice *a);

/* monitor.c */
void vfio_apple_monitor_add(VFIOApplePCIDevice *a);
void vfio_apple_monitor_del(VFIOApplePCIDevice *a);

#endif
