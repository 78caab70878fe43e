/*
 * The dext core: the portable logic of the dext, shared by the macOS
 * DriverKit shell and vfio-apple-sim.  One struct vfa_core per device.
 *
 * A transport turns each client request into vfa_core_dispatch() with a
 * client id (any nonzero value unique per connection / IOUserClient), and
 * calls vfa_core_client_gone() when a client disconnects or dies, so the
 * core can release everything that client held.
 *
 * Threading: dispatch, map_memory, client_gone and device_gone must be
 * called by one thread at a time (the transport serialises them);
 * vfa_core_irq() may run concurrently on any thread.  The core itself makes
 * no OS calls and allocates only with malloc.
 */
#ifndef VFIO_APPLE_DEXT_CORE_H
#define VFIO_APPLE_DEXT_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "vfio-apple/dext-abi.h"
#include "platform.h"

struct vfa_core;

/*
 * Per-device exceptions to the config policy (docs/config-policy.md,
 * "Quirks").  The core has a built-in table (dext/core/quirks.c); whoever
 * creates a core may add more (vfa_core_config.quirks).  Every quirk whose
 * match fields fit the device applies: flags are or-ed, allow ranges add
 * up.  This is not wire ABI: fields are added at the end as the macOS
 * shell needs them (functions that must not be bound, ...).
 */
enum vfa_quirk_flags {
    VFA_QUIRK_NO_FLR = 1u << 0,     /* FLR hangs the device: never offered
                                       or used; reset falls back to hot */
    VFA_QUIRK_NO_BIND = 1u << 1,    /* the function must not be driven at
                                       all (e.g. a GPU's HDMI/DP audio
                                       function): vfa_core_create refuses
                                       it with VFA_E_NOTSUP before any op
                                       but get_info and config reads */
};

#define VFA_QUIRK_ANY_DEVICE    0xffffu /* no real function has this ID */
#define VFA_QUIRK_ANY_VSEC      (-1)

/*
 * A range of one capability's registers the guest may write.  Only bytes
 * the policy drops by default can be opened: never the header, emulated
 * registers or the host-owned MSI/MSI-X capabilities.  The range is
 * clipped to the capability (its length field where it has one, else the
 * next capability or the end of its space).
 */
struct vfa_quirk_allow {
    uint16_t cap_id;
    uint8_t  ext;               /* 0: standard capability, 1: extended */
    uint8_t  bits;              /* guest bits of each byte; 0xff: whole
                                   bytes as written.  Other values are
                                   read-modify-written, so use them only on
                                   bytes without write-1-to-clear bits */
    uint16_t off, len;          /* from the capability's header */
    int32_t  vsec_id;           /* extended VSEC/DVSEC only: its ID, or
                                   VFA_QUIRK_ANY_VSEC */
};

struct vfa_quirk {
    const char *name;           /* for logs; NULL ends the built-in table */
    uint16_t vendor_id;
    uint16_t device_id;         /* or VFA_QUIRK_ANY_DEVICE */
    uint32_t class_code;        /* applies when (class & mask) == code */
    uint32_t class_mask;        /* 0: any class */
    uint32_t flags;             /* enum vfa_quirk_flags */
    const struct vfa_quirk_allow *allow;
    uint32_t nallow;
};

/* Bounds on what a creator may pass (more is ignored). */
#define VFA_MAX_QUIRKS          32u
#define VFA_MAX_QUIRK_ALLOW     64u

struct vfa_core_config {
    uint64_t dma_budget_bytes;  /* 0: VFA_DEFAULT_DMA_BUDGET_BYTES */
    uint32_t dma_max_mappings;  /* 0: VFA_DEFAULT_DMA_MAX_MAPPINGS */
    /* Quirks on top of the built-in ones, read only while the core is
     * created (they need not outlive vfa_core_create). */
    const struct vfa_quirk *quirks;
    uint32_t nquirks;
};

/*
 * One method call, shaped like IOUserClientMethodArguments.  Capacities
 * go in, filled counts come out.
 */
struct vfa_call {
    uint32_t selector;
    uint32_t nscalars_in;
    const uint64_t *scalars_in;
    const void *struct_in;
    uint32_t struct_in_len;
    uint32_t nscalars_out;      /* in: capacity; out: filled */
    uint64_t *scalars_out;
    void *struct_out;
    uint32_t struct_out_len;    /* in: capacity; out: filled */
};

/* NULL with *err set (enum vfa_err) on failure. */
struct vfa_core *vfa_core_create(const struct vfa_platform_ops *ops, void *ctx,
                                 const struct vfa_core_config *cfg, uint32_t *err);
/* Cleans up any session first. */
void vfa_core_destroy(struct vfa_core *c);

/* Runs one method; returns 0 or enum vfa_err.  Never trusts `call`. */
uint32_t vfa_core_dispatch(struct vfa_core *c, uint64_t client, struct vfa_call *call);

/* IOConnectMapMemory64 path: validates and asks the platform. */
uint32_t vfa_core_map_memory(struct vfa_core *c, uint64_t client, uint32_t type,
                             void **handle, uint64_t *size);

/* The transport lost `client` (closed or died): release its session. */
void vfa_core_client_gone(struct vfa_core *c, uint64_t client);

/* The device vanished: fail device methods, tell the client. */
void vfa_core_device_gone(struct vfa_core *c);

/*
 * Is the device still there?  Reads the vendor ID; all-ones (or a failed
 * read) means it is not, and the core is marked gone as by
 * vfa_core_device_gone.  For a shell that cannot tell a surprise removal
 * from a client closing (DriverKit stops the user client first either
 * way): called before vfa_core_client_gone, it keeps the cleanup from
 * writing to a device that is no longer there.  Returns true if gone.
 */
bool vfa_core_probe_gone(struct vfa_core *c);

/*
 * The platform is going away (the macOS shell's Stop: the dext is being
 * unloaded or the device terminated) while the device may still answer:
 * the client is told (VFA_EVENT_DEVICE_GONE in its IRQ page), its
 * session is released in the usual safe order (bus mastering off before
 * any mapping goes, then reset) as far as the device still answers, and
 * the core is marked gone.  Call vfa_core_probe_gone first so a device
 * already removed is not written to.
 */
void vfa_core_shutdown(struct vfa_core *c);

/*
 * Power edges (the macOS shell's SetPowerState).  Waking from sleep can
 * leave the function's config space at its reset values (reported on
 * Apple Silicon), while the session's guest still believes its own
 * settings.  vfa_core_power_save() records what the guest may have set in
 * the device (forwarded and masked config bytes, Command); after the wake
 * vfa_core_power_restore() writes it back, restores memory decoding for
 * mapped BARs and re-programs the interrupt vectors.  BAR registers are
 * the host's (the platform restores them).  Both are no-ops without a
 * session, and restore without a save does nothing.
 */
void vfa_core_power_save(struct vfa_core *c);
void vfa_core_power_restore(struct vfa_core *c);

/* An interrupt source fired (any thread). */
void vfa_core_irq(struct vfa_core *c, unsigned vector);

/* Snapshot of the counters (thread-safe w.r.t. vfa_core_irq). */
void vfa_core_get_stats(struct vfa_core *c, struct vfa_stats *out);

/* Who holds the session (0: nobody). */
uint64_t vfa_core_session_owner(const struct vfa_core *c);

#endif
