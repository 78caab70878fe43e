/* A buffer the dext allocates (the IRQ page).
 * Page: https://developer.apple.com/documentation/driverkit/iobuffermemorydescriptor. */
#ifndef VFA_SDK_DK_IOBUFFERMEMORYDESCRIPTOR_H
#define VFA_SDK_DK_IOBUFFERMEMORYDESCRIPTOR_H

#include <DriverKit/IOMemoryDescriptor.h>

class IOBufferMemoryDescriptor : public IOMemoryDescriptor {
public:
    /* https://developer.apple.com/documentation/driverkit/iobuffermemorydescriptor/create */
    static kern_return_t Create(uint64_t options, uint64_t capacity, uint64_t alignment,
                                IOBufferMemoryDescriptor **memory);
    /* https://developer.apple.com/documentation/driverkit/iobuffermemorydescriptor/getaddressrange: where the buffer is in
     * the dext's address space. */
    kern_return_t GetAddressRange(IOAddressSegment *range);
};

#endif
