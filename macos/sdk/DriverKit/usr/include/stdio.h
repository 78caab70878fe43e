/* snprintf, for the identity's location string (ISO C; in DriverKit's
 * libc). */
#ifndef VFA_SDK_DK_STDIO_H
#define VFA_SDK_DK_STDIO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#ifdef __cplusplus
}
#endif

#endif
