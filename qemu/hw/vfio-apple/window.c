/*
 * vfio-apple: the DMA window as the guest sees it.
 *
 * A vfio-apple-pci device in window mode maps a range of guest RAM through
 * the host IOMMU (Apple's DART), which picks the IOVAs.  The guest learns
 * the offset from `dma-ranges` on the PCIe host bridge: bus address =
 * CPU address - GPA + IOVA for the window, and swiotlb bounces the rest.
 *
 * Everything else on that host bridge sees the same `dma-ranges`, so the
 * emulated PCI devices there (virtio with iommu_platform=on, e1000e,
 * QEMU's nvme...) are handed bus addresses in the IOVA range too.  The bus
 * therefore gets an address space that maps the window's IOVAs back to its
 * guest RAM.
 *
 * Why the address space is installed on every virt PCIe root bus, with or
 * without a vfio-apple-pci device: a device's bus-master address space is
 * fixed when the device is realized, and -device options are processed
 * after the bus exists (and in no order we control), so waiting for the
 * first vfio-apple-pci would leave the devices created before it with the
 * plain system address space.  Until a window exists the root is an alias
 * of all of system memory at offset 0, i.e. exactly what those devices had
 * before; the window only adds higher-priority aliases at its IOVAs (the
 * identity stays below them for MSI doorbells and peer-to-peer).  Once the
 * window is in the guest's device tree it stays, also while no
 * vfio-apple-pci device is plugged, because the guest keeps using it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/units.h"
#include "system/address-spaces.h"
#include "system/device_tree.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"

#include "apple.h"
#include "trace.h"

typedef struct VFIOAppleWindow {
    bool bus_ready;
    MemoryRegion root;
    MemoryRegion identity;
    AddressSpace as;

    /* the window: defined by the first mapping, then fixed */
    bool defined;
    unsigned nsegs;
    VFIOAppleWindowSeg segs[VFA_MAX_DMA_SEGMENTS];
    MemoryRegion seg_mr[VFA_MAX_DMA_SEGMENTS];

    bool machine_done;          /* the guest's device tree exists */
    bool published;             /* ... and describes the window */
} VFIOAppleWindow;

static VFIOAppleWindow vfio_apple_window;

static AddressSpace *vfio_apple_dma_as(PCIBus *bus, void *opaque, int devfn)
{
    VFIOAppleWindow *w = opaque;

    return &w->as;
}

static const PCIIOMMUOps vfio_apple_iommu_ops = {
    .get_address_space = vfio_apple_dma_as,
};

void vfio_apple_pci_bus_init(PCIBus *bus)
{
    VFIOAppleWindow *w = &vfio_apple_window;
    MemoryRegion *sysmem = get_system_memory();

    if (!bus) {
        return;
    }
    if (!w->bus_ready) {
        memory_region_init(&w->root, NULL, "vfio-apple-dma", UINT64_MAX);
        memory_region_init_alias(&w->identity, NULL, "vfio-apple-dma-identity",
                                 sysmem, 0, memory_region_size(sysmem));
        memory_region_add_subregion_overlap(&w->root, 0, &w->identity, 0);
        address_space_init(&w->as, &w->root, "vfio-apple-dma");
        w->bus_ready = true;
    }
    pci_setup_iommu(bus, &vfio_apple_iommu_ops, w);
}

bool vfio_apple_window_check_plug(PCIDevice *pdev, Error **errp)
{
    VFIOAppleWindow *w = &vfio_apple_window;

    if (!w->bus_ready || pci_device_iommu_address_space(pdev) != &w->as) {
        error_setg(errp, "the PCI bus has no vfio-apple DMA window address "
                   "space");
        error_append_hint(errp, "vfio-apple-pci needs the virt machine's PCIe "
                          "bus without a virtual IOMMU (no iommu=smmuv3, no "
                          "virtio-iommu): the host IOMMU chooses the device's "
                          "addresses, a guest IOMMU cannot\n");
        return false;
    }
    if (w->machine_done && !w->published) {
        error_setg(errp, "the guest was started without a vfio-apple DMA "
                   "window, so it would hand the device guest-physical "
                   "addresses");
        error_append_hint(errp, "Start the VM with the vfio-apple-pci device "
                          "on the command line: its window is described in "
                          "the device tree at boot; after that the device can "
                          "be unplugged and plugged again\n");
        return false;
    }
    return true;
}

