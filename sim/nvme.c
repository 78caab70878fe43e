/*
 * NVMe controller model: creation, options, the sim_device ops table,
 * function-level reset and counters.  See nvme.h for the file map.
 *
 * Options: file=PATH     namespace backed by a sparse file (created if absent)
 *          size=N[KMGT]  namespace size; without file= the namespace is memory
 *                        (default 64M when neither is given)
 *          queues=N      I/O queue pairs offered, 1..128 (default 8)
 *          vectors=N     MSI-X vectors, 1..256 (default 8)
 *          latency-us=N  every I/O completion held N us, 0..1000000 (default 0):
 *                        keeps requests, and their DMA mappings, in flight
 *                        (nvme-hold.c)
 */
#include "nvme.h"
#include "model-opts.h"
#include "pci-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SIZE    (64ull << 20)
#define MAX_VECTORS     256u            /* table must end before the PBA at 0x5000 */
#define BAR0_NAME       "vfio-apple-sim-nvme-bar0"

static void nvme_msix_reset(struct nvme *n)
{
    memset(n->msix_table, 0, sizeof(n->msix_table));
    sim_msix_table_reset(n->msix_table, n->vectors);
}

/* FLR: power-on state.  The lock orders it against the device thread. */
static void nvme_reset(struct sim_device *dev)
{
    struct nvme *n = (struct nvme *)dev;
    pthread_mutex_lock(&n->lock);
    nvme_ctrl_reset_locked(n);
    nvme_regs_init(n);
    nvme_config_init(n);
    nvme_msix_reset(n);
    n->st.flrs++;
    pthread_mutex_unlock(&n->lock);
}

/*
 * BAR0 onto fresh shared memory (see renew_bars in device.h).  Nothing in
 * BAR0's shared page survives a controller reset (it is registers and
 * doorbells), so the new page starts as a reset leaves it rather than as a
 * copy: whatever the previous owner wrote through its old mapping after
 * the session's FLR stays behind in the orphaned page, and so does any
 * controller state it caused, which is reset again here.
 */
static void nvme_bar_moved(void *opaque, void *mem)
{
    struct nvme *n = opaque;
    n->regs = mem;
    nvme_ctrl_reset_locked(n);
    nvme_regs_init(n);
    n->st.bar_renewals++;
}

static int nvme_renew_bars(struct sim_device *dev)
{
    struct nvme *n = (struct nvme *)dev;
    return sim_bar_renew(&n->dev.bars[0], BAR0_NAME, &n->lock, nvme_bar_moved, n);
}

static int nvme_start(struct sim_device *dev)
{
    return nvme_thread_start((struct nvme *)dev);
}

static void nvme_stop(struct sim_device *dev)
{
    nvme_thread_stop((struct nvme *)dev);
}

