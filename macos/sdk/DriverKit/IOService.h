/* IOService: the driver's base class.  Page: https://developer.apple.com/documentation/driverkit/ioservice.
 * Each LOCAL method has the documented form and the call form IIG
 * generates (trailing OSDispatchMethod, used with SUPERDISPATCH). */
#ifndef VFA_SDK_DK_IOSERVICE_H
#define VFA_SDK_DK_IOSERVICE_H

#include <DriverKit/OSObject.h>
#include <DriverKit/IODispatchQueue.h>

class IOUserClient;

typedef const char *IOPropertyName;     /* https://developer.apple.com/documentation/driverkit/iopropertyname */

/* https://developer.apple.com/documentation/driverkit/3325571-service_power_capabilities (values: placeholders) */
enum {
    kIOServicePowerCapabilityOff = 0x0,
    kIOServicePowerCapabilityOn  = 0x2,
};

class IOService : public OSObject {
public:
    /* https://developer.apple.com/documentation/driverkit/ioservice/start */
    virtual kern_return_t Start(IOService *provider);
    kern_return_t Start(IOService *provider, OSDispatchMethod supermethod);
    /* https://developer.apple.com/documentation/driverkit/ioservice/stop */
    virtual kern_return_t Stop(IOService *provider);
    kern_return_t Stop(IOService *provider, OSDispatchMethod supermethod);
    /* https://developer.apple.com/documentation/driverkit/ioservice/newuserclient */
    virtual kern_return_t NewUserClient(uint32_t type, IOUserClient **userClient);
    /* https://developer.apple.com/documentation/driverkit/ioservice/setpowerstate ("call super as the last step") */
    virtual kern_return_t SetPowerState(uint32_t powerFlags);
    kern_return_t SetPowerState(uint32_t powerFlags, OSDispatchMethod supermethod);
    /* https://developer.apple.com/documentation/driverkit/ioservice/create: a new service from the provider's personality
     * dictionary under propertiesKey (the user client). */
    kern_return_t Create(IOService *provider, const IOPropertyName propertiesKey,
                         IOService **result);
    /* https://developer.apple.com/documentation/driverkit/ioservice/registerservice */
    kern_return_t RegisterService();
    /* https://developer.apple.com/documentation/driverkit/ioservice/setdispatchqueue:
     * "call this method once for each unique queue name you designated"
     * with QUEUENAME (https://developer.apple.com/documentation/driverkit/queuename) */
    virtual kern_return_t SetDispatchQueue(const IODispatchQueueName name, IODispatchQueue *queue);
    /* https://developer.apple.com/documentation/driverkit/ioservice/getregistryentryid */
    virtual kern_return_t GetRegistryEntryID(uint64_t *registryEntryID);
};

#endif
