/*
 * <linux/vfio.h> on Darwin: the one Linux UAPI header hw/vfio needs to
 * build for vfio-apple-pci (its structs, flags and region/IRQ indexes),
 * taken unchanged from linux-headers/.  Only this directory, not
 * linux-headers/, is on Darwin's include path, so any other <linux/...>
 * include still fails to build there instead of silently using another
 * OS's ABI; types.h and ioctl.h beside this file give what the VFIO
 * header itself includes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DARWIN_COMPAT_LINUX_VFIO_H
#define DARWIN_COMPAT_LINUX_VFIO_H

#include "../../../linux-headers/linux/vfio.h"

#endif
