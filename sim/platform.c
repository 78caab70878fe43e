/*
 * The simulator's platform ops: what PCIDriverKit, IODMACommand and the
 * interrupt dispatch sources do for the real dext, done here with the DART
 * model and a device model.
 *
 * Client memory.  The real dext wraps the client's own address range
 * (CreateMemoryDescriptorFromClient).  We cannot see the client's address
 * space, so the client shares its memory as memfds and says where each one
 * lives in its address space; DMA_MAP's client range is translated through
 * those registrations.  Our mappings of them are 16 KiB aligned, because the
 * DART exposes whole 16 KiB pages to the device: a 4 KiB-aligned mapping
 * would let a device access spill into whatever we have mapped next to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-apple/pci-cfg.h"
#include "log.h"
#include "platform.h"

#define PG ((uint64_t)VFA_PAGE_SIZE)
#define MAX_REGIONS_PER_CLIENT 256

struct dma_cookie {
    uint64_t map_id;
    struct sim_region *region;
};

/* ------------------------------------------------------ device host -- */

static uint64_t fault_logs;

static void note_fault(struct sim_platform *p, uint64_t iova, size_t len, bool write)
{
    uint64_t n = __atomic_add_fetch(&fault_logs, 1, __ATOMIC_RELAXED);

    if (p->dart_fault_fatal) {
        /*
         * Some hosts panic on a DART fault (SPTM, seen on M3 Ultra): in
         * this mode a fault ends the run at once, loudly, with a status
         * of its own, so a test that caused one cannot pass by accident.
         * Nothing is cleaned up, as nothing would be after a panic.
         */
        LOG_ERR("DART fault with --dart-fault-fatal: device %s %zu bytes at IOVA %#llx "
                "(not mapped); a host that panics on DART faults would be down now; "
                "exiting with status %d", write ? "wrote" : "read", len,
                (unsigned long long)iova, SIM_EXIT_DART_FAULT);
        _exit(SIM_EXIT_DART_FAULT);
    }
    sim_log(n <= 16 ? SIM_LOG_WARN : SIM_LOG_DEBUG,
            "DART fault: device %s %zu bytes at IOVA %#llx (not mapped)",
            write ? "wrote" : "read", len, (unsigned long long)iova);
}

static int host_dma_read(void *opaque, uint64_t iova, void *buf, size_t len)
{
    struct sim_platform *p = opaque;
    int r = dart_read(p->dart, iova, buf, len);

    if (r)
        note_fault(p, iova, len, false);
    return r;
}

static int host_dma_write(void *opaque, uint64_t iova, const void *buf, size_t len)
{
    struct sim_platform *p = opaque;
    int r = dart_write(p->dart, iova, buf, len);

    if (r)
        note_fault(p, iova, len, true);
    return r;
}

/* Device thread: a vector fired.  Only vectors with a source reach the core. */
static void host_irq(void *opaque, unsigned vector)
{
    struct sim_platform *p = opaque;

    pthread_rwlock_rdlock(&p->irq_lock);
    if (p->irq_active && vector < p->irq_count && p->core)
        vfa_core_irq(p->core, vector);
    else
        __atomic_fetch_add(&p->unknown_irqs, 1, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&p->irq_lock);
}

/* ------------------------------------------------------- platform ops -- */

static uint32_t cfg_rd(struct sim_platform *p, uint32_t off, unsigned len)
{
    return p->dev->ops->config_read(p->dev, off, len);
}

/* The walker's reads: the model's config space, all-ones past its end. */
static uint32_t cfg_rd_walk(void *opaque, uint32_t off, unsigned width)
{
    if (off >= SIM_CONFIG_SIZE || width > SIM_CONFIG_SIZE - off)
        return ~0u;
    return cfg_rd(opaque, off, width);
}

