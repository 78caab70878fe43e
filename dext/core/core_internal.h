/*
 * Internals of the dext core, shared between its files (one job each):
 *   dispatch.c       method table, argument shapes, counters, routing
 *   session.c        open/close, exclusivity, cleanup on client death
 *   device.c         identity, BAR info, MMIO (and its MSI-X guard), ROM,
 *                    reset
 *   config_policy.c  the per-byte config write policy, built once from the
 *                    capability walk; where the MSI-X table lives
 *   config_access.c  config reads and writes through that policy; the
 *                    session's virtual Command, power state, BAR shadows
 *   quirks.c         the per-device exception table
 *   dma.c            DMA map/unmap and the budget
 *   dma_registry.c   handle -> mapping table
 *   irq.c            IRQ page, enable mask, latching, notification
 */
#ifndef VFIO_APPLE_DEXT_CORE_INTERNAL_H
#define VFIO_APPLE_DEXT_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "vfio-apple/pci-cfg.h"

#define VFA_CFG_MAX     VFA_PCI_CFG_EXT_SIZE

/* Counter bump for fields the interrupt path also touches. */
#define STAT_ADD_ATOMIC(c, field, n) \
    __atomic_fetch_add(&(c)->st.field, (n), __ATOMIC_RELAXED)

/* ---- DMA registry: O(1) handle lookup through a slot table. ---- */

struct vfa_dma_entry {
    uint64_t cookie;            /* platform's dma_prepare cookie */
    uint64_t va, len;
    uint64_t acct_bytes;        /* whole pages charged to the budget */
    uint32_t gen;               /* bumped on free: stale handles miss */
    uint32_t next_free;         /* free-list link (index + 1, 0 = end) */
    bool     used;
};

struct vfa_dma_registry {
    struct vfa_dma_entry *slots;
    uint32_t cap;               /* slots allocated */
    uint32_t limit;             /* never more than this many slots */
    uint32_t live;
    uint32_t free_head;         /* index + 1 of first free slot, 0 = none */
};

void dma_reg_init(struct vfa_dma_registry *r, uint32_t limit);
void dma_reg_fini(struct vfa_dma_registry *r);
/* Stores e, returns its handle in *handle; VFA_E_MFILE or VFA_E_NOMEM. */
uint32_t dma_reg_insert(struct vfa_dma_registry *r, const struct vfa_dma_entry *e,
                        uint64_t *handle);
struct vfa_dma_entry *dma_reg_lookup(struct vfa_dma_registry *r, uint64_t handle);
void dma_reg_remove(struct vfa_dma_registry *r, uint64_t handle);
/* Iteration: first used slot at index >= *pos, or NULL; advances *pos. */
struct vfa_dma_entry *dma_reg_next(struct vfa_dma_registry *r, uint32_t *pos);

/* ---- Config policy classes, one per config-space byte. ---- */

enum cfg_class {
    CFG_DROP = 0,               /* default: never reaches the device; a
                                   quirk may open it */
    CFG_HOST,                   /* host-owned (MSI, MSI-X): never reaches
                                   the device, no quirk can open it */
    CFG_FORWARD,                /* reaches the device as written */
    CFG_MASKED,                 /* only cfg_wmask bits are the guest's; the
                                   rest keep the device's value (bytes
                                   without write-1-to-clear bits only) */
    CFG_COMMAND,                /* guest Command bits; memory space virtual
                                   while a BAR is mapped */
    CFG_PMCSR,                  /* PM power state; virtual while a BAR is
                                   mapped */
    CFG_BAR,                    /* emulated BAR/ROM register */
    CFG_EMUL,                   /* emulated scratch byte (interrupt line) */
};

/* Command bits the guest owns: memory space, bus master, INTx disable. */
#define CFG_CMD_GUEST_BITS  (VFA_PCI_COMMAND_MEMORY | VFA_PCI_COMMAND_MASTER | \
                             VFA_PCI_COMMAND_INTX_DIS)

/* A range of a BAR that MMIO_READ/WRITE must not pass to the device. */
struct mmio_guard {
    bool     valid;
    uint8_t  bar;
    uint64_t start, end;        /* [start, end) inside the BAR */
};

struct vfa_core {
    const struct vfa_platform_ops *ops;
    void *ctx;
    struct vfa_platform_info info;
    struct vfa_core_config cfg;

    uint8_t cfg_class[VFA_CFG_MAX];
    uint8_t cfg_wmask[VFA_CFG_MAX];         /* CFG_MASKED: guest bits */
    uint64_t cap_start[VFA_CFG_MAX / 4 / 64]; /* dwords where a cap begins */
    uint16_t msi_cap, msix_cap, pcie_cap, pm_cap;   /* 0: absent */
    uint16_t pm_pmc;                        /* PM capabilities register */
    uint32_t quirk_flags;                   /* enum vfa_quirk_flags */
    /* MSI-X table (reads answer 0, writes dropped) and PBA (writes
     * dropped), as far as the capability locates them. */
    struct mmio_guard msix_table, msix_pba;

