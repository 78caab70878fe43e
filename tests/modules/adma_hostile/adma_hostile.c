// SPDX-License-Identifier: GPL-2.0
/*
 * adma_hostile: a guest test tool that drives the apple-dma-pci companion
 * the way a broken or malicious guest would, from inside a real guest.
 *
 * It binds the companion in place of apple_dma and, at probe, sets rings
 * up in MMIO, beyond RAM and unaligned, then submits malformed ring
 * entries (addresses that are not guest RAM, a BAR, overflowing and zero
 * lengths, unknown opcodes, directions, flags and handles), one good map
 * between them, and finally a submission tail far beyond the ring.  Every
 * outcome is printed as
 *
 *   adma_hostile: case <name> status <got> expected <want>
 *
 * for the test's scenario to check, then "adma_hostile: done <n> cases".
 * Removing the module resets the companion, so apple_dma can take it over.
 *
 * Test code only: it is never installed.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include <vfio-apple/apple-dma-abi.h>

#define HOSTILE_ENTRIES 64u	/* power of two, below every RING_MAX */

struct hostile {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *area;		/* ring area: ctl, SQ, CQ */
	u64 *tt;
	u64 target_gpa;		/* RAM outside the window, for the good maps */
	u64 ram_gpa, ram_size;
	u32 tt_entries;
	u32 sq_tail, cq_head;
	unsigned int cases;
};

static struct adma_ring_ctl *hostile_ctl(struct hostile *h)
{
	return h->area;
}

static void hostile_report(struct hostile *h, const char *name, u32 got,
			   u32 want)
{
	h->cases++;
	pr_info("adma_hostile: case %s status %u expected %u\n", name, got,
		want);
}

static u32 hostile_status_wait(struct hostile *h, u32 mask)
{
	u32 st = 0;
	int i;

	for (i = 0; i < 2000; i++) {
		st = readl(h->regs + ADMA_REG_STATUS);
		if (st & mask)
			break;
		usleep_range(500, 1000);
	}
	return st;
}

static void hostile_reset(struct hostile *h)
{
	int i;

	writel(ADMA_CTRL_RESET, h->regs + ADMA_REG_CONTROL);
	for (i = 0; i < 2000; i++) {
		if (!(readl(h->regs + ADMA_REG_STATUS) &
		      (ADMA_STATUS_BUSY | ADMA_STATUS_ENABLED)))
			break;
		usleep_range(500, 1000);
	}
	h->sq_tail = h->cq_head = 0;
}

/*
 * ENABLE with the ring area and table at the given guest-physical
 * addresses: the STATUS bit the host set, or SETUP_ERROR when it refused.
 */
static u32 hostile_enable(struct hostile *h, u64 ring_gpa, u64 tt_gpa)
{
	u32 st;

	memset(h->area, 0, ADMA_RING_AREA_SIZE(HOSTILE_ENTRIES));
	/* We poll: the host needs no interrupt. */
	WRITE_ONCE(hostile_ctl(h)->guest_flags, ADMA_GUEST_NO_IRQ);
	writeq(ADMA_F_TT | ADMA_F_EVENT_IDX, h->regs + ADMA_REG_GUEST_FEATURES);
	writel(HOSTILE_ENTRIES, h->regs + ADMA_REG_RING_ENTRIES);
	writeq(ring_gpa, h->regs + ADMA_REG_RING_GPA);
	writeq(tt_gpa, h->regs + ADMA_REG_TT_GPA);
	writel(h->tt_entries, h->regs + ADMA_REG_TT_ENTRIES);
	writel(ADMA_CTRL_ENABLE, h->regs + ADMA_REG_CONTROL);
	st = hostile_status_wait(h, ADMA_STATUS_ENABLED | ADMA_STATUS_FAILED);
	h->sq_tail = h->cq_head = 0;
	if (st & ADMA_STATUS_ENABLED)
		return ADMA_S_OK;
	if (st & ADMA_STATUS_FAILED)
		return readl(h->regs + ADMA_REG_SETUP_ERROR);
	return U32_MAX;		/* neither: the host never answered */
}

/* One entry, one doorbell, its completion polled (U32_MAX: none came). */
static u32 hostile_submit(struct hostile *h, struct adma_sqe e,
			  struct adma_cqe *out)
{
	struct adma_ring_ctl *ctl = hostile_ctl(h);
	struct adma_sqe *sq = h->area + ADMA_RING_SQ_OFFSET;
	struct adma_cqe *cq = h->area + ADMA_RING_CQ_OFFSET(HOSTILE_ENTRIES);
	struct adma_cqe c;
	int i;

