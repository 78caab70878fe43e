/* Memory descriptors and the options the shell passes.
 * Pages: https://developer.apple.com/documentation/driverkit/iomemorydescriptor, https://developer.apple.com/documentation/driverkit/ioaddresssegment,
 * https://developer.apple.com/documentation/driverkit/kiomemorydirectionin, https://developer.apple.com/documentation/driverkit/kiomemorydirectionout,
 * https://developer.apple.com/documentation/driverkit/kiomemorydirectioninout, https://developer.apple.com/documentation/driverkit/kiomemorydisablecopyonwrite. */
#ifndef VFA_SDK_DK_IOMEMORYDESCRIPTOR_H
#define VFA_SDK_DK_IOMEMORYDESCRIPTOR_H

#include <DriverKit/OSObject.h>

/* https://developer.apple.com/documentation/driverkit/ioaddresssegment */
struct IOAddressSegment {
    uint64_t address;
    uint64_t length;
};

/* Direction relative to the memory: In = the device writes it.  The
 * values are placeholders (the pages give none); only the names are
 * used. */
enum {
    kIOMemoryDirectionIn        = 0x1,
    kIOMemoryDirectionOut       = 0x2,
    kIOMemoryDirectionInOut     = 0x3,
    /* Client memory wrapped for DMA must not be copy-on-write
     * (DESIGN.md section 3: the mapping breaks otherwise). */
    kIOMemoryDisableCopyOnWrite = 0x10,
};

class IOMemoryDescriptor : public OSObject {
};

#endif
