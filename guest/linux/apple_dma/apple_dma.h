/* SPDX-License-Identifier: GPL-2.0 */
/*
 * apple_dma: the guest side of the apple-dma-pci companion.  It becomes
 * the dma_map_ops of the passthrough functions the companion serves, and
 * gets them real DART IOVAs: arithmetic in the window, a pin in the
 * translation table the host fills, or a request on the ring.  The ABI is
 * include/vfio-apple/apple-dma-abi.h (one definition, shared with QEMU).
 */
#ifndef APPLE_DMA_H
#define APPLE_DMA_H

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/pci.h>
#include <linux/percpu.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "vfio-apple/apple-dma-abi.h"

/* Counters (debugfs "stats"). */
enum adma_counter {
	ADMA_C_MAPS,		/* map_page (map_phys)/map_sg elements/alloc */
	ADMA_C_UNMAPS,
	ADMA_C_WINDOW_HITS,	/* arithmetic */
	ADMA_C_TT_HITS,		/* pinned through the table, no exit */
	ADMA_C_MISSES,		/* sent to the host */
	ADMA_C_SPANS,		/* ... answered with a span mapping */
	ADMA_C_BATCHES,		/* submissions of one or more entries */
	ADMA_C_ENTRIES,
	ADMA_C_DOORBELLS,
	ADMA_C_LAZY_UNMAPS,	/* span unmaps queued without a doorbell */
	ADMA_C_ERRORS,		/* DMA_MAPPING_ERROR and failed sg maps */
	ADMA_C_HOST_ERRORS,	/* completions with an error status */
	ADMA_C_NO_SPACE,	/* maps failed for the budget, after a retry */
	ADMA_C_TIMEOUTS,
	ADMA_C_RING_FULL,
	ADMA_C_IRQS,
	ADMA_C_REBINDS,		/* drivers re-bound to take our ops */
	ADMA_C_COUNT
};

struct adma_pcpu {
	u64 c[ADMA_C_COUNT];
};

/* A request slot: tag = slot index; the drainer fills it. */
struct adma_slot {
	u32 status;
	bool done;
	bool abandoned;		/* the waiter timed out: undo on completion */
	u64 iova;
	u64 handle;
	u64 gpa;		/* MAP: for undoing an abandoned one */
	u64 len;
};

/* The reverse map: an IOVA range we handed out, to unmap by address. */
struct adma_range {
	struct rb_node node;
	dma_addr_t iova;
	u64 size;
	u64 handle;		/* span: the host's; chunk: ADMA_HANDLE_NONE */
	u64 chunk;		/* chunk: its index */
};

struct adma {
	struct pci_dev *pdev;
	void __iomem *regs;
	u64 features;
	bool sync;		/* host processes one entry per doorbell */

	phys_addr_t win_gpa;
	u64 win_size;
	dma_addr_t win_iova;
	phys_addr_t ram_gpa;
	u64 ram_size;
	unsigned int chunk_shift;
	u64 nchunks;
	u32 max_map;

	/* shared with the host */
	adma_tt_word *tt;
	size_t tt_bytes;
	struct adma_ring_ctl *ctl;
	struct adma_sqe *sq;
	struct adma_cqe *cq;
	size_t ring_bytes;
	u32 entries;

	spinlock_t sq_lock;	/* sq_tail, slots */
	u32 sq_tail;
	u32 inflight;		/* slots taken */
	unsigned long *slot_map;
	struct adma_slot *slots;
	u32 lazy_pending;	/* UNMAPs written without a doorbell */

	spinlock_t cq_lock;
	u32 cq_head;

	spinlock_t tree_lock;	/* tree, known_iova */
	struct rb_root tree;
	u64 *known_iova;	/* per chunk: IOVA + 1 in the tree, 0 none */

	struct pci_dev *managed[ADMA_MAX_DEVICES];
	unsigned int nmanaged;
	struct work_struct rebind_work;
	bool ready;		/* rings enabled: ops may be installed */

	/* per CPU: the hot paths count with no atomic, no shared line */
	struct adma_pcpu __percpu *pcpu;
	struct dentry *debugfs;
};

void adma_publish_guest_counters(struct adma *ad);
/* A counter summed over the CPUs (debugfs, the host's report). */
u64 adma_counter_read(struct adma *ad, enum adma_counter c);

static inline void adma_count(struct adma *ad, enum adma_counter c, long n)
{
	this_cpu_add(ad->pcpu->c[c], n);
}

/*
 * A map was counted: every 256th on a CPU also tells the host our hit and
 * miss counts (QMP reports them; hits cost no exit, so it cannot count
 * them).
 */
static inline void adma_count_map(struct adma *ad)
{
	if (!(this_cpu_inc_return(ad->pcpu->c[ADMA_C_MAPS]) & 255) && ad->ctl)
		adma_publish_guest_counters(ad);
}

/* ring.c */
int adma_ring_setup(struct adma *ad);
void adma_ring_teardown(struct adma *ad);
/* Submit @n entries (one doorbell at most) and wait for their results. */
int adma_submit_wait(struct adma *ad, struct adma_sqe *e, unsigned int n,
		     struct adma_slot *res);
/* Queue a span unmap; rung only once unmap_batch are pending. */
void adma_unmap_lazy(struct adma *ad, u64 handle);
void adma_drain(struct adma *ad);
void adma_flush_lazy(struct adma *ad);
irqreturn_t adma_irq(int irq, void *data);

/* ops.c */
extern const struct dma_map_ops adma_dma_ops;
struct adma *adma_from_dev(struct device *dev);
int adma_ops_init(struct adma *ad);
void adma_ops_fini(struct adma *ad);
/* Is @dev one we serve? */
bool adma_serves(struct adma *ad, struct device *dev);
/* Undo a MAP that completed after its waiter gave up. */
void adma_undo_map(struct adma *ad, const struct adma_slot *s);

/* module parameters (main.c) */
extern unsigned int adma_ring_entries;
extern unsigned int adma_unmap_batch;
extern unsigned int adma_timeout_us;
extern bool adma_use_table;

#endif
