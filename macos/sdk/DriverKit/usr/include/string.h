/* The C library's memory functions the core and the shell call (ISO C;
 * DriverKit's libc provides them: DriverKit.sdk/.../usr/include/string.h). */
#ifndef VFA_SDK_DK_STRING_H
#define VFA_SDK_DK_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
#ifdef __cplusplus
}
#endif

#endif
