/* IODispatchSource: enable/disable of event sources.
 * Page: https://developer.apple.com/documentation/driverkit/iodispatchsource. */
#ifndef VFA_SDK_DK_IODISPATCHSOURCE_H
#define VFA_SDK_DK_IODISPATCHSOURCE_H

#include <DriverKit/OSObject.h>

class IODispatchSource : public OSObject {
public:
    /* https://developer.apple.com/documentation/driverkit/iodispatchsource/setenable */
    kern_return_t SetEnable(bool enable);
};

#endif
