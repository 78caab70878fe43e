/*
 * vfio-apple: internal definitions shared by the device, its container and
 * the DMA window.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VFIO_APPLE_APPLE_H
#define HW_VFIO_APPLE_APPLE_H

#include "qemu/event_notifier.h"
#include "qemu/thread.h"
#include "hw/vfio/pci.h"
#include "hw/vfio/vfio-container.h"
#include "hw/vfio-apple/vfio-apple.h"
#include "client/vfio-apple-client.h"

/* Dext calls are counted by selector, plus the transport's memory calls. */
enum {
    VFIO_APPLE_CALL_MAP_MEMORY = VFA_SEL_COUNT,
    VFIO_APPLE_CALL_REGISTER_MEMORY,
    VFIO_APPLE_CALL_KINDS,
};

typedef struct VFIOAppleBAR {
    struct vfa_bar_info info;
    void *map;                  /* the dext's mapping of the whole BAR */
    uint64_t map_size;
} VFIOAppleBAR;

OBJECT_DECLARE_TYPE(VFIOApplePCIDevice, VFIOApplePCIClass, VFIO_APPLE_PCI)

struct VFIOApplePCIClass {
    PCIDeviceClass parent_class;
    void (*parent_exit)(PCIDevice *pdev);
};

struct VFIOApplePCIDevice {
    VFIOPCIDevice parent_obj;

    /* properties */
    char *host;                 /* dext target: socket path or unix:PATH */
    char *dma_mode;             /* "window" (default); "companion" later */
    uint64_t window_size;

    struct vfa_client *client;
    struct vfa_identity id;
    bool session;               /* the dext session is ours */
    bool lost;                  /* device or dext gone (atomic) */
    bool lost_reported;
    QEMUBH *lost_bh;
    char *lost_why;
    QLIST_ENTRY(VFIOApplePCIDevice) next;

    /* config space: one block read at realize, read-only bytes cached */
    uint8_t *cfg;
    uint8_t *cfg_cached;        /* per byte: 1 = answered from cfg */
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
    bool irq_stop_ready;

    Error *migration_blocker;
    Notifier exit_notifier;

    /* counters (atomic where the notification thread touches them) */
    uint64_t calls[VFIO_APPLE_CALL_KINDS];
    uint64_t calls_total;
    uint64_t calls_realize;
    uint64_t cfg_cache_hits;
    uint64_t cfg_writes_spared;
    uint64_t interrupts;
    uint64_t notifications;
};

static inline VFIOApplePCIDevice *vfio_apple_from_vbasedev(VFIODevice *vbasedev)
{
    return VFIO_APPLE_PCI(container_of(vbasedev, VFIOPCIDevice, vbasedev));
}

/* Count one dext round trip of @kind (a selector or VFIO_APPLE_CALL_*). */
static inline void vfio_apple_count(VFIOApplePCIDevice *a, unsigned kind)
{
    qatomic_inc(&a->calls[kind]);
    qatomic_inc(&a->calls_total);
}

/* The device or the dext went away: called from any thread. */
void vfio_apple_pci_lost(VFIOApplePCIDevice *a, const char *why);
const char *vfio_apple_call_name(unsigned kind);
/* Reset through the dext: @allowed VFA_RESET_* bits, 0 = any. */
int vfio_apple_pci_do_reset(VFIOApplePCIDevice *a, uint32_t allowed);

/* ---- container-apple: the device's IOMMU container (container.c) ---- */

#define TYPE_VFIO_IOMMU_APPLE TYPE_VFIO_IOMMU "-apple"
OBJECT_DECLARE_SIMPLE_TYPE(VFIOAppleContainer, VFIO_IOMMU_APPLE)

struct VFIOAppleContainer {
    VFIOContainer parent_obj;

    VFIOApplePCIDevice *adev;

    /* guest RAM shared with the dext (socket transport) */
    bool mem_registered;
    uint64_t mem_id;
    void *view;                 /* the dext's 16 KiB-aligned view of it */

    /* the DMA window */
    hwaddr gpa;
    uint64_t size;
    void *hva;
    bool mapped;
    uint64_t handle;
    uint32_t nsegs;
    struct vfa_dma_segment segs[VFA_MAX_DMA_SEGMENTS];

    /* budget accounting, as the dext counts it (whole 16 KiB pages) */
    uint64_t mapped_bytes;
    uint32_t mappings;
};

/* Unmap the window and release guest RAM: the device is going away. */
void vfio_apple_container_release(VFIOAppleContainer *container);

/* ---- the DMA window as the guest sees it (window.c) ---- */

typedef struct VFIOAppleWindowSeg {
    hwaddr gpa;
    hwaddr iova;
    uint64_t size;
} VFIOAppleWindowSeg;

/*
 * Can a device be plugged now?  False once the guest's device tree was
 * built without a window, and when the device's DMA address space is not
 * the window's (another IOMMU on the bus, a machine without the hook).
 */
bool vfio_apple_window_check_plug(PCIDevice *pdev, Error **errp);

/*
 * A device mapped the window and got @segs.  The first one defines the
 * window; every later one (another device, a re-plug) must have got the
 * same IOVAs, since the guest's device tree cannot change.
 */
bool vfio_apple_window_claim(const VFIOAppleWindowSeg *segs, unsigned nsegs,
                             Error **errp);

#endif
