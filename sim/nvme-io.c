/*
 * NVM command set (Read, Write, Flush) and the namespace's backing store:
 * a sparse file, or anonymous memory.  One namespace, 512-byte LBAs.
 */
#include "nvme.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { IO_FLUSH = 0x00, IO_WRITE = 0x01, IO_READ = 0x02 };

#define FUA (1u << 30)

int nvme_ns_open(struct nvme_ns *ns, const char *path, uint64_t size, char *err, size_t errlen)
{
    ns->fd = -1;
    ns->mem = NULL;
    if (path) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0) {
            snprintf(err, errlen, "file=%s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        if (!size)
            size = (uint64_t)sb.st_size;
        /* Growing only: never truncate someone's data; extension stays sparse. */
        if ((uint64_t)sb.st_size < size && ftruncate(fd, (off_t)size) < 0) {
            snprintf(err, errlen, "file=%s: cannot extend to %llu bytes: %s", path,
                     (unsigned long long)size, strerror(errno));
            close(fd);
            return -1;
        }
        ns->fd = fd;
    }
    if (!size || size % (1u << NVME_LBA_SHIFT)) {
        snprintf(err, errlen, "size=%llu: must be a non-zero multiple of 512",
                 (unsigned long long)size);
        nvme_ns_close(ns);
        return -1;
    }
    if (!path) {
        /* Untouched pages cost nothing, like a sparse file. */
        void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            snprintf(err, errlen, "size=%llu: cannot allocate: %s",
                     (unsigned long long)size, strerror(errno));
            return -1;
        }
        ns->mem = m;
    }
    ns->size = size;
    ns->nlbas = size >> NVME_LBA_SHIFT;
    return 0;
}

void nvme_ns_close(struct nvme_ns *ns)
{
    if (ns->fd >= 0)
        close(ns->fd);
    if (ns->mem)
        munmap(ns->mem, ns->size);
    ns->fd = -1;
    ns->mem = NULL;
}

static int ns_read(struct nvme_ns *ns, void *buf, uint64_t off, size_t len)
{
    if (ns->mem) {
        memcpy(buf, ns->mem + off, len);
        return 0;
    }
    for (size_t done = 0; done < len;) {
        ssize_t r = pread(ns->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0) {                   /* file shrank under us: reads as zeros */
            memset((uint8_t *)buf + done, 0, len - done);
            break;
        }
        done += (size_t)r;
    }
    return 0;
}

static int ns_write(struct nvme_ns *ns, const void *buf, uint64_t off, size_t len)
{
    if (ns->mem) {
        memcpy(ns->mem + off, buf, len);
        return 0;
    }
    for (size_t done = 0; done < len;) {
        ssize_t r = pwrite(ns->fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        done += (size_t)r;
    }
    return 0;
}

static struct nvme_result st(uint16_t s) { return (struct nvme_result){ .status = s }; }

static struct nvme_result rw(struct nvme *n, const struct nvme_sqe *c, bool write)
{
    uint64_t slba = (uint64_t)c->cdw11 << 32 | c->cdw10;
    uint32_t nlb = (c->cdw12 & 0xffff) + 1;
    uint32_t len = nlb << NVME_LBA_SHIFT;

    if (len > NVME_MAX_XFER)
        return st(NVME_SC_INVALID_FIELD | NVME_DNR);
    if (slba >= n->ns.nlbas || nlb > n->ns.nlbas - slba)
        return st(NVME_SC_LBA_RANGE | NVME_DNR);
    uint64_t off = slba << NVME_LBA_SHIFT;
    uint16_t s;

    if (write) {
        /* All data first: a transfer that faults must not tear the media. */
        if ((s = nvme_dma_from_host(n, c->prp1, c->prp2, n->bounce, len)))
            return st(s);
        if (ns_write(&n->ns, n->bounce, off, len))
            return st(NVME_SC_INTERNAL);
        if ((c->cdw12 & FUA) && n->ns.fd >= 0 && fdatasync(n->ns.fd))
            return st(NVME_SC_INTERNAL);
        n->st.bytes_written += len;
    } else {
        if (ns_read(&n->ns, n->bounce, off, len))
            return st(NVME_SC_INTERNAL);
        if ((s = nvme_dma_to_host(n, c->prp1, c->prp2, n->bounce, len)))
            return st(s);
        n->st.bytes_read += len;
    }
    return st(0);
}

struct nvme_result nvme_io_exec(struct nvme *n, const struct nvme_sqe *c)
{
    switch (c->opcode) {
    case IO_FLUSH:
        n->st.io_flush++;
        if (c->nsid != NVME_NSID && c->nsid != 0xffffffffu)
            return st(NVME_SC_INVALID_NS | NVME_DNR);
        if (n->ns.fd >= 0 && fdatasync(n->ns.fd))
            return st(NVME_SC_INTERNAL);
        return st(0);
    case IO_WRITE:
    case IO_READ:
        if (c->opcode == IO_WRITE)
            n->st.io_write++;
        else
            n->st.io_read++;
        if (c->nsid != NVME_NSID)
            return st(NVME_SC_INVALID_NS | NVME_DNR);
        return rw(n, c, c->opcode == IO_WRITE);
    default:
        n->st.io_other++;
        return st(NVME_SC_INVALID_OPCODE | NVME_DNR);
    }
}