/* Where the host-owned interrupt capabilities are (the one walker). */
static void find_caps(struct sim_platform *p)
{
    p->msix_cap = vfa_pci_find_cap(cfg_rd_walk, p, VFA_PCI_CAP_ID_MSIX);
    p->msi_cap = vfa_pci_find_cap(cfg_rd_walk, p, VFA_PCI_CAP_ID_MSI);
}

static int op_get_info(void *ctx, struct vfa_platform_info *in)
{
    struct sim_platform *p = ctx;
    struct sim_device *d = p->dev;

    memset(in, 0, sizeof(*in));
    in->vendor_id = cfg_rd(p, 0x00, 2);
    in->device_id = cfg_rd(p, 0x02, 2);
    in->revision = cfg_rd(p, 0x08, 1);
    in->class_code = cfg_rd(p, 0x08, 4) >> 8;
    in->header_type = cfg_rd(p, 0x0e, 1);
    in->subsys_vendor_id = cfg_rd(p, 0x2c, 2);
    in->subsys_id = cfg_rd(p, 0x2e, 2);
    in->bus = 1;
    snprintf(in->location, sizeof(in->location), "sim:%s", p->model);
    in->config_size = SIM_CONFIG_SIZE;
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        const struct sim_bar *b = &d->bars[i];

        if (!(b->flags & SIM_BAR_PRESENT))
            continue;
        in->bar_flags[i] = VFA_BAR_PRESENT |
                           (b->flags & SIM_BAR_MEM64 ? VFA_BAR_MEM64 : 0) |
                           (b->flags & SIM_BAR_PREFETCHABLE ? VFA_BAR_PREFETCHABLE : 0) |
                           (b->memfd >= 0 ? VFA_BAR_MAPPABLE : 0);
        in->bar_size[i] = b->size;
        in->bar_trapped_pages[i] = b->trapped_pages;
        in->bar_memory_index[i] = i;
    }
    in->rom_size = d->rom ? d->rom_size : 0;
    in->msi_vectors = d->msi_vectors;
    in->msix_vectors = d->msix_vectors;
    /* A simulated link resets like a function: both kinds are offered. */
    in->reset_methods = VFA_RESET_FLR | VFA_RESET_HOT;
    in->id_flags = VFA_ID_SIMULATED;
    return 0;
}

static int op_config_read(void *ctx, uint32_t off, unsigned width, uint32_t *val)
{
    *val = cfg_rd(ctx, off, width);
    return 0;
}

static int op_config_write(void *ctx, uint32_t off, unsigned width, uint32_t val)
{
    struct sim_platform *p = ctx;

    p->dev->ops->config_write(p->dev, off, width, val);
    return 0;
}

static int op_mmio_read(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
    struct sim_platform *p = ctx;
    const struct sim_bar *b = &p->dev->bars[bar];

    /* Pages the model traps go to the model; shared pages are plain memory
     * (what the client would see through its mapping). */
    if (b->mem && !(off / PG < 64 && (b->trapped_pages >> (off / PG)) & 1)) {
        uint64_t v = 0;

        switch (width) {
        case 1: v = __atomic_load_n((uint8_t *)b->mem + off, __ATOMIC_ACQUIRE); break;
        case 2: v = __atomic_load_n((uint16_t *)((uint8_t *)b->mem + off), __ATOMIC_ACQUIRE); break;
        case 4: v = __atomic_load_n((uint32_t *)((uint8_t *)b->mem + off), __ATOMIC_ACQUIRE); break;
        case 8: v = __atomic_load_n((uint64_t *)((uint8_t *)b->mem + off), __ATOMIC_ACQUIRE); break;
        }
        *val = v;
        return 0;
    }
    *val = p->dev->ops->mmio_read(p->dev, bar, off, width);
    return 0;
}

