/*
 * vfio-apple CLI: the QEMU (and simulator) command lines of `run`.
 *
 * Host profiles say what differs between hosts in the command line: the
 * accelerator and CPU (TCG + max here, HVF + host on a Mac), and how guest
 * RAM is shared with the dext (a sealed, shared memfd on Linux, which the
 * simulator maps; on macOS the IOKit transport wraps QEMU's own RAM).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_CMDLINE_H
#define VFA_CLI_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "mode.h"
#include "run-opts.h"
#include "strv.h"

struct cli_host_profile {
    const char *name;           /* "linux", "macos" */
    const char *accel;          /* -accel */
    const char *cpu;            /* -cpu */
    bool memfd;                 /* guest RAM as memory-backend-memfd,share=on */
};
extern const struct cli_host_profile cli_profile_linux;
extern const struct cli_host_profile cli_profile_macos;

/* Where QEMU finds the device: a socket (Linux) or a host function (macOS). */
struct cli_target {
    const char *socket;
    const char *host;           /* "0000:01:00.0" */
    const char *root_port;      /* may be NULL */
};

/* The device's id and its root port's, in the guest's QEMU. */
#define CLI_DEV_ID      "vfa0"
#define CLI_PORT_ID     "vfa-rp0"
#define CLI_COMPANION_ID "vfa-dma0"

/*
 * QEMU's argv for @o under @plan: window mode, or companion mode with its
 * apple-dma-pci at function 0 of the device's slot.  -EINVAL (no target,
 * no companion window), with err saying what to do instead.
 */
int cli_build_qemu(const struct cli_run_opts *o, const struct cli_dma_plan *plan,
                   const struct cli_target *t, const struct cli_host_profile *prof,
                   const char *qemu, const char *qmp, struct strv *out,
                   char *err, size_t errlen);

/* The device's -device value (JSON), malloc'd. */
char *cli_device_json(const struct cli_dma_plan *plan, const struct cli_target *t);

/* vfio-apple-sim's argv serving @o->sim on @sock. */
void cli_build_sim(const char *sim, const char *sock, const struct cli_run_opts *o,
                   struct strv *out);

#endif
