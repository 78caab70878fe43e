/*
 * The user client: IOConnectCallMethod / IOConnectCallAsyncScalarMethod
 * from the client (QEMU) become vfa_core_dispatch() calls on the
 * driver's core, after the shape checks the ABI's method table allows
 * here (method-table.h); IOConnectMapMemory64 becomes
 * vfa_core_map_memory().  Stop (the client closed, or died) releases the
 * client's session.  The client id the core sees is this object's
 * address: unique while the connection lives, and the driver's
 * dma_prepare op uses it to wrap this client's memory.
 */
#include <DriverKit/DriverKit.h>
#include <string.h>

#include "VFIOAppleDriver.h"
#include "VFIOAppleUserClient.h"
#include "method-table.h"

extern "C" {
#include "core.h"
}

struct VFIOAppleUserClient_IVars {
    VFIOAppleDriver *driver;
};

static kern_return_t ioreturn(uint32_t rc)
{
    return rc ? (kern_return_t)VFA_IORETURN(rc) : kIOReturnSuccess;
}

static uint64_t client_id(VFIOAppleUserClient *uc)
{
    return reinterpret_cast<uint64_t>(uc);
}

/*
 * Every selector's function: the dispatch entry has checked the struct
 * input size, a completion where one is required, and (with the
 * minimums below) the counts; the core checks everything again and
 * never trusts the call.
 */
static kern_return_t method(OSObject *target, void *reference, IOUserClientMethodArguments *a)
{
    VFIOAppleUserClient *uc = OSDynamicCast(VFIOAppleUserClient, target);
    const vfa_table::Shape &m = vfa_table::kShapes[a->selector];
    uint8_t out[VFA_MAX_STRUCT];
    struct vfa_call call;
    uint32_t room;

    if (!uc || !uc->ivars->driver)
        return ioreturn(VFA_E_NODEV);
    /* Struct arguments over 4096 bytes arrive as descriptors: no method
     * of the ABI takes or returns one. */
    if (a->structureInputDescriptor || a->structureOutputDescriptor)
        return ioreturn(VFA_E_PROTO);
    if (a->scalarInputCount > VFA_MAX_SCALARS || a->scalarInputCount < m.scalars_in_min ||
        a->scalarOutputCount > VFA_MAX_SCALARS || a->scalarOutputCount < m.scalars_out_min)
        return ioreturn(VFA_E_PROTO);
    room = a->structureOutputMaximumSize > VFA_MAX_STRUCT ? VFA_MAX_STRUCT
                                                          : (uint32_t)a->structureOutputMaximumSize;
    if (!m.struct_out)
        room = 0;

    memset(&call, 0, sizeof(call));
    call.selector = (uint32_t)a->selector;
    call.nscalars_in = a->scalarInputCount;
    call.scalars_in = a->scalarInput;
    call.nscalars_out = a->scalarOutputCount;
    call.scalars_out = a->scalarOutput;
    call.struct_out = room ? out : NULL;
    call.struct_out_len = room;

    uint32_t rc = uc->ivars->driver->ClientCall(client_id(uc), &call);
    if (rc)
        return ioreturn(rc);
    a->scalarOutputCount = call.nscalars_out;
    if (call.struct_out_len) {
        a->structureOutput = OSData::withBytes(out, call.struct_out_len);
        if (!a->structureOutput)
            return kIOReturnNoMemory;
    }
    /* NOTIFY_REGISTER: the completion the core's notifications use. */
    if (a->selector == VFA_SEL_NOTIFY_REGISTER)
        uc->ivars->driver->ClientNotifyAction(client_id(uc), uc, a->completion);
    return kIOReturnSuccess;
}

/* The table, one entry per selector, derived from dext-abi.h. */
#define VFA_DK_ENTRY(name, sel, ...) vfa_table::entry(method, (sel)),
static const IOUserClientMethodDispatch kDispatch[] = { VFA_METHODS(VFA_DK_ENTRY) };
#undef VFA_DK_ENTRY
static_assert(sizeof(kDispatch) / sizeof(kDispatch[0]) == VFA_SEL_COUNT,
              "one dispatch entry per selector");

bool VFIOAppleUserClient::init()
{
    if (!super::init())
        return false;
    ivars = IONewZero(VFIOAppleUserClient_IVars, 1);
    return ivars != NULL;
}

void VFIOAppleUserClient::free()
{
    IOSafeDeleteNULL(ivars, VFIOAppleUserClient_IVars, 1);
    super::free();
}

kern_return_t IMPL(VFIOAppleUserClient, Start)
{
    kern_return_t kr = Start(provider, SUPERDISPATCH);

    if (kr != kIOReturnSuccess)
        return kr;
    ivars->driver = OSDynamicCast(VFIOAppleDriver, provider);
    if (!ivars->driver) {
        Stop(provider, SUPERDISPATCH);
        return kIOReturnNoDevice;
    }
    ivars->driver->retain();
    return kIOReturnSuccess;
}

/* Close, client death and the device's termination all end here. */
kern_return_t IMPL(VFIOAppleUserClient, Stop)
{
    if (ivars->driver) {
        ivars->driver->ClientGone(client_id(this));
        OSSafeReleaseNULL(ivars->driver);
    }
    return Stop(provider, SUPERDISPATCH);
}

kern_return_t VFIOAppleUserClient::ExternalMethod(uint64_t selector,
                                                  IOUserClientMethodArguments *arguments,
                                                  const IOUserClientMethodDispatch *dispatch,
                                                  OSObject *target, void *reference)
{
    /* Unknown selectors never reach the table (the core's answer). */
    if (selector >= VFA_SEL_COUNT)
        return ioreturn(VFA_E_NOSYS);
    return super::ExternalMethod(selector, arguments, &kDispatch[selector], this, NULL);
}

/* IOConnectMapMemory64: the memory type is the ABI's (enum
 * vfa_memory_type); the core checks the session and the type.  Mapped
 * read/write; the client never maps executable (dext-abi.h). */
kern_return_t IMPL(VFIOAppleUserClient, CopyClientMemoryForType)
{
    IOMemoryDescriptor *md = NULL;
    uint32_t rc;

    if (!ivars->driver)
        return ioreturn(VFA_E_NODEV);
    if (type > UINT32_MAX)
        return ioreturn(VFA_E_INVAL);
    rc = ivars->driver->ClientMapMemory(client_id(this), (uint32_t)type, &md);
    if (rc)
        return ioreturn(rc);
    *options = 0;
    *memory = md;                       /* the caller consumes this reference */
    return kIOReturnSuccess;
}

/* For the driver's dma_prepare op: this client's own [va, va+len). */
kern_return_t VFIOAppleUserClient::WrapClientMemory(uint64_t va, uint64_t len, uint64_t options,
                                                    IOMemoryDescriptor **memory)
{
    IOAddressSegment seg = { va, len };

    return CreateMemoryDescriptorFromClient(options, 1, &seg, memory);
}
