// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: the dma_map_ops of the devices the companion serves.
 *
 * A mapping is, fastest first:
 *   - window: IOVA = window_iova + (phys - window_gpa), no exit;
 *   - table: the chunk(s) holding the range are mapped (VALID in the
 *     translation table the host fills): one cmpxchg pins each, no exit;
 *   - ring: a MAP entry; the host maps the chunk(s) and pins them for us,
 *     or gives a span (a mapping of exactly the range's pages) when the
 *     range crosses chunks whose IOVAs are not contiguous.
 * Unmapping a chunk pin is an atomic decrement (the host evicts unpinned
 * chunks only under pressure: lazy); unmapping a span is an UNMAP entry
 * that rides along with the next submission (batched).
 *
 * Unmap gets only the IOVA, so the IOVAs we hand out are kept in an
 * rb-tree: one static node per chunk (re-placed when the chunk comes back
 * at another IOVA) and one node per span.  A node left behind by an
 * evicted chunk is only ever found for an address we did not hand out,
 * since no live mapping overlaps it; inserting an overlapping node drops
 * it.
 *
 * Every failure is DMA_MAPPING_ERROR (or an error from map_sg) for the
 * driver to handle; nothing here panics or sleeps.
 */
#include <linux/dma-map-ops.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "apple_dma.h"

#define ADMA_SG_BATCH 16	/* entries per batch: bounded stack */

static struct adma_range *adma_chunk_nodes_of(struct adma *ad);

/* ---- the translation table ---- */

static bool adma_tt_pin(struct adma *ad, u64 c, u64 *iova)
{
	u64 w = READ_ONCE(ad->tt[c]), seen;

	for (;;) {
		if (!(w & ADMA_TT_VALID) || ADMA_TT_PINS(w) == ADMA_TT_PIN_MAX)
			return false;
		seen = cmpxchg(&ad->tt[c], w, (w + ADMA_TT_PIN_ONE) | ADMA_TT_ACCESSED);
		if (seen == w) {
			*iova = ADMA_TT_IOVA(w);
			return true;
		}
		w = seen;
	}
}

static void adma_tt_unpin(struct adma *ad, u64 c)
{
	u64 w = READ_ONCE(ad->tt[c]), seen;

	while (ADMA_TT_PINS(w)) {
		seen = cmpxchg(&ad->tt[c], w, w - ADMA_TT_PIN_ONE);
		if (seen == w)
			return;
		w = seen;
	}
	WARN_ONCE(1, "apple_dma: unpin of chunk %llu with no pins\n", c);
}

/*
 * More pins on a chunk we already pin (so it stays mapped): one atomic for
 * a run of scatter-gather elements in the same chunk.
 */
static bool adma_tt_pin_more(struct adma *ad, u64 c, u64 n)
{
	u64 w = READ_ONCE(ad->tt[c]), seen;

	for (;;) {
		if (ADMA_TT_PINS(w) + n > ADMA_TT_PIN_MAX)
			return false;
		seen = cmpxchg(&ad->tt[c], w, w + n * ADMA_TT_PIN_ONE);
		if (seen == w)
			return true;
		w = seen;
	}
}

static void adma_tt_unpin_n(struct adma *ad, u64 c, u64 n)
{
	u64 w = READ_ONCE(ad->tt[c]), seen;

	while (ADMA_TT_PINS(w) >= n) {
		seen = cmpxchg(&ad->tt[c], w, w - n * ADMA_TT_PIN_ONE);
		if (seen == w)
			return;
		w = seen;
	}
	WARN_ONCE(1, "apple_dma: unpin of %llu from chunk %llu with fewer pins\n", n, c);
}

static u64 adma_chunk_bytes(struct adma *ad, u64 c)
{
	return min_t(u64, 1ull << ad->chunk_shift,
		     ad->ram_size - (c << ad->chunk_shift));
}

/* ---- the reverse map ---- */

static struct adma_range *adma_tree_find(struct adma *ad, dma_addr_t addr)
{
	struct rb_node *n = ad->tree.rb_node;

	while (n) {
		struct adma_range *r = rb_entry(n, struct adma_range, node);

		if (addr < r->iova)
			n = n->rb_left;
		else if (addr - r->iova >= r->size)
			n = n->rb_right;
		else
			return r;
	}
	return NULL;
}

static void adma_tree_erase(struct adma *ad, struct adma_range *r)
{
	rb_erase(&r->node, &ad->tree);
	RB_CLEAR_NODE(&r->node);
	if (!r->handle)
		ad->known_iova[r->chunk] = 0;
}

/* Insert @new, dropping stale chunk nodes it overlaps (tree_lock held). */
static void adma_tree_insert(struct adma *ad, struct adma_range *new)
{
	struct rb_node **p, *parent;
	struct adma_range *r;

	for (;;) {
		p = &ad->tree.rb_node;
		parent = NULL;
		r = NULL;
		while (*p) {
			r = rb_entry(*p, struct adma_range, node);
			parent = *p;
			if (new->iova + new->size <= r->iova)
				p = &(*p)->rb_left;
			else if (r->iova + r->size <= new->iova)
				p = &(*p)->rb_right;
			else
				break;
		}
		if (!*p)
			break;
		/* Only a stale chunk node can overlap: live ones cannot. */
		WARN_ON_ONCE(r->handle);
		adma_tree_erase(ad, r);
	}
	rb_link_node(&new->node, parent, p);
	rb_insert_color(&new->node, &ad->tree);
}

static void adma_note_chunk(struct adma *ad, u64 c, u64 iova)
{
	struct adma_range *r = &adma_chunk_nodes_of(ad)[c];
	unsigned long flags;

	if (READ_ONCE(ad->known_iova[c]) == iova + 1)
		return;
	spin_lock_irqsave(&ad->tree_lock, flags);
	if (ad->known_iova[c] != iova + 1) {
		if (!RB_EMPTY_NODE(&r->node))
			adma_tree_erase(ad, r);
		r->iova = iova;
		r->size = adma_chunk_bytes(ad, c);
		r->handle = ADMA_HANDLE_NONE;
		r->chunk = c;
		adma_tree_insert(ad, r);
		WRITE_ONCE(ad->known_iova[c], iova + 1);
	}
	spin_unlock_irqrestore(&ad->tree_lock, flags);
}

/* ---- one range ---- */

static bool adma_in_window(struct adma *ad, phys_addr_t phys, size_t size)
{
	return ad->win_size && phys >= ad->win_gpa &&
	       phys - ad->win_gpa < ad->win_size &&
	       size <= ad->win_size - (phys - ad->win_gpa);
}

static bool adma_in_ram(struct adma *ad, phys_addr_t phys, size_t size)
{
	return phys >= ad->ram_gpa && phys - ad->ram_gpa < ad->ram_size &&
	       size <= ad->ram_size - (phys - ad->ram_gpa);
}

/* Pin the chunks of [phys, phys + size) through the table, or fail. */
static dma_addr_t adma_tt_map(struct adma *ad, phys_addr_t phys, size_t size)
{
	u64 off = phys - ad->ram_gpa, c0 = off >> ad->chunk_shift;
	u64 c1 = (off + size - 1) >> ad->chunk_shift, c, iova0 = 0, iova;

	for (c = c0; c <= c1; c++) {
		if (!adma_tt_pin(ad, c, &iova))
			goto undo;
		if (c == c0) {
			iova0 = iova;
		} else if (iova != iova0 + ((c - c0) << ad->chunk_shift)) {
			c++;
			goto undo;
		}
	}
	for (c = c0; c <= c1; c++)
		adma_note_chunk(ad, c, iova0 + ((c - c0) << ad->chunk_shift));
	return iova0 + (off - (c0 << ad->chunk_shift));
undo:
	while (c-- > c0)
		adma_tt_unpin(ad, c);
	return DMA_MAPPING_ERROR;
}

/* A MAP the host answered: remember what to release. */
static dma_addr_t adma_record(struct adma *ad, phys_addr_t phys, size_t size,
			      const struct adma_slot *s)
{
	u64 off = phys - ad->ram_gpa, c0, c1, c;
	struct adma_range *r;
	unsigned long flags;

	if (adma_in_window(ad, phys, size))
		return s->iova;
	if (s->handle) {
		r = kzalloc(sizeof(*r), GFP_ATOMIC);
		if (!r) {
			adma_unmap_lazy(ad, s->handle);
			return DMA_MAPPING_ERROR;
		}
		RB_CLEAR_NODE(&r->node);
		r->iova = s->iova;
		r->size = size;
		r->handle = s->handle;
		spin_lock_irqsave(&ad->tree_lock, flags);
		adma_tree_insert(ad, r);
		spin_unlock_irqrestore(&ad->tree_lock, flags);
		adma_count(ad, ADMA_C_SPANS, 1);
		return s->iova;
	}
	c0 = off >> ad->chunk_shift;
	c1 = (off + size - 1) >> ad->chunk_shift;
	for (c = c0; c <= c1; c++)
		adma_note_chunk(ad, c, s->iova - (off - (c0 << ad->chunk_shift)) +
				((c - c0) << ad->chunk_shift));
	return s->iova;
}

void adma_undo_map(struct adma *ad, const struct adma_slot *s)
{
	u64 off, c;

	if (s->handle) {
		adma_unmap_lazy(ad, s->handle);
		return;
	}
	if (!s->len || !adma_in_ram(ad, s->gpa, s->len) ||
	    adma_in_window(ad, s->gpa, s->len) || !ad->tt)
		return;
	off = s->gpa - ad->ram_gpa;
	for (c = off >> ad->chunk_shift;
	     c <= (off + s->len - 1) >> ad->chunk_shift; c++)
		adma_tt_unpin(ad, c);
}

/*
 * The host refused a map for the budget, even after our queued unmaps
 * were sent: the driver gets DMA_MAPPING_ERROR and (nvme, most network
 * drivers) retries.  Say so in the log, at a rate that cannot flood it.
 */
static void adma_note_no_space(struct adma *ad)
{
	adma_count(ad, ADMA_C_NO_SPACE, 1);
	dev_warn_ratelimited(&ad->pdev->dev,
			     "DART budget exhausted (%llu of %llu bytes mapped): a DMA map failed, the driver may retry\n",
			     readq(ad->regs + ADMA_REG_USED_BYTES),
			     readq(ad->regs + ADMA_REG_BUDGET_BYTES));
}

static void adma_fill_sqe(struct adma_sqe *e, phys_addr_t phys, size_t size,
			  enum dma_data_direction dir)
{
	static const u8 dirs[] = {
		[DMA_BIDIRECTIONAL] = ADMA_DIR_BIDI,
		[DMA_TO_DEVICE] = ADMA_DIR_TO_DEVICE,
		[DMA_FROM_DEVICE] = ADMA_DIR_FROM_DEVICE,
		[DMA_NONE] = ADMA_DIR_BIDI,
	};

	*e = (struct adma_sqe) {
		.op = ADMA_OP_MAP,
		.dir = dirs[dir < ARRAY_SIZE(dirs) ? dir : DMA_BIDIRECTIONAL],
		.flags = cpu_to_le16(ADMA_MAP_PIN),
		.addr = cpu_to_le64(phys),
		.len = cpu_to_le64(size),
	};
}

/* No exit: the window or the table.  DMA_MAPPING_ERROR: ask the host. */
static dma_addr_t adma_map_fast(struct adma *ad, phys_addr_t phys, size_t size)
{
	dma_addr_t iova;

	if (adma_in_window(ad, phys, size)) {
		adma_count(ad, ADMA_C_WINDOW_HITS, 1);
		return ad->win_iova + (phys - ad->win_gpa);
	}
	if (!ad->tt)
		return DMA_MAPPING_ERROR;
	iova = adma_tt_map(ad, phys, size);
	if (iova != DMA_MAPPING_ERROR)
		adma_count(ad, ADMA_C_TT_HITS, 1);
	return iova;
}

static void adma_unmap_one(struct adma *ad, dma_addr_t addr, size_t size);

/* The device must be able to address it, like dma-direct checks. */
static bool adma_addressable(struct device *dev, dma_addr_t iova, size_t size)
{
	u64 limit = dev->dma_mask ? *dev->dma_mask : DMA_BIT_MASK(32);

	limit = min_not_zero(limit, dev->bus_dma_limit);
	return iova + size - 1 >= iova && iova + size - 1 <= limit;
}

static dma_addr_t adma_map_range(struct device *dev, phys_addr_t phys,
				 size_t size, enum dma_data_direction dir)
{
	struct adma *ad = adma_from_dev(dev);
	struct adma_slot res;
	struct adma_sqe e;
	dma_addr_t iova;

	if (!ad || !size || size > ad->max_map || !adma_in_ram(ad, phys, size))
		goto fail;
	adma_count_map(ad);
	iova = adma_map_fast(ad, phys, size);
	if (iova == DMA_MAPPING_ERROR) {
		adma_count(ad, ADMA_C_MISSES, 1);
		adma_fill_sqe(&e, phys, size, dir);
		if (adma_submit_wait(ad, &e, 1, &res))
			goto fail;
		if (res.status == ADMA_S_NO_SPACE) {
			/* Unmaps we queued hold room: send them, try once more. */
			adma_flush_lazy(ad);
			adma_fill_sqe(&e, phys, size, dir);
			if (adma_submit_wait(ad, &e, 1, &res))
				goto fail;
			if (res.status == ADMA_S_NO_SPACE)
				adma_note_no_space(ad);
		}
		if (res.status)
			goto fail;
		iova = adma_record(ad, phys, size, &res);
		if (iova == DMA_MAPPING_ERROR)
			goto fail;
	}
	if (!adma_addressable(dev, iova, size)) {
		adma_unmap_one(ad, iova, size);
		goto fail;
	}
	return iova;
fail:
	if (ad)
		adma_count(ad, ADMA_C_ERRORS, 1);
	return DMA_MAPPING_ERROR;
}

static void adma_unmap_one(struct adma *ad, dma_addr_t addr, size_t size)
{
	struct adma_range *r;
	unsigned long flags;
	u64 c, n, i, handle;

	adma_count(ad, ADMA_C_UNMAPS, 1);
	if (ad->win_size && addr >= ad->win_iova &&
	    addr - ad->win_iova < ad->win_size)
		return;
	spin_lock_irqsave(&ad->tree_lock, flags);
	r = adma_tree_find(ad, addr);
	if (!r) {
		spin_unlock_irqrestore(&ad->tree_lock, flags);
		adma_count(ad, ADMA_C_ERRORS, 1);
		WARN_ONCE(1, "apple_dma: unmap of %pad, which we did not map\n", &addr);
		return;
	}
	if (r->handle) {
		handle = r->handle;
		adma_tree_erase(ad, r);
		spin_unlock_irqrestore(&ad->tree_lock, flags);
		kfree(r);
		adma_unmap_lazy(ad, handle);
		return;
	}
	c = r->chunk;
	n = ((addr - r->iova) + size - 1) >> ad->chunk_shift;
	spin_unlock_irqrestore(&ad->tree_lock, flags);
	/* A range across chunks pinned each of them (contiguous IOVAs). */
	for (i = 0; i <= n && c + i < ad->nchunks; i++)
		adma_tt_unpin(ad, c + i);
}

/* ---- dma_map_ops ---- */

static void adma_unmap_addr(struct device *dev, dma_addr_t addr, size_t size)
{
	struct adma *ad = adma_from_dev(dev);

	if (ad)
		adma_unmap_one(ad, addr, size);
}

#ifdef APPLE_DMA_HAVE_MAP_PHYS
/*
 * 6.19 (Leon Romanovsky's series) replaced .map_page/.unmap_page and
 * .map_resource by .map_phys/.unmap_phys, and 6.18 added DMA_ATTR_MMIO for
 * a physical address that is not RAM (a BAR, for P2P).  The host maps only
 * guest RAM: refuse those here rather than send them.
 */
static dma_addr_t adma_map_phys(struct device *dev, phys_addr_t phys,
				size_t size, enum dma_data_direction dir,
				unsigned long attrs)
{
#ifdef DMA_ATTR_MMIO
	if (attrs & DMA_ATTR_MMIO) {
		struct adma *ad = adma_from_dev(dev);

		if (ad)
			adma_count(ad, ADMA_C_ERRORS, 1);
		return DMA_MAPPING_ERROR;
	}
#endif
	return adma_map_range(dev, phys, size, dir);
}

static void adma_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	adma_unmap_addr(dev, addr, size);
}
#else
static dma_addr_t adma_map_page(struct device *dev, struct page *page,
				unsigned long offset, size_t size,
				enum dma_data_direction dir, unsigned long attrs)
{
	return adma_map_range(dev, page_to_phys(page) + offset, size, dir);
}

