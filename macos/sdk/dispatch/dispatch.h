/*
 * The subset of libdispatch the IOKit transport uses: one serial queue
 * for IOKit's notifications (declarations written from Apple's
 * documentation; see macos/sdk/README.md).  C code, so the function (_f)
 * variants, not blocks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_DISPATCH_H
#define VFA_SDK_DISPATCH_H

/* https://developer.apple.com/documentation/dispatch/dispatch_queue_t */
typedef struct dispatch_queue_s *dispatch_queue_t;
/* https://developer.apple.com/documentation/dispatch/dispatch_queue_attr_t */
typedef struct dispatch_queue_attr_s *dispatch_queue_attr_t;
/* https://developer.apple.com/documentation/dispatch/dispatch_object_t */
typedef void *dispatch_object_t;
/* https://developer.apple.com/documentation/dispatch/dispatch_function_t */
typedef void (*dispatch_function_t)(void *context);

/* https://developer.apple.com/documentation/dispatch/dispatch_queue_serial */
#define DISPATCH_QUEUE_SERIAL ((dispatch_queue_attr_t)0)

/*
 * https://developer.apple.com/documentation/dispatch/dispatch_queue_create
 */
dispatch_queue_t dispatch_queue_create(const char *label,
                                       dispatch_queue_attr_t attr);
/*
 * https://developer.apple.com/documentation/dispatch/dispatch_sync_f
 * (runs @work on @queue and waits: used to drain a queue before teardown)
 */
void dispatch_sync_f(dispatch_queue_t queue, void *context,
                     dispatch_function_t work);
/*
 * https://developer.apple.com/documentation/dispatch/dispatch_get_main_queue
 * (a macro over a global object in the SDK; callers cannot tell)
 */
dispatch_queue_t dispatch_get_main_queue(void);
/*
 * https://developer.apple.com/documentation/dispatch/dispatch_main
 * (runs the main queue; never returns)
 */
void dispatch_main(void) __attribute__((noreturn));
/*
 * https://developer.apple.com/documentation/dispatch/dispatch_release
 * (manual retain/release: this is C, not ARC Objective-C)
 */
void dispatch_release(dispatch_object_t object);

#endif
