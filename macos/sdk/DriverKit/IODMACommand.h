/* IODMACommand: device addresses (DART IOVAs) for a memory descriptor.
 * Pages: https://developer.apple.com/documentation/driverkit/iodmacommand, https://developer.apple.com/documentation/driverkit/iodmacommandspecification. */
#ifndef VFA_SDK_DK_IODMACOMMAND_H
#define VFA_SDK_DK_IODMACOMMAND_H

#include <DriverKit/IOMemoryDescriptor.h>

class IOService;

/* https://developer.apple.com/documentation/driverkit/iodmacommandspecification */
struct IODMACommandSpecification {
    uint64_t options;               /* .../options */
    uint64_t maxAddressBits;        /* .../maxaddressbits */
    uint64_t _resv[16];
};

/* "No options" of each call (placeholders: only the names are used). */
enum {
    kIODMACommandSpecificationNoOptions = 0,
    kIODMACommandCreateNoOptions        = 0,
    kIODMACommandPrepareForDMANoOptions = 0,
    kIODMACommandCompleteDMANoOptions   = 0,
};

class IODMACommand : public OSObject {
public:
    /* https://developer.apple.com/documentation/driverkit/iodmacommand/create */
    static kern_return_t Create(IOService *device, uint64_t options,
                                const IODMACommandSpecification *specification,
                                IODMACommand **command);
    /* https://developer.apple.com/documentation/driverkit/iodmacommand/preparefordma: *segmentsCount in = room (at most
     * 32, DESIGN.md section 3), out = filled; the system picks the
     * addresses. */
    virtual kern_return_t PrepareForDMA(uint64_t options, IOMemoryDescriptor *memory,
                                        uint64_t offset, uint64_t length, uint64_t *flags,
                                        uint32_t *segmentsCount, IOAddressSegment *segments);
    /* https://developer.apple.com/documentation/driverkit/iodmacommand/completedma */
    virtual kern_return_t CompleteDMA(uint64_t options);
};

#endif
