/*
 * vfio-apple: the device's IOMMU container (container.c) and the DMA
 * window as the guest sees it (window.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VFIO_APPLE_CONTAINER_H
#define HW_VFIO_APPLE_CONTAINER_H

#include "hw/vfio/vfio-container.h"
#include "pci.h"

#define TYPE_VFIO_IOMMU_APPLE TYPE_VFIO_IOMMU "-apple"
OBJECT_DECLARE_SIMPLE_TYPE(VFIOAppleContainer, VFIO_IOMMU_APPLE)

struct VFIOAppleContainer {
    VFIOContainer parent_obj;

    VFIOApplePCIDevice *adev;

    /*
     * Guest RAM shared with the dext: the window (window mode), or all of
     * RAM (companion mode, whose chunks may lie anywhere in it).
     */
    struct vfa_shared_mem *shm;
    hwaddr shared_gpa;
    uint64_t shared_size;
    void *shared_hva;

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

/*
 * What the apple-dma-pci companion needs of a companion-mode device's
 * container: the shared RAM (for chunk maps, through the device's client)
 * and the window's first DART segment (arithmetic for the guest).  False
 * while the device has no container (not realized, or released).
 */
typedef struct VFIOAppleCompanionView {
    struct vfa_client *client;
    hwaddr ram_gpa;
    uint64_t ram_size;
    void *ram_hva;
    uint8_t *ram_dma_va;        /* what DMA_MAP names for ram_gpa */
    hwaddr window_gpa;
    uint64_t window_size;
    hwaddr window_iova;
    uint64_t window_bytes;      /* the window's share of the budget */
    uint32_t window_mappings;
    uint64_t budget_bytes;
    uint32_t budget_mappings;
} VFIOAppleCompanionView;

bool vfio_apple_companion_view(VFIOApplePCIDevice *a,
                               VFIOAppleCompanionView *v);

/* Unmap the window and release guest RAM: the device is going away. */
void vfio_apple_container_release(VFIOAppleContainer *container);

typedef struct VFIOAppleWindowSeg {
    hwaddr gpa;
    hwaddr iova;
    uint64_t size;
} VFIOAppleWindowSeg;

/*
 * Can a device be plugged now?  False on a machine without the window's
 * address space (-machine virt,vfio-apple=on), once the guest's device
 * tree was built without a window, and when the device's DMA address
 * space is not the window's (another IOMMU on the bus).
 */
bool vfio_apple_window_check_plug(PCIDevice *pdev, Error **errp);

/* The same for a dma-mode=companion device (no window is published). */
bool vfio_apple_companion_check_plug(PCIDevice *pdev, Error **errp);

/*
 * A device mapped the window and got @segs.  The first one defines the
 * window; every later one (another device, a re-plug) must have got the
 * same IOVAs, since the guest's device tree cannot change.
 */
bool vfio_apple_window_claim(const VFIOAppleWindowSeg *segs, unsigned nsegs,
                             Error **errp);

/* What the window's IOVAs overlap in the guest's address map (QMP). */
VfioAppleWindowOverlapList *vfio_apple_window_overlaps(void);

/*
 * The window as the guest's firmware tables describe it, in bus (IOVA)
 * order: bus addresses [bus, bus + size) reach guest RAM at cpu.  The DART
 * segments, the last one extended to a power-of-two bus end where that is
 * safe.  One list, used by the device tree's dma-ranges (window.c) and
 * ACPI's _DMA and IORT (acpi.c), so that both say the same.
 */
typedef struct VFIOAppleBusRange {
    hwaddr bus;
    hwaddr cpu;
    uint64_t size;
} VFIOAppleBusRange;

#define VFIO_APPLE_MAX_BUS_RANGES VFA_MAX_DMA_SEGMENTS

/*
 * The ranges, set at machine done (vfio_apple_machine_done); 0 before, and
 * when no vfio-apple-pci device mapped a window.
 */
unsigned vfio_apple_window_bus_ranges(const VFIOAppleBusRange **ranges);

#endif
