/* IODispatchQueue: the queues methods and handlers run on.
 * Page: https://developer.apple.com/documentation/driverkit/iodispatchqueue. */
#ifndef VFA_SDK_DK_IODISPATCHQUEUE_H
#define VFA_SDK_DK_IODISPATCHQUEUE_H

#include <DriverKit/OSObject.h>

typedef char IODispatchQueueName[256];  /* https://developer.apple.com/documentation/driverkit/iodispatchqueuename */

class IODispatchQueue : public OSObject {
public:
    /* https://developer.apple.com/documentation/driverkit/iodispatchqueue/create */
    static kern_return_t Create(const IODispatchQueueName name, uint64_t options,
                                uint64_t priority, IODispatchQueue **queue);
};

#endif
