/*
 * container-apple: the IOMMU container of a vfio-apple-pci device.
 *
 * Linux VFIO containers map guest RAM at IOVA = GPA.  Apple's DART cannot:
 * it chooses the IOVAs itself.  So this container maps one window of guest
 * RAM through the dext when the device is realized (before the guest
 * boots), records the IOVA segments it got, and publishes them as the DMA
 * window (window.c) that the guest learns from its device tree.  It does
 * not follow the memory listener: nothing else is ever mapped.
 *
 * The window is GPA [RAM base, RAM base + window-size), or all of RAM when
 * RAM is smaller.  If RAM is larger, the window must end on a power of two:
 * arm64 Linux derives its DMA zone from the highest CPU address in
 * dma-ranges rounded up to a power of two, and places swiotlb in that zone,
 * so a window ending elsewhere lets bounce buffers land outside it.
 *
 * Everything that decides how the guest learns the window lives here and
 * in window.c (dma-ranges) and acpi.c (_DMA and the IORT).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "exec/cpu-common.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "hw/boards.h"
#include "hw/vfio/vfio-device.h"

#include "container.h"
#include "trace.h"

static const char *vfio_apple_dma_hint(int err)
{
    switch (err) {
    case -ENOSPC:
        return "The window is larger than the DMA budget the dext allows "
               "this device.  Use a smaller window-size (the window must "
               "still end on a power-of-two address), give the dext a "
               "bigger budget (vfio-apple-sim --dart-budget), or use "
               "dma-mode=companion (not available yet)\n";
    case -EMFILE:
        return "The dext's limit of live DMA mappings is reached.  Release "
               "mappings held by other clients, or raise the limit "
               "(vfio-apple-sim --dart-max-mappings)\n";
    case -EFAULT:
        return "The dext cannot reach guest RAM: on Linux guest RAM must be "
               "a shared memfd registered with the simulator\n";
    case -ENODEV:
        return "The dext or the device went away; check that it is "
               "running\n";
    default:
        return NULL;
    }
}

/*
 * The window in guest-physical space, from the machine's RAM and
 * window-size; checks that it can work for the guest.
 */
static bool vfio_apple_window_layout(VFIOAppleContainer *container,
                                     MemoryRegion **ramp, Error **errp)
{
    VFIOApplePCIDevice *a = container->adev;
    MachineState *ms = MACHINE(qdev_get_machine());
    MemoryRegion *ram = ms->ram;
    uint64_t ram_size, ws = a->window_size;
    hwaddr ram_gpa;

    if (!ram || ram->container != get_system_memory()) {
        error_setg(errp, "the machine has no guest RAM region mapped in "
                   "system memory to put the DMA window in");
        return false;
    }
    ram_gpa = ram->addr;
    ram_size = memory_region_size(ram);

    if (!ws || !QEMU_IS_ALIGNED(ws, VFA_PAGE_SIZE)) {
        error_setg(errp, "window-size=0x%" PRIx64 " must be a non-zero "
                   "multiple of 16 KiB (the DART page)", ws);
        return false;
    }
    if (ram_size <= ws) {
        /* Everything fits: the window is all of RAM, nothing bounces. */
        ws = ram_size;
    } else if (a->dma_mode == VFIO_APPLE_DMA_MODE_COMPANION) {
        /*
         * The guest learns this window from the companion, not from its
         * firmware tables: no DMA zone is derived from it, nothing is
         * bounced into it, so it may end anywhere.
         */
    } else if (!is_power_of_2(ram_gpa + ws)) {
        g_autofree char *ram_str = size_to_str(ram_size);
        g_autofree char *ws_str = size_to_str(ws);
        uint64_t end = pow2ceil(ram_gpa + ws), lo = pow2floor(ram_gpa + ws);
        g_autofree char *up = size_to_str(end - ram_gpa);
        g_autofree char *down = lo > ram_gpa ? size_to_str(lo - ram_gpa) :
                                NULL;
        g_autofree char *alt = down ? g_strdup_printf(" or %s", down) :
                               g_strdup("");

        error_setg(errp, "window-size=%s: with %s of guest RAM the window "
                   "[0x%" HWADDR_PRIx ", 0x%" HWADDR_PRIx ") must end on a "
                   "power-of-two address", ws_str, ram_str, ram_gpa,
                   ram_gpa + ws);
        error_append_hint(errp, "arm64 Linux rounds the end of dma-ranges up "
                          "to a power of two for its DMA zone and puts "
                          "swiotlb there, which would then lie partly "
                          "outside the window.  Use a window-size of %s%s, "
                          "or give the guest at most %s of RAM\n",
                          up, alt, ws_str);
        return false;
    }
    if (!QEMU_IS_ALIGNED(ram_gpa, VFA_PAGE_SIZE) ||
        !QEMU_IS_ALIGNED(ws, VFA_PAGE_SIZE)) {
        error_setg(errp, "guest RAM at 0x%" HWADDR_PRIx " size 0x%" PRIx64
                   " is not made of whole 16 KiB pages, which the DART "
                   "needs", ram_gpa, ram_size);
        return false;
    }

    container->gpa = ram_gpa;
    container->size = ws;
    container->hva = memory_region_get_ram_ptr(ram);
    if (a->dma_mode == VFIO_APPLE_DMA_MODE_COMPANION) {
        container->shared_gpa = ram_gpa;
        container->shared_size = ram_size;
    } else {
        container->shared_gpa = ram_gpa;
        container->shared_size = ws;
    }
    container->shared_hva = container->hva;
    *ramp = ram;
    return true;
}

