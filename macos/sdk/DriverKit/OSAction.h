/* OSAction: a callback object (interrupt handlers, async completions).
 * Page: https://developer.apple.com/documentation/driverkit/osaction. */
#ifndef VFA_SDK_DK_OSACTION_H
#define VFA_SDK_DK_OSACTION_H

#include <DriverKit/OSObject.h>

class OSAction : public OSObject {
public:
    /* https://developer.apple.com/documentation/driverkit/osaction/getreference: the storage of referenceSize bytes
     * requested when the action was created (CreateAction<Method>). */
    void *GetReference();
};

#endif
