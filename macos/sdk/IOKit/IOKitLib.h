/*
 * The subset of IOKit.framework's IOKitLib.h that client/transport-iokit.c
 * calls (declarations written from Apple's documentation; see
 * macos/sdk/README.md).  Pages are named by symbol under
 * https://developer.apple.com/documentation/iokit/; the C prototypes were
 * cross-checked against the parameter lists on those pages (which show the
 * Swift form) and against objc2-io-kit, which is generated from the SDK.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_IOKIT_IOKITLIB_H
#define VFA_SDK_IOKIT_IOKITLIB_H

#include <stddef.h>
#include <stdint.h>

#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/IOMessage.h>
#include <IOKit/IOReturn.h>
#include <dispatch/dispatch.h>
#include <mach/mach.h>

/* https://developer.apple.com/documentation/iokit/io_object_t */
typedef mach_port_t io_object_t;
/* https://developer.apple.com/documentation/iokit/io_registry_entry_t */
typedef io_object_t io_registry_entry_t;
/* https://developer.apple.com/documentation/iokit/io_service_t */
typedef io_object_t io_service_t;
/* https://developer.apple.com/documentation/iokit/io_connect_t */
typedef io_object_t io_connect_t;
/* https://developer.apple.com/documentation/iokit/io_iterator_t */
typedef io_object_t io_iterator_t;
/* https://developer.apple.com/documentation/iokit/io_name_t */
typedef char io_name_t[128];
/* https://developer.apple.com/documentation/kernel/iooptionbits */
typedef uint32_t IOOptionBits;
/* https://developer.apple.com/documentation/iokit/ionotificationportref */
typedef struct IONotificationPort *IONotificationPortRef;

/* https://developer.apple.com/documentation/iokit/io_object_null */
#define IO_OBJECT_NULL  ((io_object_t)0)

/* https://developer.apple.com/documentation/iokit/kiomainportdefault
 * (macOS 12; kIOMasterPortDefault before) */
extern const mach_port_t kIOMainPortDefault;

/* https://developer.apple.com/documentation/iokit/kiogeneralinterest */
#define kIOGeneralInterest "IOGeneralInterest"
/*
 * https://developer.apple.com/documentation/iokit/kioserviceplane
 * (the string cross-checked against public copies of xnu's IOKitKeys.h)
 */
#define kIOServicePlane "IOService"

/*
 * IOConnectMapMemory64 options:
 * https://developer.apple.com/documentation/kernel/kiomapanywhere
 * https://developer.apple.com/documentation/kernel/kiomapdefaultcache
 * https://developer.apple.com/documentation/kernel/kiomapwritecombinecache
 * (cache modes are the 4 bits at kIOMapCacheShift = 8; numbers
 * cross-checked against public copies of xnu's IOTypes.h)
 */
enum {
    kIOMapAnywhere              = 0x00000001,
    kIOMapDefaultCache          = 0x00000000,
    kIOMapInhibitCache          = 0x00000100,
    kIOMapWriteCombineCache     = 0x00000400,
    kIOMapCacheMask             = 0x00000f00,
    kIOMapReadOnly              = 0x00001000,
};

/*
 * The async reference of IOConnectCallAsync*Method: slot 1 holds the
 * callback, slot 2 its refcon; 8 slots.
 * https://developer.apple.com/documentation/iokit/kioasynccalloutfuncindex
 * https://developer.apple.com/documentation/iokit/kioasynccalloutrefconindex
 * https://developer.apple.com/documentation/kernel/kosasyncref64count
 */
enum {
    kIOAsyncReservedIndex       = 0,
    kIOAsyncCalloutFuncIndex    = 1,
    kIOAsyncCalloutRefconIndex  = 2,
    kOSAsyncRef64Count          = 8,
};

/* https://developer.apple.com/documentation/iokit/ioasynccallback */
typedef void (*IOAsyncCallback)(void *refcon, IOReturn result, void **args,
                                uint32_t numArgs);
/* https://developer.apple.com/documentation/iokit/ioserviceinterestcallback */
typedef void (*IOServiceInterestCallback)(void *refcon, io_service_t service,
                                          uint32_t messageType,
                                          void *messageArgument);

/* https://developer.apple.com/documentation/iokit/ioservicenamematching(_:) */
CFMutableDictionaryRef IOServiceNameMatching(const char *name);
/*
 * https://developer.apple.com/documentation/iokit/ioservicegetmatchingservices(_:_:_:)
 * (consumes one reference of @matching)
 */
kern_return_t IOServiceGetMatchingServices(mach_port_t mainPort,
                                           CFDictionaryRef matching,
                                           io_iterator_t *existing);
