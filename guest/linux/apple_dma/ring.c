// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: the submission and completion rings.
 *
 * Map requests come from any context, atomic ones included (a block
 * driver's queue_rq), so nothing here sleeps: a submitter waits for its
 * completions by draining the completion ring itself, bounded by
 * timeout_us.  A waiter that gives up leaves its slot "abandoned" and the
 * drainer undoes what the host did for it, so a late completion never
 * lands on a stack that is gone and no pin or span leaks.
 *
 * The doorbell is rung only when the host said it is idle
 * (ADMA_HOST_IDLE): while the host thread polls, entries are picked up
 * with no exit at all.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "apple_dma.h"

#define ADMA_BATCH_MAX 64

void adma_publish_guest_counters(struct adma *ad)
{
	struct adma_ring_ctl *ctl = ad->ctl;

	WRITE_ONCE(ctl->guest_hits,
		   adma_counter_read(ad, ADMA_C_WINDOW_HITS) +
		   adma_counter_read(ad, ADMA_C_TT_HITS));
	WRITE_ONCE(ctl->guest_misses, adma_counter_read(ad, ADMA_C_MISSES));
	WRITE_ONCE(ctl->guest_errors, adma_counter_read(ad, ADMA_C_ERRORS));
}

static void adma_doorbell(struct adma *ad)
{
	writel(1, ad->regs + ADMA_REG_DOORBELL);
	adma_count(ad, ADMA_C_DOORBELLS, 1);
}

/* After publishing sq_tail (sq_lock held): wake the host if it sleeps. */
static void adma_kick(struct adma *ad)
{
	/* Order the tail store before reading the host's flag. */
	smp_mb();
	if (READ_ONCE(ad->ctl->host_flags) & ADMA_HOST_IDLE)
		adma_doorbell(ad);
	ad->lazy_pending = 0;
}

static void adma_free_slot(struct adma *ad, u32 id)
{
	unsigned long flags;

	spin_lock_irqsave(&ad->sq_lock, flags);
	__clear_bit(id, ad->slot_map);
	ad->inflight--;
	spin_unlock_irqrestore(&ad->sq_lock, flags);
}

void adma_drain(struct adma *ad)
{
	u32 mask = ad->entries - 1, tail, id;
	unsigned long flags;

	if (!spin_trylock_irqsave(&ad->cq_lock, flags))
		return;
	tail = smp_load_acquire(&ad->ctl->cq_tail);
	/* The host's index: trusted, but never walk past the ring. */
	if (tail - ad->cq_head > ad->entries)
		tail = ad->cq_head;
	while (ad->cq_head != tail) {
		struct adma_cqe *cqe = &ad->cq[ad->cq_head & mask];
		struct adma_slot *s;

		id = le64_to_cpu(cqe->tag);
		ad->cq_head++;
		if (id >= ad->entries)
			continue;
		s = &ad->slots[id];
		s->status = le32_to_cpu(cqe->status);
		s->iova = le64_to_cpu(cqe->iova);
		s->handle = le64_to_cpu(cqe->handle);
		if (s->status)
			adma_count(ad, ADMA_C_HOST_ERRORS, 1);
		if (s->abandoned) {
			if (!s->status)
				adma_undo_map(ad, s);
			adma_free_slot(ad, id);
			continue;
		}
		smp_store_release(&s->done, true);
	}
	smp_store_release(&ad->ctl->cq_head, ad->cq_head);
	spin_unlock_irqrestore(&ad->cq_lock, flags);
}

irqreturn_t adma_irq(int irq, void *data)
{
	struct adma *ad = data;

	adma_count(ad, ADMA_C_IRQS, 1);
	adma_drain(ad);
	return IRQ_HANDLED;
}

/*
 * Take @n slots and ring places (sq_lock held on return 0); waits, by
 * draining, while the ring is full.  -EBUSY when it stays full.
 */
static int adma_reserve(struct adma *ad, unsigned int n, u64 deadline,
			unsigned long *flags)
{
	spin_lock_irqsave(&ad->sq_lock, *flags);
	for (;;) {
		u32 used = ad->sq_tail - READ_ONCE(ad->ctl->sq_head);

		if (used <= ad->entries && ad->entries - used >= n &&
		    ad->inflight + n <= ad->entries)
			return 0;
		spin_unlock_irqrestore(&ad->sq_lock, *flags);
		adma_count(ad, ADMA_C_RING_FULL, 1);
		if (ktime_get_ns() > deadline)
			return -EBUSY;
		adma_drain(ad);
		cpu_relax();
		spin_lock_irqsave(&ad->sq_lock, *flags);
		/* Entries queued without a doorbell must get one now. */
		if (ad->lazy_pending && !ad->sync)
			adma_kick(ad);
	}
}

static u32 adma_write_entry(struct adma *ad, struct adma_sqe *e,
			    struct adma_slot *init)
{
	u32 id = find_first_zero_bit(ad->slot_map, ad->entries);

	__set_bit(id, ad->slot_map);
	ad->inflight++;
	ad->slots[id] = *init;
	e->tag = cpu_to_le64(id);
	memcpy(&ad->sq[ad->sq_tail & (ad->entries - 1)], e, sizeof(*e));
	ad->sq_tail++;
	adma_count(ad, ADMA_C_ENTRIES, 1);
	if (ad->sync) {
		/* One entry per doorbell, handled in the exit itself. */
		smp_store_release(&ad->ctl->sq_tail, ad->sq_tail);
		adma_doorbell(ad);
	}
	return id;
}

int adma_submit_wait(struct adma *ad, struct adma_sqe *e, unsigned int n,
		     struct adma_slot *res)
{
	u64 deadline = ktime_get_ns() + (u64)adma_timeout_us * NSEC_PER_USEC;
	u32 ids[ADMA_BATCH_MAX];
	unsigned long flags;
	unsigned int i, left;
	int ret;

	if (WARN_ON_ONCE(!n || n > ADMA_BATCH_MAX))
		return -EINVAL;
	ret = adma_reserve(ad, n, deadline, &flags);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct adma_slot init = {
			.gpa = le64_to_cpu(e[i].addr),
			.len = le64_to_cpu(e[i].len),
		};

		ids[i] = adma_write_entry(ad, &e[i], &init);
	}
	adma_count(ad, ADMA_C_BATCHES, 1);
	adma_publish_guest_counters(ad);
	if (!ad->sync) {
		/* Entries visible before the tail that publishes them. */
		smp_store_release(&ad->ctl->sq_tail, ad->sq_tail);
		adma_kick(ad);
	}
	spin_unlock_irqrestore(&ad->sq_lock, flags);

	for (left = n; left;) {
		adma_drain(ad);
		for (left = 0, i = 0; i < n; i++)
			left += !smp_load_acquire(&ad->slots[ids[i]].done);
		if (!left)
			break;
		if (ktime_get_ns() > deadline) {
			/* Decide under cq_lock, where the drainer decides. */
			spin_lock_irqsave(&ad->cq_lock, flags);
			for (i = 0; i < n; i++) {
				struct adma_slot *s = &ad->slots[ids[i]];

				if (!s->done)
					s->abandoned = true;
			}
			spin_unlock_irqrestore(&ad->cq_lock, flags);
			adma_count(ad, ADMA_C_TIMEOUTS, 1);
			ret = -ETIMEDOUT;
			break;
		}
		cpu_relax();
	}
	for (i = 0; i < n; i++) {
		struct adma_slot *s = &ad->slots[ids[i]];

		if (s->abandoned) {
			res[i].status = ADMA_S_HOST;
			continue;
		}
		res[i] = *s;
		adma_free_slot(ad, ids[i]);
	}
	return ret;
}

