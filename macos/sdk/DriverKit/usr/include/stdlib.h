/* The allocator the portable core uses (ISO C; DriverKit's libc provides
 * it; the core allocates only with these, dext/core/core.h). */
#ifndef VFA_SDK_DK_STDLIB_H
#define VFA_SDK_DK_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
void *malloc(size_t n);
void *calloc(size_t nmemb, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);
#ifdef __cplusplus
}
#endif

#endif