static void adma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	adma_unmap_addr(dev, addr, size);
}
#endif

/* A run of unmaps inside one chunk node: one unpin of all of them. */
struct adma_unmap_run {
	dma_addr_t iova;
	u64 size;
	u64 chunk;
	u64 pins;
};

static void adma_unmap_run_flush(struct adma *ad, struct adma_unmap_run *run)
{
	if (run->pins)
		adma_tt_unpin_n(ad, run->chunk, run->pins);
	run->pins = 0;
}

static void adma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	struct adma *ad = adma_from_dev(dev);
	struct adma_unmap_run run = { 0 };
	struct scatterlist *sg;
	unsigned long flags;
	int i;

	if (!ad)
		return;
	for_each_sg(sgl, sg, nents, i) {
		dma_addr_t addr = sg_dma_address(sg);
		size_t len = sg_dma_len(sg);
		struct adma_range *r;

		if (addr == DMA_MAPPING_ERROR || !len)
			break;
		/*
		 * Within the chunk the last element was in: we pin it, so its
		 * node is live and needs no second lookup.
		 */
		if (run.pins && addr >= run.iova && addr - run.iova < run.size &&
		    len <= run.size - (addr - run.iova)) {
			run.pins++;
			adma_count(ad, ADMA_C_UNMAPS, 1);
			continue;
		}
		adma_unmap_run_flush(ad, &run);
		if (!(ad->win_size && addr >= ad->win_iova &&
		      addr - ad->win_iova < ad->win_size)) {
			spin_lock_irqsave(&ad->tree_lock, flags);
			r = adma_tree_find(ad, addr);
			if (r && !r->handle && len <= r->size - (addr - r->iova)) {
				run = (struct adma_unmap_run) {
					.iova = r->iova, .size = r->size,
					.chunk = r->chunk, .pins = 1,
				};
				spin_unlock_irqrestore(&ad->tree_lock, flags);
				adma_count(ad, ADMA_C_UNMAPS, 1);
				continue;
			}
			spin_unlock_irqrestore(&ad->tree_lock, flags);
		}
		adma_unmap_one(ad, addr, len);
	}
	adma_unmap_run_flush(ad, &run);
}