    int gone;                   /* device vanished (atomic) */

    /* Session state (owner 0: none). */
    uint64_t owner;
    uint32_t bar_shadow[VFA_NUM_BARS];
    uint32_t rom_shadow;
    bool     notify_registered;
    /* Memory decoding (docs/config-policy.md): what the guest sees and
     * what the device does, which differ while a BAR is mapped. */
    uint8_t  bars_mapped;       /* bit n: VFA_MEM_BAR(n) handed out */
    bool     mse_virt, mse_dev; /* Command memory-space enable */
    uint8_t  pm_virt, pm_dev;   /* PMCSR power state (D0..D3hot) */
    uint8_t  intr_line;         /* emulated interrupt line */
    /* vfa_core_power_save(): the device's bytes the guest can change. */
    bool     pm_saved;
    uint8_t  saved_cfg[VFA_CFG_MAX];

    /* IRQ state; irq_page is read by vfa_core_irq on other threads. */
    struct vfa_irq_page *irq_page;
    uint32_t irq_type, irq_count;

    struct vfa_dma_registry dma;
    uint64_t dma_bytes;         /* charged bytes (also in st, as a gauge) */

    struct vfa_stats st;
};

/* session.c */
uint32_t session_open(struct vfa_core *c, uint64_t client, const uint64_t *in, uint64_t *out);
uint32_t session_close(struct vfa_core *c, uint64_t client);
void session_cleanup(struct vfa_core *c);

/* config_policy.c */
void cfg_policy_build(struct vfa_core *c);
/* Raw config read for walks: all-ones when out of range or failed. */
uint32_t cfg_raw_rd(void *core, uint32_t off, unsigned width);

/* config_access.c */
void cfg_session_open(struct vfa_core *c);
void cfg_session_reset(struct vfa_core *c);
/* After a device reset inside a session: the guest's view follows the
 * device again, and memory decoding is restored if a BAR is mapped. */
void cfg_after_reset(struct vfa_core *c);
/* Before a BAR is handed out: the device must decode memory. */
uint32_t cfg_prepare_map(struct vfa_core *c);
/* May a CPU access reach the device's BARs now? */
bool cfg_mem_decoding(const struct vfa_core *c);
uint32_t cfg_read(struct vfa_core *c, uint32_t off, unsigned width, uint32_t *val);
uint32_t cfg_read_block(struct vfa_core *c, uint32_t off, uint32_t len, uint8_t *buf);
uint32_t cfg_write(struct vfa_core *c, uint32_t off, unsigned width, uint32_t val,
                   uint32_t *forwarded);
/* Sleep/wake: save and write back what the guest set in the device. */
void cfg_power_save(struct vfa_core *c);
uint32_t cfg_power_restore(struct vfa_core *c);

/* quirks.c: fn(c, q, arg) for every quirk that applies to the device,
 * built-in ones first, then the creator's; returns how many. */
unsigned quirks_for_each(struct vfa_core *c,
                         void (*fn)(struct vfa_core *c, const struct vfa_quirk *q, void *arg),
                         void *arg);

/* device.c */
void dev_identity(struct vfa_core *c, struct vfa_identity *id);
uint32_t dev_bar_info(struct vfa_core *c, uint64_t bar, uint64_t *out);
uint32_t dev_mmio_read(struct vfa_core *c, uint64_t bar, uint64_t off, uint64_t width,
                       uint64_t *val);
uint32_t dev_mmio_write(struct vfa_core *c, uint64_t bar, uint64_t off, uint64_t width,
                        uint64_t val);
uint32_t dev_rom_read(struct vfa_core *c, uint64_t off, uint64_t len, void *buf);
uint32_t dev_reset(struct vfa_core *c, uint64_t allowed, uint64_t *used);
/* Reset for cleanup: FLR, else hot reset; counts like RESET. */
uint32_t dev_reset_any(struct vfa_core *c, uint32_t allowed, uint32_t *used);

/* dma.c */
uint32_t dma_map(struct vfa_core *c, uint64_t client, uint64_t va, uint64_t len,
                 uint64_t flags, struct vfa_dma_map_out *out);
uint32_t dma_unmap(struct vfa_core *c, uint64_t handle);
unsigned dma_unmap_all(struct vfa_core *c);

/* irq.c */
uint32_t irq_session_init(struct vfa_core *c);
void irq_session_fini(struct vfa_core *c);
uint32_t irq_setup(struct vfa_core *c, uint64_t type, uint64_t count, uint64_t *out);
uint32_t irq_enable(struct vfa_core *c, uint64_t first, uint64_t count, uint64_t enable);
void irq_teardown(struct vfa_core *c);
/* After a device reset: program the device's vectors again. */
void irq_rearm(struct vfa_core *c);
void irq_post_event(struct vfa_core *c, uint64_t events);

static inline bool core_gone(const struct vfa_core *c)
{
    return __atomic_load_n(&c->gone, __ATOMIC_ACQUIRE) != 0;
}

#endif
