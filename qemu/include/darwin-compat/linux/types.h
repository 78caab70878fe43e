/*
 * Darwin stand-in for <linux/types.h>, for <linux/vfio.h> only (see
 * vfio.h here): Linux's fixed-width UAPI types.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DARWIN_COMPAT_LINUX_TYPES_H
#define DARWIN_COMPAT_LINUX_TYPES_H

#include <stdint.h>

typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int8_t __s8;
typedef int16_t __s16;
typedef int32_t __s32;
typedef int64_t __s64;
/* As Linux defines it: 8-byte alignment on every ABI. */
typedef uint64_t __aligned_u64 __attribute__((aligned(8)));

#endif
