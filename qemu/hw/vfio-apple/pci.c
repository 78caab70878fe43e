/*
 * vfio-apple-pci: PCI device assignment through an Apple DriverKit
 * extension (the "dext"), or on Linux through vfio-apple-sim, which plays
 * the dext over a UNIX socket.
 *
 * A vfio-pci device whose VFIODeviceIOOps are calls into the dext client
 * (client/, the same library the tests use):
 *   - config space is read once with block reads; the read-only bytes stay
 *     cached, so a guest probe costs a few dozen dext calls; writes go to
 *     the dext, whose policy filters them;
 *   - BARs are mapped from the dext's shared mappings, except the pages it
 *     reports trapped (the MSI-X table and PBA page), which become holes in
 *     the sparse mmap areas and are served by MMIO calls; vfio-pci's MSI-X
 *     emulation stays in charge of the table;
 *   - MSI and MSI-X only (the platform has no INTx): a notification thread
 *     reads the dext's IRQ page and signals each pending enabled vector's
 *     notifier, with no dext call per interrupt;
 *   - reset through the dext's reset method (FLR, else hot reset);
 *   - DMA through the window of container-apple (container.c, window.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include <poll.h>
#include "qapi/error.h"
#include "qapi/qapi-commands-vfio-apple.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/notify.h"
#include "system/system.h"
#include "qemu/range.h"
#include "qemu/units.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "migration/blocker.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "hw/vfio/vfio-device.h"
#include "hw/vfio/vfio-region.h"

#include "apple.h"
#include "trace.h"

static QLIST_HEAD(, VFIOApplePCIDevice) vfio_apple_devices =
    QLIST_HEAD_INITIALIZER(vfio_apple_devices);

/* The ABI's method table names the methods (checkpatch: X-macro). */
static const char *const vfio_apple_call_names[VFIO_APPLE_CALL_KINDS] = {
#define N(name, sel, ...) [sel] = #name,
    VFA_METHODS(N)
#undef N
    [VFIO_APPLE_CALL_MAP_MEMORY] = "MAP_MEMORY",
    [VFIO_APPLE_CALL_REGISTER_MEMORY] = "REGISTER_MEMORY",
};

const char *vfio_apple_call_name(unsigned kind)
{
    return kind < VFIO_APPLE_CALL_KINDS && vfio_apple_call_names[kind] ?
           vfio_apple_call_names[kind] : "?";
}

static const char *vfio_apple_name(VFIOApplePCIDevice *a)
{
    return a->parent_obj.vbasedev.name ? a->parent_obj.vbasedev.name :
           "vfio-apple-pci";
}

/* ------------------------------------------------------- device lost -- */

static void vfio_apple_lost_bh(void *opaque)
{
    VFIOApplePCIDevice *a = opaque;
    VFIOPCIDevice *vdev = &a->parent_obj;
    Error *err = NULL;
    int i;

    if (a->lost_reported) {
        return;
    }
    a->lost_reported = true;
    error_report("vfio-apple-pci %s: device lost: %s", vfio_apple_name(a),
                 a->lost_why ? a->lost_why : "unknown reason");
    /* BAR accesses now go through region_read/write, which answer ~0. */
    for (i = 0; i < PCI_ROM_SLOT; i++) {
        vfio_region_mmaps_set_enabled(&vdev->bars[i].region, false);
    }
    /*
     * As a removed device would: reads return all-ones, writes are dropped.
     * In a hotplug slot, also ask the guest to let go of it, so its driver
     * fails the outstanding I/O now instead of at its timeout.
     */
    qdev_unplug(DEVICE(a), &err);
    if (err) {
        error_free(err);
        error_printf("The guest now sees a surprise-removed device (reads "
                     "return all-ones); remove it with device_del and plug "
                     "it again once the dext serves it.\n");
    } else {
        error_printf("Asked the guest to release it (hot-unplug); plug it "
                     "again with device_add once the dext serves it.\n");
    }
}

void vfio_apple_pci_lost(VFIOApplePCIDevice *a, const char *why)
{
    if (qatomic_xchg(&a->lost, true)) {
        return;
    }
    a->lost_why = g_strdup(why);
    trace_vfio_apple_lost(vfio_apple_name(a), why);
    if (a->lost_bh) {
        qemu_bh_schedule(a->lost_bh);
    }
}

/* A failed call: note a lost connection, pass the error on. */
static int vfio_apple_failed(VFIOApplePCIDevice *a, int ret)
{
    if (ret == -ENODEV) {
        vfio_apple_pci_lost(a, vfa_client_errmsg(a->client));
    }
    return ret;
}

/* ------------------------------------------------------- config space -- */

/* How a config byte is read (a->cfg_cached[]) */
enum {
    CFG_DEVICE = 0,             /* from the device, every time */
    CFG_CACHED,                 /* read-only: from the realize block read */
    CFG_STICKY,                 /* changes only when written: cached ... */
    CFG_STICKY_VALID,           /* ... once read, until a write or a reset */
};

static void vfio_apple_cfg_set(VFIOApplePCIDevice *a, uint32_t off,
                               uint32_t len, uint8_t how)
{
    if (off < a->id.config_size && len <= a->id.config_size - off) {
        memset(a->cfg_cached + off, how, len);
    }
}

static void vfio_apple_cfg_cache(VFIOApplePCIDevice *a, uint32_t off,
                                 uint32_t len)
{
    vfio_apple_cfg_set(a, off, len, CFG_CACHED);
}

/* A reset: whatever was cached because nobody wrote it may have changed. */
static void vfio_apple_cfg_invalidate(VFIOApplePCIDevice *a)
{
    uint32_t i;

    a->cfg_fresh = false;
    for (i = 0; i < a->id.config_size; i++) {
        if (a->cfg_cached[i] == CFG_STICKY_VALID) {
            a->cfg_cached[i] = CFG_STICKY;
        }
    }
}

/*
 * Decide which bytes of config space are read-only and can be answered
 * from the block read made at realize: identification, class, header
 * type, subsystem IDs, capability headers and the capability registers
 * that describe the device (PM capabilities, PCIe Device/Link/Slot
 * Capabilities), and the MSI/MSI-X capabilities, which belong to the host
 * (the dext drops guest writes to them; QEMU emulates them for the guest).
 * PCIe Device Control and Device Control 2 are read-only too as far as the
 * guest is concerned: the dext drops writes to them.
 *
 * Registers that only change when written (Command, cache line size,
 * latency timer, interrupt line) are cached once read, until the next
 * write or reset.  Everything else (Status, power management and link
 * status, vendor-specific and extended capability bodies) is read from the
 * device every time.
 */