static int op_mmio_write(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
    struct sim_platform *p = ctx;
    const struct sim_bar *b = &p->dev->bars[bar];

    if (b->mem && !(off / PG < 64 && (b->trapped_pages >> (off / PG)) & 1)) {
        uint8_t *a = (uint8_t *)b->mem + off;

        switch (width) {
        case 1: __atomic_store_n(a, (uint8_t)val, __ATOMIC_RELEASE); break;
        case 2: __atomic_store_n((uint16_t *)a, (uint16_t)val, __ATOMIC_RELEASE); break;
        case 4: __atomic_store_n((uint32_t *)a, (uint32_t)val, __ATOMIC_RELEASE); break;
        case 8: __atomic_store_n((uint64_t *)a, val, __ATOMIC_RELEASE); break;
        }
        return 0;
    }
    p->dev->ops->mmio_write(p->dev, bar, off, width, val);
    return 0;
}

static int op_rom_read(void *ctx, uint64_t off, void *buf, uint32_t len)
{
    struct sim_platform *p = ctx;

    memcpy(buf, (const uint8_t *)p->dev->rom + off, len);
    return 0;
}

static int op_reset(void *ctx, uint32_t method)
{
    struct sim_platform *p = ctx;

    LOG_INFO("device reset (%s)", method == VFA_RESET_FLR ? "function-level" : "hot");
    p->dev->ops->reset(p->dev);
    return 0;
}

/*
 * Program the device's MSI-X table and enable: the host owns message
 * address and data (the guest's values never reach the device).  The
 * address is what the platform's interrupt controller would use; the model
 * only needs entries unmasked and MSI-X enabled.
 */
/* The host's entry for vector v: address low/high, data, vector control. */
static void msix_host_entry(uint32_t v, uint32_t e[4])
{
    e[0] = 0xfee00000u + v * 4;
    e[1] = 0;
    e[2] = v;
    e[3] = 0;                   /* unmasked */
}

static int program_msix(struct sim_platform *p, uint32_t count, bool on)
{
    uint32_t tbl = cfg_rd(p, p->msix_cap + VFA_PCI_MSIX_TABLE, 4);
    unsigned bir = tbl & VFA_PCI_MSIX_BIR_MASK;
    uint64_t base = tbl & VFA_PCI_MSIX_OFFSET_MASK;
    uint32_t ctrl = cfg_rd(p, p->msix_cap + VFA_PCI_MSIX_FLAGS, 2);

    /* The model's own capability, but checked like any device's: the
     * table must lie in the BAR it names, with room for every entry. */
    if (bir >= VFA_NUM_BARS || count > vfa_pci_msix_vectors(ctrl) ||
        !vfa_pci_cap_fits((uint32_t)base, count * VFA_PCI_MSIX_ENTRY_SIZE,
                          p->dev->bars[bir].size > UINT32_MAX ? UINT32_MAX
                                                               : (uint32_t)p->dev->bars[bir].size))
        return VFA_E_IO;
    for (uint32_t v = 0; on && v < count; v++) {
        uint32_t e[4];

        msix_host_entry(v, e);
        for (unsigned w = 0; w < 4; w++)
            p->dev->ops->mmio_write(p->dev, bir, base + v * 16ull + w * 4, 4, e[w]);
    }
    ctrl &= ~0xc000u;
    if (on)
        ctrl |= 0x8000u;        /* enable, function mask clear */
    p->dev->ops->config_write(p->dev, p->msix_cap + 2, 2, ctrl);
    return 0;
}

void sim_platform_msix_check(struct sim_platform *p, unsigned *programmed, unsigned *altered)
{
    uint32_t tbl, count;
    bool active;

    *programmed = *altered = 0;
    pthread_rwlock_rdlock(&p->irq_lock);
    active = p->irq_active && p->irq_type == VFA_IRQ_MSIX;
    count = p->irq_count;
    pthread_rwlock_unlock(&p->irq_lock);
    if (!active || !p->msix_cap)
        return;
    tbl = cfg_rd(p, p->msix_cap + 4, 4);
    if ((tbl & 7) >= VFA_NUM_BARS)
        return;
    for (uint32_t v = 0; v < count; v++) {
        uint32_t e[4];
        bool same = true;

        msix_host_entry(v, e);
        for (unsigned w = 0; w < 4; w++)
            same &= p->dev->ops->mmio_read(p->dev, tbl & 7, (tbl & ~7u) + v * 16ull + w * 4, 4) ==
                    e[w];
        (*programmed)++;
        *altered += !same;
    }
}

