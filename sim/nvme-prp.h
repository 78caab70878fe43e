/*
 * PRP walker: turns a command's PRP1/PRP2 (and the PRP lists they may
 * point to) into a list of device-address ranges.  A pure function over a
 * DMA-read callback, so the fuzzer can drive it with arbitrary memory.
 */
#ifndef VFIO_APPLE_SIM_NVME_PRP_H
#define VFIO_APPLE_SIM_NVME_PRP_H

#include <stddef.h>
#include <stdint.h>

struct nvme_prp_seg {
    uint64_t addr;
    uint32_t len;
};

/* Reads device memory: 0 or a negative errno (-EFAULT on a DART fault). */
typedef int (*nvme_dma_read_fn)(void *opaque, uint64_t addr, void *buf, size_t len);

/*
 * Describes `len` bytes at PRP1/PRP2 with memory page size 1 << page_shift
 * (12..16).  Physically contiguous entries are merged.  Returns an NVMe
 * status (see nvme.h): 0, Invalid PRP Offset (misaligned entry), Data
 * Transfer Error (a PRP list could not be read), Invalid Field (more than
 * max_segs ranges, or a PRP list chain that makes no progress).
 */
uint16_t nvme_prp_walk(uint64_t prp1, uint64_t prp2, uint32_t len, unsigned page_shift,
                       nvme_dma_read_fn rd, void *opaque,
                       struct nvme_prp_seg *segs, unsigned max_segs, unsigned *nsegs);

#endif
