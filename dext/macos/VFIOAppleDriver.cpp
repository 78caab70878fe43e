/*
 * The DriverKit shell's driver: the dext core's platform ops over
 * PCIDriverKit, and the service's lifecycle (Start/Stop, power, user
 * clients).  Every decision is the core's (dext/core); this file only
 * translates.  Threading: every core call but vfa_core_irq() runs under
 * ivars->lock (the user client's queue and ours differ, and the core
 * wants one caller at a time); interrupts run on the "Interrupts" queue
 * and reach only vfa_core_irq(), which is safe concurrently.
 *
 * Apple APIs used here, each with the page it was checked against:
 * dext/macos/APIS.md.
 */
#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>
#include <string.h>
#include <stdio.h>

#include "VFIOAppleDriver.h"
#include "VFIOAppleUserClient.h"

extern "C" {
#include "core.h"
}

/* Config offsets the shell itself touches (PCI spec; the portable code
 * has the rest in include/vfio-apple/pci-cfg.h, which is C only). */
enum { CFG_COMMAND = 0x04, CFG_COMMAND_MEMORY = 0x0002, CFG_EXT_SIZE = 0x1000 };

struct dma_cookie {
    IOMemoryDescriptor *memory;
    IODMACommand *command;
};

struct VFIOAppleDriver_IVars {
    IOPCIDevice *pci;
    IODispatchQueue *irq_queue;
    IOLock *lock;                       /* one core caller at a time */
    struct vfa_platform_ops ops;        /* the core keeps a pointer */
    struct vfa_core *core;
    uint8_t mem_index[VFA_NUM_BARS];    /* GetBARInfo's memory index */
    uint64_t bar_size[VFA_NUM_BARS];
    bool rom;
    uint8_t rom_index;
    uint64_t rom_size;

    /* Interrupt sources; `irq_active` and `irq_busy` let irq_setup()
     * promise the core that no vfa_core_irq() is in flight on return. */
    IOInterruptDispatchSource **irq;
    uint32_t nirq;
    uint32_t irq_active, irq_busy;      /* atomics */

    IOBufferMemoryDescriptor *irq_page;

    /* The async completion (NOTIFY_REGISTER) of the session's client. */
    IOLock *notify_lock;
    IOUserClient *notify_client;
    OSAction *notify_action;
    uint64_t notify_owner;
};

/* ------------------------------------------------------ platform ops -- */

static VFIOAppleDriver_IVars *iv(void *ctx)
{
    return static_cast<VFIOAppleDriver *>(ctx)->ivars;
}

static int op_config_read(void *ctx, uint32_t off, unsigned width, uint32_t *val)
{
    IOPCIDevice *pci = iv(ctx)->pci;

    switch (width) {
    case 1: { uint8_t v; pci->ConfigurationRead8(off, &v); *val = v; return 0; }
    case 2: { uint16_t v; pci->ConfigurationRead16(off, &v); *val = v; return 0; }
    case 4: pci->ConfigurationRead32(off, val); return 0;
    }
    return VFA_E_INVAL;
}

static int op_config_write(void *ctx, uint32_t off, unsigned width, uint32_t val)
{
    IOPCIDevice *pci = iv(ctx)->pci;

    switch (width) {
    case 1: pci->ConfigurationWrite8(off, (uint8_t)val); return 0;
    case 2: pci->ConfigurationWrite16(off, (uint16_t)val); return 0;
    case 4: pci->ConfigurationWrite32(off, val); return 0;
    }
    return VFA_E_INVAL;
}

/* For vfa_platform_info_from_config(): all-ones for what cannot be read. */
static uint32_t walk_read(void *ctx, uint32_t off, unsigned width)
{
    uint32_t v = ~0u;

    if (off >= CFG_EXT_SIZE || width > CFG_EXT_SIZE - off || off % width ||
        op_config_read(ctx, off, width, &v))
        return ~0u;
    return v;
}

static int op_mmio_read(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
    VFIOAppleDriver_IVars *d = iv(ctx);
    uint8_t mi = d->mem_index[bar];

    switch (width) {
    case 1: { uint8_t v; d->pci->MemoryRead8(mi, off, &v); *val = v; return 0; }
    case 2: { uint16_t v; d->pci->MemoryRead16(mi, off, &v); *val = v; return 0; }
    case 4: { uint32_t v; d->pci->MemoryRead32(mi, off, &v); *val = v; return 0; }
    case 8: d->pci->MemoryRead64(mi, off, val); return 0;
    }
    return VFA_E_INVAL;
}