static void nvme_destroy(struct sim_device *dev)
{
    struct nvme *n = (struct nvme *)dev;
    if (!n)
        return;
    nvme_thread_stop(n);
    sim_bar_release(&n->dev.bars[0]);
    nvme_ns_close(&n->ns);
    nvme_hold_free(n);
    free(n->bounce);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

static void nvme_stats_json(struct sim_device *dev, FILE *out)
{
    struct nvme *n = (struct nvme *)dev;
    pthread_mutex_lock(&n->lock);
    struct nvme_stats s = n->st;
    unsigned live_sq = 0;
    for (unsigned q = 1; q <= n->max_ioq; q++)
        live_sq += n->sq[q].valid;
    bool ready = n->csts & NVME_CSTS_RDY;
    pthread_mutex_unlock(&n->lock);
    fprintf(out,
            "\"model\":\"nvme\",\"ready\":%s,\"io_queues\":%u,"
            "\"cmds_admin\":%llu,\"cmds_read\":%llu,\"cmds_write\":%llu,\"cmds_flush\":%llu,"
            "\"cmds_other_io\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu,"
            "\"interrupts\":%llu,\"errors\":%llu,\"dma_faults\":%llu,\"invalid_doorbells\":%llu,"
            "\"polls\":%llu,\"busy_polls\":%llu,\"idle_sleeps\":%llu,"
            "\"ctrl_enables\":%llu,\"ctrl_resets\":%llu,\"shutdowns\":%llu,\"flrs\":%llu,"
            "\"fatal_errors\":%llu,\"bar_renewals\":%llu,"
            "\"latency_us\":%u,\"held\":%llu,\"held_peak\":%llu,\"held_dropped\":%llu",
            ready ? "true" : "false", live_sq,
            (unsigned long long)s.admin_cmds, (unsigned long long)s.io_read,
            (unsigned long long)s.io_write, (unsigned long long)s.io_flush,
            (unsigned long long)s.io_other, (unsigned long long)s.bytes_read,
            (unsigned long long)s.bytes_written, (unsigned long long)s.irqs,
            (unsigned long long)s.errors, (unsigned long long)s.dma_faults,
            (unsigned long long)s.invalid_doorbells, (unsigned long long)s.polls,
            (unsigned long long)s.busy_polls, (unsigned long long)s.idle_sleeps,
            (unsigned long long)s.ctrl_enables, (unsigned long long)s.ctrl_resets,
            (unsigned long long)s.shutdowns, (unsigned long long)s.flrs,
            (unsigned long long)s.fatal, (unsigned long long)s.bar_renewals,
            n->latency_us, (unsigned long long)s.held, (unsigned long long)s.held_peak,
            (unsigned long long)s.held_dropped);
}

static const struct sim_device_ops nvme_ops = {
    .name = "nvme",
    .destroy = nvme_destroy,
    .config_read = nvme_config_read,
    .config_write = nvme_config_write,
    .mmio_read = nvme_mmio_read,
    .mmio_write = nvme_mmio_write,
    .reset = nvme_reset,
    .renew_bars = nvme_renew_bars,
    .start = nvme_start,
    .stop = nvme_stop,
    .stats_json = nvme_stats_json,
};

struct nvme_opts {
    char *file;
    uint64_t size;
    unsigned queues, vectors, latency_us;
};

static int parse_opt(void *ctx, const char *k, const char *v, char *err, size_t errlen)
{
    struct nvme_opts *o = ctx;
    if (!strcmp(k, "file")) {
        free(o->file);
        if (!*v || !(o->file = strdup(v))) {
            snprintf(err, errlen, "option 'file': empty path");
            return -1;
        }
    } else if (!strcmp(k, "size")) {
        if (sim_opt_size(v, &o->size) || !o->size || o->size % 512) {
            snprintf(err, errlen, "option 'size=%s': want a non-zero multiple of 512, e.g. 1G", v);
            return -1;
        }
    } else if (!strcmp(k, "queues")) {
        if (sim_opt_uint(v, 1, NVME_MAX_IO_QUEUES, &o->queues)) {
            snprintf(err, errlen, "option 'queues=%s': want 1..%u", v, NVME_MAX_IO_QUEUES);
            return -1;
        }
    } else if (!strcmp(k, "vectors")) {
        if (sim_opt_uint(v, 1, MAX_VECTORS, &o->vectors)) {
            snprintf(err, errlen, "option 'vectors=%s': want 1..%u", v, MAX_VECTORS);
            return -1;
        }
    } else if (!strcmp(k, "latency-us")) {
        if (sim_opt_uint(v, 0, NVME_LATENCY_MAX_US, &o->latency_us)) {
            snprintf(err, errlen, "option 'latency-us=%s': want 0..%u", v, NVME_LATENCY_MAX_US);
            return -1;
        }
    } else {
        snprintf(err, errlen, "unknown option '%s' (nvme takes file=, size=, queues=, vectors=, "
                 "latency-us=)", k);
        return -1;
    }
    return 0;
}

static int parse_opts(const char *args, struct nvme_opts *o, char *err, size_t errlen)
{
    *o = (struct nvme_opts){ .queues = 8, .vectors = 8 };
    int ret = sim_opts_each(args, parse_opt, o, err, errlen);
    if (ret)
        free(o->file);
    return ret;
}

static void make_serial(char *out, size_t len)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid() << 40 ^
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    x ^= x >> 33;                       /* mix so close times give unrelated serials */
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    snprintf(out, len, "VFAS%08X", (unsigned)(x & 0xffffffffu));
}

struct sim_device *sim_nvme_create(const char *args, const struct sim_device_host *host,
                                   char *err, size_t errlen)
{
    struct nvme_opts o;
    if (!host || !host->dma_read || !host->dma_write || !host->irq) {
        snprintf(err, errlen, "nvme: host services missing");
        return NULL;
    }
    if (parse_opts(args, &o, err, errlen))
        return NULL;
    if (!o.file && !o.size)
        o.size = DEFAULT_SIZE;

    struct nvme *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "nvme: out of memory");
        free(o.file);
        return NULL;
    }
    pthread_mutex_init(&n->lock, NULL);
    n->dev.bars[0].memfd = -1;
    n->ns.fd = -1;
    n->host = host;
    n->max_ioq = o.queues;
    n->vectors = o.vectors;
    make_serial(n->serial, sizeof(n->serial));

    int r = nvme_ns_open(&n->ns, o.file, o.size, err, errlen);
    free(o.file);
    if (r) {
        free(n);
        return NULL;
    }
    n->bounce = malloc(NVME_MAX_XFER);
    if (!n->bounce || nvme_hold_init(n, o.latency_us)) {
        snprintf(err, errlen, "nvme: out of memory");
        nvme_destroy(&n->dev);
        return NULL;
    }
    void *mem = NULL;
    int fd = sim_shared_mem_create(BAR0_NAME, NVME_BAR0_SIZE, &mem);
    if (fd < 0) {
        snprintf(err, errlen, "nvme: cannot create BAR0: %s", strerror(-fd));
        nvme_destroy(&n->dev);
        return NULL;
    }

    n->dev.ops = &nvme_ops;
    n->dev.host = host;
    n->dev.bars[0] = (struct sim_bar){
        .flags = SIM_BAR_PRESENT | SIM_BAR_MEM64,
        .size = NVME_BAR0_SIZE,
        .memfd = fd,
        .mem = mem,
        .trapped_pages = 0x2,           /* page 1: MSI-X table and PBA */
    };
    for (unsigned b = 1; b < SIM_PCI_NUM_BARS; b++)
        n->dev.bars[b].memfd = -1;
    n->dev.msi_vectors = 0;
    n->dev.msix_vectors = n->vectors;
    n->regs = mem;

    nvme_rom_init(n);
    n->dev.rom = n->rom;
    n->dev.rom_size = NVME_ROM_SIZE;

    nvme_ctrl_reset_locked(n);
    nvme_regs_init(n);
    nvme_config_init(n);
    nvme_msix_reset(n);
    return &n->dev;
}