/* Give the elements the host mapped their addresses. */
static void adma_sg_record(struct adma *ad, struct scatterlist **miss,
			   const struct adma_slot *res, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		struct scatterlist *sg = miss[k];

		if (res[k].status)
			continue;
		sg_dma_address(sg) = adma_record(ad, sg_phys(sg), sg->length,
						 &res[k]);
		if (sg_dma_address(sg) != DMA_MAPPING_ERROR)
			sg_dma_len(sg) = sg->length;
	}
}

/*
 * Send the batch of misses; 0 or an errno (elements keep what they got).
 * Entries refused for the budget go once more after the span unmaps we
 * queued (they hold room): like adma_map_range, so a scatter-gather list
 * is not failed for room that is only waiting to be given back.  @e and
 * @miss are the caller's and are reused for that second submission.
 */
static int adma_sg_flush(struct adma *ad, struct adma_sqe *e,
			 struct scatterlist **miss, unsigned int nmiss)
{
	struct adma_slot res[ADMA_SG_BATCH];
	unsigned int k, again = 0;
	bool failed = false;
	int ret;

	if (!nmiss)
		return 0;
	ret = adma_submit_wait(ad, e, nmiss, res);
	if (ret)
		return ret;
	adma_sg_record(ad, miss, res, nmiss);
	for (k = 0; k < nmiss; k++) {
		if (sg_dma_len(miss[k]))
			continue;
		if (res[k].status != ADMA_S_NO_SPACE) {
			failed = true;
			continue;
		}
		e[again] = e[k];
		miss[again++] = miss[k];
	}
	if (failed)
		return -ENOMEM;
	if (!again)
		return 0;
	adma_flush_lazy(ad);
	ret = adma_submit_wait(ad, e, again, res);
	if (ret)
		return ret;
	adma_sg_record(ad, miss, res, again);
	for (k = 0; k < again; k++) {
		if (!sg_dma_len(miss[k])) {
			if (res[k].status == ADMA_S_NO_SPACE)
				adma_note_no_space(ad);
			failed = true;
		}
	}
	return failed ? -ENOMEM : 0;
}