static void vfio_apple_cfg_classify(VFIOApplePCIDevice *a)
{
    uint8_t *c = a->cfg;
    unsigned pos, n;

    vfio_apple_cfg_cache(a, PCI_VENDOR_ID, 4);
    vfio_apple_cfg_cache(a, PCI_CLASS_REVISION, 4);
    vfio_apple_cfg_cache(a, PCI_HEADER_TYPE, 1);
    vfio_apple_cfg_cache(a, PCI_BASE_ADDRESS_0, 24);   /* synthesised */
    vfio_apple_cfg_cache(a, PCI_SUBSYSTEM_VENDOR_ID, 4);
    vfio_apple_cfg_cache(a, PCI_CARDBUS_CIS, 4);
    vfio_apple_cfg_cache(a, PCI_CAPABILITY_LIST, 8);    /* + reserved */
    vfio_apple_cfg_cache(a, PCI_INTERRUPT_PIN, 3);
    vfio_apple_cfg_set(a, PCI_COMMAND, 2, CFG_STICKY);
    vfio_apple_cfg_set(a, PCI_CACHE_LINE_SIZE, 2, CFG_STICKY);
    vfio_apple_cfg_set(a, PCI_INTERRUPT_LINE, 1, CFG_STICKY);

    /* No INTx on the platform: never offer it to the guest. */
    c[PCI_INTERRUPT_PIN] = 0;

    if (pci_get_word(c + PCI_STATUS) & PCI_STATUS_CAP_LIST) {
        for (pos = c[PCI_CAPABILITY_LIST] & ~3, n = 0;
             pos >= PCI_CONFIG_HEADER_SIZE && pos < PCI_CONFIG_SPACE_SIZE - 2 &&
             n < 48; pos = c[pos + PCI_CAP_LIST_NEXT] & ~3, n++) {
            uint16_t flags = pci_get_word(c + pos + PCI_CAP_FLAGS);

            vfio_apple_cfg_cache(a, pos, 2);
            switch (c[pos]) {
            case PCI_CAP_ID_PM:
                vfio_apple_cfg_cache(a, pos + PCI_PM_PMC, 2);
                break;
            case PCI_CAP_ID_EXP:
                vfio_apple_cfg_cache(a, pos + PCI_EXP_FLAGS, 2);
                vfio_apple_cfg_cache(a, pos + PCI_EXP_DEVCAP, 4);
                vfio_apple_cfg_cache(a, pos + PCI_EXP_DEVCTL, 2);
                vfio_apple_cfg_cache(a, pos + PCI_EXP_LNKCAP, 4);
                vfio_apple_cfg_cache(a, pos + PCI_EXP_SLTCAP, 4);
                if ((flags & PCI_EXP_FLAGS_VERS) > 1) {
                    vfio_apple_cfg_cache(a, pos + PCI_EXP_DEVCAP2, 4);
                    vfio_apple_cfg_cache(a, pos + PCI_EXP_DEVCTL2, 2);
                    vfio_apple_cfg_cache(a, pos + PCI_EXP_LNKCAP2, 4);
                    vfio_apple_cfg_cache(a, pos + PCI_EXP_SLTCAP2, 4);
                }
                break;
            case PCI_CAP_ID_MSI:
                vfio_apple_cfg_cache(a, pos, PCI_MSI_DATA_32 + 2 +
                    (flags & PCI_MSI_FLAGS_64BIT ? 4 : 0) +
                    (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0));
                break;
            case PCI_CAP_ID_MSIX:
                vfio_apple_cfg_cache(a, pos, PCI_CAP_MSIX_SIZEOF);
                break;
            }
        }
    }

    if (a->id.config_size > PCI_CONFIG_SPACE_SIZE) {
        /* The first header is read-only even when it says "none". */
        vfio_apple_cfg_cache(a, PCI_CONFIG_SPACE_SIZE, 4);
        for (pos = PCI_CONFIG_SPACE_SIZE, n = 0;
             pos && pos <= a->id.config_size - 4 && n < 256; n++) {
            uint32_t hdr = pci_get_long(c + pos);

            if (!hdr || hdr == ~0U) {
                break;
            }
            vfio_apple_cfg_cache(a, pos, 4);
            pos = PCI_EXT_CAP_NEXT(hdr);
            if (pos < PCI_CONFIG_SPACE_SIZE) {
                break;
            }
        }
    }
}

static bool vfio_apple_cfg_all_cached(VFIOApplePCIDevice *a, uint32_t off,
                                      uint32_t size)
{
    uint32_t i;

    for (i = 0; i < size; i++) {
        if (a->cfg_cached[off + i] != CFG_CACHED &&
            a->cfg_cached[off + i] != CFG_STICKY_VALID) {
            return false;
        }
    }
    return true;
}

/*
 * Bytes QEMU emulates entirely and the dext's policy drops anyway: the BAR
 * and ROM BAR registers and the MSI/MSI-X capabilities.  Once the device
 * is set up, guest writes to them (BAR sizing, MSI-X enable) are not worth
 * a dext call; the guest never sees the device's copy of them.
 */
static bool vfio_apple_cfg_write_is_moot(VFIOApplePCIDevice *a, uint32_t off,
                                         uint32_t size)
{
    PCIDevice *pdev = PCI_DEVICE(a);
    VFIOPCIDevice *vdev = &a->parent_obj;

    if (!DEVICE(a)->realized) {
        return false;           /* vfio-pci sizes the ROM BAR through us */
    }
    if (range_covers_byte(PCI_BASE_ADDRESS_0, 24, off) &&
        off + size <= PCI_BASE_ADDRESS_0 + 24) {
        return true;
    }
    if (off >= PCI_ROM_ADDRESS && off + size <= PCI_ROM_ADDRESS + 4) {
        return true;
    }
    if ((pdev->cap_present & QEMU_PCI_CAP_MSIX) && pdev->msix_cap &&
        off >= pdev->msix_cap &&
        off + size <= pdev->msix_cap + MSIX_CAP_LENGTH) {
        return true;
    }
    if ((pdev->cap_present & QEMU_PCI_CAP_MSI) && pdev->msi_cap &&
        off >= pdev->msi_cap &&
        off + size <= pdev->msi_cap + vdev->msi_cap_size) {
        return true;
    }
    return false;
}

