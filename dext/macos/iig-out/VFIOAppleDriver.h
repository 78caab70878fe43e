/*
 * Hand-kept equivalent of what IIG generates from ../VFIOAppleDriver.iig,
 * for `make macos-check` only (on a Mac, Xcode's iig writes the real one
 * into DerivedSources and this directory is not on the include path).
 * It declares what the .cpp uses of IIG's output: the class with its
 * `ivars` pointer and `super`, the _Impl method of each LOCAL method with
 * its argument list (Class_Method_Args, for the IMPL macro), and
 * CreateActionInterruptOccurred.  The exact text IIG emits differs; the
 * names and types are what the IIG documentation describes
 * (https://developer.apple.com/documentation/driverkit/impl,
 * .../driverkit/type, .../driverkit/iointerruptdispatchsource/interruptoccurred).
 * tests/macos/run.sh checks this file names every method of the .iig.
 */
#ifndef VFIOAppleDriver_h
#define VFIOAppleDriver_h

#include <DriverKit/IOService.h>
#include <DriverKit/IOInterruptDispatchSource.h>
#include <PCIDriverKit/IOPCIDevice.h>

struct VFIOAppleDriver_IVars;

#define VFIOAppleDriver_Start_Args              IOService *provider
#define VFIOAppleDriver_Stop_Args               IOService *provider
#define VFIOAppleDriver_NewUserClient_Args      uint32_t type, IOUserClient **userClient
#define VFIOAppleDriver_SetPowerState_Args      uint32_t powerFlags
#define VFIOAppleDriver_InterruptOccurred_Args  OSAction *action, uint64_t count, uint64_t time

class VFIOAppleDriver : public IOService
{
public:
    typedef IOService super;
    VFIOAppleDriver_IVars *ivars;

    virtual bool init() override;
    virtual void free() override;

    kern_return_t Start_Impl(VFIOAppleDriver_Start_Args);
    kern_return_t Stop_Impl(VFIOAppleDriver_Stop_Args);
    kern_return_t NewUserClient_Impl(VFIOAppleDriver_NewUserClient_Args);
    kern_return_t SetPowerState_Impl(VFIOAppleDriver_SetPowerState_Args);
    void InterruptOccurred_Impl(VFIOAppleDriver_InterruptOccurred_Args);
    /* TYPE(IOInterruptDispatchSource::InterruptOccurred): an OSAction
     * that calls InterruptOccurred, with referenceSize bytes of storage
     * (OSAction::GetReference). */
    kern_return_t CreateActionInterruptOccurred(size_t referenceSize, OSAction **action);

    uint32_t ClientCall(uint64_t client, void *call);
    uint32_t ClientMapMemory(uint64_t client, uint32_t type, IOMemoryDescriptor **memory);
    void ClientNotifyAction(uint64_t client, IOUserClient *userClient, OSAction *action);
    void ClientGone(uint64_t client);
};

#endif