/*
 * Share the window's guest RAM with the dext.  What that takes differs by
 * transport and lives behind it: the socket transport hands the simulator
 * the memory's fd and names the window by a 16 KiB-aligned view of it;
 * IOKit wraps QEMU's own range.  Only a shared, fd-backed RAM offers an fd.
 */
static bool vfio_apple_share_ram(VFIOAppleContainer *container,
                                 MemoryRegion *ram, Error **errp)
{
    VFIOApplePCIDevice *a = container->adev;
    int fd = qemu_ram_is_shared(ram->ram_block) ? memory_region_get_fd(ram)
                                                : -1;
    uint64_t fd_off = 0;
    int ret;

    if (fd >= 0) {
        fd_off = qemu_ram_get_fd_offset(ram->ram_block) +
                 (container->shared_gpa - ram->addr);
    }
    ret = vfa_share_memory(a->client, container->shared_hva,
                           container->shared_size, fd, fd_off,
                           &container->shm);
    if (ret == -EBADF) {
        error_setg(errp, "guest RAM is not shared memory backed by a file "
                   "descriptor, so the dext (%s) cannot reach it for the "
                   "device's DMA", vfa_client_transport_name(a->client));
        error_append_hint(errp, "Back guest RAM with a shared memfd:\n"
                          "  -object memory-backend-memfd,id=mem,size=<RAM "
                          "size>,share=on -machine memory-backend=mem\n");
        return false;
    }
    if (ret) {
        error_setg_errno(errp, -ret, "cannot share guest RAM with the dext: "
                         "%s", vfa_client_errmsg(a->client));
        return false;
    }
    return true;
}

static void vfio_apple_unshare_ram(VFIOAppleContainer *container)
{
    VFIOApplePCIDevice *a = container->adev;

    if (!container->shm) {
        return;
    }
    if (vfa_unshare_memory(a->client, container->shm) &&
        vfio_apple_reachable(a)) {
        warn_report("vfio-apple: releasing guest RAM: %s",
                    vfa_client_errmsg(a->client));
    }
    container->shm = NULL;
}

static void vfio_apple_window_unmap(VFIOAppleContainer *container)
{
    VFIOApplePCIDevice *a = container->adev;

    if (!container->mapped) {
        return;
    }
    if (vfio_apple_reachable(a) &&
        vfa_dma_unmap(a->client, container->handle)) {
        warn_report("vfio-apple: unmapping the DMA window: %s",
                    vfa_client_errmsg(a->client));
    }
    trace_vfio_apple_window_unmap(a->parent_obj.vbasedev.name,
                                  container->handle);
    container->mapped = false;
    container->mapped_bytes = 0;
    container->mappings = 0;
}

