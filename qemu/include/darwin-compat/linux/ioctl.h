/*
 * Darwin stand-in for <linux/ioctl.h>, for <linux/vfio.h> only (see
 * vfio.h here).  The VFIO header needs _IO(); Darwin's <sys/ioctl.h> has
 * one.  Its numbers differ from Linux's, which does not matter: no VFIO
 * ioctl is ever issued on Darwin (vfio-apple-pci reaches the device
 * through its io_ops and the dext, never /dev/vfio).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DARWIN_COMPAT_LINUX_IOCTL_H
#define DARWIN_COMPAT_LINUX_IOCTL_H

#include <sys/ioctl.h>

#endif
