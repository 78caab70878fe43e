/*
 * The one IOKit message the transport acts on (declaration written from
 * Apple's documentation; see macos/sdk/README.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_SDK_IOKIT_IOMESSAGE_H
#define VFA_SDK_IOKIT_IOMESSAGE_H

/*
 * https://developer.apple.com/documentation/kernel/kiomessageserviceisterminated
 * iokit_common_msg(0x010); the number cross-checked against public copies
 * of xnu's iokit/IOKit/IOMessage.h.
 */
#define kIOMessageServiceIsTerminated   0xe0000010u

#endif