static int program_msi(struct sim_platform *p, uint32_t count, bool on)
{
    uint32_t ctrl = cfg_rd(p, p->msi_cap + 2, 2) & ~0x71u;

    if (on) {
        unsigned mme = 0;

        while ((1u << mme) < count)
            mme++;
        ctrl |= 1u | (mme << 4);
    }
    p->dev->ops->config_write(p->dev, p->msi_cap + 2, 2, ctrl);
    return 0;
}

static int op_irq_setup(void *ctx, uint32_t type, uint32_t count)
{
    struct sim_platform *p = ctx;
    int r = 0;

    /* Withdraw the sources first: after the write lock no vfa_core_irq()
     * is in flight, as the core requires. */
    pthread_rwlock_wrlock(&p->irq_lock);
    uint32_t old = p->irq_active ? p->irq_type : VFA_IRQ_NONE;
    p->irq_active = false;
    p->irq_count = 0;
    pthread_rwlock_unlock(&p->irq_lock);
    /* Device programming outside the lock: the device thread holds its own
     * lock while it raises interrupts, so nesting them here could deadlock. */
    if (old == VFA_IRQ_MSIX && p->msix_cap)
        program_msix(p, 0, false);
    else if (old == VFA_IRQ_MSI && p->msi_cap)
        program_msi(p, 0, false);
    if (type == VFA_IRQ_NONE)
        return 0;

    if (type == VFA_IRQ_MSIX)
        r = p->msix_cap ? program_msix(p, count, true) : VFA_E_NOTSUP;
    else
        r = p->msi_cap ? program_msi(p, count, true) : VFA_E_NOTSUP;
    if (r)
        return r;
    pthread_rwlock_wrlock(&p->irq_lock);
    p->irq_type = type;
    p->irq_count = count;
    p->irq_active = true;
    pthread_rwlock_unlock(&p->irq_lock);
    LOG_DEBUG("interrupts: %s x%u", type == VFA_IRQ_MSIX ? "MSI-X" : "MSI", count);
    return 0;
}

static struct sim_region *find_region(struct sim_platform *p, uint64_t client, uint64_t va,
                                      uint64_t len)
{
    for (struct sim_region *r = p->regions; r; r = r->next) {
        if (r->client == client && va >= r->va && len <= r->len && va - r->va <= r->len - len)
            return r;
    }
    return NULL;
}

static uint32_t errno_to_vfa(int e)
{
    switch (e) {
    case -ENOSPC: return VFA_E_NOSPC;
    case -EMFILE: return VFA_E_MFILE;
    case -EINVAL: return VFA_E_INVAL;
    case -ENOMEM: return VFA_E_NOMEM;
    default:      return VFA_E_IO;
    }
}

static int op_dma_prepare(void *ctx, uint64_t client, uint64_t va, uint64_t len, uint32_t flags,
                          struct vfa_dma_segment *segs, unsigned max, unsigned *nsegs,
                          uint64_t *cookie)
{
    struct sim_platform *p = ctx;
    struct dart_segment ds[DART_MAX_SEGMENTS];
    struct sim_region *r = find_region(p, client, va, len);
    struct dma_cookie *ck;
    unsigned n = 0;
    int e;

    if (!r) {
        LOG_DEBUG("DMA map of client range %#llx+%#llx: not registered memory",
                  (unsigned long long)va, (unsigned long long)len);
        return VFA_E_FAULT;
    }
    ck = malloc(sizeof(*ck));
    if (!ck)
        return VFA_E_NOMEM;
    e = dart_map(p->dart, r->host + (va - r->va), len, ds,
                 max < DART_MAX_SEGMENTS ? max : DART_MAX_SEGMENTS, &n, &ck->map_id);
    if (e) {
        free(ck);
        LOG_DEBUG("DART map %#llx+%#llx failed: %s", (unsigned long long)va,
                  (unsigned long long)len, strerror(-e));
        return errno_to_vfa(e);
    }
    for (unsigned i = 0; i < n; i++) {
        segs[i].iova = ds[i].iova;
        segs[i].len = ds[i].len;
    }
    ck->region = r;
    r->refs++;
    *nsegs = n;
    *cookie = (uint64_t)(uintptr_t)ck;
    return 0;
}

