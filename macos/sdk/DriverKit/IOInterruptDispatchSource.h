/* One interrupt vector's event source.
 * Page: https://developer.apple.com/documentation/driverkit/iointerruptdispatchsource ("for PCI devices, DriverKit
 * supports only MSI interrupt sources"). */
#ifndef VFA_SDK_DK_IOINTERRUPTDISPATCHSOURCE_H
#define VFA_SDK_DK_IOINTERRUPTDISPATCHSOURCE_H

#include <DriverKit/IODispatchSource.h>
#include <DriverKit/OSAction.h>

class IOService;
class IODispatchQueue;

class IOInterruptDispatchSource : public IODispatchSource {
public:
    /* https://developer.apple.com/documentation/driverkit/iointerruptdispatchsource/create: index = the provider's
     * interrupt index (vector n after ConfigureInterrupts). */
    static kern_return_t Create(IOService *provider, uint32_t index, IODispatchQueue *queue,
                                IOInterruptDispatchSource **source);
    /* https://developer.apple.com/documentation/driverkit/iointerruptdispatchsource/sethandler */
    virtual kern_return_t SetHandler(OSAction *action);
    /* https://developer.apple.com/documentation/driverkit/iointerruptdispatchsource/interruptoccurred: the prototype our
     * handler declares with TYPE(). */
    virtual void InterruptOccurred(OSAction *action, uint64_t count, uint64_t time);
};

#endif
