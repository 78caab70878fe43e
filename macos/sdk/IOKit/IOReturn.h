/*
 * The IOReturn codes the IOKit transport tells apart (declarations written
 * from Apple's documentation; see macos/sdk/README.md).  Apple's pages name
 * the codes without their numbers; the numbers (iokit_common_err(n) =
 * 0xe0000000 | n) were cross-checked against public copies of xnu's
 * iokit/IOKit/IOReturn.h and must equal client/iokit-match.h's
 * VFA_KIO_RETURN_* (transport-iokit.c asserts it at compile time).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_IOKIT_IORETURN_H
#define VFA_SDK_IOKIT_IORETURN_H

#include <mach/mach.h>

/* https://developer.apple.com/documentation/kernel/ioreturn */
typedef kern_return_t IOReturn;

/* https://developer.apple.com/documentation/kernel/kioreturnsuccess */
#define kIOReturnSuccess         KERN_SUCCESS
/* https://developer.apple.com/documentation/kernel/kioreturnerror */
#define kIOReturnError           ((IOReturn)0xe00002bc)
/* https://developer.apple.com/documentation/kernel/kioreturnnomemory */
#define kIOReturnNoMemory        ((IOReturn)0xe00002bd)
/* https://developer.apple.com/documentation/kernel/kioreturnnoresources */
#define kIOReturnNoResources     ((IOReturn)0xe00002be)
/* https://developer.apple.com/documentation/kernel/kioreturnipcerror */
#define kIOReturnIPCError        ((IOReturn)0xe00002bf)
/* https://developer.apple.com/documentation/kernel/kioreturnnodevice */
#define kIOReturnNoDevice        ((IOReturn)0xe00002c0)
/* https://developer.apple.com/documentation/kernel/kioreturnnotprivileged */
#define kIOReturnNotPrivileged   ((IOReturn)0xe00002c1)
/* https://developer.apple.com/documentation/kernel/kioreturnbadargument */
#define kIOReturnBadArgument     ((IOReturn)0xe00002c2)
/* https://developer.apple.com/documentation/kernel/kioreturnexclusiveaccess */
#define kIOReturnExclusiveAccess ((IOReturn)0xe00002c5)
/* https://developer.apple.com/documentation/kernel/kioreturnunsupported */
#define kIOReturnUnsupported     ((IOReturn)0xe00002c7)
/* https://developer.apple.com/documentation/kernel/kioreturnbusy */
#define kIOReturnBusy            ((IOReturn)0xe00002d5)
/* https://developer.apple.com/documentation/kernel/kioreturntimeout */
#define kIOReturnTimeout         ((IOReturn)0xe00002d6)
/* https://developer.apple.com/documentation/kernel/kioreturnoffline */
#define kIOReturnOffline         ((IOReturn)0xe00002d7)
/* https://developer.apple.com/documentation/kernel/kioreturnnotattached */
#define kIOReturnNotAttached     ((IOReturn)0xe00002d9)
/* https://developer.apple.com/documentation/kernel/kioreturnnotpermitted */
#define kIOReturnNotPermitted    ((IOReturn)0xe00002e2)
/* https://developer.apple.com/documentation/kernel/kioreturnaborted */
#define kIOReturnAborted         ((IOReturn)0xe00002eb)

/*
 * mach_msg's errors when the dext's port is dead (its process exited):
 * https://developer.apple.com/documentation/kernel/mach_send_invalid_dest
 * https://developer.apple.com/documentation/kernel/mach_rcv_port_died
 */
#define MACH_SEND_INVALID_DEST   0x10000003
#define MACH_RCV_PORT_DIED       0x10004003

#endif
