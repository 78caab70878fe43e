/*
 * vfio-apple-pci: the VFIODeviceIOOps, i.e. what vfio-pci's region, IRQ
 * and reset code calls instead of VFIO ioctls.
 *
 * BARs are the dext's mappings of each BAR, handed to vfio-pci's region
 * code through region_mmap in pieces; the pages the dext reports trapped
 * (the MSI-X table and PBA page) are holes in the sparse mmap areas and go
 * through MMIO calls.  vfio-pci's MSI-X emulation stays in charge of the
 * table.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "hw/vfio/vfio-device.h"

#include "pci.h"
#include "trace.h"

/* ---------------------------------------------------------------- BARs -- */

bool vfio_apple_bars_open(VFIOApplePCIDevice *a, Error **errp)
{
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;
    const struct vfa_identity *id = &a->id;
    int ret, i;

    for (i = 0; i < PCI_ROM_SLOT; i++) {
        VFIOAppleBAR *bar = &a->bars[i];

        if (!(id->bar_flags[i] & VFA_BAR_PRESENT)) {
            continue;
        }
        ret = vfa_bar_info(a->client, i, &bar->info);
        if (ret) {
            error_setg_errno(errp, -ret, "BAR %d: %s", i,
                             vfa_client_errmsg(a->client));
            return false;
        }
        /*
         * Two answers about one BAR must agree: the size sizes the region
         * vfio-pci maps into the guest and bounds every access below.
         */
        if (!(bar->info.flags & VFA_BAR_PRESENT) ||
            bar->info.size != id->bar_size[i]) {
            error_setg(errp, "the dext reports BAR %d as %" PRIu64 " bytes "
                       "(flags 0x%x), its identity said %" PRIu64, i,
                       bar->info.size, bar->info.flags, id->bar_size[i]);
            return false;
        }
        if ((bar->info.flags & VFA_BAR_MAPPABLE) && !vbasedev->no_mmap) {
            ret = vfa_map_memory(a->client, VFA_MEM_BAR(i), &bar->map,
                                 &bar->map_size, NULL);
            if (ret) {
                warn_report("vfio-apple-pci %s: BAR %d cannot be mapped (%s); "
                            "every access will be a dext call",
                            vbasedev->name, i, vfa_client_errmsg(a->client));
                bar->map = NULL;
            } else if (bar->map_size < bar->info.size) {
                /* A smaller mapping would let the guest reach past it. */
                warn_report("vfio-apple-pci %s: BAR %d mapping (%" PRIu64
                            " bytes) is smaller than the BAR; not using it",
                            vbasedev->name, i, bar->map_size);
                vfa_unmap_memory(a->client, bar->map, bar->map_size);
                bar->map = NULL;
            }
        }
        trace_vfio_apple_bar(vbasedev->name, i, bar->info.flags,
                             bar->info.size, bar->info.trapped_pages,
                             bar->map);
    }
    return true;
}

void vfio_apple_bars_close(VFIOApplePCIDevice *a)
{
    int i;

    for (i = 0; i < PCI_ROM_SLOT; i++) {
        if (a->bars[i].map) {
            vfa_unmap_memory(a->client, a->bars[i].map, a->bars[i].map_size);
            a->bars[i].map = NULL;
        }
    }
}

static bool vfio_apple_page_trapped(VFIOAppleBAR *bar, uint64_t page)
{
    return page < 64 && (bar->info.trapped_pages >> page) & 1;
}

static int vfio_apple_bar_access(VFIOApplePCIDevice *a, uint8_t nr, off_t off,
                                 uint32_t size, void *data, bool write)
{
    VFIOAppleBAR *bar = &a->bars[nr];
    uint64_t val = 0;
    int ret;

    if (off < 0 || off >= bar->info.size || size > bar->info.size - off ||
        (size != 1 && size != 2 && size != 4 && size != 8)) {
        return -EINVAL;
    }
    if (!vfio_apple_reachable(a)) {
        /* Gone or silent: as an absent device reads and writes. */
        if (!write) {
            memset(data, 0xff, size);
        }
        return size;
    }
    if (write) {
        memcpy(&val, data, size);
        val = le64_to_cpu(val);
        ret = vfa_mmio_write(a->client, nr, off, size, val);
        trace_vfio_apple_mmio_write(vfio_apple_name(a), nr, off, size, val);
    } else {
        ret = vfa_mmio_read(a->client, nr, off, size, &val);
        /* Only the bytes asked for, whatever the dext sent. */
        if (size < 8) {
            val &= (1ull << (size * 8)) - 1;
        }
        trace_vfio_apple_mmio_read(vfio_apple_name(a), nr, off, size, val);
        val = cpu_to_le64(val);
        memcpy(data, &val, size);
    }
    if (ret) {
        vfio_apple_failed(a, ret);
        if (!write) {
            memset(data, 0xff, size);
        }
        /* Answered as an absent device would: do not fail the guest. */
        return ret == -ENODEV || ret == -ETIMEDOUT ? (int)size : ret;
    }
    return size;
}

/*
 * Region info for a BAR: the mappable pages as sparse mmap areas, the
 * trapped ones left out (served by region_read/write).
 */
static int vfio_apple_bar_region_info(VFIOApplePCIDevice *a, uint8_t nr,
                                      struct vfio_region_info *info)
{
    VFIOAppleBAR *bar = &a->bars[nr];
    struct vfio_region_info_cap_sparse_mmap *sparse;
    struct vfio_region_sparse_mmap_area areas[64 + 1];
    uint64_t pages, p, start;
    uint32_t nareas = 0, argsz;