static int vfio_apple_config_read(VFIOApplePCIDevice *a, off_t off,
                                  uint32_t size, void *data)
{
    uint8_t *out = data;
    uint32_t i, val = 0;
    bool cached = false;
    int ret;

    if (off < 0 || off >= a->id.config_size ||
        size > a->id.config_size - off) {
        return -EINVAL;
    }
    if (qatomic_read(&a->lost)) {
        PCIDevice *pdev = PCI_DEVICE(a);

        /*
         * Gone: all-ones, as a removed function reads.  Except its power
         * state, which reads D0, so that resetting the remains (vfio-pci's
         * pre-reset puts the function in D0 first) does not complain.
         */
        memset(data, 0xff, size);
        if (pdev->pm_cap && ranges_overlap(off, size,
                                           pdev->pm_cap + PCI_PM_CTRL, 2)) {
            memset(data, 0, size);
        }
        return size;
    }

    if (a->cfg_fresh || vfio_apple_cfg_all_cached(a, off, size)) {
        memcpy(data, a->cfg + off, size);
        a->cfg_cache_hits++;
        cached = true;
    } else if ((size == 1 || size == 2 || size == 4) && !(off & (size - 1))) {
        vfio_apple_count(a, VFA_SEL_CONFIG_READ);
        ret = vfa_config_read(a->client, off, size, &val);
        if (ret) {
            return vfio_apple_failed(a, ret);
        }
        val = cpu_to_le32(val);
        memcpy(data, &val, size);
    } else {
        uint32_t start = off & ~3, len = ROUND_UP(off + size, 4) - start;
        g_autofree uint8_t *buf = g_malloc(len);

        vfio_apple_count(a, VFA_SEL_CONFIG_READ_BLOCK);
        ret = vfa_config_read_block(a->client, start, buf, len);
        if (ret) {
            return vfio_apple_failed(a, ret);
        }
        memcpy(data, buf + (off - start), size);
    }

    /* What we cache (and force, like the interrupt pin) wins. */
    for (i = 0; i < size; i++) {
        switch (a->cfg_cached[off + i]) {
        case CFG_CACHED:
        case CFG_STICKY_VALID:
            out[i] = a->cfg[off + i];
            break;
        case CFG_STICKY:
            a->cfg[off + i] = out[i];
            a->cfg_cached[off + i] = CFG_STICKY_VALID;
            break;
        }
    }
    if (size <= 4) {
        memcpy(&val, data, size);
        trace_vfio_apple_config_read(vfio_apple_name(a), off, size,
                                     le32_to_cpu(val), cached);
    }
    return size;
}

static int vfio_apple_config_write(VFIOApplePCIDevice *a, off_t off,
                                   uint32_t size, void *data)
{
    uint32_t i, val = 0, fwd = 0;
    int ret;

    if (off < 0 || off >= a->id.config_size ||
        size > a->id.config_size - off) {
        return -EINVAL;
    }
    if (qatomic_read(&a->lost)) {
        return size;
    }
    a->cfg_fresh = false;
    for (i = 0; i < size; i++) {
        if (a->cfg_cached[off + i] == CFG_STICKY_VALID) {
            a->cfg_cached[off + i] = CFG_STICKY;
        }
    }
    if (vfio_apple_cfg_write_is_moot(a, off, size)) {
        a->cfg_writes_spared++;
        return size;
    }

    if ((size != 1 && size != 2 && size != 4) || (off & (size - 1))) {
        /* Unusual shape: byte by byte. */
        for (i = 0; i < size; i++) {
            ret = vfio_apple_config_write(a, off + i, 1, (uint8_t *)data + i);
            if (ret < 0) {
                return ret;
            }
        }
        return size;
    }

    memcpy(&val, data, size);
    val = le32_to_cpu(val);
    vfio_apple_count(a, VFA_SEL_CONFIG_WRITE);
    ret = vfa_config_write(a->client, off, size, val, &fwd);
    trace_vfio_apple_config_write(vfio_apple_name(a), off, size, val, fwd);
    if (ret) {
        return vfio_apple_failed(a, ret);
    }
    return size;
}

/* ---------------------------------------------------------------- BARs -- */

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
    if (qatomic_read(&a->lost)) {
        if (!write) {
            memset(data, 0xff, size);
        }
        return size;
    }
    if (write) {
        memcpy(&val, data, size);
        val = le64_to_cpu(val);
        vfio_apple_count(a, VFA_SEL_MMIO_WRITE);
        ret = vfa_mmio_write(a->client, nr, off, size, val);
        trace_vfio_apple_mmio_write(vfio_apple_name(a), nr, off, size, val);
    } else {
        vfio_apple_count(a, VFA_SEL_MMIO_READ);
        ret = vfa_mmio_read(a->client, nr, off, size, &val);
        trace_vfio_apple_mmio_read(vfio_apple_name(a), nr, off, size, val);
        val = cpu_to_le64(val);
        memcpy(data, &val, size);
    }
    return ret ? vfio_apple_failed(a, ret) : (int)size;
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
            start = pages;          /* nothing trapped beyond page 63 */
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

static int vfio_apple_io_get_irq_info(VFIODevice *vbasedev,
                                      struct vfio_irq_info *info)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);

    info->flags = 0;
    info->count = 0;
    switch (info->index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        return 0;                   /* no INTx on the platform */
    case VFIO_PCI_MSI_IRQ_INDEX:
        info->count = a->id.msi_vectors;
        break;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        info->count = a->id.msix_vectors;
        break;
    default:
        return -EINVAL;             /* no error/request notification */
    }
    info->flags = info->count ? VFIO_IRQ_INFO_EVENTFD : 0;
    return 0;
}

/* Tear down the dext's vectors and forget the notifiers. */
static int vfio_apple_irq_teardown(VFIOApplePCIDevice *a)
{
    uint32_t v;
    int ret = 0;

    if (a->irq_type != VFA_IRQ_NONE && !qatomic_read(&a->lost)) {
        vfio_apple_count(a, VFA_SEL_IRQ_SETUP);
        ret = vfa_irq_setup(a->client, VFA_IRQ_NONE, 0);
        trace_vfio_apple_irq_setup(vfio_apple_name(a), VFA_IRQ_NONE, 0);
        ret = ret ? vfio_apple_failed(a, ret) : 0;
    }
    qemu_mutex_lock(&a->irq_lock);
    for (v = 0; v < VFA_MAX_VECTORS; v++) {
        if (a->irq_fds[v] >= 0) {
            close(a->irq_fds[v]);
            a->irq_fds[v] = -1;
        }
    }
    a->irq_type = VFA_IRQ_NONE;
    a->irq_count = 0;
    qemu_mutex_unlock(&a->irq_lock);
    bitmap_zero(a->irq_enabled, VFA_MAX_VECTORS);
    return ret;
}

