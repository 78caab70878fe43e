/*
 * The subset of the Hypervisor framework (Apple Silicon) that QEMU's
 * accel/hvf/hvf-all.c calls, for compile-checking our HVF patch (0011)
 * on Linux (declarations written from Apple's documentation; see
 * macos/sdk/README.md).  Pages under
 * https://developer.apple.com/documentation/hypervisor/.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_HYPERVISOR_H
#define VFA_SDK_HYPERVISOR_H

#include <stddef.h>
#include <stdint.h>

/* .../hypervisor/hv_return_t */
typedef int32_t hv_return_t;
/*
 * .../hypervisor/hv_success and the error pages; the numbers (the
 * err_local|err_sub(0xba5) space) cross-checked against SDK-generated
 * bindings, not on the pages.
 */
#define HV_SUCCESS       0
#define HV_ERROR         ((hv_return_t)0xfae94001)
#define HV_BUSY          ((hv_return_t)0xfae94002)
#define HV_BAD_ARGUMENT  ((hv_return_t)0xfae94003)
#define HV_NO_RESOURCES  ((hv_return_t)0xfae94005)
#define HV_NO_DEVICE     ((hv_return_t)0xfae94006)
#define HV_DENIED        ((hv_return_t)0xfae94007)
#define HV_UNSUPPORTED   ((hv_return_t)0xfae9400f)

/* .../hypervisor/hv_ipa_t */
typedef uint64_t hv_ipa_t;
/* .../hypervisor/hv_vcpu_t */
typedef uint64_t hv_vcpu_t;
/* .../hypervisor/hv_vcpu_exit_t (opaque here: hvf-all.c only names it) */
typedef struct hv_vcpu_exit hv_vcpu_exit_t;

/*
 * .../hypervisor/hv_memory_flags_t: read, write, execute, nothing else
 * (no memory type: a mapped BAR is device memory to the guest).
 */
typedef uint64_t hv_memory_flags_t;
#define HV_MEMORY_READ   (1ull << 0)
#define HV_MEMORY_WRITE  (1ull << 1)
#define HV_MEMORY_EXEC   (1ull << 2)

/* .../hypervisor/hv_vm_map(_:_:_:_:) */
hv_return_t hv_vm_map(void *addr, hv_ipa_t ipa, size_t size,
                      hv_memory_flags_t flags);
/* .../hypervisor/hv_vm_unmap(_:_:) */
hv_return_t hv_vm_unmap(hv_ipa_t ipa, size_t size);
/* .../hypervisor/hv_vm_protect(_:_:_:) */
hv_return_t hv_vm_protect(hv_ipa_t ipa, size_t size,
                          hv_memory_flags_t flags);

#endif