    if (!(bar->info.flags & VFA_BAR_PRESENT) || !bar->info.size) {
        return 0;
    }
    info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    info->size = bar->info.size;
    if (!bar->map) {
        return 0;
    }

    /*
     * Alternate runs of mapped and trapped pages.  Only pages 0..63 can be
     * trapped (the bitmap's width), so at most 33 runs are mapped.
     */
    pages = DIV_ROUND_UP(bar->info.size, VFA_PAGE_SIZE);
    for (p = 0; p < pages; p = start) {
        while (p < pages && vfio_apple_page_trapped(bar, p)) {
            p++;
        }
        if (p == pages) {
            break;
        }
        start = p;
        if (p >= 64) {
            start = pages;
        } else {
            while (start < pages && start < 64 &&
                   !vfio_apple_page_trapped(bar, start)) {
                start++;
            }
            if (start == 64) {
                start = pages;
            }
        }
        areas[nareas].offset = p * VFA_PAGE_SIZE;
        areas[nareas].size = MIN(start * VFA_PAGE_SIZE, bar->info.size) -
                             areas[nareas].offset;
        nareas++;
    }
    if (!nareas) {
        return 0;
    }

    argsz = sizeof(*info) + sizeof(*sparse) + nareas * sizeof(areas[0]);
    if (info->argsz < argsz) {
        info->argsz = argsz;        /* vfio_device_get_region_info retries */
        return 0;
    }
    sparse = (void *)(info + 1);
    sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
    sparse->header.version = 1;
    sparse->header.next = 0;
    sparse->nr_areas = nareas;
    memcpy(sparse->areas, areas, nareas * sizeof(areas[0]));
    info->flags |= VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
    info->cap_offset = sizeof(*info);
    info->argsz = argsz;
    return 0;
}

/* ------------------------------------------------------------ io_ops -- */

static int vfio_apple_io_get_region_info(VFIODevice *vbasedev,
                                         struct vfio_region_info *info,
                                         int *fd)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);
    uint32_t index = info->index;

    *fd = -1;
    info->flags = 0;
    info->cap_offset = 0;
    info->size = 0;
    info->offset = 0;

    switch (index) {
    case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
        return vfio_apple_bar_region_info(a, index, info);
    case VFIO_PCI_ROM_REGION_INDEX:
        info->size = a->id.rom_size;
        info->flags = a->id.rom_size ? VFIO_REGION_INFO_FLAG_READ : 0;
        return 0;
    case VFIO_PCI_CONFIG_REGION_INDEX:
        info->size = a->id.config_size;
        info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        return 0;
    case VFIO_PCI_VGA_REGION_INDEX:
        return 0;
    default:
        return -EINVAL;
    }
}

static int vfio_apple_rom_read(VFIOApplePCIDevice *a, off_t off,
                               uint32_t size, void *data)
{
    int ret;

    if (off < 0 || off >= a->id.rom_size) {
        return 0;
    }
    size = MIN(size, a->id.rom_size - off);
    if (!vfio_apple_reachable(a)) {
        memset(data, 0xff, size);
        return size;
    }
    ret = vfa_rom_read(a->client, off, data, size);
    return ret ? vfio_apple_failed(a, ret) : (int)size;
}

static int vfio_apple_io_region_read(VFIODevice *vbasedev, uint8_t nr,
                                     off_t off, uint32_t size, void *data)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);

    switch (nr) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        return vfio_apple_config_read(a, off, size, data);
    case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
        return vfio_apple_bar_access(a, nr, off, size, data, false);
    case VFIO_PCI_ROM_REGION_INDEX:
        return vfio_apple_rom_read(a, off, size, data);
    default:
        return -EINVAL;
    }
}

static int vfio_apple_io_region_write(VFIODevice *vbasedev, uint8_t nr,
                                      off_t off, uint32_t size, void *data,
                                      bool post)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);

    switch (nr) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        return vfio_apple_config_write(a, off, size, data);
    case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
        return vfio_apple_bar_access(a, nr, off, size, data, true);
    default:
        return -EINVAL;
    }
}

static int vfio_apple_io_region_mmap(VFIODevice *vbasedev, uint8_t nr,
                                     off_t off, size_t size, int prot,
                                     void **ptr)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);
    VFIOAppleBAR *bar;

    if (nr > VFIO_PCI_BAR5_REGION_INDEX) {
        return -EINVAL;
    }
    bar = &a->bars[nr];
    if (!bar->map || off < 0 || off > bar->map_size ||
        size > bar->map_size - off) {
        return -EINVAL;
    }
    /* Pieces of the dext's one mapping of the BAR: nothing to map. */
    *ptr = (uint8_t *)bar->map + off;
    return 0;
}

static void vfio_apple_io_region_munmap(VFIODevice *vbasedev, uint8_t nr,
                                        void *ptr, size_t size)
{
    /* The BAR's mapping is released as a whole when the device goes. */
}

static int vfio_apple_io_device_reset(VFIODevice *vbasedev)
{
    /* Whatever works, function-level reset first (the dext's order). */
    return vfio_apple_pci_do_reset(vfio_apple_from_vbasedev(vbasedev), 0);
}

VFIODeviceIOOps vfio_apple_io_ops = {
    .get_region_info = vfio_apple_io_get_region_info,
    .get_irq_info = vfio_apple_io_get_irq_info,
    .set_irqs = vfio_apple_io_set_irqs,
    .region_read = vfio_apple_io_region_read,
    .region_write = vfio_apple_io_region_write,
    .region_mmap = vfio_apple_io_region_mmap,
    .region_munmap = vfio_apple_io_region_munmap,
    .device_reset = vfio_apple_io_device_reset,
};