/* Tell the dext about vectors whose enable state changed, in runs. */
static int vfio_apple_irq_sync_enable(VFIOApplePCIDevice *a, uint32_t first,
                                      uint32_t count)
{
    uint32_t v = first, end = first + count;
    int ret;

    while (v < end) {
        bool en = a->irq_fds[v] >= 0;
        uint32_t run = v;

        if (en == test_bit(v, a->irq_enabled)) {
            v++;
            continue;
        }
        while (run < end && (a->irq_fds[run] >= 0) == en &&
               en != test_bit(run, a->irq_enabled)) {
            run++;
        }
        vfio_apple_count(a, VFA_SEL_IRQ_ENABLE);
        ret = vfa_irq_enable(a->client, v, run - v, en);
        trace_vfio_apple_irq_enable(vfio_apple_name(a), v, run - v, en);
        if (ret) {
            return vfio_apple_failed(a, ret);
        }
        if (en) {
            bitmap_set(a->irq_enabled, v, run - v);
        } else {
            bitmap_clear(a->irq_enabled, v, run - v);
        }
        v = run;
    }
    return 0;
}

static int vfio_apple_io_set_irqs(VFIODevice *vbasedev,
                                  struct vfio_irq_set *irq)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);
    uint32_t action = irq->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    uint32_t data = irq->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    uint32_t type, max, want, i;
    int32_t *fds = (int32_t *)&irq->data;
    int ret;

    switch (irq->index) {
    case VFIO_PCI_MSI_IRQ_INDEX:
        type = VFA_IRQ_MSI;
        max = a->id.msi_vectors;
        break;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        type = VFA_IRQ_MSIX;
        max = a->id.msix_vectors;
        break;
    default:
        errno = EINVAL;
        return -EINVAL;
    }
    if (action != VFIO_IRQ_SET_ACTION_TRIGGER) {
        errno = EINVAL;
        return -EINVAL;
    }

    if (data == VFIO_IRQ_SET_DATA_NONE && !irq->count) {
        ret = a->irq_type == type ? vfio_apple_irq_teardown(a) : 0;
        errno = -ret;
        return ret;
    }
    if (irq->start >= max || irq->count > max - irq->start) {
        errno = EINVAL;
        return -EINVAL;
    }
    if (data == VFIO_IRQ_SET_DATA_BOOL) {
        /* Loopback: fire the vectors as the device would. */
        uint8_t *fire = (uint8_t *)&irq->data;
        uint64_t one = 1;

        qemu_mutex_lock(&a->irq_lock);
        for (i = 0; i < irq->count; i++) {
            int fd = irq->start + i < a->irq_count ?
                     a->irq_fds[irq->start + i] : -1;

            if (fire[i] && fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
                /* nothing to do: the notifier is full, it fires anyway */
            }
        }
        qemu_mutex_unlock(&a->irq_lock);
        return 0;
    }
    if (data != VFIO_IRQ_SET_DATA_EVENTFD) {
        errno = EINVAL;
        return -EINVAL;
    }
    if (qatomic_read(&a->lost)) {
        return 0;           /* nothing will fire; don't fail the guest */
    }

    /*
     * Set the dext up for all the vectors the device has (MSI: the power
     * of two covering those asked for), so that vectors enabled one by one
     * never need a new setup, which would drop latched interrupts.
     */
    want = type == VFA_IRQ_MSIX ? max : pow2ceil(irq->start + irq->count);
    if (a->irq_type != type || a->irq_count < want) {
        vfio_apple_irq_teardown(a);
        vfio_apple_count(a, VFA_SEL_IRQ_SETUP);
        ret = vfa_irq_setup(a->client, type, want);
        trace_vfio_apple_irq_setup(vfio_apple_name(a), type, want);
        if (ret) {
            error_report("vfio-apple-pci %s: setting up %u %s vectors: %s",
                         vfio_apple_name(a), want,
                         type == VFA_IRQ_MSIX ? "MSI-X" : "MSI",
                         vfa_client_errmsg(a->client));
            ret = vfio_apple_failed(a, ret);
            errno = -ret;
            return ret;
        }
        qemu_mutex_lock(&a->irq_lock);
        a->irq_type = type;
        a->irq_count = want;
        qemu_mutex_unlock(&a->irq_lock);
    }

    /* Notifiers first, so an interrupt latched while disabled finds one. */
    qemu_mutex_lock(&a->irq_lock);
    for (i = 0; i < irq->count; i++) {
        uint32_t v = irq->start + i;
        int fd = fds[i] >= 0 ? dup(fds[i]) : -1;

        if (fds[i] >= 0 && fd < 0) {
            ret = -errno;
            qemu_mutex_unlock(&a->irq_lock);
            return ret;
        }
        if (a->irq_fds[v] >= 0) {
            close(a->irq_fds[v]);
        }
        a->irq_fds[v] = fd;
        trace_vfio_apple_irq_fd(vfio_apple_name(a), v, fd);
    }
    qemu_mutex_unlock(&a->irq_lock);

    ret = vfio_apple_irq_sync_enable(a, irq->start, irq->count);
    errno = -ret;
    return ret;
}

static int vfio_apple_io_region_read(VFIODevice *vbasedev, uint8_t nr,
                                     off_t off, uint32_t size, void *data)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);
    int ret;

    switch (nr) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        return vfio_apple_config_read(a, off, size, data);
    case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
        return vfio_apple_bar_access(a, nr, off, size, data, false);
    case VFIO_PCI_ROM_REGION_INDEX:
        if (off < 0 || off >= a->id.rom_size) {
            return 0;
        }
        size = MIN(size, a->id.rom_size - off);
        a->calls[VFA_SEL_ROM_READ] += DIV_ROUND_UP(size, VFA_MAX_STRUCT);
        a->calls_total += DIV_ROUND_UP(size, VFA_MAX_STRUCT);
        ret = vfa_rom_read(a->client, off, data, size);
        return ret ? vfio_apple_failed(a, ret) : (int)size;
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

int vfio_apple_pci_do_reset(VFIOApplePCIDevice *a, uint32_t allowed)
{
    const char *kind = allowed == VFA_RESET_HOT ? "hot" : "device";
    uint32_t used = 0;
    int ret;

    if (qatomic_read(&a->lost) || !a->session) {
        return -ENODEV;
    }
    if (allowed == VFA_RESET_HOT && !(a->id.flags & VFA_ID_HOT_RESET)) {
        return -ENOTSUP;
    }
    vfio_apple_count(a, VFA_SEL_RESET);
    ret = vfa_reset(a->client, allowed, &used);
    trace_vfio_apple_reset(vfio_apple_name(a), kind, ret, used);
    if (ret) {
        warn_report("vfio-apple-pci %s: %s reset: %s", vfio_apple_name(a),
                    kind, vfa_client_errmsg(a->client));
        return vfio_apple_failed(a, ret);
    }
    vfio_apple_cfg_invalidate(a);
    return 0;
}