static int op_mmio_write(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
    VFIOAppleDriver_IVars *d = iv(ctx);
    uint8_t mi = d->mem_index[bar];

    switch (width) {
    case 1: d->pci->MemoryWrite8(mi, off, (uint8_t)val); return 0;
    case 2: d->pci->MemoryWrite16(mi, off, (uint16_t)val); return 0;
    case 4: d->pci->MemoryWrite32(mi, off, (uint32_t)val); return 0;
    case 8: d->pci->MemoryWrite64(mi, off, val); return 0;
    }
    return VFA_E_INVAL;
}

/* The expansion ROM as a memory range (kPCIMemoryRangeExpansionROM). */
static int op_rom_read(void *ctx, uint64_t off, void *buf, uint32_t len)
{
    VFIOAppleDriver_IVars *d = iv(ctx);
    uint8_t *out = static_cast<uint8_t *>(buf);

    if (!d->rom)
        return VFA_E_NOTSUP;
    for (uint32_t i = 0; i < len; i++) {
        uint8_t v;

        d->pci->MemoryRead8(d->rom_index, off + i, &v);
        out[i] = v;
    }
    return 0;
}

/* One kind at a time, as the core asks: it falls back from FLR to hot
 * reset itself (and never asks for FLR under VFA_QUIRK_NO_FLR). */
static int op_reset(void *ctx, uint32_t method)
{
    uint32_t type;

    if (method == VFA_RESET_FLR)
        type = kIOPCIDeviceResetTypeFunctionReset;
    else if (method == VFA_RESET_HOT)
        type = kIOPCIDeviceResetTypeHotReset;
    else
        return VFA_E_NOTSUP;
    return iv(ctx)->pci->Reset(type, 0) == kIOReturnSuccess ? 0 : VFA_E_NOTSUP;
}

/* Withdraw every source; on return no handler is inside vfa_core_irq(). */
static void irq_teardown(VFIOAppleDriver_IVars *d)
{
    __atomic_store_n(&d->irq_active, 0, __ATOMIC_SEQ_CST);
    for (uint32_t v = 0; v < d->nirq; v++) {
        if (d->irq[v]) {
            d->irq[v]->SetEnable(false);
            OSSafeReleaseNULL(d->irq[v]);
        }
    }
    d->nirq = 0;
    while (__atomic_load_n(&d->irq_busy, __ATOMIC_SEQ_CST))
        IOSleep(1);
}

static int op_irq_setup(void *ctx, uint32_t type, uint32_t count)
{
    VFIOAppleDriver *self = static_cast<VFIOAppleDriver *>(ctx);
    VFIOAppleDriver_IVars *d = self->ivars;

    irq_teardown(d);
    if (type == VFA_IRQ_NONE)
        return 0;
    /* The host owns message address and data: PCIDriverKit programs the
     * capability; the guest's values never reach it (core policy). */
    if (d->pci->ConfigureInterrupts(type == VFA_IRQ_MSIX ? kIOInterruptTypePCIMessagedX
                                                         : kIOInterruptTypePCIMessaged,
                                    count, count, 0) != kIOReturnSuccess)
        return VFA_E_IO;
    for (uint32_t v = 0; v < count; v++) {
        OSAction *action = NULL;

        if (IOInterruptDispatchSource::Create(d->pci, v, d->irq_queue, &d->irq[v]) !=
                kIOReturnSuccess ||
            self->CreateActionInterruptOccurred(sizeof(uint32_t), &action) != kIOReturnSuccess) {
            d->nirq = v + 1;
            irq_teardown(d);
            return VFA_E_IO;
        }
        *static_cast<uint32_t *>(action->GetReference()) = v;
        d->nirq = v + 1;
        kern_return_t kr = d->irq[v]->SetHandler(action);
        action->release();              /* the source keeps its own */
        if (kr != kIOReturnSuccess || d->irq[v]->SetEnable(true) != kIOReturnSuccess) {
            irq_teardown(d);
            return VFA_E_IO;
        }
    }
    __atomic_store_n(&d->irq_active, 1, __ATOMIC_SEQ_CST);
    return 0;
}

/*
 * Wrap the client's range (CreateMemoryDescriptorFromClient, copy-on-write
 * disabled: DESIGN.md section 3) and have the system map it for the
 * device.  The client id is the user client itself (VFIOAppleUserClient
 * passes `this`), which outlives its session: its Stop ends the session
 * before it goes.
 */
