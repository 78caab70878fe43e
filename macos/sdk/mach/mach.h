/*
 * The subset of <mach/mach.h> the IOKit transport uses (declarations
 * written from Apple's documentation; see macos/sdk/README.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_MACH_MACH_H
#define VFA_SDK_MACH_MACH_H

#include <stdint.h>

/* https://developer.apple.com/documentation/kernel/kern_return_t */
typedef int kern_return_t;
/* https://developer.apple.com/documentation/kernel/mach_port_t */
typedef unsigned int mach_port_t;
/* https://developer.apple.com/documentation/kernel/task_port_t */
typedef mach_port_t task_port_t;
/* https://developer.apple.com/documentation/kernel/mach_vm_address_t */
typedef uint64_t mach_vm_address_t;
/* https://developer.apple.com/documentation/kernel/mach_vm_size_t */
typedef uint64_t mach_vm_size_t;
/*
 * https://developer.apple.com/documentation/kernel/boolean_t
 * (int on arm64, unsigned int only on x86-64: cross-checked against public
 * bindings of mach/boolean.h, the Rust mach crate's)
 */
typedef int boolean_t;

/* https://developer.apple.com/documentation/kernel/kern_success */
#define KERN_SUCCESS    0
/* https://developer.apple.com/documentation/kernel/mach_port_null */
#define MACH_PORT_NULL  ((mach_port_t)0)

/*
 * https://developer.apple.com/documentation/kernel/mach_task_self
 * (a macro over the task's cached port in the SDK)
 */
extern mach_port_t mach_task_self_;
#define mach_task_self() mach_task_self_

#endif