static int vfio_apple_io_device_reset(VFIODevice *vbasedev)
{
    /* Whatever works, function-level reset first (the dext's order). */
    return vfio_apple_pci_do_reset(vfio_apple_from_vbasedev(vbasedev), 0);
}

static VFIODeviceIOOps vfio_apple_io_ops = {
    .get_region_info = vfio_apple_io_get_region_info,
    .get_irq_info = vfio_apple_io_get_irq_info,
    .set_irqs = vfio_apple_io_set_irqs,
    .region_read = vfio_apple_io_region_read,
    .region_write = vfio_apple_io_region_write,
    .region_mmap = vfio_apple_io_region_mmap,
    .region_munmap = vfio_apple_io_region_munmap,
    .device_reset = vfio_apple_io_device_reset,
};

/* ------------------------------------------------ notification thread -- */

static void vfio_apple_irq_scan(VFIOApplePCIDevice *a)
{
    struct vfa_irq_page *page = a->irq_page;
    uint64_t one = 1, events;
    unsigned w, nwords;
    uint32_t n;

    qemu_mutex_lock(&a->irq_lock);
    n = MIN(qatomic_read(&page->nvectors), a->irq_count);
    nwords = DIV_ROUND_UP(n, 64);
    for (w = 0; w < nwords; w++) {
        uint64_t bits = vfa_irq_take(page, w);

        while (bits) {
            uint32_t v = w * 64 + ctz64(bits);

            bits &= bits - 1;
            if (v < n && a->irq_fds[v] >= 0) {
                if (write(a->irq_fds[v], &one, sizeof(one)) < 0 &&
                    errno != EAGAIN) {
                    /* cannot happen with a live notifier; nothing to do */
                }
                qatomic_inc(&a->interrupts);
            }
        }
    }
    qemu_mutex_unlock(&a->irq_lock);

    events = vfa_irq_take_events(page);
    if (events & VFA_EVENT_DEVICE_GONE) {
        vfio_apple_pci_lost(a, "the dext reports the device gone "
                            "(unplugged or failed)");
    }
}

static void *vfio_apple_irq_thread(void *opaque)
{
    VFIOApplePCIDevice *a = opaque;
    int nfd = vfa_notify_fd(a->client);
    /* The connection itself: a dext that dies sends no notification. */
    int cfd = vfa_client_conn_fd(a->client);

    for (;;) {
        struct pollfd pfd[3] = {
            { .fd = nfd, .events = POLLIN },
            { .fd = event_notifier_get_fd(&a->irq_stop), .events = POLLIN },
            { .fd = qatomic_read(&a->lost) ? -1 : cfd, .events = 0 },
        };

        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (pfd[1].revents) {
            break;
        }
        if (pfd[2].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            vfio_apple_pci_lost(a, "the connection to the dext was lost "
                                "(it exited or crashed)");
        }
        if (pfd[0].revents & (POLLERR | POLLNVAL)) {
            vfio_apple_pci_lost(a, "the dext's notification channel failed");
            break;
        }
        if (pfd[0].revents & POLLIN) {
            vfa_notify_ack(a->client);
            qatomic_inc(&a->notifications);
            vfio_apple_irq_scan(a);
        }
    }
    return NULL;
}

static bool vfio_apple_irq_start(VFIOApplePCIDevice *a, Error **errp)
{
    void *page;
    uint64_t size;
    int ret;

    vfio_apple_count(a, VFIO_APPLE_CALL_MAP_MEMORY);
    ret = vfa_map_memory(a->client, VFA_MEM_IRQ_PAGE, &page, &size, NULL);
    if (ret) {
        error_setg_errno(errp, -ret, "cannot map the dext's IRQ page: %s",
                         vfa_client_errmsg(a->client));
        return false;
    }
    a->irq_page = page;
    a->irq_page_size = size;
    if (size < sizeof(struct vfa_irq_page) ||
        a->irq_page->magic != VFA_IRQ_PAGE_MAGIC) {
        error_setg(errp, "the dext's IRQ page is malformed (size %" PRIu64
                   ", magic 0x%x)", size, a->irq_page->magic);
        return false;
    }

    vfio_apple_count(a, VFA_SEL_NOTIFY_REGISTER);
    ret = vfa_notify_fd(a->client);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "cannot register for the dext's "
                         "notifications: %s", vfa_client_errmsg(a->client));
        return false;
    }
    ret = event_notifier_init(&a->irq_stop, false);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "cannot create an event notifier");
        return false;
    }
    a->irq_stop_ready = true;
    qemu_thread_create(&a->irq_thread, "vfio-apple-irq", vfio_apple_irq_thread,
                       a, QEMU_THREAD_JOINABLE);
    a->irq_thread_running = true;
    return true;
}

static void vfio_apple_irq_stop(VFIOApplePCIDevice *a)
{
    if (a->irq_thread_running) {
        event_notifier_set(&a->irq_stop);
        qemu_thread_join(&a->irq_thread);
        a->irq_thread_running = false;
    }
    if (a->irq_stop_ready) {
        event_notifier_cleanup(&a->irq_stop);
        a->irq_stop_ready = false;
    }
}

/* ------------------------------------------------------- setup/release -- */

