/*
 * vfio-apple-pci: config space, with a cache in front of the dext.
 *
 * One 4 KiB block read at realize.  Read-only bytes (identification,
 * class, header type, subsystem, capability headers, the capability
 * registers that describe the device, PCIe Device Control / Control 2
 * whose writes the dext drops, the MSI/MSI-X capabilities the host owns)
 * and Status (the host's, see below) are answered from it.  Registers that
 * change only when written (Command, cache line size, latency timer,
 * interrupt line, the power state) are cached once read or written (the
 * dext's write reply says what the register reads then), until the next
 * write or reset.  Everything else (PCIe device and link status, other
 * capability bodies) is read from the device every time.  Writes go to
 * the dext, whose policy filters them, except guest writes to registers
 * QEMU emulates and the dext drops anyway (BARs, ROM BAR, MSI/MSI-X) once
 * the device is set up.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/range.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_device.h"
#include "vfio-apple/pci-cfg.h"

#include "pci.h"
#include "trace.h"

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
    /* Offsets come from the device's own capability pointers: bound. */
    if (off < a->id.config_size && len <= a->id.config_size - off) {
        memset(a->cfg_cached + off, how, len);
    }
}

static void vfio_apple_cfg_cache(VFIOApplePCIDevice *a, uint32_t off,
                                 uint32_t len)
{
    vfio_apple_cfg_set(a, off, len, CFG_CACHED);
}

void vfio_apple_cfg_invalidate(VFIOApplePCIDevice *a)
{
    uint32_t i;

    a->cfg_fresh = false;
    for (i = 0; i < a->id.config_size; i++) {
        if (a->cfg_cached[i] == CFG_STICKY_VALID) {
            a->cfg_cached[i] = CFG_STICKY;
        }
    }
}

/* The walker reads the block read at realize. */
static uint32_t vfio_apple_cfg_block_read(void *opaque, uint32_t off,
                                          unsigned width)
{
    VFIOApplePCIDevice *a = opaque;
    uint32_t v = 0;

    if (off >= a->id.config_size || width > a->id.config_size - off) {
        return ~0u;
    }
    memcpy(&v, a->cfg + off, width);
    return le32_to_cpu(v) & (width == 4 ? ~0u : (1u << (width * 8)) - 1);
}

static int vfio_apple_cfg_classify_cap(void *opaque, unsigned id, uint32_t pos)
{
    VFIOApplePCIDevice *a = opaque;
    uint32_t flags = vfio_apple_cfg_block_read(a, pos + PCI_CAP_FLAGS, 2);

    vfio_apple_cfg_cache(a, pos, 2);
    switch (id) {
    case PCI_CAP_ID_PM:
        vfio_apple_cfg_cache(a, pos + PCI_PM_PMC, 2);
        /* The power state changes when written (or reset). */
        vfio_apple_cfg_set(a, pos + PCI_PM_CTRL, 2, CFG_STICKY);
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
        vfio_apple_cfg_cache(a, pos, vfa_pci_msi_size(flags));
        break;
    case PCI_CAP_ID_MSIX:
        vfio_apple_cfg_cache(a, pos, PCI_CAP_MSIX_SIZEOF);
        break;
    }
    return 0;
}

static int vfio_apple_cfg_classify_ext_cap(void *opaque, unsigned id,
                                           uint32_t pos)
{
    vfio_apple_cfg_cache(opaque, pos, 4);
    return 0;
}

void vfio_apple_cfg_setup(VFIOApplePCIDevice *a)
{
    vfio_apple_cfg_cache(a, PCI_VENDOR_ID, 4);
    vfio_apple_cfg_cache(a, PCI_CLASS_REVISION, 4);
    vfio_apple_cfg_cache(a, PCI_HEADER_TYPE, 1);
    vfio_apple_cfg_cache(a, PCI_BASE_ADDRESS_0, 24);   /* synthesised */
    vfio_apple_cfg_cache(a, PCI_SUBSYSTEM_VENDOR_ID, 4);
    vfio_apple_cfg_cache(a, PCI_CARDBUS_CIS, 4);
    vfio_apple_cfg_cache(a, PCI_CAPABILITY_LIST, 8);    /* + reserved */
    vfio_apple_cfg_cache(a, PCI_INTERRUPT_PIN, 3);
    /*
     * Status: capability list and speed bits are read-only; its error bits
     * belong to the host (the dext drops Status writes, so the guest could
     * not clear them anyway, and AER is the host's): the guest sees Status
     * as it was at realize.  Linux reads it before every capability walk.
     */
    vfio_apple_cfg_cache(a, PCI_STATUS, 2);
    vfio_apple_cfg_set(a, PCI_COMMAND, 2, CFG_STICKY);
    vfio_apple_cfg_set(a, PCI_CACHE_LINE_SIZE, 2, CFG_STICKY);
    vfio_apple_cfg_set(a, PCI_INTERRUPT_LINE, 1, CFG_STICKY);

    /* No INTx on the platform: never offer it to the guest. */
    a->cfg[PCI_INTERRUPT_PIN] = 0;

    vfa_pci_for_each_cap(vfio_apple_cfg_block_read, a,
                         vfio_apple_cfg_classify_cap, a);
    if (a->id.config_size > PCI_CONFIG_SPACE_SIZE) {
        /* The first header is read-only even when it says "none". */
        vfio_apple_cfg_cache(a, PCI_CONFIG_SPACE_SIZE, 4);
        vfa_pci_for_each_ext_cap(vfio_apple_cfg_block_read, a,
                                 a->id.config_size,
                                 vfio_apple_cfg_classify_ext_cap, a);
    }
    a->cfg_fresh = true;
}

