/*
 * OSObject and the IIG glue every DriverKit class shares.
 * Pages: https://developer.apple.com/documentation/driverkit/osobject, https://developer.apple.com/documentation/driverkit/impl, https://developer.apple.com/documentation/driverkit/superdispatch, https://developer.apple.com/documentation/driverkit/osdynamiccast,
 * https://developer.apple.com/documentation/driverkit/ossafereleasenull.
 *
 * IMPL and SUPERDISPATCH are macros whose expansion is IIG's; the pages
 * say how to use them (IMPL(Class, Method) opens the body of a LOCAL
 * method; Method(args, SUPERDISPATCH) calls the superclass's).  Our
 * expansions only need to type-check the same uses: IMPL names
 * Class::Method_Impl with the argument list the class's generated header
 * (here: dext/macos/iig-out/) defines as Class_Method_Args.
 */
#ifndef VFA_SDK_DK_OSOBJECT_H
#define VFA_SDK_DK_OSOBJECT_H

#include <stddef.h>
#include <stdint.h>

#include <DriverKit/IOReturn.h>

class OSObject;

/* IIG's message handle (opaque here). */
struct IORPC {
    void *message, *reply;
    uint32_t sendSize, replySize;
};
/* IIG-generated: the dispatch function of a class, passed to reach the
 * superclass's implementation of a LOCAL method. */
typedef kern_return_t (*OSDispatchMethod)(OSObject *self, const IORPC rpc);

/* https://developer.apple.com/documentation/driverkit/osobject */
class OSObject {
public:
    virtual bool init();                /* https://developer.apple.com/documentation/driverkit/osobject/init */
    virtual void free();                /* https://developer.apple.com/documentation/driverkit/osobject/free */
    void retain() const;                /* https://developer.apple.com/documentation/driverkit/osobject/retain (OSMetaClassBase) */
    void release() const;               /* https://developer.apple.com/documentation/driverkit/osobject/release (OSMetaClassBase) */
    /* IIG-generated in every class; declared once here. */
    static kern_return_t _Dispatch(OSObject *self, const IORPC rpc);
protected:
    virtual ~OSObject();
};

#define IMPL(class, method)     class::method##_Impl(class##_##method##_Args)
#define SUPERDISPATCH           ((OSDispatchMethod)&super::_Dispatch)

/* https://developer.apple.com/documentation/driverkit/osdynamiccast: a checked downcast, NULL if inst is not a type. */
#define OSDynamicCast(type, inst)   (dynamic_cast<type *>(inst))

/* https://developer.apple.com/documentation/driverkit/ossafereleasenull */
#define OSSafeReleaseNULL(p)    do { if (p) { (p)->release(); (p) = NULL; } } while (0)

#endif
