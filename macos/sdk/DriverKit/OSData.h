/* OSData: the container of a method's struct input/output.
 * Page: https://developer.apple.com/documentation/driverkit/osdata. */
#ifndef VFA_SDK_DK_OSDATA_H
#define VFA_SDK_DK_OSDATA_H

#include <DriverKit/OSObject.h>

class OSData : public OSObject {
public:
    /* https://developer.apple.com/documentation/driverkit/osdata/withbytes: a new (retained) copy of the bytes. */
    static OSData *withBytes(const void *bytes, size_t numBytes);
};

#endif
