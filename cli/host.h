/*
 * vfio-apple CLI: what differs by host.  Everything else in cli/ is
 * portable C over the client library; a host provides these.
 *
 * Linux (host-linux.c): the devices are vfio-apple-sim sockets.
 *   Discovery rule, in order:
 *     1. --socket PATH (any subcommand): that socket only;
 *     2. VFIO_APPLE_SOCKET: a ':'-separated list of socket paths;
 *     3. every socket NAME.sock in the socket directory:
 *        $VFIO_APPLE_SOCKET_DIR, else /run/vfio-apple as root, else
 *        $XDG_RUNTIME_DIR/vfio-apple, else /tmp/vfio-apple-UID.
 *   A device's name is its socket's file name without ".sock".  A DEVICE
 *   argument is such a name, or a path (containing '/'), or unix:PATH.
 *   `run --sim` puts its simulator's socket in the socket directory.
 * macOS (issue 11): the IORegistry's dext user clients; names are the
 *   functions' "domain:bus:dev.fn" (with "@root-port" when ambiguous).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_HOST_H
#define VFA_CLI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmdline.h"

struct cli_device_ref {
    char name[128];             /* what `list` shows and DEVICE names */
    char target[1024];          /* for vfa_client_connect() */
    char qmp[1024];             /* where `run` puts QEMU's QMP socket */
};

/* How QEMU names the device (points into @ref). */
void cli_host_target(const struct cli_device_ref *ref, struct cli_target *t);

/* The host's command-line profile (accelerator, RAM sharing). */
const struct cli_host_profile *cli_host_profile(void);

/* Set by --socket: discovery then yields that socket only. */
void cli_host_set_socket(const char *path);
/* The directory `run --sim` creates sockets in (created if missing). */
int cli_host_socket_dir(char *buf, size_t len, bool create, char *err, size_t errlen);
/* Every device found, malloc'd array in *out (free()), count in *n. */
int cli_host_discover(struct cli_device_ref **out, size_t *n, char *err, size_t errlen);
/* DEVICE as a user wrote it. */
int cli_host_resolve(const char *device, struct cli_device_ref *ref, char *err, size_t errlen);
/* The ref of a simulator `run --sim` starts under @name. */
int cli_host_sim_ref(const char *name, struct cli_device_ref *ref, char *err, size_t errlen);

/* A program shipped beside this one (vfio-apple-sim), else from PATH. */
void cli_host_helper(const char *prog, char *buf, size_t len);
/* Short name of process @pid ("qemu-system-aar"), or "" if unknown. */
void cli_host_proc_name(pid_t pid, char *buf, size_t len);
/* In a child before exec: die with the parent. */
void cli_host_child_setup(void);

/*
 * Memory the device may DMA to: *va of len bytes, zeroed, backed by *fd
 * (a memfd sealed against resizing on Linux; -1 where the transport needs
 * none).  Free with cli_host_dma_free().
 */
int cli_host_dma_alloc(uint64_t len, void **va, int *fd, char *err, size_t errlen);
void cli_host_dma_free(void *va, uint64_t len, int fd);

#endif
