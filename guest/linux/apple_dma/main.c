// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: binds to the apple-dma-pci companion, finds the passthrough
 * functions it serves, and becomes their dma_map_ops provider.
 *
 * When: at BUS_NOTIFY_BIND_DRIVER of a served function (the bus has set
 * up its DMA by then, and the driver has not probed yet), so every bind,
 * including each one after an unbind, gets our ops.  A served function
 * whose driver bound before the companion was ready mapped its memory
 * with the wrong ops: it is re-bound.  At unbind the host is asked to
 * drop every chunk nobody pins (FLUSH), so an idle device holds nothing
 * but the window.
 *
 * The hook: set_dma_ops() exists where CONFIG_DMA_OPS (up to 6.11) or
 * CONFIG_ARCH_HAS_DMA_OPS (6.12 on; arm64 has it with CONFIG_XEN, which
 * Debian and Ubuntu enable).  Without it the module refuses to load and
 * says to use window mode.
 */
#include <linux/delay.h>
#include <linux/dma-map-ops.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "apple_dma.h"

#if defined(CONFIG_DMA_OPS) || defined(CONFIG_ARCH_HAS_DMA_OPS)
#define ADMA_HAVE_HOOK 1
#else
#define ADMA_HAVE_HOOK 0
#endif

unsigned int adma_ring_entries = 256;
module_param_named(ring_entries, adma_ring_entries, uint, 0444);
MODULE_PARM_DESC(ring_entries, "ring size in entries (power of two, capped by the host)");
unsigned int adma_unmap_batch = 16;
module_param_named(unmap_batch, adma_unmap_batch, uint, 0644);
MODULE_PARM_DESC(unmap_batch, "span unmaps queued before a doorbell is rung for them");
unsigned int adma_timeout_us = 2000000;
module_param_named(timeout_us, adma_timeout_us, uint, 0644);
MODULE_PARM_DESC(timeout_us, "longest wait for the host, in microseconds (then DMA_MAPPING_ERROR)");
bool adma_use_table = true;
module_param_named(use_table, adma_use_table, bool, 0444);
MODULE_PARM_DESC(use_table, "use the translation table (chunk cache, lazy unmaps) if the host offers it");

/* Companions, for the ops (few: one per passthrough function at most). */
static DEFINE_SPINLOCK(adma_list_lock);
static struct adma *adma_list[ADMA_MAX_DEVICES];
static struct dentry *adma_debugfs_root;

u64 adma_counter_read(struct adma *ad, enum adma_counter c)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(ad->pcpu, cpu)->c[c];
	return sum;
}

bool adma_serves(struct adma *ad, struct device *dev)
{
	unsigned int i;

	if (!dev_is_pci(dev))
		return false;
	for (i = 0; i < ad->nmanaged; i++)
		if (&ad->managed[i]->dev == dev)
			return true;
	return false;
}

/*
 * On every map and unmap, so without a lock: a companion is listed once
 * it is ready and unlisted only after the functions it serves lost their
 * drivers (adma_remove), so no DMA call can still be looking at it.
 */
struct adma *adma_from_dev(struct device *dev)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(adma_list); i++) {
		struct adma *ad = READ_ONCE(adma_list[i]);

		if (ad && adma_serves(ad, dev))
			return ad;
	}
	return NULL;
}

static int adma_list_add(struct adma *ad)
{
	unsigned int i;
	int ret = -ENOSPC;

	spin_lock_irq(&adma_list_lock);
	for (i = 0; i < ARRAY_SIZE(adma_list); i++) {
		if (!adma_list[i]) {
			WRITE_ONCE(adma_list[i], ad);
			ret = 0;
			break;
		}
	}
	spin_unlock_irq(&adma_list_lock);
	return ret;
}

static void adma_list_del(struct adma *ad)
{
	unsigned int i;

	spin_lock_irq(&adma_list_lock);
	for (i = 0; i < ARRAY_SIZE(adma_list); i++)
		if (adma_list[i] == ad)
			WRITE_ONCE(adma_list[i], NULL);
	spin_unlock_irq(&adma_list_lock);
}

/* ---- debugfs ---- */