static void op_dma_complete(void *ctx, uint64_t cookie)
{
    struct sim_platform *p = ctx;
    struct dma_cookie *ck = (struct dma_cookie *)(uintptr_t)cookie;

    if (dart_unmap(p->dart, ck->map_id))
        LOG_ERR("DART unmap of mapping %llu failed", (unsigned long long)ck->map_id);
    ck->region->refs--;
    free(ck);
}

static void *op_irq_page_alloc(void *ctx)
{
    struct sim_platform *p = ctx;
    /* A new page per session (the core asks at every OPEN): a client that
     * kept its mapping of an old one reaches only orphaned memory. */
    void *m;
    int fd = sim_shared_mem_create("vfio-apple-sim-irq-page", VFA_IRQ_PAGE_SIZE, &m);

    if (fd < 0) {
        LOG_ERR("IRQ page: %s", strerror(-fd));
        return NULL;
    }
    p->irq_page_fd = fd;
    p->irq_page = m;
    p->mem[VFA_NUM_BARS] = (struct sim_mem_handle){ fd, VFA_IRQ_PAGE_SIZE, 0 };
    return m;
}

static void op_irq_page_free(void *ctx, void *page)
{
    struct sim_platform *p = ctx;

    munmap(page, VFA_IRQ_PAGE_SIZE);
    close(p->irq_page_fd);
    p->irq_page_fd = -1;
    p->irq_page = NULL;
    p->mem[VFA_NUM_BARS].fd = -1;
}

static int op_map_memory(void *ctx, uint64_t client, uint32_t type, void **handle, uint64_t *size)
{
    struct sim_platform *p = ctx;
    struct sim_mem_handle *h = &p->mem[type == VFA_MEM_IRQ_PAGE ? VFA_NUM_BARS : type];

    if (h->fd < 0)
        return VFA_E_IO;
    *handle = h;
    *size = h->size;
    return 0;
}

static void op_notify(void *ctx)
{
    struct sim_platform *p = ctx;
    uint64_t one = 1;
    int fd = __atomic_load_n(&p->notify_fd, __ATOMIC_ACQUIRE);

    /* An eventfd adds up and never blocks short of 2^64 - 1 writes, so
     * nothing is lost and the interrupt path never waits. */
    if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
        LOG_DEBUG("notify: %s", strerror(errno));
}

/* The memory-type fds the transport hands out, from the model's BARs. */
static void bar_handles_refresh(struct sim_platform *p)
{
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        const struct sim_bar *b = &p->dev->bars[i];

        if ((b->flags & SIM_BAR_PRESENT) && b->memfd >= 0)
            p->mem[i] = (struct sim_mem_handle){
                b->memfd, b->size,
                VFA_BAR_PRESENT | VFA_BAR_MAPPABLE |
                    (b->flags & SIM_BAR_MEM64 ? VFA_BAR_MEM64 : 0) |
                    (b->flags & SIM_BAR_PREFETCHABLE ? VFA_BAR_PREFETCHABLE : 0) };
    }
}

/*
 * Revocation of BAR mappings.  A client's mapping of a BAR memfd cannot be
 * taken back (neither can an IOConnectMapMemory64 mapping on macOS: see
 * docs/revocation.md), so the device moves instead: onto fresh memory,
 * leaving the old pages to whoever still maps them.  -errno on failure;
 * then the BARs stay stale and the next OPEN is refused until this works.
 */