static bool vfio_apple_window_map(VFIOAppleContainer *container, Error **errp)
{
    VFIOApplePCIDevice *a = container->adev;
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;
    VFIOAppleWindowSeg segs[VFA_MAX_DMA_SEGMENTS];
    g_autofree struct vfa_dma_map_out *out = g_new0(struct vfa_dma_map_out, 1);
    g_autofree char *size_str = NULL, *budget_str = NULL;
    MemoryRegion *ram;
    uint64_t total = 0;
    hwaddr gpa;
    uint32_t i;
    int ret;

    if (!vfio_apple_window_layout(container, &ram, errp) ||
        !vfio_apple_share_ram(container, ram, errp)) {
        return false;
    }

    ret = vfa_dma_map(a->client,
                      (uint8_t *)vfa_shared_mem_dma_va(container->shm) +
                      (container->gpa - container->shared_gpa),
                      container->size, VFA_DMA_BIDIRECTIONAL, out);
    if (ret) {
        const char *hint = vfio_apple_dma_hint(ret);

        size_str = size_to_str(container->size);
        budget_str = size_to_str(a->id.dma_budget_bytes);
        error_setg(errp, "cannot map the DMA window (GPA 0x%" HWADDR_PRIx
                   ", %s) through the dext: %s (the dext's DMA budget for the "
                   "device: %s, %u mappings)", container->gpa, size_str,
                   vfa_client_errmsg(a->client), budget_str,
                   a->id.dma_max_mappings);
        if (hint) {
            error_append_hint(errp, "%s", hint);
        }
        goto fail;
    }
    container->mapped = true;
    container->handle = out->handle;
    container->mappings = 1;
    container->mapped_bytes = ROUND_UP(container->size, VFA_PAGE_SIZE);

    /*
     * Check the reply before the guest is told about it (the client did
     * too; this is the point of use): nsegs indexes our arrays, the
     * segments become the guest's dma-ranges.
     */
    gpa = container->gpa;
    for (i = 0; i < out->nsegs && i < VFA_MAX_DMA_SEGMENTS; i++) {
        const struct vfa_dma_segment *sg = &out->segs[i];
        uint32_t j;

        /* Whole DART pages (the window is page-aligned), nonempty, not
         * wrapping, not overlapping an earlier one: each becomes a
         * dma-ranges entry and an alias in the bus's address space. */
        if (!sg->len || sg->len > container->size - total ||
            sg->iova + sg->len < sg->iova ||
            (sg->iova | sg->len) % VFA_PAGE_SIZE) {
            break;
        }
        for (j = 0; j < i; j++) {
            if (sg->iova < out->segs[j].iova + out->segs[j].len &&
                out->segs[j].iova < sg->iova + sg->len) {
                break;
            }
        }
        if (j < i) {
            break;
        }
        segs[i].gpa = gpa;
        segs[i].iova = out->segs[i].iova;
        segs[i].size = out->segs[i].len;
        container->segs[i] = out->segs[i];
        trace_vfio_apple_window_segment(i, gpa, segs[i].iova, segs[i].size);
        gpa += out->segs[i].len;
        total += out->segs[i].len;
    }
    if (i != out->nsegs || total != container->size) {
        error_setg(errp, "the dext answered the DMA window map with a "
                   "malformed segment list (%u segments, %" PRIu64 " of %"
                   PRIu64 " bytes)", out->nsegs, total, container->size);
        goto fail;
    }
    container->nsegs = out->nsegs;
    trace_vfio_apple_window_map(vbasedev->name, container->gpa,
                                container->size, container->hva,
                                container->nsegs);

    /* Companion mode: the guest learns the window from the companion. */
    if (a->dma_mode == VFIO_APPLE_DMA_MODE_WINDOW &&
        !vfio_apple_window_claim(segs, container->nsegs, errp)) {
        goto fail;
    }
    return true;

fail:
    vfio_apple_window_unmap(container);
    vfio_apple_unshare_ram(container);
    return false;
}

bool vfio_apple_companion_view(VFIOApplePCIDevice *a,
                               VFIOAppleCompanionView *v)
{
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;
    VFIOAppleContainer *container;

    if (a->dma_mode != VFIO_APPLE_DMA_MODE_COMPANION ||
        !vbasedev->bcontainer || !a->client) {
        return false;
    }
    container = VFIO_IOMMU_APPLE(vbasedev->bcontainer);
    if (!container->mapped || !container->shm) {
        return false;
    }
    *v = (VFIOAppleCompanionView) {
        .client = a->client,
        .ram_gpa = container->shared_gpa,
        .ram_size = container->shared_size,
        .ram_hva = container->shared_hva,
        .ram_dma_va = vfa_shared_mem_dma_va(container->shm),
        .window_gpa = container->gpa,
        /* Arithmetic needs one IOVA range: the first segment. */
        .window_size = container->segs[0].len,
        .window_iova = container->segs[0].iova,
        .window_bytes = container->mapped_bytes,
        .window_mappings = container->mappings,
        .budget_bytes = a->id.dma_budget_bytes,
        .budget_mappings = a->id.dma_max_mappings,
    };
    return true;
}

