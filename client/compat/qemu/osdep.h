/*
 * Stand-in for QEMU's "qemu/osdep.h" when the client library is built
 * outside QEMU (the simulator, the tests, the tools): the client's sources
 * follow QEMU's rules (osdep first, QEMU's mutex), and this header and
 * qemu/thread.h beside it give them what they use of QEMU, from libc.
 * Inside QEMU the real headers are found instead: nothing here is built.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFIO_APPLE_COMPAT_QEMU_OSDEP_H
#define VFIO_APPLE_COMPAT_QEMU_OSDEP_H

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define G_GNUC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* QEMU's config-host.h says so on macOS; the client's IOKit code keys on it. */
#if defined(__APPLE__) && !defined(CONFIG_DARWIN)
#define CONFIG_DARWIN 1
#endif

#endif
