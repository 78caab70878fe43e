/*
 * vfio-apple installer: activates, deactivates and reports the vfio-apple
 * DriverKit extension (a system extension embedded in this app's bundle,
 * Contents/Library/SystemExtensions/).  A command-line app, on purpose:
 * the only UI macOS needs is its own approval prompt in System Settings,
 * and text output is what the hardware validation checklist compares.
 *
 *   VFIOAppleInstaller activate     install or update, then report
 *   VFIOAppleInstaller deactivate   remove (macOS may ask to confirm)
 *   VFIOAppleInstaller status       report only (the default)
 *
 * It runs from /Applications (macOS refuses to activate extensions of an
 * app anywhere else) as the bundle's executable:
 *   /Applications/VFIOAppleInstaller.app/Contents/MacOS/VFIOAppleInstaller
 * Exit status: 0 done, 2 waiting for the user's approval or a reboot,
 * 1 failed.  Every line it prints starts with "vfio-apple: ".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#import <Foundation/Foundation.h>
#import <SystemExtensions/SystemExtensions.h>

/*
 * The dext's bundle identifier: its Info.plist CFBundleIdentifier, the
 * dext's directory name under Contents/Library/SystemExtensions without
 * ".dext", and what `systemextensionsctl list` shows.
 */
static NSString *const kDextIdentifier = @"org.vfio-apple.driver";

enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_PENDING = 2 };

@interface VFAInstaller : NSObject <OSSystemExtensionRequestDelegate>
@property BOOL activating;
@end

static void say(NSString *what)
{
    printf("vfio-apple: %s\n", what.UTF8String);
}

/* What an OSSystemExtensionErrorDomain code means for the user. */
static const char *hint(NSInteger code)
{
    switch (code) {
    case OSSystemExtensionErrorUnsupportedParentBundleLocation:
        return "move VFIOAppleInstaller.app to /Applications and run it "
               "from there";
    case OSSystemExtensionErrorMissingEntitlement:
        return "the app lacks com.apple.developer.system-extension.install "
               "(see installer/README.md, Signing)";
    case OSSystemExtensionErrorExtensionNotFound:
        return "the app bundle has no Contents/Library/SystemExtensions/"
               "org.vfio-apple.driver.dext";
    case OSSystemExtensionErrorCodeSignatureInvalid:
    case OSSystemExtensionErrorValidationFailed:
        return "the dext's signature or entitlements were refused (a "
               "development-signed dext needs `systemextensionsctl "
               "developer on` and SIP's restriction lifted; see "
               "docs/macos-user-guide.md)";
    case OSSystemExtensionErrorForbiddenBySystemPolicy:
        return "a configuration profile (MDM) forbids this extension";
    case OSSystemExtensionErrorAuthorizationRequired:
        return "macOS needs an administrator to approve this";
    case OSSystemExtensionErrorRequestCanceled:
        return "the request was canceled";
    default:
        return "see `log show --last 5m --predicate 'subsystem == "
               "\"com.apple.sx\"'`";
    }
}

@implementation VFAInstaller

- (OSSystemExtensionReplacementAction)request:(OSSystemExtensionRequest *)request
                  actionForReplacingExtension:(OSSystemExtensionProperties *)existing
                                withExtension:(OSSystemExtensionProperties *)ext
{
    /*
     * Always take the bundled version: the dext and the QEMU that talks
     * to it ship together, and a stale dext would refuse a newer client's
     * ABI at session open anyway.  A running VM's session is cut off.
     */
    printf("vfio-apple: replacing version %s with %s\n",
           existing.bundleShortVersion.UTF8String,
           ext.bundleShortVersion.UTF8String);
    return OSSystemExtensionReplacementActionReplace;
}

- (void)requestNeedsUserApproval:(OSSystemExtensionRequest *)request
{
    say(@"waiting for approval: open System Settings > General > Login "
        @"Items & Extensions > Driver Extensions (macOS 15+; Privacy & "
        @"Security on macOS 13-14), allow \"vfio-apple\", then run "
        @"`VFIOAppleInstaller status`");
    exit(EXIT_PENDING);
}

- (void)request:(OSSystemExtensionRequest *)request
    didFinishWithResult:(OSSystemExtensionRequestResult)result
{
    if (result == OSSystemExtensionRequestWillCompleteAfterReboot) {
        say(self.activating ? @"activated: takes effect after a reboot"
                            : @"deactivated: takes effect after a reboot");
        exit(EXIT_PENDING);
    }
    say(self.activating ? @"activated" : @"deactivated");
    exit(EXIT_DONE);
}

- (void)request:(OSSystemExtensionRequest *)request
    didFailWithError:(NSError *)error
{
    printf("vfio-apple: failed: %s (%s %ld): %s\n",
           error.localizedDescription.UTF8String, error.domain.UTF8String,
           (long)error.code, hint(error.code));
    exit(EXIT_FAILED);
}

/* The status request's answer: one line per installed version. */
- (void)request:(OSSystemExtensionRequest *)request
    foundProperties:(NSArray<OSSystemExtensionProperties *> *)properties
{
    NSUInteger i;
    int rc = EXIT_FAILED;

    if (!properties.count) {
        say(@"state: not installed");
    }
    for (i = 0; i < properties.count; i++) {
        OSSystemExtensionProperties *p = [properties objectAtIndex:i];
        const char *state = p.uninstalling ? "uninstalling" :
                            p.awaitingUserApproval ? "awaiting approval" :
                            p.enabled ? "enabled" : "installed, disabled";

        printf("vfio-apple: state: %s, version %s (%s), %s\n", state,
               p.bundleShortVersion.UTF8String, p.bundleVersion.UTF8String,
               p.URL.path.UTF8String);
        if (p.enabled && !p.uninstalling) {
            rc = EXIT_DONE;
        } else if (rc != EXIT_DONE) {
            rc = EXIT_PENDING;
        }
    }
    exit(rc);
}

@end

int main(int argc, const char *argv[])
{
    const char *verb = argc > 1 ? argv[1] : "status";
    dispatch_queue_t q = dispatch_get_main_queue();
    VFAInstaller *installer = [VFAInstaller new];
    OSSystemExtensionRequest *req;

    if (!strcmp(verb, "activate")) {
        installer.activating = YES;
        req = [OSSystemExtensionRequest
               activationRequestForExtension:kDextIdentifier queue:q];
    } else if (!strcmp(verb, "deactivate")) {
        req = [OSSystemExtensionRequest
               deactivationRequestForExtension:kDextIdentifier queue:q];
    } else if (!strcmp(verb, "status")) {
        req = [OSSystemExtensionRequest
               propertiesRequestForExtension:kDextIdentifier queue:q];
    } else {
        printf("usage: VFIOAppleInstaller [activate|deactivate|status]\n");
        return EXIT_FAILED;
    }
    /* The request holds its delegate weakly: `installer` lives in main. */
    req.delegate = installer;
    [[OSSystemExtensionManager sharedManager] submitRequest:req];
    /* The delegate's callbacks arrive on the main queue and exit. */
    dispatch_main();
}
