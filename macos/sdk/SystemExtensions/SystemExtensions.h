/*
 * The subset of the SystemExtensions framework the installer calls
 * (declarations written from Apple's documentation; see
 * macos/sdk/README.md).  Pages under
 * https://developer.apple.com/documentation/systemextensions/.  Enum
 * numbers are not on the pages; they were cross-checked against public
 * bindings generated from the SDK (objc2-system-extensions).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_SYSTEMEXTENSIONS_H
#define VFA_SDK_SYSTEMEXTENSIONS_H

#include <Foundation/Foundation.h>

/* .../systemextensions/ossystemextensionerrordomain */
extern NSString *const OSSystemExtensionErrorDomain;

/* .../systemextensions/ossystemextensionerrorcode */
enum {
    OSSystemExtensionErrorUnknown = 1,
    OSSystemExtensionErrorMissingEntitlement = 2,
    OSSystemExtensionErrorUnsupportedParentBundleLocation = 3,
    OSSystemExtensionErrorExtensionNotFound = 4,
    OSSystemExtensionErrorExtensionMissingIdentifier = 5,
    OSSystemExtensionErrorDuplicateExtensionIdentifer = 6,
    OSSystemExtensionErrorUnknownExtensionCategory = 7,
    OSSystemExtensionErrorCodeSignatureInvalid = 8,
    OSSystemExtensionErrorValidationFailed = 9,
    OSSystemExtensionErrorForbiddenBySystemPolicy = 10,
    OSSystemExtensionErrorRequestCanceled = 11,
    OSSystemExtensionErrorRequestSuperseded = 12,
    OSSystemExtensionErrorAuthorizationRequired = 13,
};

/* .../systemextensions/ossystemextensionreplacementaction */
typedef NSInteger OSSystemExtensionReplacementAction;
enum {
    OSSystemExtensionReplacementActionCancel = 0,
    OSSystemExtensionReplacementActionReplace = 1,
};

/* .../systemextensions/ossystemextensionrequest/result */
typedef NSInteger OSSystemExtensionRequestResult;
enum {
    OSSystemExtensionRequestCompleted = 0,
    OSSystemExtensionRequestWillCompleteAfterReboot = 1,
};

/* .../systemextensions/ossystemextensionproperties (macOS 10.15; the
 * state properties macOS 12) */
@interface OSSystemExtensionProperties : NSObject
@property (readonly, copy) NSURL *URL;
@property (readonly, copy) NSString *bundleIdentifier;
@property (readonly, copy) NSString *bundleVersion;
@property (readonly, copy) NSString *bundleShortVersion;
@property (readonly, getter=isEnabled) BOOL enabled;
@property (readonly, getter=isAwaitingUserApproval) BOOL awaitingUserApproval;
@property (readonly, getter=isUninstalling) BOOL uninstalling;
@end

@class OSSystemExtensionRequest;

/* .../systemextensions/ossystemextensionrequestdelegate */
@protocol OSSystemExtensionRequestDelegate <NSObject>
@required
/* .../ossystemextensionrequestdelegate/request(_:actionforreplacingextension:withextension:) */
- (OSSystemExtensionReplacementAction)request:(OSSystemExtensionRequest *)request
                  actionForReplacingExtension:(OSSystemExtensionProperties *)existing
                                withExtension:(OSSystemExtensionProperties *)ext;
/* .../ossystemextensionrequestdelegate/requestneedsuserapproval(_:) */
- (void)requestNeedsUserApproval:(OSSystemExtensionRequest *)request;
/* .../ossystemextensionrequestdelegate/request(_:didfinishwithresult:) */
- (void)request:(OSSystemExtensionRequest *)request
    didFinishWithResult:(OSSystemExtensionRequestResult)result;
/* .../ossystemextensionrequestdelegate/request(_:didfailwitherror:) */
- (void)request:(OSSystemExtensionRequest *)request
    didFailWithError:(NSError *)error;
@optional
/* .../ossystemextensionrequestdelegate/request(_:foundproperties:) (12.0) */
- (void)request:(OSSystemExtensionRequest *)request
    foundProperties:(NSArray<OSSystemExtensionProperties *> *)properties;
@end

/* .../systemextensions/ossystemextensionrequest */
@interface OSSystemExtensionRequest : NSObject
/* .../ossystemextensionrequest/activationrequest(forextensionwithidentifier:queue:) */
+ (instancetype)activationRequestForExtension:(NSString *)identifier
                                        queue:(dispatch_queue_t)queue;
/* .../ossystemextensionrequest/deactivationrequest(forextensionwithidentifier:queue:) */
+ (instancetype)deactivationRequestForExtension:(NSString *)identifier
                                          queue:(dispatch_queue_t)queue;
/* .../ossystemextensionrequest/propertiesrequest(forextensionwithidentifier:queue:) (12.0) */
+ (instancetype)propertiesRequestForExtension:(NSString *)identifier
                                        queue:(dispatch_queue_t)queue;
@property (weak) id<OSSystemExtensionRequestDelegate> delegate;
@property (readonly, copy) NSString *identifier;
@end

/* .../systemextensions/ossystemextensionmanager */
@interface OSSystemExtensionManager : NSObject
/* .../ossystemextensionmanager/shared */
@property (class, readonly, strong) OSSystemExtensionManager *sharedManager;
/* .../ossystemextensionmanager/submitrequest(_:) */
- (void)submitRequest:(OSSystemExtensionRequest *)request;
@end

#endif
