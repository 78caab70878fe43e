/*
 * vfio-apple CLI: what `list` and `status` know about one device, gathered
 * through the client library without opening a session (identity and
 * counters work while a VM holds the device), and how they print it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_DEVINFO_H
#define VFA_CLI_DEVINFO_H

#include <stdbool.h>
#include <stdio.h>

#include "vfio-apple/dext-abi.h"
#include "host.h"
#include "json-parse.h"
#include "pciids.h"

struct cli_devinfo {
    struct cli_device_ref ref;
    int err;                    /* 0, or why nothing below is valid */
    char errmsg[512];
    const char *transport;      /* "vfio-apple-sim" (socket), "dext" (IOKit) */
    uint32_t abi_major, abi_minor;
    uint64_t features;
    struct vfa_identity id;
    struct vfa_stats st;
    bool session_open;          /* from the dext's session counters */
    struct cli_pci_names names;
    /* The simulator's own counters (socket transport only). */
    bool have_sim;
    char model[32];
    int owner_pid;              /* 0: unknown or none */
    char owner_name[32];
    uint64_t dart_faults;
    uint64_t sim_requests;
    /* QEMU's view of the device (status only): an x-query-vfio-apple entry. */
    struct jnode *qmp_root;     /* owns the parsed reply */
    const struct jnode *qemu;   /* NULL: no VM found */
    char qmp_note[1400];         /* why there is no QEMU view */
};

/* Connects, reads version, identity, counters (and the simulator's). */
void cli_devinfo_gather(const struct cli_device_ref *ref, struct cli_devinfo *di);
/* Fills the simulator fields from its stats JSON text. */
void cli_devinfo_sim_json(struct cli_devinfo *di, const char *json);
void cli_devinfo_free(struct cli_devinfo *di);
/* Sessions opened and not yet ended, per the dext's counters. */
bool cli_stats_session_open(const struct vfa_stats *st);

/* "mem64 prefetchable mappable" etc. */
void cli_bar_flags_str(uint32_t flags, char *buf, size_t len);
/* "FLR, hot reset" or "none". */
void cli_reset_kinds_str(uint16_t id_flags, char *buf, size_t len);

/* JSON members shared by list and status. */
struct jw;
void cli_identity_json(struct jw *w, const struct cli_devinfo *d);
void cli_session_json(struct jw *w, const struct cli_devinfo *d);

/*
 * The device list around each device's part: a heading per device (and its
 * error, if it did not answer), or {"devices": [{name, target, ...}]}.
 */
void cli_devices_print(FILE *f, const struct cli_devinfo *v, size_t n,
                       void (*one)(FILE *f, const struct cli_devinfo *d));
void cli_devices_json(FILE *f, const struct cli_devinfo *v, size_t n,
                      void (*members)(struct jw *w, const struct cli_devinfo *d));

void cli_list_print(FILE *f, const struct cli_devinfo *v, size_t n);
void cli_list_json(FILE *f, const struct cli_devinfo *v, size_t n);
void cli_status_print(FILE *f, const struct cli_devinfo *v, size_t n);
void cli_status_json(FILE *f, const struct cli_devinfo *v, size_t n);

#endif
