/*
 * vfio-apple CLI: the options of `vfio-apple run`.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_RUN_OPTS_H
#define VFA_CLI_RUN_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mode.h"

#define CLI_RUN_MAX_SIM_OPTS 16
#define CLI_RUN_DEFAULT_MEM  (1ull << 30)
#define CLI_RUN_DEFAULT_CPUS 2u

struct cli_run_opts {
    const char *device;         /* DEVICE: a name from `list`, or a socket */
    const char *kernel, *initrd, *disk, *append;
    const char *firmware;       /* --firmware FILE: UEFI (then ACPI) */
    const char *qemu;           /* --qemu, else VFIO_APPLE_QEMU, else PATH */
    const char *sim;            /* --sim MODEL[,OPTS]: start a simulator */
    const char *sim_opts[CLI_RUN_MAX_SIM_OPTS];     /* --sim-opt ARG */
    unsigned nsim_opts;
    const char *qmp;            /* --qmp PATH (default: beside the socket) */
    uint64_t mem;
    unsigned cpus;
    enum cli_mode mode;
    bool print, help;
    int extra_argc;             /* after "--": given to QEMU as they are */
    char **extra_argv;
};

/* 0; 1 for --help; -EINVAL with err saying what is wrong. */
int cli_run_parse(int argc, char **argv, struct cli_run_opts *o,
                  char *err, size_t errlen);
extern const char cli_run_usage[];

#endif