/* Take the pins a run of elements still owes (the first one is taken). */
static bool adma_sg_run_flush(struct adma *ad, u64 chunk, u64 *pins)
{
	bool ok = *pins <= 1 || adma_tt_pin_more(ad, chunk, *pins - 1);

	if (ok)
		*pins = 0;
	return ok;
}

/*
 * The run's pins could not be taken (a chunk at ADMA_TT_PIN_MAX): the
 * elements after the run's first, consecutive in its chunk, hold none.
 */
static void adma_sg_forget_run(struct adma *ad, struct scatterlist *sgl, int nents,
			       int first, u64 chunk)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		u64 off = sg_phys(sg) - ad->ram_gpa;

		if (i <= first)
			continue;
		if (!sg_dma_len(sg) || off >> ad->chunk_shift != chunk ||
		    adma_in_window(ad, sg_phys(sg), sg->length))
			break;
		sg_dma_address(sg) = DMA_MAPPING_ERROR;
		sg_dma_len(sg) = 0;
	}
}

/*
 * Elements the window or the table answer are mapped at once; the rest
 * go to the host in batches of up to ADMA_SG_BATCH entries, one doorbell
 * (at most) each.
 */
static int adma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		       enum dma_data_direction dir, unsigned long attrs)
{
	struct adma *ad = adma_from_dev(dev);
	struct scatterlist *sg, *miss[ADMA_SG_BATCH];
	struct adma_sqe e[ADMA_SG_BATCH];
	unsigned int nmiss = 0;
	u64 run_chunk = 0, run_pins = 0;
	dma_addr_t run_iova = 0;
	int i, ret = 0, run_first = 0;

	if (!ad)
		return -EIO;
	for_each_sg(sgl, sg, nents, i) {
		sg_dma_address(sg) = DMA_MAPPING_ERROR;
		sg_dma_len(sg) = 0;
	}
	for_each_sg(sgl, sg, nents, i) {
		phys_addr_t phys = sg_phys(sg);
		u64 off = phys - ad->ram_gpa;
		dma_addr_t iova;

		if (!sg->length || sg->length > ad->max_map ||
		    !adma_in_ram(ad, phys, sg->length)) {
			ret = -EINVAL;
			goto fail;
		}
		adma_count_map(ad);
		/*
		 * In the chunk the last element pinned: that pin keeps it
		 * mapped, so this one's pin can wait and join the others'.
		 */
		if (run_pins && off >> ad->chunk_shift == run_chunk &&
		    (off + sg->length - 1) >> ad->chunk_shift == run_chunk &&
		    !adma_in_window(ad, phys, sg->length)) {
			sg_dma_address(sg) = run_iova + (off - (run_chunk << ad->chunk_shift));
			sg_dma_len(sg) = sg->length;
			run_pins++;
			adma_count(ad, ADMA_C_TT_HITS, 1);
			continue;
		}
		if (!adma_sg_run_flush(ad, run_chunk, &run_pins)) {
			ret = -ENOMEM;
			goto fail;
		}
		iova = adma_map_fast(ad, phys, sg->length);
		if (iova != DMA_MAPPING_ERROR) {
			sg_dma_address(sg) = iova;
			sg_dma_len(sg) = sg->length;
			if (ad->tt && !adma_in_window(ad, phys, sg->length) &&
			    off >> ad->chunk_shift == (off + sg->length - 1) >> ad->chunk_shift) {
				run_chunk = off >> ad->chunk_shift;
				run_iova = iova - (off - (run_chunk << ad->chunk_shift));
				run_pins = 1;
				run_first = i;
			}
			continue;
		}
		adma_count(ad, ADMA_C_MISSES, 1);
		adma_fill_sqe(&e[nmiss], phys, sg->length, dir);
		miss[nmiss++] = sg;
		if (nmiss == ADMA_SG_BATCH) {
			ret = adma_sg_flush(ad, e, miss, nmiss);
			nmiss = 0;
			if (ret)
				goto fail;
		}
	}
	if (!adma_sg_run_flush(ad, run_chunk, &run_pins)) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = adma_sg_flush(ad, e, miss, nmiss);
	if (ret)
		goto fail;
	for_each_sg(sgl, sg, nents, i) {
		if (!adma_addressable(dev, sg_dma_address(sg), sg_dma_len(sg))) {
			ret = -EIO;
			goto fail;
		}
	}
	return nents;
fail:
	/*
	 * Undo every element that got an address (they are not contiguous);
	 * a run's pins not taken yet are taken first, so each element gives
	 * back exactly one.  (If even that fails, the run's elements lose
	 * their addresses and give back nothing.)
	 */
	if (!adma_sg_run_flush(ad, run_chunk, &run_pins))
		adma_sg_forget_run(ad, sgl, nents, run_first, run_chunk);
	for_each_sg(sgl, sg, nents, i) {
		if (sg_dma_address(sg) != DMA_MAPPING_ERROR && sg_dma_len(sg))
			adma_unmap_one(ad, sg_dma_address(sg), sg_dma_len(sg));
		sg_dma_address(sg) = DMA_MAPPING_ERROR;
		sg_dma_len(sg) = 0;
	}
	adma_count(ad, ADMA_C_ERRORS, 1);
	return ret == -ENOMEM || ret == -EINVAL ? ret : -EIO;
}

