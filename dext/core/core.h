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

#include <stdint.h>

#include "vfio-apple/dext-abi.h"
#include "platform.h"

struct vfa_core;

struct vfa_core_config {
    uint64_t dma_budget_bytes;  /* 0: VFA_DEFAULT_DMA_BUDGET_BYTES */
    uint32_t dma_max_mappings;  /* 0: VFA_DEFAULT_DMA_MAX_MAPPINGS */
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

/* An interrupt source fired (any thread). */
void vfa_core_irq(struct vfa_core *c, unsigned vector);

/* Snapshot of the counters (thread-safe w.r.t. vfa_core_irq). */
void vfa_core_get_stats(struct vfa_core *c, struct vfa_stats *out);

/* Who holds the session (0: nobody). */
uint64_t vfa_core_session_owner(const struct vfa_core *c);

#endif
