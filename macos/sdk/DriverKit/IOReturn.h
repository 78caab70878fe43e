/*
 * IOReturn codes the dext shell returns or tests (DriverKit/IOReturn.h).
 * Page: https://developer.apple.com/documentation/driverkit/error-codes (the list); each value is the documented
 * iokit_common_err(code), i.e. 0xe0000000 | code.
 */
#ifndef VFA_SDK_DK_IORETURN_H
#define VFA_SDK_DK_IORETURN_H

#include <stdint.h>

typedef int kern_return_t;              /* https://developer.apple.com/documentation/driverkit/kern_return_t */
typedef kern_return_t IOReturn;         /* https://developer.apple.com/documentation/driverkit/ioreturn */

#define kIOReturnSuccess         0                          /* https://developer.apple.com/documentation/driverkit/kioreturnsuccess */
#define kIOReturnError           ((IOReturn)0xe00002bc)     /* https://developer.apple.com/documentation/driverkit/kioreturnerror */
#define kIOReturnNoMemory        ((IOReturn)0xe00002bd)     /* https://developer.apple.com/documentation/driverkit/kioreturnnomemory */
#define kIOReturnExclusiveAccess ((IOReturn)0xe00002c5)     /* https://developer.apple.com/documentation/driverkit/kioreturnexclusiveaccess */
#define kIOReturnUnsupported     ((IOReturn)0xe00002c7)     /* https://developer.apple.com/documentation/driverkit/kioreturnunsupported */
#define kIOReturnNoDevice        ((IOReturn)0xe00002c0)     /* https://developer.apple.com/documentation/driverkit/kioreturnnodevice */

#endif