/* Ring for queued unmaps now: the host is short of room. */
void adma_flush_lazy(struct adma *ad)
{
	unsigned long flags;

	spin_lock_irqsave(&ad->sq_lock, flags);
	if (ad->lazy_pending && !ad->sync)
		adma_kick(ad);
	spin_unlock_irqrestore(&ad->sq_lock, flags);
}

void adma_unmap_lazy(struct adma *ad, u64 handle)
{
	u64 deadline = ktime_get_ns() + (u64)adma_timeout_us * NSEC_PER_USEC;
	struct adma_sqe e = {
		.op = ADMA_OP_UNMAP,
		.addr = cpu_to_le64(handle),
	};
	struct adma_slot init = { .abandoned = true };	/* nobody waits */
	unsigned long flags;

	if (adma_reserve(ad, 1, deadline, &flags)) {
		/* The span stays mapped until the companion resets. */
		adma_count(ad, ADMA_C_ERRORS, 1);
		return;
	}
	adma_write_entry(ad, &e, &init);
	adma_count(ad, ADMA_C_LAZY_UNMAPS, 1);
	if (!ad->sync) {
		smp_store_release(&ad->ctl->sq_tail, ad->sq_tail);
		if (++ad->lazy_pending >= adma_unmap_batch)
			adma_kick(ad);
	}
	spin_unlock_irqrestore(&ad->sq_lock, flags);
}