static int bars_renew(struct sim_platform *p)
{
    int r;

    if (!p->dev->ops->renew_bars)
        return 0;
    r = p->dev->ops->renew_bars(p->dev);
    p->bars_stale = r != 0;
    if (r) {
        LOG_ERR("cannot move the BARs to fresh memory (%s): the previous session's "
                "mappings still reach the device; refusing new sessions until it works",
                strerror(-r));
        return r;
    }
    bar_handles_refresh(p);
    p->bar_renewals++;
    return 0;
}

static int op_session_begin(void *ctx, uint64_t client)
{
    struct sim_platform *p = ctx;
    int fd;

    if (p->bars_stale && bars_renew(p))
        return VFA_E_IO;
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return VFA_E_IO;
    __atomic_store_n(&p->notify_fd, fd, __ATOMIC_RELEASE);
    LOG_INFO("session opened by client %llu", (unsigned long long)client);
    return 0;
}

static void regions_drop(struct sim_platform *p, uint64_t client);

/*
 * After the core's cleanup (bus master off, DMA unmapped, device reset,
 * IRQ page freed): the session's memory registrations go with it, and the
 * BARs move, so nothing the client still maps reaches the device.
 */
static void op_session_end(void *ctx, uint64_t client)
{
    struct sim_platform *p = ctx;
    int fd = p->notify_fd;

    __atomic_store_n(&p->notify_fd, -1, __ATOMIC_RELEASE);
    if (fd >= 0)
        close(fd);
    regions_drop(p, client);
    bars_renew(p);
    LOG_INFO("session of client %llu ended", (unsigned long long)client);
}

static const struct vfa_platform_ops sim_ops = {
    .get_info = op_get_info,
    .config_read = op_config_read,
    .config_write = op_config_write,
    .mmio_read = op_mmio_read,
    .mmio_write = op_mmio_write,
    .rom_read = op_rom_read,
    .reset = op_reset,
    .irq_setup = op_irq_setup,
    .dma_prepare = op_dma_prepare,
    .dma_complete = op_dma_complete,
    .irq_page_alloc = op_irq_page_alloc,
    .irq_page_free = op_irq_page_free,
    .map_memory = op_map_memory,
    .notify = op_notify,
    .session_begin = op_session_begin,
    .session_end = op_session_end,
};

/* ------------------------------------------------------------ regions -- */