static int op_dma_prepare(void *ctx, uint64_t client, uint64_t va, uint64_t len, uint32_t flags,
                          struct vfa_dma_segment *segs, unsigned max, unsigned *nsegs,
                          uint64_t *cookie)
{
    VFIOAppleDriver_IVars *d = iv(ctx);
    VFIOAppleUserClient *uc = reinterpret_cast<VFIOAppleUserClient *>(client);
    IODMACommandSpecification spec;
    IOAddressSegment out[VFA_MAX_DMA_SEGMENTS];
    uint32_t n = VFA_MAX_DMA_SEGMENTS;
    uint64_t dir = 0, dflags = 0;
    struct dma_cookie *ck;

    /* Direction relative to the memory: the device reading it is "out". */
    if (flags & VFA_DMA_TO_DEVICE)
        dir |= kIOMemoryDirectionOut;
    if (flags & VFA_DMA_FROM_DEVICE)
        dir |= kIOMemoryDirectionIn;
    ck = IONewZero(struct dma_cookie, 1);
    if (!ck)
        return VFA_E_NOMEM;
    if (uc->WrapClientMemory(va, len, dir | kIOMemoryDisableCopyOnWrite, &ck->memory) !=
        kIOReturnSuccess) {
        IOSafeDeleteNULL(ck, struct dma_cookie, 1);
        return VFA_E_FAULT;
    }
    memset(&spec, 0, sizeof(spec));
    spec.options = kIODMACommandSpecificationNoOptions;
    spec.maxAddressBits = 64;
    if (IODMACommand::Create(d->pci, kIODMACommandCreateNoOptions, &spec, &ck->command) !=
        kIOReturnSuccess)
        goto fail;
    if (ck->command->PrepareForDMA(kIODMACommandPrepareForDMANoOptions, ck->memory, 0, len,
                                   &dflags, &n, out) != kIOReturnSuccess) {
        OSSafeReleaseNULL(ck->command);
        goto fail;
    }
    if (n == 0 || n > max) {
        ck->command->CompleteDMA(kIODMACommandCompleteDMANoOptions);
        OSSafeReleaseNULL(ck->command);
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        segs[i].iova = out[i].address;
        segs[i].len = out[i].length;
    }
    *nsegs = n;
    *cookie = reinterpret_cast<uint64_t>(ck);
    return 0;
fail:
    /* The DART refusing a mapping within the core's budget: the reported
     * limits were optimistic; the client sees "budget" and can shrink. */
    OSSafeReleaseNULL(ck->memory);
    IOSafeDeleteNULL(ck, struct dma_cookie, 1);
    return VFA_E_NOSPC;
}

static void op_dma_complete(void *ctx, uint64_t cookie)
{
    struct dma_cookie *ck = reinterpret_cast<struct dma_cookie *>(cookie);

    ck->command->CompleteDMA(kIODMACommandCompleteDMANoOptions);
    OSSafeReleaseNULL(ck->command);
    OSSafeReleaseNULL(ck->memory);
    IOSafeDeleteNULL(ck, struct dma_cookie, 1);
}

/* A fresh page per session: a client that kept its mapping of an old one
 * keeps orphaned memory, not the new session's. */
static void *op_irq_page_alloc(void *ctx)
{
    VFIOAppleDriver_IVars *d = iv(ctx);
    IOAddressSegment range;

    if (IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, VFA_IRQ_PAGE_SIZE,
                                         VFA_PAGE_SIZE, &d->irq_page) != kIOReturnSuccess)
        return NULL;
    if (d->irq_page->GetAddressRange(&range) != kIOReturnSuccess ||
        range.length < VFA_IRQ_PAGE_SIZE) {
        OSSafeReleaseNULL(d->irq_page);
        return NULL;
    }
    void *p = reinterpret_cast<void *>(range.address);
    memset(p, 0, VFA_IRQ_PAGE_SIZE);
    return p;
}

static void op_irq_page_free(void *ctx, void *page)
{
    OSSafeReleaseNULL(iv(ctx)->irq_page);
}

/* The core validated the type; the caller (CopyClientMemoryForType)
 * consumes the reference handed out. */
