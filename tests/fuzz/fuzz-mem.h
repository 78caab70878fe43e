/*
 * The fuzzers' fake guest memory: MEM_SIZE bytes at IOVA MEM_BASE (both
 * defined before this is included), read and written by a model through
 * f_read/f_write; an access outside it faults, as a DART fault would.
 */
#ifndef VFIO_APPLE_FUZZ_MEM_H
#define VFIO_APPLE_FUZZ_MEM_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static uint8_t mem[MEM_SIZE];

static int f_read(void *o, uint64_t iova, void *buf, size_t len)
{
    if (iova < MEM_BASE || iova - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (iova - MEM_BASE))
        return -EFAULT;
    memcpy(buf, mem + (iova - MEM_BASE), len);
    return 0;
}

static int f_write(void *o, uint64_t iova, const void *buf, size_t len)
{
    if (iova < MEM_BASE || iova - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (iova - MEM_BASE))
        return -EFAULT;
    memcpy(mem + (iova - MEM_BASE), buf, len);
    return 0;
}

#endif