static bool vfio_apple_open(VFIOApplePCIDevice *a, Error **errp)
{
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;
    struct vfa_identity *id = &a->id;
    char err[256] = "";
    int ret, i;

    ret = vfa_client_connect(a->host, &a->client, err, sizeof(err));
    if (ret) {
        error_setg(errp, "cannot connect to the dext at '%s': %s", a->host,
                   err);
        error_append_hint(errp, "Is the dext (on Linux: vfio-apple-sim "
                          "--socket PATH) running and serving this device?\n");
        return false;
    }
    trace_vfio_apple_connect(vbasedev->name, a->host,
                             vfa_client_transport(a->client));

    vfio_apple_count(a, VFA_SEL_GET_IDENTITY);
    ret = vfa_get_identity(a->client, id);
    if (ret) {
        error_setg_errno(errp, -ret, "%s", vfa_client_errmsg(a->client));
        return false;
    }
    trace_vfio_apple_identity(vbasedev->name, id->vendor_id, id->device_id,
                              id->class_code, id->location, id->config_size,
                              id->msi_vectors, id->msix_vectors);
    if (id->config_size != PCI_CONFIG_SPACE_SIZE &&
        id->config_size != PCIE_CONFIG_SPACE_SIZE) {
        error_setg(errp, "the dext reports a config space of %u bytes",
                   id->config_size);
        return false;
    }
    if (!id->msi_vectors && !id->msix_vectors) {
        error_setg(errp, "the device has neither MSI nor MSI-X, and the "
                   "platform has no INTx: it cannot interrupt the guest");
        return false;
    }

    vfio_apple_count(a, VFA_SEL_OPEN);
    ret = vfa_session_open(a->client);
    if (ret) {
        error_setg_errno(errp, -ret, "%s", vfa_client_errmsg(a->client));
        if (ret == -EBUSY) {
            error_append_hint(errp, "Another QEMU (or tool) holds the device; "
                              "stop it first\n");
        }
        return false;
    }
    a->session = true;

    /* Config space in one go (4 KiB is one call). */
    a->cfg = g_malloc0(id->config_size);
    a->cfg_cached = g_malloc0(id->config_size);
    for (i = 0; i < id->config_size; i += VFA_MAX_STRUCT) {
        vfio_apple_count(a, VFA_SEL_CONFIG_READ_BLOCK);
    }
    ret = vfa_config_read_block(a->client, 0, a->cfg, id->config_size);
    if (ret) {
        error_setg_errno(errp, -ret, "reading config space: %s",
                         vfa_client_errmsg(a->client));
        return false;
    }
    vfio_apple_cfg_classify(a);
    a->cfg_fresh = true;

    for (i = 0; i < PCI_ROM_SLOT; i++) {
        VFIOAppleBAR *bar = &a->bars[i];

        if (!(id->bar_flags[i] & VFA_BAR_PRESENT) || !id->bar_size[i]) {
            continue;
        }
        vfio_apple_count(a, VFA_SEL_BAR_INFO);
        ret = vfa_bar_info(a->client, i, &bar->info);
        if (ret) {
            error_setg_errno(errp, -ret, "BAR %d: %s", i,
                             vfa_client_errmsg(a->client));
            return false;
        }
        if ((bar->info.flags & VFA_BAR_MAPPABLE) && !vbasedev->no_mmap) {
            vfio_apple_count(a, VFIO_APPLE_CALL_MAP_MEMORY);
            ret = vfa_map_memory(a->client, VFA_MEM_BAR(i), &bar->map,
                                 &bar->map_size, NULL);
            if (ret) {
                warn_report("vfio-apple-pci %s: BAR %d cannot be mapped (%s); "
                            "every access will be a dext call",
                            vbasedev->name, i, vfa_client_errmsg(a->client));
                bar->map = NULL;
            } else if (bar->map_size < bar->info.size) {
                warn_report("vfio-apple-pci %s: BAR %d mapping is smaller "
                            "than the BAR; not using it", vbasedev->name, i);
                vfa_unmap_memory(a->client, bar->map, bar->map_size);
                bar->map = NULL;
            }
        }
        trace_vfio_apple_bar(vbasedev->name, i, bar->info.flags,
                             bar->info.size, bar->info.trapped_pages,
                             bar->map);
    }

    return vfio_apple_irq_start(a, errp);
}

/*
 * Give the device back: no more interrupts, DMA window unmapped, session
 * closed (the dext then disables bus mastering, resets the device and
 * frees what is left).  The client stays connected and the BAR mappings
 * stay until finalize, since RCU readers may still reach them.
 */
static void vfio_apple_release(VFIOApplePCIDevice *a)
{
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;

    vfio_apple_irq_stop(a);
    if (a->irq_fds) {
        vfio_apple_irq_teardown(a);
    }
    if (vbasedev->bcontainer) {
        vfio_apple_container_release(VFIO_IOMMU_APPLE(vbasedev->bcontainer));
    }
    if (a->session) {
        trace_vfio_apple_release(vfio_apple_name(a));
        if (!qatomic_read(&a->lost)) {
            vfio_apple_count(a, VFA_SEL_CLOSE);
            vfa_session_close(a->client);
        }
        a->session = false;
    }
}

static void vfio_apple_disconnect(VFIOApplePCIDevice *a)
{
    int i;

    vfio_apple_release(a);
    if (!a->client) {
        return;
    }
    for (i = 0; i < PCI_ROM_SLOT; i++) {
        if (a->bars[i].map) {
            vfa_unmap_memory(a->client, a->bars[i].map, a->bars[i].map_size);
            a->bars[i].map = NULL;
        }
    }
    if (a->irq_page) {
        vfa_unmap_memory(a->client, a->irq_page, a->irq_page_size);
        a->irq_page = NULL;
    }
    vfa_client_disconnect(a->client);
    a->client = NULL;
}

/* ------------------------------------------------------------ QOM glue -- */

static void vfio_apple_compute_needs_reset(VFIODevice *vbasedev)
{
    vbasedev->needs_reset = false;
}

static Object *vfio_apple_get_object(VFIODevice *vbasedev)
{
    return OBJECT(vfio_apple_from_vbasedev(vbasedev));
}

static VFIODeviceOps vfio_apple_pci_ops = {
    .vfio_compute_needs_reset = vfio_apple_compute_needs_reset,
    .vfio_eoi = vfio_pci_intx_eoi,
    .vfio_get_object = vfio_apple_get_object,
};

/*
 * QEMU is exiting (devices are not unrealized then): give the device back
 * to the dext properly rather than leaving it to clean up after a client
 * that vanished.
 */
static void vfio_apple_pci_exit_notify(Notifier *n, void *data)
{
    VFIOApplePCIDevice *a = container_of(n, VFIOApplePCIDevice,
                                         exit_notifier);

    vfio_apple_release(a);
}

