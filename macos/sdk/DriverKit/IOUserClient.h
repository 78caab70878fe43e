/* IOUserClient: the connection QEMU opens with IOServiceOpen.
 * Page: https://developer.apple.com/documentation/driverkit/iouserclient. */
#ifndef VFA_SDK_DK_IOUSERCLIENT_H
#define VFA_SDK_DK_IOUSERCLIENT_H

#include <DriverKit/IOService.h>
#include <DriverKit/OSAction.h>
#include <DriverKit/OSData.h>

class IOMemoryDescriptor;
struct IOAddressSegment;

/* https://developer.apple.com/documentation/driverkit/iouserclientasyncargumentsarray (16: https://developer.apple.com/documentation/driverkit/kiouserclientasyncargumentscountmax) */
#define kIOUserClientAsyncArgumentsCountMax 16
typedef uint64_t IOUserClientAsyncArgumentsArray[kIOUserClientAsyncArgumentsCountMax];

/* https://developer.apple.com/documentation/driverkit/kiouserclientvariablestructuresize: "don't check" in a dispatch
 * entry (the value is the kernel's kIOUCVariableStructureSize). */
#define kIOUserClientVariableStructureSize 0xffffffffu

/* https://developer.apple.com/documentation/driverkit/iouserclientmethodarguments ("any argument may be NULL") */
struct IOUserClientMethodArguments {
    uint64_t version;                           /* .../version */
    uint64_t selector;                          /* .../selector */
    OSAction *completion;                       /* .../completion */
    const uint64_t *scalarInput;                /* .../scalarinput */
    uint32_t scalarInputCount;                  /* .../scalarinputcount */
    OSData *structureInput;                     /* .../structureinput */
    IOMemoryDescriptor *structureInputDescriptor;   /* .../structureinputdescriptor */
    uint64_t *scalarOutput;                     /* .../scalaroutput */
    uint32_t scalarOutputCount;                 /* .../scalaroutputcount */
    OSData *structureOutput;                    /* .../structureoutput */
    IOMemoryDescriptor *structureOutputDescriptor;  /* .../structureoutputdescriptor */
    uint64_t structureOutputMaximumSize;        /* .../structureoutputmaximumsize */
};

/* https://developer.apple.com/documentation/driverkit/iouserclientmethodfunction */
typedef kern_return_t (*IOUserClientMethodFunction)(OSObject *target, void *reference,
                                                    IOUserClientMethodArguments *arguments);

/* https://developer.apple.com/documentation/driverkit/iouserclientmethoddispatch: each check is exact unless it holds
 * kIOUserClientVariableStructureSize (.../checkscalarinputcount,
 * .../checkstructureinputsize, ...). */
struct IOUserClientMethodDispatch {
    IOUserClientMethodFunction function;        /* .../function */
    uint32_t checkCompletionExists;             /* .../checkcompletionexists */
    uint32_t checkScalarInputCount;
    uint32_t checkStructureInputSize;
    uint32_t checkScalarOutputCount;
    uint32_t checkStructureOutputSize;
};

class IOUserClient : public IOService {
public:
    /* https://developer.apple.com/documentation/driverkit/iouserclient/externalmethod (LOCALONLY: plain C++) */
    virtual kern_return_t ExternalMethod(uint64_t selector, IOUserClientMethodArguments *arguments,
                                         const IOUserClientMethodDispatch *dispatch,
                                         OSObject *target, void *reference);
    /* https://developer.apple.com/documentation/driverkit/iouserclient/copyclientmemoryfortype ("one reference will be
     * consumed by the caller") */
    virtual kern_return_t CopyClientMemoryForType(uint64_t type, uint64_t *options,
                                                  IOMemoryDescriptor **memory);
    kern_return_t CopyClientMemoryForType(uint64_t type, uint64_t *options,
                                          IOMemoryDescriptor **memory,
                                          OSDispatchMethod supermethod);
    /* https://developer.apple.com/documentation/driverkit/iouserclient/creatememorydescriptorfromclient */
    virtual kern_return_t CreateMemoryDescriptorFromClient(uint64_t memoryDescriptorCreateOptions,
                                                           uint32_t segmentsCount,
                                                           const IOAddressSegment segments[32],
                                                           IOMemoryDescriptor **memory);
    /* https://developer.apple.com/documentation/driverkit/iouserclient/asynccompletion */
    virtual void AsyncCompletion(OSAction *action, IOReturn status,
                                 const IOUserClientAsyncArgumentsArray asyncData,
                                 uint32_t asyncDataCount);
};

#endif