static struct page *adma_alloc_range(struct device *dev, size_t size,
				     dma_addr_t *dma_handle, gfp_t gfp)
{
	struct page *page;

	size = PAGE_ALIGN(size);
	gfp &= ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM | __GFP_COMP);
	page = alloc_pages(gfp | __GFP_ZERO, get_order(size));
	if (!page)
		return NULL;
	*dma_handle = adma_map_range(dev, page_to_phys(page), size,
				     DMA_BIDIRECTIONAL);
	if (*dma_handle == DMA_MAPPING_ERROR) {
		__free_pages(page, get_order(size));
		return NULL;
	}
	return page;
}

static void adma_free_range(struct device *dev, size_t size, struct page *page,
			    dma_addr_t dma_handle)
{
	size = PAGE_ALIGN(size);
	adma_unmap_addr(dev, dma_handle, size);
	__free_pages(page, get_order(size));
}

/*
 * Coherent memory: ordinary pages (the platform is coherent) whose chunk
 * is pinned for as long as they live; a chunk the device already uses is
 * a table hit.
 */
static void *adma_alloc(struct device *dev, size_t size, dma_addr_t *dma_handle,
			gfp_t gfp, unsigned long attrs)
{
	struct page *page = adma_alloc_range(dev, size, dma_handle, gfp);

	return page ? page_address(page) : NULL;
}

