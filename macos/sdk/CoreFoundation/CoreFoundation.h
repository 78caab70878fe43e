/*
 * The subset of CoreFoundation the IOKit transport uses: the dictionary
 * types IOKit's matching functions take and return (declarations written
 * from Apple's documentation; see macos/sdk/README.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_COREFOUNDATION_H
#define VFA_SDK_COREFOUNDATION_H

/* https://developer.apple.com/documentation/corefoundation/cftyperef */
typedef const void *CFTypeRef;
/* https://developer.apple.com/documentation/corefoundation/cfdictionaryref */
typedef const struct __CFDictionary *CFDictionaryRef;
/*
 * https://developer.apple.com/documentation/corefoundation/cfmutabledictionaryref
 */
typedef struct __CFDictionary *CFMutableDictionaryRef;

/* https://developer.apple.com/documentation/corefoundation/cfrelease */
void CFRelease(CFTypeRef cf);

#endif
