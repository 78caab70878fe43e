/*
 * Platform operations: what the dext core needs from the host it runs on.
 * The DriverKit shell implements them over PCIDriverKit (IOPCIDevice,
 * IODMACommand, IOInterruptDispatchSource); vfio-apple-sim implements them
 * over its DART and device models.
 *
 * The core has validated every argument before calling an op: offsets and
 * widths are in range and aligned, BAR numbers name present BARs, lengths
 * are bounded.  An op returns 0 or an enum vfa_err code.
 *
 * Threading: the core calls ops from its dispatch context only (one caller
 * at a time), except notify(), which it calls from whatever thread delivered
 * the interrupt (vfa_core_irq).
 */
#ifndef VFIO_APPLE_DEXT_PLATFORM_H
#define VFIO_APPLE_DEXT_PLATFORM_H

#include <stdint.h>

#include "vfio-apple/dext-abi.h"

/* Static facts about the device, read once when the core is created. */
struct vfa_platform_info {
    uint16_t vendor_id, device_id, subsys_vendor_id, subsys_id;
    uint32_t class_code;
    uint8_t  revision, header_type;
    uint32_t domain;
    uint8_t  bus, dev, fn;
    char     location[64];
    uint32_t config_size;               /* 256 or 4096 */
    uint32_t bar_flags[VFA_NUM_BARS];   /* VFA_BAR_* (PRESENT, MEM64, PREFETCHABLE, MAPPABLE) */
    uint64_t bar_size[VFA_NUM_BARS];    /* power of two when present */
    uint64_t bar_trapped_pages[VFA_NUM_BARS];   /* 16 KiB pages needing MMIO ops */
    uint32_t bar_memory_index[VFA_NUM_BARS];    /* index for MemoryRead/Write */
    uint64_t rom_size;
    uint32_t msi_vectors, msix_vectors;
    uint32_t reset_methods;             /* VFA_RESET_* the platform offers */
    uint32_t id_flags;                  /* extra VFA_ID_* (e.g. SIMULATED) */
};

struct vfa_platform_ops {
    int  (*get_info)(void *ctx, struct vfa_platform_info *info);

    /* Raw device config space (no policy: the core applied it). */
    int  (*config_read)(void *ctx, uint32_t off, unsigned width, uint32_t *val);
    int  (*config_write)(void *ctx, uint32_t off, unsigned width, uint32_t val);

    int  (*mmio_read)(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
    int  (*mmio_write)(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t val);

    int  (*rom_read)(void *ctx, uint64_t off, void *buf, uint32_t len);

    /* One method bit of VFA_RESET_*; VFA_E_NOTSUP if that kind failed or
     * is unavailable, so the core can fall back to the next one. */
    int  (*reset)(void *ctx, uint32_t method);

    /*
     * Create `count` interrupt sources of `type` and program the device's
     * MSI/MSI-X capability (the host owns message address/data); each
     * source calls vfa_core_irq().  type VFA_IRQ_NONE destroys them, and
     * on return no vfa_core_irq() call may be in flight any more.
     */
    int  (*irq_setup)(void *ctx, uint32_t type, uint32_t count);

    /*
     * Wrap the client's [va, va+len) (CreateMemoryDescriptorFromClient)
     * and prepare it for DMA: fill up to max segments, *nsegs, and a
     * cookie for dma_complete.  VFA_E_FAULT if the range is not the
     * client's memory.
     */
    int  (*dma_prepare)(void *ctx, uint64_t client, uint64_t va, uint64_t len,
                        uint32_t flags, struct vfa_dma_segment *segs,
                        unsigned max, unsigned *nsegs, uint64_t *cookie);
    void (*dma_complete)(void *ctx, uint64_t cookie);

    /* Zeroed, VFA_IRQ_PAGE_SIZE bytes the client can map (memory type
     * VFA_MEM_IRQ_PAGE); NULL on failure.  One per session. */
    void *(*irq_page_alloc)(void *ctx);
    void (*irq_page_free)(void *ctx, void *page);

    /* Hand memory type `type` (validated: the session's IRQ page, or a
     * mappable BAR) to the transport; *handle and *size are the platform's. */
    int  (*map_memory)(void *ctx, uint64_t client, uint32_t type, void **handle, uint64_t *size);

    /* Wake the client (eventfd / OSAction).  Any thread; never blocks. */
    void (*notify)(void *ctx);

    /* Session edges: macOS re-opens the provider and sets memory-space
     * enable here (Close clears it); the simulator creates the eventfd. */
    int  (*session_begin)(void *ctx, uint64_t client);
    void (*session_end)(void *ctx, uint64_t client);
};

/*
 * Fill what config space alone answers: vendor/device/subsystem IDs,
 * class, revision, header type, config_size (4096 with a PCI Express
 * capability, else 256) and the FLR bit of reset_methods (from the PCIe
 * Device Capabilities register; other reset bits are left as they are).
 * rd(opaque, off, width) returns all-ones for what it cannot read.  For
 * platforms without better knowledge (the macOS shell); dext/core.
 */
void vfa_platform_info_from_config(struct vfa_platform_info *in,
                                   uint32_t (*rd)(void *opaque, uint32_t off, unsigned width),
                                   void *opaque);

#endif