static uint32_t refuse(struct sim_platform *p, uint32_t st, char *why, size_t whylen,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static uint32_t refuse(struct sim_platform *p, uint32_t st, char *why, size_t whylen,
                       const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    p->registrations_refused++;
    return st;
}

uint32_t sim_platform_register(struct sim_platform *p, uint64_t client, int fd, uint64_t va,
                               uint64_t len, uint64_t off, uint64_t *id, char *why, size_t whylen)
{
    struct stat sb;
    unsigned count = 0;
    uint64_t bytes = 0;
    int seals;

    *why = 0;
    /* Registering reserves our address space (len bytes of it): only the
     * session's owner may, so a client without one cannot cost us anything
     * (QEMU opens the session before it registers guest RAM). */
    if (!client || vfa_core_session_owner(p->core) != client)
        return refuse(p, VFA_E_PERM, why, whylen, "memory registration without the session");
    /* Every value below came from the client; each is checked before use. */
    if (fd < 0 || !len || (va | len | off) & (PG - 1) || va + len < va || off + len < off)
        return refuse(p, VFA_E_INVAL, why, whylen, "memory registration %#llx+%#llx at offset "
                      "%#llx: not 16 KiB aligned, empty or wrapping", (unsigned long long)va,
                      (unsigned long long)len, (unsigned long long)off);
    /*
     * Memory the client can shrink under us would make the device thread's
     * next access to it a SIGBUS: only memory sealed against shrinking is
     * accepted (QEMU's memory-backend-memfd seals by default, seal=on).
     * Seals cannot be removed, so once seen it holds for good; checked
     * before the size, which it then keeps from going down.
     */
    seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK))
        return refuse(p, VFA_E_INVAL, why, whylen, "memory registration refused: the fd is %s; "
                      "share a memfd sealed with F_SEAL_SHRINK (QEMU: memory-backend-memfd "
                      "with seal=on, its default)",
                      seals < 0 ? "not a sealable memfd" : "not sealed against shrinking");
    if (fstat(fd, &sb) || (uint64_t)sb.st_size < off + len)
        return refuse(p, VFA_E_INVAL, why, whylen, "memory registration: offset %#llx + length "
                      "%#llx is beyond the fd's %lld bytes", (unsigned long long)off,
                      (unsigned long long)len, (long long)sb.st_size);
    for (struct sim_region *r = p->regions; r; r = r->next) {
        if (r->client != client)
            continue;
        if (va < r->va + r->len && r->va < va + len)
            return refuse(p, VFA_E_INVAL, why, whylen, "memory registration %#llx+%#llx "
                          "overlaps region %llu", (unsigned long long)va,
                          (unsigned long long)len, (unsigned long long)r->id);
        count++;
        bytes += r->len;
    }
    if (count >= MAX_REGIONS_PER_CLIENT)
        return refuse(p, VFA_E_NOSPC, why, whylen, "memory registration: %u regions already",
                      count);
    /* bytes <= max_registered always holds, so this cannot wrap. */
    if (len > p->max_registered - bytes)
        return refuse(p, VFA_E_NOSPC, why, whylen, "memory registration of %#llx bytes: the "
                      "session would hold more than --max-registered %#llx",
                      (unsigned long long)len, (unsigned long long)p->max_registered);

    /* Reserve len + one page, then place the mapping on a 16 KiB boundary
     * inside it and give back the slack. */
    uint8_t *res = mmap(NULL, len + PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                        -1, 0);
    if (res == MAP_FAILED)
        return VFA_E_NOMEM;
    uint8_t *al = (uint8_t *)(((uintptr_t)res + PG - 1) & ~(uintptr_t)(PG - 1));
    if (mmap(al, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, (off_t)off) == MAP_FAILED) {
        munmap(res, len + PG);
        return VFA_E_INVAL;
    }
    if (al > res)
        munmap(res, al - res);
    if (res + len + PG > al + len)
        munmap(al + len, (res + len + PG) - (al + len));

    struct sim_region *r = calloc(1, sizeof(*r));
    if (!r) {
        munmap(al, len);
        return VFA_E_NOMEM;
    }
    r->client = client;
    r->id = ++p->next_region_id;
    r->va = va;
    r->len = len;
    r->host = al;
    r->next = p->regions;
    p->regions = r;
    *id = r->id;
    LOG_DEBUG("client %llu registered %#llx+%#llx as region %llu", (unsigned long long)client,
              (unsigned long long)va, (unsigned long long)len, (unsigned long long)r->id);
    return 0;
}

static void region_free(struct sim_region **link)
{
    struct sim_region *r = *link;

    *link = r->next;
    munmap(r->host, r->len);
    free(r);
}

uint32_t sim_platform_unregister(struct sim_platform *p, uint64_t client, uint64_t id)
{
    for (struct sim_region **l = &p->regions; *l; l = &(*l)->next) {
        if ((*l)->client != client || (*l)->id != id)
            continue;
        /* Unmapping memory under a live DART mapping is what panics the
         * real host: refuse. */
        if ((*l)->refs)
            return VFA_E_BUSY;
        region_free(l);
        return 0;
    }
    return VFA_E_NOENT;
}

void sim_platform_client_gone(struct sim_platform *p, uint64_t client)
{
    regions_drop(p, client);
}

