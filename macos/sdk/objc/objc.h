/*
 * The Objective-C runtime types the installer's code relies on
 * (declarations written from Apple's documentation; see
 * macos/sdk/README.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_OBJC_H
#define VFA_SDK_OBJC_H

/* https://developer.apple.com/documentation/objectivec/bool */
typedef signed char BOOL;
#define YES ((BOOL)1)
#define NO  ((BOOL)0)

/* https://developer.apple.com/documentation/objectivec/nsinteger */
typedef long NSInteger;
/* https://developer.apple.com/documentation/objectivec/nsuinteger */
typedef unsigned long NSUInteger;

#define nil ((id)0)

#endif
