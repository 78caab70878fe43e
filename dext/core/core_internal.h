/*
 * Internals of the dext core, shared between its files (one job each):
 *   dispatch.c       method table, argument shapes, counters, routing
 *   session.c        open/close, exclusivity, cleanup on client death
 *   device.c         identity, BAR info, MMIO, ROM, reset
 *   config_policy.c  what guest config accesses may reach the device
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

#define VFA_CFG_MAX     4096u

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
    CFG_FORWARD = 0,            /* reaches the device as written */
    CFG_COMMAND,                /* only guest-owned Command bits forwarded */
    CFG_BAR,                    /* emulated BAR/ROM register, never forwarded */
    CFG_DROP,                   /* never reaches the device */
};

struct vfa_core {
    const struct vfa_platform_ops *ops;
    void *ctx;
    struct vfa_platform_info info;
    struct vfa_core_config cfg;

    uint8_t cfg_class[VFA_CFG_MAX];
    uint16_t msi_cap, msix_cap, pcie_cap;   /* 0: absent */

    int gone;                   /* device vanished (atomic) */

    /* Session state (owner 0: none). */
    uint64_t owner;
    uint32_t bar_shadow[VFA_NUM_BARS];
    uint32_t rom_shadow;
    bool     notify_registered;

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
void cfg_session_reset(struct vfa_core *c);
uint32_t cfg_read(struct vfa_core *c, uint32_t off, unsigned width, uint32_t *val);
uint32_t cfg_read_block(struct vfa_core *c, uint32_t off, uint32_t len, uint8_t *buf);
uint32_t cfg_write(struct vfa_core *c, uint32_t off, unsigned width, uint32_t val,
                   uint32_t *forwarded);

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
