/* OSAction: a callback object (interrupt handlers, async completions).
 * Page: https://developer.apple.com/documentation/driverkit/osaction. */
#ifndef VFA_SDK_DK_OSACTION_H
#define VFA_SDK_DK_OSACTION_H

#include <DriverKit/OSObject.h>

class OSAction : public OSObject {
public:
    /* https://developer.apple.com/documentation/driverkit/osaction/getreference: the zero-initialised
     * storage of referenceSize bytes requested at creation; NULL for
     * size 0 or an action of another process. */
    void *GetReference();
};

#endif