static int op_map_memory(void *ctx, uint64_t client, uint32_t type, void **handle,
                         uint64_t *size)
{
    VFIOAppleDriver *self = static_cast<VFIOAppleDriver *>(ctx);
    VFIOAppleDriver_IVars *d = self->ivars;
    IOMemoryDescriptor *md = NULL;

    if (type == VFA_MEM_IRQ_PAGE) {
        if (!d->irq_page)
            return VFA_E_IO;
        d->irq_page->retain();
        *handle = d->irq_page;
        *size = VFA_IRQ_PAGE_SIZE;
        return 0;
    }
    if (d->pci->_CopyDeviceMemoryWithIndex(d->mem_index[type], &md, self) != kIOReturnSuccess)
        return VFA_E_IO;
    *handle = md;
    *size = d->bar_size[type];
    return 0;
}

/* Any thread; the lock is held only around the pointer swap and the
 * send, never across a wait. */
static void op_notify(void *ctx)
{
    VFIOAppleDriver_IVars *d = iv(ctx);
    IOUserClientAsyncArgumentsArray none;

    IOLockLock(d->notify_lock);
    if (d->notify_client && d->notify_action)
        d->notify_client->AsyncCompletion(d->notify_action, kIOReturnSuccess, none, 0);
    IOLockUnlock(d->notify_lock);
}

/* PCIDriverKit clears memory-space enable on Close and when a dext
 * crashes (IOPCIDevice overview): the session starts decoding.  Bus
 * mastering stays the guest's to set (a forwarded Command write), and
 * the core clears it when the session ends. */
static int op_session_begin(void *ctx, uint64_t client)
{
    uint32_t cmd;

    if (op_config_read(ctx, CFG_COMMAND, 2, &cmd) || cmd == 0xffffu)
        return VFA_E_IO;
    return op_config_write(ctx, CFG_COMMAND, 2, (cmd | CFG_COMMAND_MEMORY) & 0xffffu);
}

static void notify_clear(VFIOAppleDriver_IVars *d, uint64_t client)
{
    OSAction *a = NULL;

    IOLockLock(d->notify_lock);
    if (!client || d->notify_owner == client) {
        a = d->notify_action;
        d->notify_action = NULL;
        d->notify_client = NULL;
        d->notify_owner = 0;
    }
    IOLockUnlock(d->notify_lock);
    OSSafeReleaseNULL(a);
}

static void op_session_end(void *ctx, uint64_t client)
{
    notify_clear(iv(ctx), client);
}

/*
 * Facts the core needs, read once.  Vector counts are the most the
 * platform could configure; the core cuts them to what the MSI and
 * MSI-X capabilities offer (config_policy.c), and traps the MSI-X
 * pages itself.
 */
static int op_get_info(void *ctx, struct vfa_platform_info *in)
{
    VFIOAppleDriver *self = static_cast<VFIOAppleDriver *>(ctx);
    VFIOAppleDriver_IVars *d = self->ivars;
    uint64_t regid = 0;

    memset(in, 0, sizeof(*in));
    in->reset_methods = VFA_RESET_HOT;  /* macOS 13+ (Reset); FLR: below */
    vfa_platform_info_from_config(in, walk_read, ctx);
    if (in->vendor_id == 0xffffu)
        return VFA_E_IO;
    d->pci->GetBusDeviceFunction(&in->bus, &in->dev, &in->fn);
    /* Apple Silicon reuses bus numbers below each root port: the
     * IOPCIDevice's registry ID names this function uniquely, and the
     * client finds the root port above it (README.md, "Location").  Our
     * own service's ID would not be the function's; 0 (the call failed)
     * is refused by the client. */
    d->pci->GetRegistryEntryID(&regid);
    snprintf(in->location, sizeof(in->location), "regid:0x%llx", (unsigned long long)regid);

    for (uint8_t i = 0; i < VFA_NUM_BARS; i++) {
        uint8_t mi = 0, type = 0;
        uint64_t size = 0;

        if (d->pci->GetBARInfo(i, &mi, &size, &type) != kIOReturnSuccess || !size)
            continue;
        if (type == kPCIBARTypeIO)      /* no I/O space on Apple Silicon */
            continue;
        d->mem_index[i] = mi;
        d->bar_size[i] = size;
        in->bar_size[i] = size;
        in->bar_memory_index[i] = mi;
        in->bar_flags[i] = VFA_BAR_PRESENT | VFA_BAR_MAPPABLE;
        if (type == kPCIBARTypeM64 || type == kPCIBARTypeM64PF)
            in->bar_flags[i] |= VFA_BAR_MEM64;
        if (type == kPCIBARTypeM32PF || type == kPCIBARTypeM64PF)
            in->bar_flags[i] |= VFA_BAR_PREFETCHABLE;
    }
    uint8_t rtype = 0;
    if (d->pci->GetBARInfo(kPCIMemoryRangeExpansionROM, &d->rom_index, &d->rom_size, &rtype) ==
            kIOReturnSuccess && d->rom_size) {
        d->rom = true;
        in->rom_size = d->rom_size;
    }
    in->msi_vectors = 32;
    in->msix_vectors = VFA_MAX_VECTORS;
    return 0;
}

