/*
 * errno values of the DriverKit runtime's C library, as far as
 * include/vfio-apple/dext-abi.h uses them (vfa_err_to_errno).  These are
 * Darwin's numbers (intro(2), "man 2 intro" on macOS; the same in
 * DriverKit's libc), which differ from Linux's for ENOSYS, ENOTSUP,
 * EALREADY and EPROTO: the ABI's codes are its own, never these.
 */
#ifndef VFA_SDK_DK_ERRNO_H
#define VFA_SDK_DK_ERRNO_H

#define EPERM       1
#define ENOENT      2
#define EIO         5
#define ENOMEM      12
#define EFAULT      14
#define EBUSY       16
#define ENODEV      19
#define EINVAL      22
#define EMFILE      24
#define ENOSPC      28
#define ERANGE      34
#define EALREADY    37
#define ENOTSUP     45
#define ENOSYS      78
#define EPROTO      100

#endif
