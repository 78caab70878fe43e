/*
 * Model of Apple's IOMMU (DART) as a PCIe device sees it.
 *
 * What makes it faithful (DESIGN.md sections 3 and 5):
 *  - the IOVA is chosen here, never by the caller, and never equals the
 *    client's address, so a leaked guest-physical address faults;
 *  - translation granule is 16 KiB: a mapping exposes the whole 16 KiB host
 *    pages it touches, and the returned IOVA keeps the in-page offset;
 *  - a budget of mapped bytes and of live mappings, each with its own error;
 *  - up to DART_MAX_SEGMENTS segments per map, optionally fragmented on
 *    purpose to exercise multi-segment handling;
 *  - a device access to an IOVA that is not mapped is a fault: counted,
 *    logged, and the transfer fails.
 *
 * Thread safety: map/unmap run on the server thread while device models
 * call dart_read/dart_write from their own threads; all entry points are
 * safe to call concurrently.
 */
#ifndef VFIO_APPLE_SIM_DART_H
#define VFIO_APPLE_SIM_DART_H

#include <stddef.h>
#include <stdint.h>

#define DART_PAGE_SIZE          16384u
#define DART_MAX_SEGMENTS       32u
#define DART_DEFAULT_BUDGET     (1536ull << 20)   /* 1.5 GiB */
#define DART_DEFAULT_MAX_MAPS   65536u
#define DART_FAULT_LOG_SIZE     64u

/*
 * Default bottom of the IOVA space: 32 GiB, well above the guest RAM of the
 * VMs we test (QEMU virt puts RAM at 1 GiB), so a guest-physical address
 * leaked to the device lands outside every mapping and faults.
 */
#define DART_DEFAULT_IOVA_BASE  0x800000000ull

struct dart_config {
    uint64_t budget_bytes;      /* 0: DART_DEFAULT_BUDGET */
    uint32_t max_mappings;      /* 0: DART_DEFAULT_MAX_MAPS */
    uint32_t fragment;          /* >1: split each map into up to this many segments */
    uint32_t fail_every_nth_map;/* fault injection; 0: off */
    /*
     * Bottom of the IOVA space, a multiple of DART_PAGE_SIZE; used only if
     * iova_base_set (0 is a legitimate base), else DART_DEFAULT_IOVA_BASE.
     * Any base is allowed, including ones where IOVAs overlap the guest's
     * RAM or MMIO addresses (the real DART picks addresses without knowing
     * the guest's map).  IOVA page 0 is never handed out, whatever the
     * base: like the IOVA allocators of other IOMMUs (Linux's iommu-dma
     * starts at page 1), since device and driver code alike take address
     * 0 for "none", so a mapping there would hide bugs.
     */
    uint64_t iova_base;
    int      iova_base_set;
};

struct dart_segment {
    uint64_t iova;
    uint64_t len;
};

struct dart_fault {
    uint64_t iova;
    uint64_t len;
    int      is_write;          /* device was writing to memory */
    uint64_t seq;               /* fault number, from 1 */
};

struct dart_stats {
    uint64_t maps, unmaps, map_failures;
    uint64_t mapped_bytes, peak_mapped_bytes;   /* in whole DART pages */
    uint64_t live_mappings, peak_live_mappings;
    uint64_t faults;
    uint64_t dma_reads, dma_writes;             /* device transfers */
    uint64_t bytes_read, bytes_written;
    /* Lowest IOVA and highest end (exclusive) of any successful transfer;
     * both 0 before the first.  Lets a test prove every transfer stayed
     * inside a window. */
    uint64_t iova_lo, iova_hi;
};

struct dart;

/*
 * NULL if out of memory or if the configuration cannot work: an IOVA base
 * that is not page aligned, or an IOVA space that would run past 2^64.
 */
struct dart *dart_create(const struct dart_config *cfg);
void dart_destroy(struct dart *d);

/*
 * Map [host, host + len) for device access.  On success fills segs[0..*nsegs)
 * (their lengths add up to len, the first IOVA keeps host's offset within
 * its 16 KiB page) and *map_id, a handle for dart_unmap.
 * Errors: -EINVAL (len 0, overflow, too many segments needed), -ENOSPC (byte
 * budget), -EMFILE (live-mapping limit), -EIO (injected failure).
 */
int dart_map(struct dart *d, void *host, uint64_t len,
             struct dart_segment *segs, unsigned max_segs, unsigned *nsegs,
             uint64_t *map_id);
/* -ENOENT for an unknown handle. */
int dart_unmap(struct dart *d, uint64_t map_id);
/* Unmap everything (session teardown); returns how many mappings went. */
unsigned dart_unmap_all(struct dart *d);

/*
 * Device-side access.  0 on success; -EFAULT when any byte of the range is
 * not mapped (the fault is counted and logged, nothing is transferred).
 */
int dart_read(struct dart *d, uint64_t iova, void *buf, size_t len);
int dart_write(struct dart *d, uint64_t iova, const void *buf, size_t len);

/* Fault injection: the device's next transfer faults whatever its IOVA. */
void dart_fault_next_transfer(struct dart *d);

void dart_get_stats(struct dart *d, struct dart_stats *out);
/* Copies up to max of the most recent faults, newest last; returns count. */
size_t dart_fault_log(struct dart *d, struct dart_fault *out, size_t max);

#endif