/* Field by field: designated initializers are C++20, a positional list
 * would silently follow a reordering of platform.h, and a global built at
 * load time would need a static constructor. */
static struct vfa_platform_ops make_ops()
{
    struct vfa_platform_ops o;

    memset(&o, 0, sizeof(o));
    o.get_info = op_get_info;
    o.config_read = op_config_read;
    o.config_write = op_config_write;
    o.mmio_read = op_mmio_read;
    o.mmio_write = op_mmio_write;
    o.rom_read = op_rom_read;
    o.reset = op_reset;
    o.irq_setup = op_irq_setup;
    o.dma_prepare = op_dma_prepare;
    o.dma_complete = op_dma_complete;
    o.irq_page_alloc = op_irq_page_alloc;
    o.irq_page_free = op_irq_page_free;
    o.map_memory = op_map_memory;
    o.notify = op_notify;
    o.session_begin = op_session_begin;
    o.session_end = op_session_end;
    return o;
}

/* --------------------------------------------------------- lifecycle -- */

bool VFIOAppleDriver::init()
{
    if (!super::init())
        return false;
    ivars = IONewZero(VFIOAppleDriver_IVars, 1);
    if (!ivars)
        return false;
    ivars->lock = IOLockAlloc();
    ivars->notify_lock = IOLockAlloc();
    ivars->irq = IONewZero(IOInterruptDispatchSource *, VFA_MAX_VECTORS);
    return ivars->lock && ivars->notify_lock && ivars->irq;
}

void VFIOAppleDriver::free()
{
    if (ivars) {
        if (ivars->lock)
            IOLockFree(ivars->lock);
        if (ivars->notify_lock)
            IOLockFree(ivars->notify_lock);
        IOSafeDeleteNULL(ivars->irq, IOInterruptDispatchSource *, VFA_MAX_VECTORS);
    }
    IOSafeDeleteNULL(ivars, VFIOAppleDriver_IVars, 1);
    super::free();
}

/* The device went away, or the dext is being stopped: the client is told
 * (IRQ page event), its session released, the device closed. */
static void teardown(VFIOAppleDriver *self, IOService *provider)
{
    VFIOAppleDriver_IVars *d = self->ivars;

    IOLockLock(d->lock);
    if (d->core) {
        /* Removed: nothing is written to it.  Still there: the session
         * goes in the safe order while it answers.  The client hears
         * DEVICE_GONE either way. */
        vfa_core_probe_gone(d->core);
        vfa_core_shutdown(d->core);
        vfa_core_destroy(d->core);
        d->core = NULL;
    }
    IOLockUnlock(d->lock);
    notify_clear(d, 0);
    if (d->pci) {
        d->pci->Close(self, 0);
        OSSafeReleaseNULL(d->pci);
    }
    OSSafeReleaseNULL(d->irq_queue);
}

kern_return_t IMPL(VFIOAppleDriver, Start)
{
    VFIOAppleDriver_IVars *d = ivars;
    uint32_t err = 0;
    kern_return_t kr = Start(provider, SUPERDISPATCH);

    if (kr != kIOReturnSuccess)
        return kr;
    d->pci = OSDynamicCast(IOPCIDevice, provider);
    if (!d->pci) {
        Stop(provider, SUPERDISPATCH);
        return kIOReturnNoDevice;
    }
    d->pci->retain();
    if (d->pci->Open(this, 0) != kIOReturnSuccess) {
        OSSafeReleaseNULL(d->pci);
        Stop(provider, SUPERDISPATCH);
        return kIOReturnExclusiveAccess;
    }
    if (IODispatchQueue::Create("Interrupts", 0, 0, &d->irq_queue) != kIOReturnSuccess ||
        SetDispatchQueue("Interrupts", d->irq_queue) != kIOReturnSuccess)
        goto fail;
    /* A function the quirk table refuses (VFA_QUIRK_NO_BIND) is left
     * alone: nothing was written to it. */
    d->ops = make_ops();
    d->core = vfa_core_create(&d->ops, this, NULL, &err);
    if (!d->core)
        goto fail;
    kr = RegisterService();
    if (kr != kIOReturnSuccess)
        goto fail;
    return kIOReturnSuccess;
fail:
    IOLog("VFIOAppleDriver: not starting: %s\n", err ? vfa_err_name(err) : "setup failed");
    teardown(this, provider);
    Stop(provider, SUPERDISPATCH);
    return err == VFA_E_NOTSUP ? kIOReturnUnsupported : kIOReturnError;
}