/* https://developer.apple.com/documentation/iokit/ioiteratornext(_:) */
io_object_t IOIteratorNext(io_iterator_t iterator);
/* https://developer.apple.com/documentation/iokit/ioobjectrelease(_:) */
kern_return_t IOObjectRelease(io_object_t object);
/*
 * Class and plane names are C strings: the pages show them as
 * UnsafePointer<CChar>, so they are declared `const char *` here (C makes
 * a `const io_name_t` parameter one anyway; spelling it as the array
 * would make GCC, which builds the glue test, expect 128 readable bytes).
 */
/*
 * https://developer.apple.com/documentation/iokit/ioobjectconformsto(_:_:)
 * (true if the object is of the class @className or of a subclass)
 */
boolean_t IOObjectConformsTo(io_object_t object, const char *className);

/*
 * https://developer.apple.com/documentation/iokit/ioregistryentrygetparententry(_:_:_:)
 * (the first parent in @plane; the caller releases *parent)
 */
kern_return_t IORegistryEntryGetParentEntry(io_registry_entry_t entry,
                                            const char *plane,
                                            io_registry_entry_t *parent);
/*
 * https://developer.apple.com/documentation/iokit/ioregistryentrygetname(_:_:)
 * (the global name, the class name if never named)
 */
kern_return_t IORegistryEntryGetName(io_registry_entry_t entry,
                                     io_name_t name);
/*
 * https://developer.apple.com/documentation/iokit/1514719-ioregistryentrygetregistryentryi
 * (an ID global to all tasks, valid until the machine reboots)
 */
kern_return_t IORegistryEntryGetRegistryEntryID(io_registry_entry_t entry,
                                                uint64_t *entryID);

/* https://developer.apple.com/documentation/iokit/1514515-ioserviceopen */
kern_return_t IOServiceOpen(io_service_t service, task_port_t owningTask,
                            uint32_t type, io_connect_t *connect);
/* https://developer.apple.com/documentation/iokit/ioserviceclose(_:) */
kern_return_t IOServiceClose(io_connect_t connect);

/*
 * https://developer.apple.com/documentation/iokit/ioconnectcallmethod(_:_:_:_:_:_:_:_:_:_:)
 * *outputCnt and *outputStructCnt: room offered in, filled out.
 */
kern_return_t IOConnectCallMethod(mach_port_t connection, uint32_t selector,
                                  const uint64_t *input, uint32_t inputCnt,
                                  const void *inputStruct,
                                  size_t inputStructCnt, uint64_t *output,
                                  uint32_t *outputCnt, void *outputStruct,
                                  size_t *outputStructCnt);
/*
 * https://developer.apple.com/documentation/iokit/ioconnectcallasyncscalarmethod(_:_:_:_:_:_:_:_:_:)
 */
kern_return_t IOConnectCallAsyncScalarMethod(mach_port_t connection,
                                             uint32_t selector,
                                             mach_port_t wake_port,
                                             uint64_t *reference,
                                             uint32_t referenceCnt,
                                             const uint64_t *input,
                                             uint32_t inputCnt,
                                             uint64_t *output,
                                             uint32_t *outputCnt);
/*
 * https://developer.apple.com/documentation/iokit/ioconnectmapmemory64(_:_:_:_:_:_:)
 */
kern_return_t IOConnectMapMemory64(io_connect_t connect, uint32_t memoryType,
                                   task_port_t intoTask,
                                   mach_vm_address_t *atAddress,
                                   mach_vm_size_t *ofSize,
                                   IOOptionBits options);
/*
 * https://developer.apple.com/documentation/iokit/ioconnectunmapmemory64(_:_:_:_:)
 */
kern_return_t IOConnectUnmapMemory64(io_connect_t connect,
                                     uint32_t memoryType,
                                     task_port_t fromTask,
                                     mach_vm_address_t atAddress);

/* https://developer.apple.com/documentation/iokit/ionotificationportcreate(_:) */
IONotificationPortRef IONotificationPortCreate(mach_port_t mainPort);
/* https://developer.apple.com/documentation/iokit/ionotificationportdestroy(_:) */
void IONotificationPortDestroy(IONotificationPortRef notify);
/*
 * https://developer.apple.com/documentation/iokit/ionotificationportgetmachport(_:)
 */
mach_port_t IONotificationPortGetMachPort(IONotificationPortRef notify);
/*
 * https://developer.apple.com/documentation/iokit/ionotificationportsetdispatchqueue(_:_:)
 */
void IONotificationPortSetDispatchQueue(IONotificationPortRef notify,
                                        dispatch_queue_t queue);
/*
 * https://developer.apple.com/documentation/iokit/1514866-ioserviceaddinterestnotification
 */
kern_return_t IOServiceAddInterestNotification(IONotificationPortRef notifyPort,
                                               io_service_t service,
                                               const char *interestType,
                                               IOServiceInterestCallback callback,
                                               void *refCon,
                                               io_object_t *notification);

#endif