static void adma_free(struct device *dev, size_t size, void *vaddr,
		      dma_addr_t dma_handle, unsigned long attrs)
{
	adma_free_range(dev, size, virt_to_page(vaddr), dma_handle);
}

static struct page *adma_alloc_pages(struct device *dev, size_t size,
				     dma_addr_t *dma_handle,
				     enum dma_data_direction dir, gfp_t gfp)
{
	return adma_alloc_range(dev, size, dma_handle, gfp);
}

static void adma_free_pages(struct device *dev, size_t size, struct page *page,
			    dma_addr_t dma_handle, enum dma_data_direction dir)
{
	adma_free_range(dev, size, page, dma_handle);
}

static int adma_dma_supported(struct device *dev, u64 mask)
{
	/* Checked per mapping: the host picks IOVAs we cannot predict. */
	return 1;
}

static u64 adma_get_required_mask(struct device *dev)
{
	return DMA_BIT_MASK(64);
}

static size_t adma_max_mapping_size(struct device *dev)
{
	struct adma *ad = adma_from_dev(dev);

	return ad ? ad->max_map : PAGE_SIZE;
}

const struct dma_map_ops adma_dma_ops = {
	.alloc = adma_alloc,
	.free = adma_free,
#ifdef APPLE_DMA_HAVE_ALLOC_PAGES_OP
	.alloc_pages_op = adma_alloc_pages,
#else
	.alloc_pages = adma_alloc_pages,
#endif
	.free_pages = adma_free_pages,
#ifdef APPLE_DMA_HAVE_MAP_PHYS
	.map_phys = adma_map_phys,
	.unmap_phys = adma_unmap_phys,
#else
	.map_page = adma_map_page,
	.unmap_page = adma_unmap_page,
#endif
	.map_sg = adma_map_sg,
	.unmap_sg = adma_unmap_sg,
	.dma_supported = adma_dma_supported,
	.get_required_mask = adma_get_required_mask,
	.max_mapping_size = adma_max_mapping_size,
};

/* ---- setup ---- */

static struct adma_range *adma_chunk_nodes_of(struct adma *ad)
{
	return (struct adma_range *)(ad->known_iova + ad->nchunks);
}

int adma_ops_init(struct adma *ad)
{
	struct adma_range *nodes;
	u64 c;

	ad->tree = RB_ROOT;
	spin_lock_init(&ad->tree_lock);
	if (!ad->nchunks)
		return 0;
	/* known_iova[nchunks], then the chunks' nodes, in one allocation. */
	ad->known_iova = vzalloc(ad->nchunks *
				 (sizeof(u64) + sizeof(struct adma_range)));
	if (!ad->known_iova)
		return -ENOMEM;
	nodes = adma_chunk_nodes_of(ad);
	for (c = 0; c < ad->nchunks; c++)
		RB_CLEAR_NODE(&nodes[c].node);
	return 0;
}

void adma_ops_fini(struct adma *ad)
{
	struct rb_node *n;

	while ((n = rb_first(&ad->tree))) {
		struct adma_range *r = rb_entry(n, struct adma_range, node);

		rb_erase(n, &ad->tree);
		if (r->handle)
			kfree(r);
	}
	vfree(ad->known_iova);
	ad->known_iova = NULL;
}