kern_return_t IMPL(VFIOAppleDriver, Stop)
{
    teardown(this, provider);
    return Stop(provider, SUPERDISPATCH);
}

kern_return_t IMPL(VFIOAppleDriver, NewUserClient)
{
    IOService *client = NULL;

    if (Create(this, "UserClientProperties", &client) != kIOReturnSuccess)
        return kIOReturnError;
    *userClient = OSDynamicCast(IOUserClient, client);
    if (!*userClient) {
        client->release();
        return kIOReturnError;
    }
    return kIOReturnSuccess;
}

/* Sleep: remember what the guest set.  Wake: config space may be back at
 * reset values (reported on Apple Silicon); the core writes it back. */
kern_return_t IMPL(VFIOAppleDriver, SetPowerState)
{
    IOLockLock(ivars->lock);
    if (ivars->core) {
        if (powerFlags == kIOServicePowerCapabilityOff)
            vfa_core_power_save(ivars->core);
        else if (powerFlags & kIOServicePowerCapabilityOn)
            vfa_core_power_restore(ivars->core);
    }
    IOLockUnlock(ivars->lock);
    return SetPowerState(powerFlags, SUPERDISPATCH);
}

void IMPL(VFIOAppleDriver, InterruptOccurred)
{
    VFIOAppleDriver_IVars *d = ivars;
    const uint32_t *ref = static_cast<const uint32_t *>(action->GetReference());

    if (!ref)
        return;
    uint32_t v = *ref;

    /* Busy before active is checked, mirrored in irq_teardown(): either
     * teardown sees this handler busy and waits, or the handler sees the
     * sources withdrawn and does nothing. */
    __atomic_fetch_add(&d->irq_busy, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&d->irq_active, __ATOMIC_SEQ_CST) && d->core)
        vfa_core_irq(d->core, v);
    __atomic_fetch_sub(&d->irq_busy, 1, __ATOMIC_SEQ_CST);
}

/* ---------------------------------------------- for the user client -- */

uint32_t VFIOAppleDriver::ClientCall(uint64_t client, void *call)
{
    uint32_t rc = VFA_E_NODEV;

    IOLockLock(ivars->lock);
    if (ivars->core)
        rc = vfa_core_dispatch(ivars->core, client, static_cast<struct vfa_call *>(call));
    IOLockUnlock(ivars->lock);
    return rc;
}

uint32_t VFIOAppleDriver::ClientMapMemory(uint64_t client, uint32_t type,
                                          IOMemoryDescriptor **memory)
{
    uint32_t rc = VFA_E_NODEV;
    void *handle = NULL;
    uint64_t size = 0;

    IOLockLock(ivars->lock);
    if (ivars->core)
        rc = vfa_core_map_memory(ivars->core, client, type, &handle, &size);
    IOLockUnlock(ivars->lock);
    *memory = rc ? NULL : static_cast<IOMemoryDescriptor *>(handle);
    return rc;
}

/* NOTIFY_REGISTER succeeded for `client`: keep its completion. */
void VFIOAppleDriver::ClientNotifyAction(uint64_t client, IOUserClient *userClient,
                                         OSAction *action)
{
    OSAction *old;

    action->retain();
    IOLockLock(ivars->notify_lock);
    old = ivars->notify_action;
    ivars->notify_action = action;
    ivars->notify_client = userClient;
    ivars->notify_owner = client;
    IOLockUnlock(ivars->notify_lock);
    OSSafeReleaseNULL(old);
}

/* The client closed, died, or the device is going: release its session.
 * A device that no longer answers is marked gone first, so the cleanup
 * does not write to it. */
void VFIOAppleDriver::ClientGone(uint64_t client)
{
    IOLockLock(ivars->lock);
    if (ivars->core) {
        vfa_core_probe_gone(ivars->core);
        vfa_core_client_gone(ivars->core, client);
    }
    IOLockUnlock(ivars->lock);
    notify_clear(ivars, client);
}