static void regions_drop(struct sim_platform *p, uint64_t client)
{
    struct sim_region **l = &p->regions;

    while (*l) {
        if ((*l)->client != client) {
            l = &(*l)->next;
            continue;
        }
        if ((*l)->refs) {
            /* Cannot happen after vfa_core_client_gone(); leaking the
             * mapping is the safe way out if it ever does. */
            LOG_ERR("region %llu still has %u DMA mappings; not unmapping it",
                    (unsigned long long)(*l)->id, (*l)->refs);
            (*l)->client = 0;
            l = &(*l)->next;
            continue;
        }
        region_free(l);
    }
}

/* ------------------------------------------------------------ lifetime -- */

int sim_platform_create(struct sim_platform *p, const char *device_spec,
                        const struct dart_config *dc, const struct vfa_core_config *cc,
                        const struct sim_options *opts, char *err, size_t errlen)
{
    const char *comma = strchr(device_spec, ',');
    size_t nlen = comma ? (size_t)(comma - device_spec) : strlen(device_spec);
    const char *args = comma ? comma + 1 : "";
    char derr[256] = "";
    uint32_t cerr;

    memset(p, 0, sizeof(*p));
    p->notify_fd = -1;
    p->irq_page_fd = -1;
    for (unsigned i = 0; i <= VFA_NUM_BARS; i++)
        p->mem[i].fd = -1;
    pthread_rwlock_init(&p->irq_lock, NULL);
    if (nlen >= sizeof(p->model)) {
        snprintf(err, errlen, "unknown device model '%s'", device_spec);
        return -EINVAL;
    }
    memcpy(p->model, device_spec, nlen);
    p->model[nlen] = 0;

    p->max_registered = opts && opts->max_registered ? opts->max_registered
                                                     : SIM_DEFAULT_MAX_REGISTERED;
    p->dart_fault_fatal = opts && opts->dart_fault_fatal;
    p->dart = dart_create(dc);
    if (!p->dart) {
        snprintf(err, errlen, "cannot create the DART model (out of memory, or an IOVA base "
                 "and budget whose IOVA space would end beyond 2^64)");
        return -ENOMEM;
    }
    p->host = (struct sim_device_host){
        .opaque = p, .dma_read = host_dma_read, .dma_write = host_dma_write, .irq = host_irq,
    };
    if (!strcmp(p->model, "nvme")) {
        p->dev = sim_nvme_create(args, &p->host, derr, sizeof(derr));
    } else if (!strcmp(p->model, "virtio-net")) {
        p->dev = sim_virtio_net_create(args, &p->host, derr, sizeof(derr));
    } else {
        snprintf(err, errlen, "unknown device model '%s' (known: nvme, virtio-net)", p->model);
        return -EINVAL;
    }
    if (!p->dev) {
        snprintf(err, errlen, "device model %s: %s", p->model, derr);
        return -EINVAL;
    }
    bar_handles_refresh(p);
    find_caps(p);
    p->core = vfa_core_create(&sim_ops, p, cc, &cerr);
    if (!p->core) {
        snprintf(err, errlen, "dext core: %s", vfa_err_name(cerr));
        return -EIO;
    }
    if (p->dev->ops->start && p->dev->ops->start(p->dev)) {
        snprintf(err, errlen, "device model %s: cannot start its thread", p->model);
        return -EIO;
    }
    return 0;
}

void sim_platform_destroy(struct sim_platform *p)
{
    if (p->dev && p->dev->ops->stop)
        p->dev->ops->stop(p->dev);
    if (p->core)
        vfa_core_destroy(p->core);     /* cleans up a session still open */
    p->core = NULL;
    while (p->regions) {
        if (p->regions->refs)
            p->regions->refs = 0;       /* DART is going away with them */
        region_free(&p->regions);
    }
    if (p->dev)
        p->dev->ops->destroy(p->dev);
    if (p->dart)
        dart_destroy(p->dart);
    pthread_rwlock_destroy(&p->irq_lock);
}
