/* Hand-kept equivalent of IIG's output for ../VFIOAppleUserClient.iig
 * (see VFIOAppleDriver.h in this directory). */
#ifndef VFIOAppleUserClient_h
#define VFIOAppleUserClient_h

#include <DriverKit/IOUserClient.h>

struct VFIOAppleUserClient_IVars;

#define VFIOAppleUserClient_Start_Args  IOService *provider
#define VFIOAppleUserClient_Stop_Args   IOService *provider
#define VFIOAppleUserClient_CopyClientMemoryForType_Args \
    uint64_t type, uint64_t *options, IOMemoryDescriptor **memory

class VFIOAppleUserClient : public IOUserClient
{
public:
    typedef IOUserClient super;
    VFIOAppleUserClient_IVars *ivars;

    virtual bool init() override;
    virtual void free() override;

    kern_return_t Start_Impl(VFIOAppleUserClient_Start_Args);
    kern_return_t Stop_Impl(VFIOAppleUserClient_Stop_Args);
    virtual kern_return_t ExternalMethod(uint64_t selector, IOUserClientMethodArguments *arguments,
                                         const IOUserClientMethodDispatch *dispatch,
                                         OSObject *target, void *reference) override;
    kern_return_t CopyClientMemoryForType_Impl(VFIOAppleUserClient_CopyClientMemoryForType_Args);

    kern_return_t WrapClientMemory(uint64_t va, uint64_t len, uint64_t options,
                                   IOMemoryDescriptor **memory);
};

#endif
