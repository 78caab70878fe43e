/*
 * The subset of Foundation the installer calls (declarations written from
 * Apple's documentation; see macos/sdk/README.md).  On a Mac,
 * <Foundation/Foundation.h> also brings in the C library; the three C
 * functions the installer uses from it are declared at the end.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_FOUNDATION_H
#define VFA_SDK_FOUNDATION_H

#include <objc/objc.h>
#include <dispatch/dispatch.h>

/* https://developer.apple.com/documentation/objectivec/nsobjectprotocol */
@protocol NSObject
@end

/* https://developer.apple.com/documentation/objectivec/nsobject */
__attribute__((objc_root_class))
@interface NSObject <NSObject>
+ (instancetype)alloc;
+ (instancetype)new;
- (instancetype)init;
@end

/* https://developer.apple.com/documentation/foundation/nsstring */
@interface NSString : NSObject
/* https://developer.apple.com/documentation/foundation/nsstring/stringwithutf8string */
+ (instancetype)stringWithUTF8String:(const char *)s;
/* https://developer.apple.com/documentation/foundation/nsstring/utf8string */
@property (readonly) const char *UTF8String;
@end

/* The class of @"..." literals on Apple platforms. */
@interface NSConstantString : NSString
@end

/* https://developer.apple.com/documentation/foundation/nsurl */
@interface NSURL : NSObject
/* https://developer.apple.com/documentation/foundation/nsurl/path */
@property (readonly, copy) NSString *path;
@end

/* https://developer.apple.com/documentation/foundation/nserror */
@interface NSError : NSObject
/* https://developer.apple.com/documentation/foundation/nserror/domain */
@property (readonly, copy) NSString *domain;
/* https://developer.apple.com/documentation/foundation/nserror/code */
@property (readonly) NSInteger code;
/* https://developer.apple.com/documentation/foundation/nserror/localizeddescription */
@property (readonly, copy) NSString *localizedDescription;
@end

/* https://developer.apple.com/documentation/foundation/nsarray */
@interface NSArray<ObjectType> : NSObject
/* https://developer.apple.com/documentation/foundation/nsarray/count */
@property (readonly) NSUInteger count;
/* https://developer.apple.com/documentation/foundation/nsarray/objectatindex */
- (ObjectType)objectAtIndex:(NSUInteger)index;
@end

/* https://developer.apple.com/documentation/foundation/nsbundle */
@interface NSBundle : NSObject
/* https://developer.apple.com/documentation/foundation/nsbundle/mainbundle */
@property (class, readonly, strong) NSBundle *mainBundle;
/* https://developer.apple.com/documentation/foundation/nsbundle/bundleidentifier */
@property (readonly, copy) NSString *bundleIdentifier;
@end

/* C library (stdio.h, stdlib.h, string.h), as Foundation.h includes it. */
int printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
void exit(int status) __attribute__((noreturn));
int strcmp(const char *a, const char *b);

#endif
