/*
 * Only for compile-checking QEMU's accel/hvf on an x86-64 Linux build
 * host: QEMU's hvf_int.h includes <Hypervisor/hv.h> (the Intel API) when
 * the host is not arm64.  Our product is Apple Silicon only; this gives
 * that branch the Apple Silicon declarations and the one Intel type it
 * names.  Never used on a Mac.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_HYPERVISOR_HV_H
#define VFA_SDK_HYPERVISOR_HV_H

#include <Hypervisor/Hypervisor.h>

/* https://developer.apple.com/documentation/hypervisor/hv_vcpuid_t */
typedef unsigned int hv_vcpuid_t;

#endif