static const char *const adma_counter_names[ADMA_C_COUNT] = {
	[ADMA_C_MAPS] = "maps",
	[ADMA_C_UNMAPS] = "unmaps",
	[ADMA_C_WINDOW_HITS] = "window_hits",
	[ADMA_C_TT_HITS] = "table_hits",
	[ADMA_C_MISSES] = "misses",
	[ADMA_C_SPANS] = "spans",
	[ADMA_C_BATCHES] = "batches",
	[ADMA_C_ENTRIES] = "entries",
	[ADMA_C_DOORBELLS] = "doorbells",
	[ADMA_C_LAZY_UNMAPS] = "lazy_unmaps",
	[ADMA_C_ERRORS] = "errors",
	[ADMA_C_HOST_ERRORS] = "host_errors",
	[ADMA_C_NO_SPACE] = "no_space",
	[ADMA_C_TIMEOUTS] = "timeouts",
	[ADMA_C_RING_FULL] = "ring_full",
	[ADMA_C_IRQS] = "irqs",
	[ADMA_C_REBINDS] = "rebinds",
};

static int adma_stats_show(struct seq_file *m, void *v)
{
	struct adma *ad = m->private;
	int i;

	for (i = 0; i < ADMA_C_COUNT; i++)
		seq_printf(m, "%s %llu\n", adma_counter_names[i],
			   adma_counter_read(ad, i));
	/* The host's view of the budget, read live. */
	seq_printf(m, "host_used_bytes %llu\n", readq(ad->regs + ADMA_REG_USED_BYTES));
	seq_printf(m, "host_used_mappings %u\n", readl(ad->regs + ADMA_REG_USED_MAPS));
	seq_printf(m, "host_budget_bytes %llu\n", readq(ad->regs + ADMA_REG_BUDGET_BYTES));
	seq_printf(m, "host_budget_mappings %u\n", readl(ad->regs + ADMA_REG_BUDGET_MAPS));
	seq_printf(m, "window_gpa %#llx\nwindow_size %#llx\nwindow_iova %#llx\n",
		   (u64)ad->win_gpa, ad->win_size, (u64)ad->win_iova);
	seq_printf(m, "chunk_size %llu\nchunks %llu\nsync_baseline %d\n",
		   ad->nchunks ? 1ull << ad->chunk_shift : 0, ad->nchunks, ad->sync);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(adma_stats);

/* ---- served functions ---- */

/*
 * Ask the host to unmap every chunk nobody pins.  Process context only
 * (it may wait for the host); errors are counted, not fatal.
 */
static void adma_flush(struct adma *ad)
{
	struct adma_sqe e = { .op = ADMA_OP_FLUSH };
	struct adma_slot res;

	if (ad->ready)
		adma_submit_wait(ad, &e, 1, &res);
}

static void adma_rebind_work(struct work_struct *work)
{
	struct adma *ad = container_of(work, struct adma, rebind_work);
	unsigned int i;

	for (i = 0; i < ad->nmanaged; i++) {
		struct device *dev = &ad->managed[i]->dev;

		if (dev->driver && get_dma_ops(dev) == &adma_dma_ops) {
			continue;	/* bound after we were ready: ours */
		} else if (dev->driver) {
			/*
			 * Its mappings were made with other ops (QEMU held its
			 * bus mastering meanwhile, so none reached the device):
			 * start over with ours.
			 */
			dev_info(dev, "apple_dma: re-binding %s to use the companion\n",
				 dev->driver->name);
			adma_count(ad, ADMA_C_REBINDS, 1);
			if (device_reprobe(dev))
				dev_warn(dev, "apple_dma: re-binding failed\n");
		} else if (device_attach(dev) < 0) {
			dev_warn(dev, "apple_dma: binding a driver failed\n");
		}
	}
}

static int adma_bus_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct device *dev = data;
	struct adma *ad = adma_from_dev(dev);

	if (!ad)
		return NOTIFY_DONE;
	switch (action) {
	case BUS_NOTIFY_BIND_DRIVER:
		if (ad->ready) {
			set_dma_ops(dev, &adma_dma_ops);
			dev_info(dev, "apple_dma: DMA through the companion %s\n",
				 pci_name(ad->pdev));
		}
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
		adma_flush(ad);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block adma_nb = {
	.notifier_call = adma_bus_notify,
};

static int adma_find_managed(struct adma *ad)
{
	u32 n = readl(ad->regs + ADMA_REG_NUM_DEVICES), i;

	for (i = 0; i < min_t(u32, n, ADMA_MAX_DEVICES); i++) {
		u32 w = readl(ad->regs + ADMA_REG_DEVICE0 + 4 * i);
		struct pci_dev *p;

		if (!(w & ADMA_DEVICE_VALID))
			continue;
		p = pci_get_domain_bus_and_slot(pci_domain_nr(ad->pdev->bus),
						ADMA_DEVICE_BUS(w), ADMA_DEVICE_DEVFN(w));
		if (!p) {
			pci_warn(ad->pdev, "served function %02x:%02x.%d not found\n",
				 ADMA_DEVICE_BUS(w), PCI_SLOT(ADMA_DEVICE_DEVFN(w)),
				 PCI_FUNC(ADMA_DEVICE_DEVFN(w)));
			continue;
		}
		ad->managed[ad->nmanaged++] = p;
		pci_info(ad->pdev, "serving %s\n", pci_name(p));
	}
	return ad->nmanaged ? 0 : -ENODEV;
}

static int adma_read_layout(struct adma *ad)
{
	struct pci_dev *pdev = ad->pdev;
	u32 version = readl(ad->regs + ADMA_REG_VERSION);

	if (readl(ad->regs + ADMA_REG_MAGIC) != ADMA_MAGIC) {
		pci_err(pdev, "not an apple-dma-pci companion (bad magic)\n");
		return -ENODEV;
	}
	if (version >> 16 != ADMA_ABI_MAJOR) {
		pci_err(pdev, "companion ABI %u.%u, this module speaks %u.x\n",
			version >> 16, version & 0xffff, ADMA_ABI_MAJOR);
		return -ENODEV;
	}
	ad->features = readq(ad->regs + ADMA_REG_FEATURES);
	ad->sync = readl(ad->regs + ADMA_REG_STATUS) & ADMA_STATUS_SYNC;
	ad->win_gpa = readq(ad->regs + ADMA_REG_WINDOW_GPA);
	ad->win_size = readq(ad->regs + ADMA_REG_WINDOW_SIZE);
	ad->win_iova = readq(ad->regs + ADMA_REG_WINDOW_IOVA);
	ad->ram_gpa = readq(ad->regs + ADMA_REG_RAM_GPA);
	ad->ram_size = readq(ad->regs + ADMA_REG_RAM_SIZE);
	ad->chunk_shift = readl(ad->regs + ADMA_REG_CHUNK_SHIFT);
	ad->max_map = readl(ad->regs + ADMA_REG_MAX_MAP);
	if (!ad->ram_size || !ad->max_map || ad->chunk_shift > 40) {
		pci_err(pdev, "companion has no usable layout\n");
		return -ENODEV;
	}
	if ((ad->features & ADMA_F_TT) && adma_use_table && ad->chunk_shift >= ADMA_PAGE_SHIFT) {
		ad->nchunks = DIV_ROUND_UP_ULL(ad->ram_size, 1ull << ad->chunk_shift);
		ad->tt_bytes = PAGE_ALIGN(ad->nchunks * sizeof(adma_tt_word));
		ad->tt = alloc_pages_exact(ad->tt_bytes, GFP_KERNEL | __GFP_ZERO);
		if (!ad->tt)
			return -ENOMEM;
	}
	pci_info(pdev, "window %#llx+%#llx at IOVA %#llx, RAM %#llx+%#llx, budget %llu MiB / %u mappings\n",
		 (u64)ad->win_gpa, ad->win_size, (u64)ad->win_iova,
		 (u64)ad->ram_gpa, ad->ram_size,
		 readq(ad->regs + ADMA_REG_BUDGET_BYTES) >> 20,
		 readl(ad->regs + ADMA_REG_BUDGET_MAPS));
	return 0;
}

static void adma_release_managed(struct adma *ad)
{
	unsigned int i;

	for (i = 0; i < ad->nmanaged; i++)
		pci_dev_put(ad->managed[i]);
	ad->nmanaged = 0;
}

static int adma_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct adma *ad;
	int ret;

	ad = devm_kzalloc(&pdev->dev, sizeof(*ad), GFP_KERNEL);
	if (!ad)
		return -ENOMEM;
	ad->pdev = pdev;
	spin_lock_init(&ad->sq_lock);
	spin_lock_init(&ad->cq_lock);
	INIT_WORK(&ad->rebind_work, adma_rebind_work);
	ad->pcpu = devm_alloc_percpu(&pdev->dev, struct adma_pcpu);
	if (!ad->pcpu)
		return -ENOMEM;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ad->regs = pcim_iomap(pdev, ADMA_BAR, ADMA_BAR_SIZE);
	if (!ad->regs)
		return -ENOMEM;
	ret = adma_read_layout(ad);
	if (ret)
		goto fail;
	ret = adma_find_managed(ad);
	if (ret) {
		pci_err(pdev, "the companion serves no function this guest has\n");
		goto fail;
	}
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0)
		goto fail;
	ret = request_irq(pci_irq_vector(pdev, ADMA_MSIX_VECTOR), adma_irq, 0,
			  "apple_dma", ad);
	if (ret)
		goto fail_vectors;
	ret = adma_ops_init(ad);
	if (ret)
		goto fail_irq;
	ret = adma_ring_setup(ad);
	if (ret)
		goto fail_ops;
	ret = adma_list_add(ad);
	if (ret)
		goto fail_ring;
	pci_set_drvdata(pdev, ad);
	ad->debugfs = debugfs_create_dir(pci_name(pdev), adma_debugfs_root);
	debugfs_create_file("stats", 0444, ad->debugfs, ad, &adma_stats_fops);
	ad->ready = true;
	schedule_work(&ad->rebind_work);
	return 0;

fail_ring:
	adma_ring_teardown(ad);
fail_ops:
	adma_ops_fini(ad);
fail_irq:
	free_irq(pci_irq_vector(pdev, ADMA_MSIX_VECTOR), ad);
fail_vectors:
	pci_free_irq_vectors(pdev);
fail:
	if (ad->tt) {
		free_pages_exact(ad->tt, ad->tt_bytes);
		ad->tt = NULL;
	}
	adma_release_managed(ad);
	return ret;
}

