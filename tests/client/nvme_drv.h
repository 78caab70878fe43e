/*
 * A minimal NVMe host driver for the test client: drives the simulator's
 * NVMe model through the dext client library exactly as QEMU + a guest
 * would: registers from the mapped BAR page, doorbells as plain stores,
 * queues and data in client memory mapped through the DART, completions
 * signalled by MSI-X through the IRQ page.
 */
#ifndef VFA_TEST_NVME_DRV_H
#define VFA_TEST_NVME_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "../../client/vfio-apple-client.h"

#define DRV_QDEPTH      64u
#define DRV_NIOQ        2u          /* I/O queue pairs, vectors 1..2 */
#define DRV_NVEC        (DRV_NIOQ + 1)
#define DRV_MEM_SIZE    (40u << 20)
#define DRV_DATA_OFF    (1u << 20)  /* data area inside the DMA memory */

struct drv_queue {
    uint16_t qid;
    uint32_t sq_off, cq_off;        /* offsets in the DMA memory */
    uint32_t sq_tail, cq_head;
    bool phase;
    uint16_t cid;
};

struct drv {
    struct vfa_client *c;
    volatile uint8_t *bar0;
    uint64_t bar0_size;
    struct vfa_irq_page *irq;
    int notify_fd;
    uint8_t *mem;                   /* DMA memory (memfd), DRV_MEM_SIZE */
    int memfd;
    uint64_t reg_id;
    struct vfa_dma_map_out map;     /* the whole of mem, one DMA mapping */
    bool mapped;
    uint32_t dstrd;
    struct drv_queue admin, io[DRV_NIOQ];
    uint64_t nlbas;
    uint32_t lba_size;
    uint64_t irqs_seen[DRV_NVEC];   /* vectors taken from the IRQ page */
    char err[256];
};

/*
 * Client memory to share with the simulator: a memfd of len bytes sealed
 * against resizing (the simulator refuses memory that can shrink under
 * it, as QEMU's memory-backend-memfd seals by default).  fd or -errno.
 */
int drv_sealed_memfd(const char *name, uint64_t len);
/* Session, config, BAR + IRQ page mappings, memory registered and mapped. */
int drv_attach(struct drv *d, const char *socket);
/* Controller enable, identify, I/O queues. */
int drv_init_controller(struct drv *d);
/* IOVA of an offset in mem (walks the DMA segments). */
uint64_t drv_iova(const struct drv *d, uint64_t off);
/* One read/write of len bytes (<= 512 KiB) at lba from mem offset buf_off,
 * on I/O queue q; returns the NVMe status (0 ok), or -errno. */
int drv_rw(struct drv *d, unsigned q, bool write, uint64_t lba, uint64_t buf_off, uint32_t len);
/* Submit a raw command and wait for its completion: returns NVMe status. */
int drv_submit_wait(struct drv *d, struct drv_queue *q, void *sqe64, uint32_t *dw0);
void drv_detach(struct drv *d);

#endif
