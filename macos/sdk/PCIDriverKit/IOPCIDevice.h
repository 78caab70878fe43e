/*
 * IOPCIDevice: the provider the system hands a PCI dext.
 * Page: https://developer.apple.com/documentation/pcidriverkit/iopcidevice ("the endpoint driver is responsible for enabling
 * the Memory Space Enable and Bus Master Enable settings each time it
 * configures the PCI device; when a crash occurs, or when the system
 * unloads your driver, the system disables these features").
 */
#ifndef VFA_SDK_PCIDK_IOPCIDEVICE_H
#define VFA_SDK_PCIDK_IOPCIDEVICE_H

#include <DriverKit/IOService.h>
#include <DriverKit/IOMemoryDescriptor.h>

typedef uint32_t IOOptionBits;          /* https://developer.apple.com/documentation/driverkit/iooptionbits */

/* https://developer.apple.com/documentation/pcidriverkit/iopcibartype ("BAR types for GetBARInfo"; values: placeholders) */
enum IOPCIBARType : unsigned int {
    kPCIBARTypeIO    = 0x1,
    kPCIBARTypeM32   = 0x0,
    kPCIBARTypeM32PF = 0x8,
    kPCIBARTypeM64   = 0x4,
    kPCIBARTypeM64PF = 0xc,
};

/* https://developer.apple.com/documentation/pcidriverkit/iopcimemoryrange ("BAR indexes for GetBARInfo"; placeholders) */
enum IOPCIMemoryRange : unsigned int {
    kPCIMemoryRangeBAR0 = 0,
    kPCIMemoryRangeBAR1,
    kPCIMemoryRangeBAR2,
    kPCIMemoryRangeBAR3,
    kPCIMemoryRangeBAR4,
    kPCIMemoryRangeBAR5,
    kPCIMemoryRangeExpansionROM,
};

/* https://developer.apple.com/documentation/pcidriverkit/tiopcideviceresettypes (placeholders; the page's overview: hot
 * reset sets the upstream bridge's secondary bus reset bit) */
typedef enum tIOPCIDeviceResetTypes : unsigned int {
    kIOPCIDeviceResetTypeHotReset,
    kIOPCIDeviceResetTypeFunctionReset,
    /* (and WarmResetDisable/Enable, which this code does not use) */
} tIOPCIDeviceResetTypes;

/* Interrupt types for ConfigureInterrupts (https://developer.apple.com/documentation/pcidriverkit/iopcidevice/configureinterrupts;
 * the constants' pages: .../kiointerrupttypepcimessaged,
 * .../kiointerrupttypepcimessagedx; placeholders). */
#define kIOInterruptTypePCIMessaged     0x00010000u
#define kIOInterruptTypePCIMessagedX    0x00020000u

class IOPCIDevice : public IOService {
public:
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/open: exclusive access */
    kern_return_t Open(IOService *forClient, IOOptionBits options);
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/close */
    void Close(IOService *forClient, IOOptionBits options);

    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/configurationread8, ...read16, ...read32
     * ("if the method encounters an error, it sets the value to -1") */
    void ConfigurationRead8(uint64_t offset, uint8_t *readData);
    void ConfigurationRead16(uint64_t offset, uint16_t *readData);
    void ConfigurationRead32(uint64_t offset, uint32_t *readData);
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/configurationwrite8, ...write16, ...write32 */
    void ConfigurationWrite8(uint64_t offset, uint8_t data);
    void ConfigurationWrite16(uint64_t offset, uint16_t data);
    void ConfigurationWrite32(uint64_t offset, uint32_t data);

    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/memoryread8 ... memoryread64: by memory index
     * (GetBARInfo's), not BAR number */
    void MemoryRead8(uint8_t memoryIndex, uint64_t offset, uint8_t *readData);
    void MemoryRead16(uint8_t memoryIndex, uint64_t offset, uint16_t *readData);
    void MemoryRead32(uint8_t memoryIndex, uint64_t offset, uint32_t *readData);
    void MemoryRead64(uint8_t memoryIndex, uint64_t offset, uint64_t *readData);
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/memorywrite32-ow7r and its 8/16/64 siblings */
    void MemoryWrite8(uint8_t memoryIndex, uint64_t offset, uint8_t data);
    void MemoryWrite16(uint8_t memoryIndex, uint64_t offset, uint16_t data);
    void MemoryWrite32(uint8_t memoryIndex, uint64_t offset, uint32_t data);
    void MemoryWrite64(uint8_t memoryIndex, uint64_t offset, uint64_t data);

    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/getbarinfo */
    virtual kern_return_t GetBARInfo(uint8_t barIndex, uint8_t *memoryIndex, uint64_t *barSize,
                                     uint8_t *barType);
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/_copydevicememorywithindex: the descriptor of one
     * memory range, for CopyClientMemoryForType */
    kern_return_t _CopyDeviceMemoryWithIndex(uint64_t memoryIndex, IOMemoryDescriptor **memory,
                                             IOService *forClient);
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/configureinterrupts */
    virtual kern_return_t ConfigureInterrupts(uint32_t interruptType, uint32_t numRequired,
                                              uint32_t numRequested, IOOptionBits options);
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/reset (macOS 13) */
    virtual kern_return_t Reset(IOOptionBits type, IOOptionBits options);
    /* https://developer.apple.com/documentation/pcidriverkit/iopcidevice/getbusdevicefunction */
    virtual kern_return_t GetBusDeviceFunction(uint8_t *returnBusNumber, uint8_t *returnDeviceNumber,
                                       uint8_t *returnFunctionNumber);
};

#endif