static void vfio_apple_pci_realize(PCIDevice *pdev, Error **errp)
{
    ERRP_GUARD();
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(pdev);
    VFIOPCIDevice *vdev = VFIO_PCI_DEVICE(pdev);
    VFIODevice *vbasedev = &vdev->vbasedev;
    DeviceState *dev = DEVICE(pdev);

    if (!a->host) {
        error_setg(errp, "vfio-apple-pci: no host device given");
        error_append_hint(errp, "Name the dext serving it: -device "
                          "vfio-apple-pci,host=/path/to/vfio-apple-sim.sock "
                          "(or host=unix:PATH)\n");
        return;
    }
    if (a->dma_mode && strcmp(a->dma_mode, "window")) {
        if (!strcmp(a->dma_mode, "companion")) {
            error_setg(errp, "vfio-apple-pci: dma-mode=companion is not "
                       "available yet");
            error_append_hint(errp, "Use dma-mode=window (the default): the "
                              "guest reaches the device through a window of "
                              "its RAM mapped at start\n");
        } else {
            error_setg(errp, "vfio-apple-pci: unknown dma-mode '%s' (window "
                       "or companion)", a->dma_mode);
        }
        return;
    }

    vbasedev->name = g_strdup_printf("vfio-apple:%s",
                                     dev->id ? dev->id : a->host);
    if (!vfio_apple_window_check_plug(pdev, errp)) {
        goto error;
    }
    a->lost_bh = qemu_bh_new(vfio_apple_lost_bh, a);
    a->irq_fds = g_new(int, VFA_MAX_VECTORS);
    memset(a->irq_fds, -1, VFA_MAX_VECTORS * sizeof(int));
    a->irq_enabled = bitmap_new(VFA_MAX_VECTORS);

    if (!vfio_apple_open(a, errp)) {
        goto error;
    }

    /* Guest RAM reaches the device through container-apple's window. */
    vbasedev->mdev = true;
    if (!vfio_device_attach_by_iommu_type(TYPE_VFIO_IOMMU_APPLE,
                                          vbasedev->name, vbasedev,
                                          pci_device_iommu_address_space(pdev),
                                          errp)) {
        goto error;
    }

    if (!vfio_pci_populate_device(vdev, errp) ||
        !vfio_pci_config_setup(vdev, errp)) {
        goto error;
    }
    /* No INTx on the platform: the pin is QEMU's, and it says none. */
    pdev->config[PCI_INTERRUPT_PIN] = 0;
    vdev->emulated_config_bits[PCI_INTERRUPT_PIN] = 0xff;
    if (!vfio_pci_add_capabilities(vdev, errp) ||
        !vfio_pci_interrupt_setup(vdev, errp)) {
        goto out_teardown;
    }

    error_setg(&a->migration_blocker, "vfio-apple-pci %s cannot be migrated: "
               "the device and its DMA window live in the host (the dext "
               "and the DART), which cannot move with the VM",
               vbasedev->name);
    if (migrate_add_blocker(&a->migration_blocker, errp) < 0) {
        goto out_teardown;
    }

    QLIST_INSERT_HEAD(&vfio_apple_devices, a, next);
    a->exit_notifier.notify = vfio_apple_pci_exit_notify;
    qemu_add_exit_notifier(&a->exit_notifier);
    a->calls_realize = qatomic_read(&a->calls_total);
    return;

out_teardown:
    vfio_pci_teardown_msi(vdev);
    vfio_pci_bars_exit(vdev);
error:
    error_prepend(errp, VFIO_MSG_PREFIX, vbasedev->name);
    vfio_apple_release(a);
}

static void vfio_apple_pci_exit(PCIDevice *pdev)
{
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(pdev);

    VFIO_APPLE_PCI_GET_CLASS(a)->parent_exit(pdev);
    migrate_del_blocker(&a->migration_blocker);
    qemu_remove_exit_notifier(&a->exit_notifier);
    QLIST_REMOVE(a, next);
    vfio_apple_release(a);
}


/*
 * A guest function-level reset (Initiate FLR in PCIe Device Control) never
 * reaches the device: the dext's policy drops Device Control writes.  Do
 * what the hardware would: reset the function (through the dext) and
 * QEMU's emulated state of it.
 */
static void vfio_apple_pci_write_config(PCIDevice *pdev, uint32_t addr,
                                        uint32_t val, int len)
{
    VFIOPCIDevice *vdev = VFIO_PCI_DEVICE(pdev);
    uint32_t flr_byte = pdev->exp.exp_cap + PCI_EXP_DEVCTL + 1;

    vfio_pci_write_config(pdev, addr, val, len);

    if (pdev->exp.exp_cap && vdev->has_flr &&
        range_covers_byte(addr, len, flr_byte) &&
        ((val >> ((flr_byte - addr) * 8)) & (PCI_EXP_DEVCTL_BCR_FLR >> 8))) {
        trace_vfio_apple_flr(vdev->vbasedev.name);
        pci_device_reset(pdev);
    }
}

static void vfio_apple_pci_init(Object *obj)
{
    PCIDevice *pci_dev = PCI_DEVICE(obj);
    VFIOPCIDevice *vdev = VFIO_PCI_DEVICE(obj);
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(obj);
    VFIODevice *vbasedev = &vdev->vbasedev;

    device_add_bootindex_property(obj, &vdev->bootindex, "bootindex", NULL,
                                  &pci_dev->qdev);
    vdev->host.domain = ~0U;
    vdev->host.bus = ~0U;
    vdev->host.slot = ~0U;
    vdev->host.function = ~0U;

    vfio_device_init(vbasedev, VFIO_DEVICE_TYPE_PCI, &vfio_apple_pci_ops,
                     DEVICE(vdev), false);
    vbasedev->io_ops = &vfio_apple_io_ops;

    vdev->nv_gpudirect_clique = 0xFF;
    vdev->display = ON_OFF_AUTO_OFF;
    pci_dev->cap_present |= QEMU_PCI_CAP_EXPRESS;

    qemu_mutex_init(&a->irq_lock);
}

static void vfio_apple_pci_finalize(Object *obj)
{
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(obj);

    vfio_pci_put_device(&a->parent_obj);
    vfio_apple_disconnect(a);
    if (a->lost_bh) {
        qemu_bh_delete(a->lost_bh);
    }
    g_free(a->lost_why);
    g_free(a->cfg);
    g_free(a->cfg_cached);
    g_free(a->irq_fds);
    g_free(a->irq_enabled);
    qemu_mutex_destroy(&a->irq_lock);
}

static const Property vfio_apple_pci_properties[] = {
    DEFINE_PROP_STRING("host", VFIOApplePCIDevice, host),
    DEFINE_PROP_STRING("dma-mode", VFIOApplePCIDevice, dma_mode),
    DEFINE_PROP_SIZE("window-size", VFIOApplePCIDevice, window_size, 1 * GiB),
    DEFINE_PROP_BOOL("x-no-mmap", VFIOPCIDevice, vbasedev.no_mmap, false),
    DEFINE_PROP_UINT32("x-pci-vendor-id", VFIOPCIDevice,
                       vendor_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-device-id", VFIOPCIDevice,
                       device_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-sub-vendor-id", VFIOPCIDevice,
                       sub_vendor_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-sub-device-id", VFIOPCIDevice,
                       sub_device_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-class-code", VFIOPCIDevice,
                       class_code, PCI_ANY_ID),
};