/* Where a capability walk ended: the last capability it found. */
typedef struct VFIOAppleCapWalk {
    uint32_t last;
    uint32_t msi, msix;
} VFIOAppleCapWalk;

static int vfio_apple_cfg_note_cap(void *opaque, unsigned id, uint32_t pos)
{
    VFIOAppleCapWalk *w = opaque;

    w->last = pos;
    if (id == PCI_CAP_ID_MSI && !w->msi) {
        w->msi = pos;
    } else if (id == PCI_CAP_ID_MSIX && !w->msix) {
        w->msix = pos;
    }
    return 0;
}

/*
 * The config space the dext gave us goes to vfio-pci, which walks its
 * capability lists without bounds (the kernel's vfio-pci hands it a
 * sanitised one; we are its kernel here): refuse a list that does not end
 * cleanly, and identity and capabilities that disagree.
 */
bool vfio_apple_cfg_check(VFIOApplePCIDevice *a, Error **errp)
{
    const struct vfa_identity *id = &a->id;
    VFIOAppleCapWalk w = { 0 };
    uint32_t next, flags, n, i;

    if (pci_get_word(a->cfg + PCI_STATUS) & PCI_STATUS_CAP_LIST) {
        next = a->cfg[PCI_CAPABILITY_LIST] & ~3u;
        if (vfa_pci_for_each_cap(vfio_apple_cfg_block_read, a,
                                 vfio_apple_cfg_note_cap, &w)) {
            next = a->cfg[w.last + PCI_CAP_LIST_NEXT] & ~3u;
        }
        if (next) {
            error_setg(errp, "the device's capability list does not end "
                       "(a pointer to 0x%x%s)", next,
                       next < PCI_STD_HEADER_SIZEOF ? ", into the header" :
                       ": a loop, or to a capability that does not answer");
            return false;
        }
    }
    if (id->config_size > PCI_CONFIG_SPACE_SIZE &&
        pci_get_long(a->cfg + PCI_CONFIG_SPACE_SIZE)) {
        VFIOAppleCapWalk e = { 0 };

        vfa_pci_for_each_ext_cap(vfio_apple_cfg_block_read, a,
                                 id->config_size, vfio_apple_cfg_note_cap,
                                 &e);
        next = PCI_EXT_CAP_NEXT(pci_get_long(a->cfg + e.last));
        if (next) {
            error_setg(errp, "the device's extended capability list does "
                       "not end (a pointer to 0x%x after 0x%x)", next,
                       e.last);
            return false;
        }
    }

    /* vfio-pci sizes MSI/MSI-X from the capabilities, set_irqs from us. */
    n = 0;
    if (w.msix) {
        flags = pci_get_word(a->cfg + w.msix + PCI_MSIX_FLAGS);
        n = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
    }
    if (n != id->msix_vectors) {
        error_setg(errp, "the dext reports %u MSI-X vectors, the device's "
                   "MSI-X capability %u", id->msix_vectors, n);
        return false;
    }
    n = 0;
    if (w.msi) {
        flags = pci_get_word(a->cfg + w.msi + PCI_MSI_FLAGS);
        n = 1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
    }
    if (n != id->msi_vectors) {
        error_setg(errp, "the dext reports %u MSI vectors, the device's MSI "
                   "capability %u", id->msi_vectors, n);
        return false;
    }

    /*
     * BAR registers are the dext's synthesis from its BAR info: their type
     * bits must say what the identity says (memory only: the platform has
     * no I/O space).
     */
    for (i = 0; i < PCI_ROM_SLOT; i++) {
        uint32_t reg = pci_get_long(a->cfg + PCI_BASE_ADDRESS_0 + 4 * i);
        uint32_t f = id->bar_flags[i], want;

        if (!(f & VFA_BAR_PRESENT)) {
            continue;
        }
        want = (f & VFA_BAR_MEM64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
               (f & VFA_BAR_PREFETCHABLE ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
        if ((reg & ~PCI_BASE_ADDRESS_MEM_MASK) != want) {
            error_setg(errp, "the dext's BAR %u register (0x%x) does not "
                       "match its identity (a %s%smemory BAR)", i, reg,
                       f & VFA_BAR_MEM64 ? "64-bit " : "32-bit ",
                       f & VFA_BAR_PREFETCHABLE ? "prefetchable " : "");
            return false;
        }
        if (f & VFA_BAR_MEM64) {
            i++;
        }
    }
    return true;
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
    if (off >= PCI_BASE_ADDRESS_0 && off + size <= PCI_BASE_ADDRESS_0 + 24) {
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

/* Gone or silent: all-ones, as config reads of an absent function. */
static void vfio_apple_cfg_read_absent(VFIOApplePCIDevice *a, off_t off,
                                       uint32_t size, void *data)
{
    PCIDevice *pdev = PCI_DEVICE(a);
    uint32_t i;

    memset(data, 0xff, size);
    /*
     * Except what the cache holds (the IDs keep the function recognisable
     * while a stuck dext recovers), and, once the device is lost, its power
     * state, which reads D0, so that resetting the remains (vfio-pci's
     * pre-reset puts the function in D0 first) does not complain.
     */
    if (!qatomic_read(&a->lost)) {
        for (i = 0; i < size; i++) {
            if (a->cfg_cached[off + i] == CFG_CACHED ||
                a->cfg_cached[off + i] == CFG_STICKY_VALID) {
                ((uint8_t *)data)[i] = a->cfg[off + i];
            }
        }
    } else if (pdev->pm_cap &&
               ranges_overlap(off, size, pdev->pm_cap + PCI_PM_CTRL, 2)) {
        memset(data, 0, size);
    }
}

int vfio_apple_config_read(VFIOApplePCIDevice *a, off_t off, uint32_t size,
                           void *data)
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
        /* A removed function: nothing of it answers, not even the cache. */
        vfio_apple_cfg_read_absent(a, off, size, data);
        return size;
    }
    if (a->cfg_fresh || vfio_apple_cfg_all_cached(a, off, size)) {
        memcpy(data, a->cfg + off, size);
        a->cfg_cache_hits++;
        cached = true;
    } else if (!vfio_apple_reachable(a)) {
        vfio_apple_cfg_read_absent(a, off, size, data);
        return size;
    } else if ((size == 1 || size == 2 || size == 4) && !(off & (size - 1))) {
        ret = vfa_config_read(a->client, off, size, &val);
        if (ret) {
            vfio_apple_failed(a, ret);
            vfio_apple_cfg_read_absent(a, off, size, data);
            return size;
        }
        /* Only the bytes asked for, whatever the dext sent. */
        if (size < 4) {
            val &= (1u << (size * 8)) - 1;
        }
        val = cpu_to_le32(val);
        memcpy(data, &val, size);
    } else {
        uint32_t start = off & ~3, len = ROUND_UP(off + size, 4) - start;
        g_autofree uint8_t *buf = g_malloc(len);

        ret = vfa_config_read_block(a->client, start, buf, len);
        if (ret) {
            vfio_apple_failed(a, ret);
            vfio_apple_cfg_read_absent(a, off, size, data);
            return size;
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

int vfio_apple_config_write(VFIOApplePCIDevice *a, off_t off, uint32_t size,
                            void *data)
{
    uint32_t i, val = 0, fwd = 0, now = 0;
    int ret;

    if (off < 0 || off >= a->id.config_size ||
        size > a->id.config_size - off) {
        return -EINVAL;
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
    if (!vfio_apple_reachable(a)) {
        return size;            /* dropped, as by an absent function */
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
    /*
     * dma-mode=companion: until the guest's apple_dma driver has enabled
     * the companion, the device's driver would hand it guest-physical
     * addresses (its DMA API is not ours yet), and a DMA to an unmapped
     * IOVA can panic some hosts.  So bus mastering waits for the companion
     * (vfio_apple_companion_ready() applies it).
     */
    if (a->dma_mode == VFIO_APPLE_DMA_MODE_COMPANION && off <= PCI_COMMAND &&
        off + size > PCI_COMMAND) {
        uint32_t bme = PCI_COMMAND_MASTER << ((PCI_COMMAND - off) * 8);
        bool ready = a->companion_ready && a->companion_ready(a->companion);

        a->bme_wanted = val & bme;
        if (a->bme_wanted && !ready) {
            val &= ~bme;
            a->bme_held++;
            trace_vfio_apple_bme_held(vfio_apple_name(a));
        }
    }
    ret = vfa_config_write_readback(a->client, off, size, val, &fwd, &now);
    trace_vfio_apple_config_write(vfio_apple_name(a), off, size, val, fwd);
    if (ret < 0) {
        vfio_apple_failed(a, ret);
    } else if (ret) {
        /*
         * The dext said what the register reads now (its policy decides,
         * not us): the sticky bytes need no read-back call.
         */
        for (i = 0; i < size; i++) {
            if (a->cfg_cached[off + i] == CFG_STICKY) {
                a->cfg[off + i] = now >> (i * 8);
                a->cfg_cached[off + i] = CFG_STICKY_VALID;
            }
        }
    }
    return size;
}

void vfio_apple_companion_ready(VFIOApplePCIDevice *a)
{
    uint16_t cmd;

    if (!a->bme_wanted || !vfio_apple_reachable(a) ||
        vfio_apple_config_read(a, PCI_COMMAND, 2, &cmd) != 2) {
        return;
    }
    cmd = le16_to_cpu(cmd);
    if (!(cmd & PCI_COMMAND_MASTER)) {
        cmd = cpu_to_le16(cmd | PCI_COMMAND_MASTER);
        vfio_apple_config_write(a, PCI_COMMAND, 2, &cmd);
    }
}
