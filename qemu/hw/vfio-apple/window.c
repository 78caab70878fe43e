/*
 * vfio-apple: the DMA window as the guest sees it.
 *
 * A vfio-apple-pci device in window mode maps a range of guest RAM through
 * the host IOMMU (Apple's DART), which picks the IOVAs.  The guest learns
 * the offset from the firmware tables (`dma-ranges` on the PCIe host bridge,
 * or ACPI's _DMA): bus address = CPU address - GPA + IOVA for the window,
 * and swiotlb bounces the rest.
 *
 * Everything else on that host bridge sees the same `dma-ranges`, so the
 * emulated PCI devices there (virtio with iommu_platform=on, e1000e,
 * QEMU's nvme...) are handed bus addresses in the IOVA range too.  The bus
 * therefore gets an address space that maps the window's IOVAs back to its
 * guest RAM.
 *
 * Only machines that ask for it get that address space (-machine
 * virt,vfio-apple=on): a device's bus-master address space is fixed when
 * the device is realized, and devices on the bus (the machine's default
 * NIC among them) may be realized before any vfio-apple-pci, so the
 * machine must decide when it creates the bus.  A machine that does not ask
 * is exactly what it was without vfio-apple.  Until a window exists the
 * address space is an alias of all of system memory at offset 0; the
 * window adds higher-priority aliases at its IOVAs (the identity stays
 * below them for MSI doorbells and peer-to-peer).  Once the window is in
 * the guest's device tree it stays, also while no vfio-apple-pci device is
 * plugged, because the guest keeps using it.
 *
 * The DART may hand out IOVAs anywhere, also where the guest's address map
 * has RAM or devices.  For the guest that is harmless: bus and CPU
 * addresses are separate.  For emulated devices on the bus it is not
 * quite: their MSIs are writes to the interrupt controller's doorbell, at
 * its CPU address.  So the doorbell stays above the window in the bus's
 * address space, and the guest RAM the window maps at the doorbell's IOVAs
 * is reserved in the device tree (the guest never DMAs there).  The bus
 * ranges the guest is given stay whole: leaving the doorbell's IOVAs out
 * would make the passthrough device, which reaches that RAM through the
 * DART, fail its mappings there when the guest has no swiotlb (the window
 * as all of RAM: measured on 6.1).  So where the reservation cannot be
 * made (ACPI; QEMU's initrd there), emulated devices that use the DMA API
 * may DMA into the doorbell from those 64 KiB.  Overlaps
 * with RAM are harmless, with other MMIO they only rule out peer-to-peer
 * DMA from emulated devices; all are reported by x-query-vfio-apple.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <libfdt.h>
#include "qapi/error.h"
#include "qapi/clone-visitor.h"
#include "qapi/qapi-visit-vfio-apple.h"
#include "qemu/units.h"
#include "system/address-spaces.h"
#include "system/device_tree.h"
#include "system/system.h"
#include "qemu/error-report.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/boards.h"

#include "container.h"
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

    /* the MSI doorbell, kept above the window when they overlap */
    MemoryRegion doorbell;
    bool doorbell_mapped;

    VfioAppleWindowOverlapList *overlaps;

    /* what the guest is told: see vfio_apple_window_bus_ranges() */
    unsigned nranges;
    VFIOAppleBusRange ranges[VFIO_APPLE_MAX_BUS_RANGES];

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

    if (!w->bus_ready) {
        error_setg(errp, "the machine gives its PCIe bus no vfio-apple DMA "
                   "window address space");
        error_append_hint(errp, "Start the virt machine with -machine "
                          "virt,vfio-apple=on: emulated devices on the same "
                          "bus must see the window's bus addresses too\n");
        return false;
    }
    if (pci_device_iommu_address_space(pdev) != &w->as) {
        error_setg(errp, "the PCI bus has another IOMMU's address space");
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

bool vfio_apple_companion_check_plug(PCIDevice *pdev, Error **errp)
{
    VFIOAppleWindow *w = &vfio_apple_window;
    AddressSpace *as = pci_device_iommu_address_space(pdev);

    /*
     * The companion's guest driver becomes the device's DMA API: a guest
     * IOMMU would claim that too.  Either machine is fine otherwise: the
     * window is never described to the guest in this mode.
     */
    if (as != &address_space_memory && !(w->bus_ready && as == &w->as)) {
        error_setg(errp, "the PCI bus has another IOMMU's address space");
        error_append_hint(errp, "dma-mode=companion needs the PCIe bus "
                          "without a virtual IOMMU (no iommu=smmuv3, no "
                          "virtio-iommu): the host IOMMU chooses the "
                          "device's addresses\n");
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

VfioAppleWindowOverlapList *vfio_apple_window_overlaps(void)
{
    return QAPI_CLONE(VfioAppleWindowOverlapList, vfio_apple_window.overlaps);
}

/* ------------------------------------------------------------ overlaps -- */

typedef struct VFIOAppleOverlapScan {
    const VFIOAppleWindowSeg *seg;
    hwaddr msi_base;
    uint64_t msi_size;
    VfioAppleWindowOverlapList **tail;
} VFIOAppleOverlapScan;

/* One range of the guest's flat address map, against one segment. */
static bool vfio_apple_overlap_range(Int128 start, Int128 len,
                                     const MemoryRegion *mr,
                                     hwaddr offset_in_region, void *opaque)
{
    VFIOAppleOverlapScan *sc = opaque;
    uint64_t s = int128_get64(start), e = s + int128_get64(len);
    uint64_t lo = MAX(s, sc->seg->iova);
    uint64_t hi = MIN(e, sc->seg->iova + sc->seg->size);
    VfioAppleWindowOverlap *o;

    if (lo >= hi) {
        return false;
    }
    o = g_new0(VfioAppleWindowOverlap, 1);
    o->iova = lo;
    o->size = hi - lo;
    o->region = g_strdup(memory_region_name(mr));
    if (sc->msi_size && lo < sc->msi_base + sc->msi_size &&
        sc->msi_base < hi) {
        o->kind = VFIO_APPLE_OVERLAP_KIND_MSI_DOORBELL;
    } else if (memory_region_is_ram((MemoryRegion *)mr) &&
               !memory_region_is_ram_device((MemoryRegion *)mr)) {
        o->kind = VFIO_APPLE_OVERLAP_KIND_RAM;
    } else {
        o->kind = VFIO_APPLE_OVERLAP_KIND_MMIO;
    }
    trace_vfio_apple_window_overlap(o->iova, o->size, o->region,
                                    VfioAppleOverlapKind_str(o->kind));
    QAPI_LIST_APPEND(sc->tail, o);
    return false;
}

/*
 * The guest RAM the window maps at [iova, iova + size) of @seg, in whole
 * 64 KiB pieces (the largest page a guest kernel uses): [*gpa, *end).
 */
static void vfio_apple_doorbell_ram(const VFIOAppleWindowSeg *seg,
                                    hwaddr iova, uint64_t size,
                                    hwaddr *gpa, hwaddr *end)
{
    *gpa = QEMU_ALIGN_DOWN(seg->gpa + (iova - seg->iova), 64 * KiB);
    *end = QEMU_ALIGN_UP(seg->gpa + (iova - seg->iova) + size, 64 * KiB);
}

/* Reserve guest RAM [gpa, end) in the device tree (when there is one). */
static bool vfio_apple_reserve(void *fdt, hwaddr gpa, hwaddr end,
                               Error **errp)
{
    g_autofree char *node = g_strdup_printf("/reserved-memory/"
                                            "vfio-apple-msi@%" HWADDR_PRIx,
                                            gpa);

    if (!fdt) {
        /* An ACPI boot with the user's DTB: nothing to reserve it in. */
        return true;
    }
    if (fdt_path_offset(fdt, "/reserved-memory") < 0) {
        qemu_fdt_add_subnode(fdt, "/reserved-memory");
        qemu_fdt_setprop_cell(fdt, "/reserved-memory", "#address-cells", 2);
        qemu_fdt_setprop_cell(fdt, "/reserved-memory", "#size-cells", 2);
        qemu_fdt_setprop(fdt, "/reserved-memory", "ranges", NULL, 0);
    }
    if (fdt_path_offset(fdt, node) >= 0) {
        return true;    /* two overlaps in the same 64 KiB */
    }
    qemu_fdt_add_subnode(fdt, node);
    if (qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, gpa, 2,
                                     end - gpa) < 0 ||
        qemu_fdt_setprop(fdt, node, "no-map", NULL, 0) < 0) {
        error_setg(errp, "vfio-apple-pci: cannot reserve guest RAM 0x%"
                   HWADDR_PRIx "+0x%" HWADDR_PRIx " in the device tree", gpa,
                   end - gpa);
        return false;
    }
    return true;
}

/*
 * What the window's IOVAs overlap in the guest's address map; keep the
 * MSI doorbell reachable for emulated devices and reserve the RAM behind
 * it.
 */
static bool vfio_apple_window_place(VFIOAppleWindow *w, void *fdt,
                                    hwaddr msi_base, uint64_t msi_size,
                                    Error **errp)
{
    FlatView *fv = address_space_to_flatview(&address_space_memory);
    VfioAppleWindowOverlapList *l;
    VFIOAppleOverlapScan sc = {
        .msi_base = msi_base, .msi_size = msi_size, .tail = &w->overlaps,
    };
    unsigned i;

    qapi_free_VfioAppleWindowOverlapList(w->overlaps);
    w->overlaps = NULL;
    for (i = 0; i < w->nsegs; i++) {
        sc.seg = &w->segs[i];
        flatview_for_each_range(fv, vfio_apple_overlap_range, &sc);
    }
    for (l = w->overlaps; l; l = l->next) {
        VfioAppleWindowOverlap *o = l->value;

        if (o->kind != VFIO_APPLE_OVERLAP_KIND_MSI_DOORBELL) {
            continue;
        }
        for (i = 0; i < w->nsegs; i++) {
            const VFIOAppleWindowSeg *s = &w->segs[i];
            hwaddr gpa, end;

            if (o->iova < s->iova || o->iova - s->iova >= s->size) {
                continue;
            }
            vfio_apple_doorbell_ram(s, o->iova, o->size, &gpa, &end);
            if (!vfio_apple_reserve(fdt, gpa, end, errp)) {
                return false;
            }
            o->has_reserved_gpa = true;
            o->reserved_gpa = gpa;
        }
        if (!w->doorbell_mapped) {
            memory_region_init_alias(&w->doorbell, NULL,
                                     "vfio-apple-dma-msi-doorbell",
                                     get_system_memory(), msi_base, msi_size);
            memory_region_add_subregion_overlap(&w->root, msi_base,
                                                &w->doorbell, 2);
            w->doorbell_mapped = true;
        }
    }
    return true;
}

/*
 * How far to extend the last bus range past the window so that it ends on
 * a power of two.  Linux (dma_addressing_limited()) compares the bus limit
 * from dma-ranges (or _DMA) with the bus address of the last RAM page
 * rounded up to 2^n - 1; below it, the device counts as addressing-limited
 * and 6.12 caps every mapping at swiotlb's 252 KiB.  Only when the window
 * is all of guest RAM and nothing can be plugged after it: the extra CPU
 * range then holds no RAM, so no DMA goes there, and the guest's DMA zone
 * still covers only the window.  0 otherwise.
 */
static uint64_t vfio_apple_window_pad(VFIOAppleWindow *w,
                                      const VFIOAppleBusRange *last)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    uint64_t total = 0, end = last->bus + last->size, pad;
    unsigned i;

    for (i = 0; i < w->nsegs; i++) {
        total += w->segs[i].size;
    }
    if (!ms->ram || ms->device_memory || w->segs[0].gpa != ms->ram->addr ||
        total != memory_region_size(ms->ram) || is_power_of_2(end) ||
        end > (1ull << 62)) {
        return 0;
    }
    pad = pow2ceil(end) - end;
    /* The extra bus range must not be another segment's. */
    for (i = 0; i < w->nsegs; i++) {
        if (w->segs[i].iova < end + pad && end < w->segs[i].iova +
                                                 w->segs[i].size) {
            return 0;
        }
    }
    trace_vfio_apple_window_pad(end, pad);
    return pad;
}

/* The segments, and the pad: see container.h. */
static void vfio_apple_window_make_ranges(VFIOAppleWindow *w)
{
    unsigned i;

    for (i = 0; i < w->nsegs; i++) {
        w->ranges[i] = (VFIOAppleBusRange) {
            .bus = w->segs[i].iova, .cpu = w->segs[i].gpa,
            .size = w->segs[i].size,
        };
    }
    w->nranges = w->nsegs;
    w->ranges[w->nranges - 1].size +=
        vfio_apple_window_pad(w, &w->ranges[w->nranges - 1]);
}

unsigned vfio_apple_window_bus_ranges(const VFIOAppleBusRange **ranges)
{
    *ranges = vfio_apple_window.ranges;
    return vfio_apple_window.nranges;
}

/* The bus ranges as the device tree's dma-ranges on @pcie_node. */
static bool vfio_apple_window_write_dt(VFIOAppleWindow *w, void *fdt,
                                       const char *pcie_node, Error **errp)
{
    g_autofree uint32_t *cells = g_new0(uint32_t, w->nranges * 7);
    unsigned i;

    /*
     * PCI bus address (3 cells: space code, high, low), CPU address (2),
     * size (2).  Memory space, 64-bit when the IOVAs need it.
     */
    for (i = 0; i < w->nranges; i++) {
        const VFIOAppleBusRange *r = &w->ranges[i];
        uint32_t *c = cells + i * 7;
        bool high = r->bus + r->size > 4 * GiB;

        c[0] = cpu_to_be32(high ? 0x03000000 : 0x02000000);
        c[1] = cpu_to_be32(r->bus >> 32);
        c[2] = cpu_to_be32((uint32_t)r->bus);
        c[3] = cpu_to_be32(r->cpu >> 32);
        c[4] = cpu_to_be32((uint32_t)r->cpu);
        c[5] = cpu_to_be32(r->size >> 32);
        c[6] = cpu_to_be32((uint32_t)r->size);
    }
    if (qemu_fdt_setprop(fdt, pcie_node, "dma-ranges", cells,
                         w->nranges * 7 * sizeof(uint32_t)) < 0) {
        error_setg(errp, "vfio-apple-pci: cannot add dma-ranges to %s",
                   pcie_node);
        return false;
    }
    trace_vfio_apple_dma_ranges(pcie_node, w->nranges);
    return true;
}

/*
 * Firmware that boots from its own devices drives the PCI devices it
 * finds, with guest-physical DMA addresses: it knows nothing of the window,
 * so the passthrough device's DMA would fault in the DART.  edk2 for virt
 * connects only the devices in QEMU's boot order when there is one
 * (ConnectDevicesFromQemu()), and all of them otherwise; with -kernel it
 * boots the kernel without (measured: tests/e2e/test_pt_acpi.py).
 */
static void vfio_apple_warn_firmware_dma(void)
{
    size_t len = 0;
    g_autofree char *order = get_boot_devices_list(&len);

    if (len) {
        return;
    }
    warn_report("vfio-apple-pci: the firmware will drive the device with "
                "guest-physical DMA addresses, which the DART faults");
    error_printf("With no device in the boot order, edk2 connects a driver to "
                 "every PCI device.  Give the boot disk a bootindex (libvirt "
                 "and UTM do), e.g. -device virtio-blk-pci,drive=d0,"
                 "bootindex=0; never a bootindex on vfio-apple-pci\n");
}

void vfio_apple_machine_done(void *fdt, const char *pcie_node, bool user_dtb,
                             bool firmware_boot, bool acpi, hwaddr msi_base,
                             uint64_t msi_size, Error **errp)
{
    VFIOAppleWindow *w = &vfio_apple_window;
    bool have_dt = fdt && pcie_node && !user_dtb;

    w->machine_done = true;
    if (!w->defined) {
        return;
    }
    if (firmware_boot) {
        vfio_apple_warn_firmware_dma();
    }
    /*
     * An ACPI guest reads the window from _DMA (vfio_apple_acpi_add_dma(),
     * when the tables are built, after this); the device tree is then only
     * the firmware's, but describe the window there too when it is ours.
     */
    if (!acpi && !have_dt) {
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
    if (!vfio_apple_window_place(w, have_dt ? fdt : NULL, msi_base, msi_size,
                                 errp)) {
        return;
    }
    vfio_apple_window_make_ranges(w);
    if (have_dt && !vfio_apple_window_write_dt(w, fdt, pcie_node, errp)) {
        return;
    }
    w->published = true;
}