	e.tag = 0x4800 + h->sq_tail;
	sq[h->sq_tail & (HOSTILE_ENTRIES - 1)] = e;
	/* The entry before the tail that publishes it. */
	smp_store_release(&ctl->sq_tail, ++h->sq_tail);
	writel(1, h->regs + ADMA_REG_DOORBELL);
	for (i = 0; i < 4000; i++) {
		if (smp_load_acquire(&ctl->cq_tail) != h->cq_head)
			break;
		usleep_range(250, 500);
	}
	if (i == 4000)
		return U32_MAX;
	c = cq[h->cq_head & (HOSTILE_ENTRIES - 1)];
	smp_store_release(&ctl->cq_head, ++h->cq_head);
	if (c.tag != e.tag)
		return U32_MAX - 1;	/* a completion for another entry */
	if (out)
		*out = c;
	return c.status;
}

static struct adma_sqe hostile_map(u64 gpa, u64 len)
{
	return (struct adma_sqe){ .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
				  .flags = ADMA_MAP_PIN, .addr = gpa,
				  .len = len };
}

static void hostile_setup_cases(struct hostile *h)
{
	u64 ring = virt_to_phys(h->area), tt = virt_to_phys(h->tt);
	u64 bar = pci_resource_start(h->pdev, ADMA_BAR);

	/* Rings and table must lie in guest RAM, 4 KiB aligned. */
	hostile_report(h, "ring-in-mmio", hostile_enable(h, bar, tt),
		       ADMA_S_RING);
	hostile_reset(h);
	hostile_report(h, "table-in-mmio", hostile_enable(h, ring, bar),
		       ADMA_S_RING);
	hostile_reset(h);
	hostile_report(h, "ring-beyond-ram",
		       hostile_enable(h, h->ram_gpa + h->ram_size - 4096, tt),
		       ADMA_S_RING);
	hostile_reset(h);
	hostile_report(h, "ring-unaligned", hostile_enable(h, ring + 8, tt),
		       ADMA_S_RING);
	hostile_reset(h);
}

static void hostile_entry_cases(struct hostile *h)
{
	u64 bar = pci_resource_start(h->pdev, ADMA_BAR);
	u64 end = h->ram_gpa + h->ram_size, good = h->target_gpa;
	const struct {
		const char *name;
		struct adma_sqe e;
		u32 want;
	} bad[] = {
		{ "map-below-ram", hostile_map(0x1000, 4096), ADMA_S_NOT_RAM },
		{ "map-a-bar", hostile_map(bar, 4096), ADMA_S_NOT_RAM },
		{ "map-beyond-ram", hostile_map(end, 4096), ADMA_S_NOT_RAM },
		{ "map-across-ram-end", hostile_map(end - 4096, 8192),
		  ADMA_S_NOT_RAM },
		{ "map-overflowing", hostile_map(U64_MAX - 4095, 8192),
		  ADMA_S_NOT_RAM },
		{ "map-huge-length", hostile_map(good, U64_MAX), ADMA_S_INVAL },
		{ "map-zero-length", hostile_map(good, 0), ADMA_S_INVAL },
		{ "map-bad-direction",
		  { .op = ADMA_OP_MAP, .dir = 7, .addr = good, .len = 4096 },
		  ADMA_S_INVAL },
		{ "map-unknown-flags",
		  { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI, .flags = 0x8000,
		    .addr = good, .len = 4096 }, ADMA_S_INVAL },
		{ "unknown-opcode", { .op = 0x77 }, ADMA_S_INVAL },
		{ "unmap-unknown-handle", { .op = ADMA_OP_UNMAP, .addr = 0x12345 },
		  ADMA_S_HANDLE },
		{ "unmap-handle-0", { .op = ADMA_OP_UNMAP, .addr = 0 },
		  ADMA_S_HANDLE },
		{ "unmap-stale-generation",
		  { .op = ADMA_OP_UNMAP, .addr = (77ull << 32) | 1 },
		  ADMA_S_HANDLE },
	};
	struct adma_cqe c = {};
	unsigned int i;
	u32 st;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		hostile_report(h, bad[i].name, hostile_submit(h, bad[i].e, NULL),
			       bad[i].want);
	/* After all that, a good entry still works. */
	st = hostile_submit(h, hostile_map(good, 4096), &c);
	hostile_report(h, "map-good-after-bad", st, ADMA_S_OK);
	if (st == ADMA_S_OK)
		pr_info("adma_hostile: good map %pa -> iova 0x%llx handle 0x%llx\n",
			&good, c.iova, c.handle);
}

