/*
 * Interface between the simulator and its PCIe device models.
 *
 * A model is the "real device" behind the simulated Apple platform: it has
 * a raw config space, BARs, MSI/MSI-X vectors, reset and an expansion ROM.
 * It knows nothing of the dext ABI or of sessions: the dext core (through
 * the simulator's platform ops) applies every policy above it.  The model
 * reaches host memory only through host->dma_read/dma_write, which the
 * simulator routes through the DART model.
 */
#ifndef VFIO_APPLE_SIM_DEVICE_H
#define VFIO_APPLE_SIM_DEVICE_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIM_PCI_NUM_BARS    6
#define SIM_CONFIG_SIZE     4096u
#define SIM_PAGE_SIZE       16384u       /* host page size on Apple Silicon */

/* Services the simulator gives a model. */
struct sim_device_host {
    void *opaque;
    /* Device reads/writes host memory at an IOVA: 0, or -EFAULT (DART fault). */
    int  (*dma_read)(void *opaque, uint64_t iova, void *buf, size_t len);
    int  (*dma_write)(void *opaque, uint64_t iova, const void *buf, size_t len);
    /* The device signals MSI/MSI-X vector `vector`. Never blocks. */
    void (*irq)(void *opaque, unsigned vector);
};

enum sim_bar_flags {
    SIM_BAR_PRESENT      = 1u << 0,
    SIM_BAR_MEM64        = 1u << 1,
    SIM_BAR_PREFETCHABLE = 1u << 2,
};

/*
 * A BAR.  Memory BARs only (Apple Silicon has no I/O space).  The BAR is
 * backed by a memfd of `size` bytes that the client may map, except the
 * 16 KiB pages whose bit is set in trapped_pages: those must be accessed
 * through mmio_read/mmio_write (e.g. the MSI-X table and PBA).  The memfd
 * comes from sim_shared_mem_create() (sealed against resizing).
 */
struct sim_bar {
    uint32_t flags;
    uint64_t size;              /* power of two, >= SIM_PAGE_SIZE */
    int      memfd;             /* -1 if the BAR has no shared backing */
    void    *mem;               /* the model's own mapping of memfd */
    uint64_t trapped_pages;     /* bit n: page n is trapped (BARs <= 1 MiB) */
};

struct sim_device;

struct sim_device_ops {
    const char *name;
    void (*destroy)(struct sim_device *dev);

    /* Raw config space; off + len <= SIM_CONFIG_SIZE, len 1, 2 or 4. */
    uint32_t (*config_read)(struct sim_device *dev, uint32_t off, unsigned len);
    void     (*config_write)(struct sim_device *dev, uint32_t off, unsigned len, uint32_t val);

    /* Trapped BAR access, width 1, 2, 4 or 8; in range and aligned. */
    uint64_t (*mmio_read)(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width);
    void     (*mmio_write)(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val);

    /* Function-level reset: back to power-on state, queues gone, no DMA. */
    void (*reset)(struct sim_device *dev);

    /*
     * Moves every mappable BAR onto fresh shared memory (a new memfd and
     * mapping in bars[]) whose contents are what a reset leaves there, and
     * releases the old backing.  The simulator calls it when a session
     * ends, after the session's reset: a client that kept its mapping then
     * reaches only orphaned memory, never the next owner's device.  The
     * switch happens under the model's own lock, so its threads never see
     * half of it.  0, or -errno with the old backing still in place.
     * Optional (a model without it keeps its BARs: not revocable).
     */
    int  (*renew_bars)(struct sim_device *dev);

    /* Starts/stops the model's own threads (e.g. doorbell polling). */
    int  (*start)(struct sim_device *dev);
    void (*stop)(struct sim_device *dev);

    /* Model counters as a JSON object body (no braces), for `stats`. */
    void (*stats_json)(struct sim_device *dev, FILE *out);
};

struct sim_device {
    const struct sim_device_ops *ops;
    const struct sim_device_host *host;
    struct sim_bar bars[SIM_PCI_NUM_BARS];
    unsigned msi_vectors;       /* 0 if no MSI capability */
    unsigned msix_vectors;      /* 0 if no MSI-X capability */
    const void *rom;            /* expansion ROM image, or NULL */
    size_t rom_size;
};

/*
 * Shared memory the simulator hands to clients (BAR backing, the IRQ page):
 * a memfd of `size` bytes, mapped read/write at *map, and sealed so that
 * nobody holding the fd can ever change its size.  F_SEAL_SHRINK matters
 * most: a client that shrank it would turn our next access into a SIGBUS
 * that kills the simulator; F_SEAL_GROW and F_SEAL_SEAL fix the size for
 * good (no seal can be removed).  Writes stay allowed: that is the point
 * of the mapping.  Returns the fd (close-on-exec), or -errno.
 */
static inline int sim_shared_mem_create(const char *name, size_t size, void **map)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int e;

    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)size) ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
        e = -errno;
        close(fd);
        return e;
    }
    *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (*map == MAP_FAILED) {
        e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/*
 * Models.  `args` is the model's option string from the command line
 * (e.g. "file=/tmp/disk.img,size=1G,queues=4"); on error returns NULL and
 * writes a message naming the bad option into err.
 */
struct sim_device *sim_nvme_create(const char *args, const struct sim_device_host *host,
                                   char *err, size_t errlen);
/* A virtio-net NIC that loops every transmitted frame back (sim/virtio-net.c). */
struct sim_device *sim_virtio_net_create(const char *args, const struct sim_device_host *host,
                                         char *err, size_t errlen);

#endif