int adma_ring_setup(struct adma *ad)
{
	struct pci_dev *pdev = ad->pdev;
	u32 max = readl(ad->regs + ADMA_REG_RING_MAX), status;
	u32 n = clamp_t(u32, adma_ring_entries, 2, max ? max : 2);
	u64 features = ad->features;
	int i;

	n = rounddown_pow_of_two(n);
	ad->entries = n;
	ad->ring_bytes = PAGE_ALIGN(ADMA_RING_AREA_SIZE(n));
	ad->ctl = alloc_pages_exact(ad->ring_bytes, GFP_KERNEL | __GFP_ZERO);
	ad->slots = kcalloc(n, sizeof(*ad->slots), GFP_KERNEL);
	ad->slot_map = bitmap_zalloc(n, GFP_KERNEL);
	if (!ad->ctl || !ad->slots || !ad->slot_map)
		return -ENOMEM;
	ad->sq = (void *)ad->ctl + ADMA_RING_SQ_OFFSET;
	ad->cq = (void *)ad->ctl + ADMA_RING_CQ_OFFSET(n);
	ad->ctl->guest_flags = ADMA_GUEST_NO_IRQ;	/* waiters poll */

	if (ad->tt) {
		writeq(virt_to_phys(ad->tt), ad->regs + ADMA_REG_TT_GPA);
		writel(ad->nchunks, ad->regs + ADMA_REG_TT_ENTRIES);
	} else {
		features &= ~ADMA_F_TT;
	}
	writeq(features, ad->regs + ADMA_REG_GUEST_FEATURES);
	writel(n, ad->regs + ADMA_REG_RING_ENTRIES);
	writeq(virt_to_phys(ad->ctl), ad->regs + ADMA_REG_RING_GPA);
	writel(ADMA_CTRL_ENABLE, ad->regs + ADMA_REG_CONTROL);
	for (i = 0; i < 1000; i++) {
		status = readl(ad->regs + ADMA_REG_STATUS);
		if (status & (ADMA_STATUS_ENABLED | ADMA_STATUS_FAILED))
			break;
		usleep_range(1000, 2000);
	}
	if (!(status & ADMA_STATUS_ENABLED)) {
		pci_err(pdev, "the companion refused the rings (status %#x, error %u)\n",
			status, readl(ad->regs + ADMA_REG_SETUP_ERROR));
		return -EIO;
	}
	pci_info(pdev, "rings of %u entries at %pa, table of %llu chunks of %u KiB%s\n",
		 n, &(phys_addr_t){ virt_to_phys(ad->ctl) }, ad->tt ? ad->nchunks : 0,
		 ad->tt ? (1u << ad->chunk_shift) >> 10 : 0,
		 ad->sync ? " (host: sync-baseline)" : "");
	return 0;
}

/*
 * Reset the companion: the host unmaps every chunk and span and stops
 * reading our memory.  Only then may it be freed: if the host does not
 * confirm, it is leaked rather than handed back to the allocator.
 */
void adma_ring_teardown(struct adma *ad)
{
	bool quiet = false;
	int i;

	if (ad->regs) {
		writel(ADMA_CTRL_RESET, ad->regs + ADMA_REG_CONTROL);
		for (i = 0; i < 5000; i++) {
			u32 st = readl(ad->regs + ADMA_REG_STATUS);

			if (!(st & (ADMA_STATUS_BUSY | ADMA_STATUS_ENABLED))) {
				quiet = true;
				break;
			}
			usleep_range(1000, 2000);
		}
	}
	if (!quiet && ad->regs) {
		pci_warn(ad->pdev, "companion did not confirm the reset; leaking its rings\n");
		return;
	}
	if (ad->ctl)
		free_pages_exact(ad->ctl, ad->ring_bytes);
	if (ad->tt)
		free_pages_exact(ad->tt, ad->tt_bytes);
	ad->ctl = NULL;
	ad->tt = NULL;
	kfree(ad->slots);
	bitmap_free(ad->slot_map);
	ad->slots = NULL;
	ad->slot_map = NULL;
}