/* A submission tail far beyond the ring: the host stops this guest. */
static void hostile_runaway_tail(struct hostile *h)
{
	struct adma_ring_ctl *ctl = hostile_ctl(h);
	u32 st;

	smp_store_release(&ctl->sq_tail, h->sq_tail + 5 * HOSTILE_ENTRIES);
	writel(1, h->regs + ADMA_REG_DOORBELL);
	st = hostile_status_wait(h, ADMA_STATUS_FAILED);
	hostile_report(h, "runaway-tail",
		       st & ADMA_STATUS_FAILED ?
		       readl(h->regs + ADMA_REG_SETUP_ERROR) : U32_MAX,
		       ADMA_S_RING);
	/* RESET and a fresh start work: nothing was lost for good. */
	hostile_reset(h);
	hostile_report(h, "enable-after-reset",
		       hostile_enable(h, virt_to_phys(h->area),
				      virt_to_phys(h->tt)), ADMA_S_OK);
	hostile_report(h, "map-after-reset",
		       hostile_submit(h, hostile_map(h->target_gpa,
						     4096), NULL), ADMA_S_OK);
}

/*
 * The page the good maps use: guest RAM outside the window, so that they
 * go through a chunk map of the host's (a window address needs no DART
 * mapping).  Nothing DMAs to it: the device is not told about the IOVA.
 */
static int hostile_pick_target(struct hostile *h)
{
	u64 wgpa = readq(h->regs + ADMA_REG_WINDOW_GPA);
	u64 wsize = readq(h->regs + ADMA_REG_WINDOW_SIZE);

	if (!wsize || wgpa - h->ram_gpa >= 2 * PAGE_SIZE)
		h->target_gpa = h->ram_gpa;
	else if (wgpa + wsize + 2 * PAGE_SIZE <= h->ram_gpa + h->ram_size)
		h->target_gpa = wgpa + wsize;
	else
		return -ENOSPC;	/* the window is all of RAM: nothing to test */
	return 0;
}

static int hostile_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hostile *h;
	u32 shift;
	int ret;

	h = devm_kzalloc(&pdev->dev, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->pdev = pdev;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	h->regs = pcim_iomap(pdev, ADMA_BAR, ADMA_BAR_SIZE);
	if (!h->regs)
		return -ENOMEM;
	if (readl(h->regs + ADMA_REG_MAGIC) != ADMA_MAGIC)
		return -ENODEV;
	h->ram_gpa = readq(h->regs + ADMA_REG_RAM_GPA);
	h->ram_size = readq(h->regs + ADMA_REG_RAM_SIZE);
	shift = readl(h->regs + ADMA_REG_CHUNK_SHIFT);
	if (shift < 12 || shift > 40 || !h->ram_size)
		return -ENODEV;
	h->tt_entries = DIV_ROUND_UP_ULL(h->ram_size, 1ull << shift);
	/* Whole pages: the ABI wants the area and the table 4 KiB aligned. */
	h->area = (void *)devm_get_free_pages(&pdev->dev,
			GFP_KERNEL | __GFP_ZERO,
			get_order(ADMA_RING_AREA_SIZE(HOSTILE_ENTRIES)));
	h->tt = (u64 *)devm_get_free_pages(&pdev->dev, GFP_KERNEL | __GFP_ZERO,
			get_order(h->tt_entries * sizeof(u64)));
	if (!h->area || !h->tt)
		return -ENOMEM;
	ret = hostile_pick_target(h);
	if (ret)
		return ret;
	pci_set_drvdata(pdev, h);

	hostile_reset(h);
	hostile_setup_cases(h);
	ret = hostile_enable(h, virt_to_phys(h->area), virt_to_phys(h->tt));
	hostile_report(h, "enable-in-ram", ret, ADMA_S_OK);
	if (ret == ADMA_S_OK) {
		hostile_entry_cases(h);
		hostile_runaway_tail(h);
	}
	pr_info("adma_hostile: done %u cases\n", h->cases);
	return 0;
}

static void hostile_remove(struct pci_dev *pdev)
{
	/* The host must stop touching our memory before devm frees it. */
	hostile_reset(pci_get_drvdata(pdev));
}

static const struct pci_device_id hostile_ids[] = {
	{ PCI_DEVICE(ADMA_PCI_VENDOR_ID, ADMA_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, hostile_ids);

static struct pci_driver hostile_driver = {
	.name = "adma_hostile",
	.id_table = hostile_ids,
	.probe = hostile_probe,
	.remove = hostile_remove,
};
module_pci_driver(hostile_driver);

MODULE_DESCRIPTION("vfio-apple test tool: malformed apple-dma-pci ring entries from a guest");
MODULE_LICENSE("GPL");