bool vfio_apple_window_claim(const VFIOAppleWindowSeg *segs, unsigned nsegs,
                             Error **errp)
{
    VFIOAppleWindow *w = &vfio_apple_window;
    unsigned i;

    assert(nsegs && nsegs <= VFA_MAX_DMA_SEGMENTS);
    if (w->defined) {
        bool same = nsegs == w->nsegs;

        for (i = 0; same && i < nsegs; i++) {
            same = segs[i].gpa == w->segs[i].gpa &&
                   segs[i].iova == w->segs[i].iova &&
                   segs[i].size == w->segs[i].size;
        }
        if (!same) {
            error_setg(errp, "the DART mapped the DMA window at IOVA 0x%"
                       HWADDR_PRIx " (%u segment(s)), but the guest %s the "
                       "window at IOVA 0x%" HWADDR_PRIx " (%u segment(s))",
                       segs[0].iova, nsegs,
                       w->published ? "was told (device tree)" :
                       "will be told (another vfio-apple-pci device mapped)",
                       w->segs[0].iova, w->nsegs);
            error_append_hint(errp, "The guest's dma-ranges cannot change "
                              "while it runs.  Reboot the VM (or restart the "
                              "dext so that it hands out the same IOVAs); "
                              "give each device its own VM meanwhile\n");
            return false;
        }
        return true;
    }

    w->nsegs = nsegs;
    for (i = 0; i < nsegs; i++) {
        g_autofree char *name = g_strdup_printf("vfio-apple-dma-window[%u]", i);

        w->segs[i] = segs[i];
        memory_region_init_alias(&w->seg_mr[i], NULL, name, get_system_memory(),
                                 segs[i].gpa, segs[i].size);
        memory_region_add_subregion_overlap(&w->root, segs[i].iova,
                                            &w->seg_mr[i], 1);
    }
    w->defined = true;
    return true;
}

void vfio_apple_machine_done(void *fdt, const char *pcie_node, bool user_dtb,
                             bool acpi, Error **errp)
{
    ERRP_GUARD();
    VFIOAppleWindow *w = &vfio_apple_window;
    g_autofree uint32_t *cells = NULL;
    unsigned i;

    w->machine_done = true;
    if (!w->defined) {
        return;
    }
    if (acpi) {
        error_setg(errp, "vfio-apple-pci: the guest would boot with ACPI, "
                   "which cannot describe the DMA window yet");
        error_append_hint(errp, "Boot from the device tree: -machine "
                          "acpi=off with firmware, or -kernel without "
                          "firmware\n");
        return;
    }
    if (user_dtb || !fdt || !pcie_node) {
        error_setg(errp, "vfio-apple-pci: the device tree is supplied by the "
                   "user (-dtb), so QEMU cannot add the DMA window's "
                   "dma-ranges to it");
        error_append_hint(errp, "Drop -dtb, or add to the PCIe host bridge "
                          "node: dma-ranges = <0x03000000 IOVA GPA SIZE> with "
                          "IOVA 0x%" HWADDR_PRIx ", GPA 0x%" HWADDR_PRIx
                          ", SIZE 0x%" PRIx64 " (one entry per segment)\n",
                          w->segs[0].iova, w->segs[0].gpa, w->segs[0].size);
        return;
    }

    /*
     * PCI bus address (3 cells: space code, high, low), CPU address (2),
     * size (2).  Memory space, 64-bit when the IOVAs need it.
     */
    cells = g_new0(uint32_t, w->nsegs * 7);
    for (i = 0; i < w->nsegs; i++) {
        const VFIOAppleWindowSeg *s = &w->segs[i];
        uint32_t *c = cells + i * 7;
        bool high = s->iova + s->size > 4 * GiB;

        c[0] = cpu_to_be32(high ? 0x03000000 : 0x02000000);
        c[1] = cpu_to_be32(s->iova >> 32);
        c[2] = cpu_to_be32((uint32_t)s->iova);
        c[3] = cpu_to_be32(s->gpa >> 32);
        c[4] = cpu_to_be32((uint32_t)s->gpa);
        c[5] = cpu_to_be32(s->size >> 32);
        c[6] = cpu_to_be32((uint32_t)s->size);
    }
    if (qemu_fdt_setprop(fdt, pcie_node, "dma-ranges", cells,
                         w->nsegs * 7 * sizeof(uint32_t)) < 0) {
        error_setg(errp, "vfio-apple-pci: cannot add dma-ranges to %s",
                   pcie_node);
        return;
    }
    trace_vfio_apple_dma_ranges(pcie_node, w->nsegs);
    w->published = true;
}
