/* Locks, allocation and logging of the DriverKit runtime.
 * Pages: https://developer.apple.com/documentation/driverkit/iolockalloc, https://developer.apple.com/documentation/driverkit/iolockfree, https://developer.apple.com/documentation/driverkit/iolocklock, https://developer.apple.com/documentation/driverkit/iolockunlock,
 * https://developer.apple.com/documentation/driverkit/iomalloczero, https://developer.apple.com/documentation/driverkit/iofree, https://developer.apple.com/documentation/driverkit/iolog, https://developer.apple.com/documentation/driverkit/iosleep. */
#ifndef VFA_SDK_DK_IOLIB_H
#define VFA_SDK_DK_IOLIB_H

#include <stddef.h>
#include <stdint.h>

typedef struct IOLock IOLock;           /* https://developer.apple.com/documentation/driverkit/iolock */

IOLock *IOLockAlloc(void);
void IOLockFree(IOLock *lock);
void IOLockLock(IOLock *lock);
void IOLockUnlock(IOLock *lock);
void *IOMallocZero(size_t length);
void IOFree(void *address, size_t length);
void IOLog(const char *format, ...) __attribute__((format(printf, 1, 2)));
void IOSleep(uint64_t milliseconds);

/* https://developer.apple.com/documentation/driverkit/ionewzero, https://developer.apple.com/documentation/driverkit/iosafedeletenull: typed forms of the above. */
#define IONewZero(type, count)  ((type *)IOMallocZero(sizeof(type) * (count)))
#define IOSafeDeleteNULL(p, type, count) \
    do { if (p) { IOFree((p), sizeof(type) * (count)); (p) = NULL; } } while (0)

#endif