void vfio_apple_container_release(VFIOAppleContainer *container)
{
    vfio_apple_window_unmap(container);
    vfio_apple_unshare_ram(container);
}

/*
 * The memory listener is never registered: QEMU does not map guest RAM at
 * IOVA = GPA through this container.  Refuse if anything tries.
 */
static int vfio_apple_dma_map(const VFIOContainer *bcontainer, hwaddr iova,
                              uint64_t size, void *vaddr, bool readonly,
                              MemoryRegion *mr)
{
    return -EINVAL;
}

static int vfio_apple_dma_unmap(const VFIOContainer *bcontainer, hwaddr iova,
                                uint64_t size, IOMMUTLBEntry *iotlb,
                                bool unmap_all)
{
    return -EINVAL;
}

static bool vfio_apple_setup(VFIOContainer *bcontainer, Error **errp)
{
    return true;
}

static bool vfio_apple_device_attach(const char *name, VFIODevice *vbasedev,
                                     AddressSpace *as, Error **errp)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);
    struct vfio_device_info info = {
        .argsz = sizeof(info),
        .flags = VFIO_DEVICE_FLAGS_PCI,
        .num_regions = VFIO_PCI_NUM_REGIONS,
        .num_irqs = VFIO_PCI_NUM_IRQS,
    };
    VFIOAppleContainer *container;
    VFIOContainer *bcontainer;
    VFIOAddressSpace *space;
    int ret;

    space = vfio_address_space_get(as);
    container = VFIO_IOMMU_APPLE(object_new(TYPE_VFIO_IOMMU_APPLE));
    container->adev = a;
    bcontainer = VFIO_IOMMU(container);
    bcontainer->pgsizes = a->id.dma_page_size ? a->id.dma_page_size :
                          VFA_PAGE_SIZE;
    bcontainer->dma_max_mappings = a->id.dma_max_mappings;
    bcontainer->dirty_pages_supported = false;

    /* The window's RAM must stay where the DART mapped it. */
    ret = ram_block_uncoordinated_discard_disable(true);
    if (ret) {
        error_setg_errno(errp, -ret, "cannot disable discarding of RAM "
                         "(a balloon or virtio-mem would free pages the "
                         "device may DMA to)");
        object_unref(container);
        vfio_address_space_put(space);
        return false;
    }
    vfio_address_space_insert(space, bcontainer);

    if (!vfio_apple_window_map(container, errp)) {
        ram_block_uncoordinated_discard_disable(false);
        object_unref(container);
        vfio_address_space_put(space);
        return false;
    }
    bcontainer->initialized = true;

    if (a->id.flags & (VFA_ID_FLR | VFA_ID_HOT_RESET)) {
        info.flags |= VFIO_DEVICE_FLAGS_RESET;
    }
    vbasedev->fd = -1;
    vfio_device_prepare(vbasedev, bcontainer, &info);
    return true;
}

static void vfio_apple_device_detach(VFIODevice *vbasedev)
{
    VFIOAppleContainer *container = VFIO_IOMMU_APPLE(vbasedev->bcontainer);
    VFIOAddressSpace *space = VFIO_IOMMU(container)->space;

    vfio_apple_container_release(container);
    vfio_device_unprepare(vbasedev);
    ram_block_uncoordinated_discard_disable(false);
    object_unref(container);
    vfio_address_space_put(space);
}

/* vfio-pci's fallback when the device reset failed: the link's hot reset. */
static int vfio_apple_pci_hot_reset(VFIODevice *vbasedev, bool single)
{
    return vfio_apple_pci_do_reset(vfio_apple_from_vbasedev(vbasedev),
                                   VFA_RESET_HOT);
}

static void vfio_iommu_apple_class_init(ObjectClass *klass, const void *data)
{
    VFIOIOMMUClass *vioc = VFIO_IOMMU_CLASS(klass);

    vioc->setup = vfio_apple_setup;
    vioc->dma_map = vfio_apple_dma_map;
    vioc->dma_unmap = vfio_apple_dma_unmap;
    vioc->attach_device = vfio_apple_device_attach;
    vioc->detach_device = vfio_apple_device_detach;
    vioc->pci_hot_reset = vfio_apple_pci_hot_reset;
}

static const TypeInfo types[] = {
    {
        .name = TYPE_VFIO_IOMMU_APPLE,
        .parent = TYPE_VFIO_IOMMU,
        .instance_size = sizeof(VFIOAppleContainer),
        .class_init = vfio_iommu_apple_class_init,
    },
};

DEFINE_TYPES(types)