static void vfio_apple_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pdc = PCI_DEVICE_CLASS(klass);
    VFIOApplePCIClass *ac = VFIO_APPLE_PCI_CLASS(klass);

    device_class_set_legacy_reset(dc, vfio_pci_reset);
    device_class_set_props(dc, vfio_apple_pci_properties);
    object_class_property_set_description(klass, "host",
        "the dext serving the device: vfio-apple-sim's socket path "
        "(or unix:PATH)");
    object_class_property_set_description(klass, "dma-mode",
        "how the device reaches guest RAM: window (default)");
    object_class_property_set_description(klass, "window-size",
        "size of the DMA window at the start of guest RAM (default 1G); "
        "must end on a power-of-two address if smaller than guest RAM");
    dc->desc = "PCI device assignment through an Apple dext (or "
               "vfio-apple-sim)";
    dc->hotpluggable = true;
    pdc->realize = vfio_apple_pci_realize;
    ac->parent_exit = pdc->exit;
    pdc->exit = vfio_apple_pci_exit;
    pdc->config_write = vfio_apple_pci_write_config;
}

static const TypeInfo vfio_apple_pci_info = {
    .name = TYPE_VFIO_APPLE_PCI,
    .parent = TYPE_VFIO_PCI_DEVICE,
    .instance_size = sizeof(VFIOApplePCIDevice),
    .class_size = sizeof(VFIOApplePCIClass),
    .class_init = vfio_apple_pci_class_init,
    .instance_init = vfio_apple_pci_init,
    .instance_finalize = vfio_apple_pci_finalize,
};

static void vfio_apple_register_types(void)
{
    type_register_static(&vfio_apple_pci_info);
}

type_init(vfio_apple_register_types)

/* --------------------------------------------------------- monitoring -- */

static VfioAppleInfo *vfio_apple_info(VFIOApplePCIDevice *a)
{
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;
    VfioAppleInfo *info = g_new0(VfioAppleInfo, 1);
    VfioAppleMethodCallsList **mtail = &info->dext_calls_by_method;
    VfioAppleDmaSegmentList **stail = &info->window;
    VFIOAppleContainer *container = vbasedev->bcontainer ?
        VFIO_IOMMU_APPLE(vbasedev->bcontainer) : NULL;
    unsigned i;

    info->qom_path = object_get_canonical_path(OBJECT(a));
    info->id = g_strdup(DEVICE(a)->id);
    info->host = g_strdup(a->host);
    info->transport = g_strdup(a->client ? vfa_client_transport(a->client) :
                               "none");
    info->lost = qatomic_read(&a->lost);
    info->dext_calls = qatomic_read(&a->calls_total);
    info->dext_calls_realize = a->calls_realize;
    for (i = 0; i < VFIO_APPLE_CALL_KINDS; i++) {
        uint64_t n = qatomic_read(&a->calls[i]);

        if (n) {
            VfioAppleMethodCalls *m = g_new0(VfioAppleMethodCalls, 1);

            m->method = g_strdup(vfio_apple_call_name(i));
            m->calls = n;
            QAPI_LIST_APPEND(mtail, m);
        }
    }
    info->config_cache_hits = a->cfg_cache_hits;
    info->config_writes_spared = a->cfg_writes_spared;
    info->interrupts = qatomic_read(&a->interrupts);
    info->notifications = qatomic_read(&a->notifications);
    info->dma_mode = g_strdup(a->dma_mode ? a->dma_mode : "window");
    info->dma_budget_bytes = a->id.dma_budget_bytes;
    info->dma_max_mappings = a->id.dma_max_mappings;
    if (container) {
        info->dma_mapped_bytes = container->mapped_bytes;
        info->dma_mappings = container->mappings;
        info->window_gpa = container->gpa;
        info->window_size = container->size;
        for (i = 0; container->mapped && i < container->nsegs; i++) {
            VfioAppleDmaSegment *s = g_new0(VfioAppleDmaSegment, 1);
            uint64_t off = 0;
            unsigned j;

            for (j = 0; j < i; j++) {
                off += container->segs[j].len;
            }
            s->gpa = container->gpa + off;
            s->iova = container->segs[i].iova;
            s->size = container->segs[i].len;
            QAPI_LIST_APPEND(stail, s);
        }
    }
    return info;
}

VfioAppleInfoList *qmp_x_query_vfio_apple(Error **errp)
{
    VfioAppleInfoList *head = NULL, **tail = &head;
    VFIOApplePCIDevice *a;

    QLIST_FOREACH(a, &vfio_apple_devices, next) {
        QAPI_LIST_APPEND(tail, vfio_apple_info(a));
    }
    return head;
}

void hmp_info_vfio_apple(Monitor *mon, const QDict *qdict)
{
    g_autoptr(VfioAppleInfoList) list = qmp_x_query_vfio_apple(NULL);
    VfioAppleInfoList *l;

    if (!list) {
        monitor_printf(mon, "No vfio-apple-pci device\n");
        return;
    }
    for (l = list; l; l = l->next) {
        VfioAppleInfo *i = l->value;
        VfioAppleMethodCallsList *m;
        VfioAppleDmaSegmentList *s;

        monitor_printf(mon, "%s%s%s: host %s (%s)%s\n", i->qom_path,
                       i->id ? " id " : "", i->id ? i->id : "", i->host,
                       i->transport, i->lost ? " LOST" : "");
        monitor_printf(mon, "  dext calls: %" PRIu64 " (%" PRIu64
                       " while setting up); config reads from cache %" PRIu64
                       ", moot config writes spared %" PRIu64 "\n",
                       i->dext_calls, i->dext_calls_realize,
                       i->config_cache_hits, i->config_writes_spared);
        monitor_printf(mon, "   ");
        for (m = i->dext_calls_by_method; m; m = m->next) {
            monitor_printf(mon, " %s=%" PRIu64, m->value->method,
                           m->value->calls);
        }
        monitor_printf(mon, "\n");
        monitor_printf(mon, "  interrupts delivered: %" PRIu64 " (%" PRIu64
                       " notifications)\n", i->interrupts, i->notifications);
        monitor_printf(mon, "  DART: %" PRIu64 " bytes in %" PRIu64
                       " mapping(s); budget %" PRIu64 " bytes, %" PRIu64
                       " mappings\n", i->dma_mapped_bytes, i->dma_mappings,
                       i->dma_budget_bytes, i->dma_max_mappings);
        monitor_printf(mon, "  DMA %s: GPA 0x%" PRIx64 " size 0x%" PRIx64 "\n",
                       i->dma_mode, i->window_gpa, i->window_size);
        for (s = i->window; s; s = s->next) {
            monitor_printf(mon, "    GPA 0x%" PRIx64 " -> IOVA 0x%" PRIx64
                           " size 0x%" PRIx64 "\n", s->value->gpa,
                           s->value->iova, s->value->size);
        }
    }
}
