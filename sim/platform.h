/*
 * The simulator's platform: the dext core's platform ops implemented over
 * the DART model and a device model, plus what the socket transport needs
 * (client memory registrations, memory-type fds, the notification eventfd).
 */
#ifndef VFIO_APPLE_SIM_PLATFORM_H
#define VFIO_APPLE_SIM_PLATFORM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vfio-apple/sim-wire.h"
#include "../dext/core/core.h"
#include "dart.h"
#include "device.h"

/* Client memory shared for DMA (VFA_SIM_MSG_REGISTER_MEM). */
struct sim_region {
    struct sim_region *next;
    uint64_t client;
    uint64_t id;
    uint64_t va, len;           /* in the client's address space */
    uint8_t *host;              /* our mapping, 16 KiB aligned */
    unsigned refs;              /* live DMA mappings inside */
};

/* What map_memory hands the transport. */
struct sim_mem_handle {
    int fd;
    uint64_t size;
    uint32_t flags;
};

struct sim_platform {
    struct vfa_core *core;
    struct dart *dart;
    struct sim_device *dev;
    struct sim_device_host host;
    char model[32];

    struct sim_region *regions;
    uint64_t next_region_id;

    /* Session resources. */
    int notify_fd;              /* eventfd, -1 outside a session */
    int irq_page_fd;
    void *irq_page;
    struct sim_mem_handle mem[VFA_NUM_BARS + 1];    /* BARs, then IRQ page */

    /* Interrupt sources: the device thread forwards vectors under rdlock. */
    pthread_rwlock_t irq_lock;
    bool irq_active;
    uint32_t irq_type, irq_count;
    uint16_t msix_cap, msi_cap;

    uint64_t unknown_irqs;      /* vectors the device raised with no source */

    /* Options (struct sim_options). */
    uint64_t max_registered;
    bool dart_fault_fatal;

    /* BAR revocation: the model's BARs move to fresh memory at session end. */
    bool bars_stale;            /* that failed: OPEN refused until it works */
    uint64_t bar_renewals;
    uint64_t registrations_refused;

    /* The socket server's counters, for the stats JSON (server thread only). */
    struct sim_server_stats {
        uint64_t accepted, refused_uid, refused_per_peer, evicted;
        uint64_t protocol_errors;
        /* Well-formed requests by message type (vfa_sim_msg_type). */
        uint64_t requests[VFA_SIM_MSG_STATS_JSON + 1];
        int owner_pid;          /* the session owner's pid, at the last STATS_JSON */
    } srv;
};

/*
 * Registered memory a session may hold at once, by default.  Registering
 * costs only our address space (the DART budget bounds what the device can
 * touch), but a client could otherwise reserve all of it (128 TiB with
 * 256 regions).  QEMU registers its DMA window, which is at most the DART
 * budget (1.5 GiB by default): 64 GiB leaves room for budgets and windows
 * forty times that, and is 1/2048 of a 47-bit address space.
 */
#define SIM_DEFAULT_MAX_REGISTERED  (64ull << 30)

/* Exit status of a run stopped by a DART fault under --dart-fault-fatal. */
#define SIM_EXIT_DART_FAULT         3

struct sim_options {
    uint64_t max_registered;    /* 0: SIM_DEFAULT_MAX_REGISTERED */
    bool dart_fault_fatal;      /* a DART fault ends the process (status 3) */
};

/* Creates the DART and the device model "name,options", then the core. */
int sim_platform_create(struct sim_platform *p, const char *device_spec,
                        const struct dart_config *dc, const struct vfa_core_config *cc,
                        const struct sim_options *opts, char *err, size_t errlen);
void sim_platform_destroy(struct sim_platform *p);

/*
 * Transport-level operations, keyed by the connection's client id.
 * Registering needs the session; registrations end with it.  On refusal
 * `why` says why, for the transport to log (rate-limited: a client can
 * repeat it at will).
 */
uint32_t sim_platform_register(struct sim_platform *p, uint64_t client, int fd, uint64_t va,
                               uint64_t len, uint64_t off, uint64_t *id, char *why,
                               size_t whylen);
uint32_t sim_platform_unregister(struct sim_platform *p, uint64_t client, uint64_t id);
/* After vfa_core_client_gone(): drop the client's registrations. */
void sim_platform_client_gone(struct sim_platform *p, uint64_t client);

/*
 * The device's MSI-X table against what the host programmed (irq_setup):
 * entries programmed, and how many of them no longer hold the host's
 * address, data and unmasked control.  Read straight from the model, past
 * the core, so a test can see what the device itself would use.
 */
void sim_platform_msix_check(struct sim_platform *p, unsigned *programmed, unsigned *altered);

/* Full counters as one JSON object. */
void sim_platform_stats_json(struct sim_platform *p, FILE *out);

#endif