/*
 * The served functions lose their driver first (which unmaps everything
 * it mapped), then their ops; then the host forgets our rings.
 */
static void adma_remove(struct pci_dev *pdev)
{
	struct adma *ad = pci_get_drvdata(pdev);
	unsigned int i;

	cancel_work_sync(&ad->rebind_work);
	for (i = 0; i < ad->nmanaged; i++) {
		struct device *dev = &ad->managed[i]->dev;

		device_release_driver(dev);
		set_dma_ops(dev, NULL);
	}
	ad->ready = false;
	adma_list_del(ad);
	debugfs_remove_recursive(ad->debugfs);
	adma_ring_teardown(ad);
	adma_ops_fini(ad);
	free_irq(pci_irq_vector(pdev, ADMA_MSIX_VECTOR), ad);
	pci_free_irq_vectors(pdev);
	adma_release_managed(ad);
}

static const struct pci_device_id adma_ids[] = {
	{ PCI_DEVICE(ADMA_PCI_VENDOR_ID, ADMA_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, adma_ids);

static struct pci_driver adma_driver = {
	.name = "apple_dma",
	.id_table = adma_ids,
	.probe = adma_probe,
	.remove = adma_remove,
};

static int __init adma_init(void)
{
	int ret;

	if (!ADMA_HAVE_HOOK) {
		pr_err("apple_dma: this kernel cannot give a device its own DMA ops: it has neither CONFIG_DMA_OPS nor CONFIG_ARCH_HAS_DMA_OPS (on arm64 6.12+ that needs CONFIG_XEN). Use vfio-apple-pci dma-mode=window instead, with guest RAM within the DMA budget.\n");
		return -EOPNOTSUPP;
	}
	adma_debugfs_root = debugfs_create_dir("apple_dma", NULL);
	ret = bus_register_notifier(&pci_bus_type, &adma_nb);
	if (ret)
		goto fail;
	ret = pci_register_driver(&adma_driver);
	if (ret) {
		bus_unregister_notifier(&pci_bus_type, &adma_nb);
		goto fail;
	}
	return 0;
fail:
	debugfs_remove_recursive(adma_debugfs_root);
	return ret;
}

static void __exit adma_exit(void)
{
	pci_unregister_driver(&adma_driver);
	bus_unregister_notifier(&pci_bus_type, &adma_nb);
	debugfs_remove_recursive(adma_debugfs_root);
}

module_init(adma_init);
module_exit(adma_exit);
MODULE_DESCRIPTION("DMA through the vfio-apple apple-dma-pci companion");
MODULE_LICENSE("GPL");
