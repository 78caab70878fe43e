/* Fake platform for the dext core tests: see test_core_fake.h. */
#include <stdlib.h>
#include <string.h>

#include "test_core_fake.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }

static int f_get_info(void *ctx, struct vfa_platform_info *in)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (f->info_fails)
        return VFA_E_IO;
    memset(in, 0, sizeof(*in));
    in->vendor_id = 0x1b36;
    in->device_id = 0x0010;
    in->subsys_vendor_id = 0x1af4;
    in->subsys_id = 0x1100;
    in->class_code = 0x010802;
    in->revision = 2;
    strcpy(in->location, "fake:test");
    in->bus = 3;
    in->config_size = f->config_size;
    in->bar_flags[0] = VFA_BAR_PRESENT | VFA_BAR_MEM64 | VFA_BAR_MAPPABLE;
    in->bar_size[0] = FAKE_BAR0_SIZE;
    in->bar_trapped_pages[0] = 0x2;
    in->bar_memory_index[0] = 0;
    in->bar_flags[2] = VFA_BAR_PRESENT | VFA_BAR_PREFETCHABLE;
    in->bar_size[2] = FAKE_BAR2_SIZE;
    in->bar_memory_index[2] = 1;
    in->rom_size = f->no_rom ? 0 : FAKE_ROM_SIZE;
    in->msi_vectors = FAKE_MSI_VECS;
    in->msix_vectors = f->no_msix ? 0 : FAKE_MSIX_VECS;
    in->reset_methods = f->reset_methods;
    return 0;
}

static int f_config_read(void *ctx, uint32_t off, unsigned width, uint32_t *val)
{
    struct fake *f = ctx;
    uint32_t v = 0;

    f->platform_calls++;
    /* The core promised to validate, against the size it was told. */
    if (off + width > sizeof(f->cfg) || off + width > f->config_size ||
        (width != 1 && width != 2 && width != 4) || off % width)
        abort();
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)f->cfg[off + i] << (8 * i);
    *val = v;
    return 0;
}

static int f_config_write(void *ctx, uint32_t off, unsigned width, uint32_t val)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (off + width > sizeof(f->cfg) || off + width > f->config_size ||
        (width != 1 && width != 2 && width != 4) || off % width)
        abort();
    if (f->nwrites < sizeof(f->writes) / sizeof(f->writes[0]))
        f->writes[f->nwrites++] = (struct fake_write){ off, width, val };
    for (unsigned i = 0; i < width; i++)
        f->cfg[off + i] = val >> (8 * i);
    return 0;
}

static uint8_t *bar_mem(struct fake *f, unsigned bar, uint64_t *size)
{
    if (bar == 0) {
        *size = FAKE_BAR0_SIZE;
        return f->bar0;
    }
    if (bar == 2) {
        *size = FAKE_BAR2_SIZE;
        return f->bar2;
    }
    abort();
}

static int f_mmio_read(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
    struct fake *f = ctx;
    uint64_t size, v = 0;
    uint8_t *m = bar_mem(f, bar, &size);

    f->platform_calls++;
    if (off + width > size)
        abort();
    memcpy(&v, m + off, width);
    *val = v;
    if (f->nmmio < sizeof(f->mmio) / sizeof(f->mmio[0]))
        f->mmio[f->nmmio++] = (struct fake_mmio){ bar, off, width, false };
    return 0;
}

static int f_mmio_write(void *ctx, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
    struct fake *f = ctx;
    uint64_t size;
    uint8_t *m = bar_mem(f, bar, &size);

    f->platform_calls++;
    if (off + width > size)
        abort();
    memcpy(m + off, &val, width);
    if (f->nmmio < sizeof(f->mmio) / sizeof(f->mmio[0]))
        f->mmio[f->nmmio++] = (struct fake_mmio){ bar, off, width, true };
    return 0;
}

static int f_rom_read(void *ctx, uint64_t off, void *buf, uint32_t len)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (off + len > FAKE_ROM_SIZE)
        abort();
    memcpy(buf, f->rom + off, len);
    return 0;
}

static int f_reset(void *ctx, uint32_t method)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (method == VFA_RESET_FLR) {
        if (f->flr_fails)
            return VFA_E_NOTSUP;
        f->flr_count++;
    } else if (method == VFA_RESET_HOT) {
        if (f->hot_fails)
            return VFA_E_NOTSUP;
        f->hot_count++;
    } else {
        abort();
    }
    put16(f->cfg + 0x04, 0);    /* Command back to power-on state */
    return 0;
}

static int f_irq_setup(void *ctx, uint32_t type, uint32_t count)
{
    struct fake *f = ctx;

    f->platform_calls++;
    f->irq_setup_calls++;
    f->irq_type = type;
    f->irq_count = count;
    return 0;
}

static int f_dma_prepare(void *ctx, uint64_t client, uint64_t va, uint64_t len, uint32_t flags,
                         struct vfa_dma_segment *segs, unsigned max, unsigned *nsegs,
                         uint64_t *cookie)
{
    struct fake *f = ctx;
    unsigned n = f->fragment ? f->fragment : 1;

    f->platform_calls++;
    f->prepares++;
    f->last_client = client;
    if (f->prepare_fails)
        return VFA_E_FAULT;
    if (f->live >= FAKE_MAX_LIVE)
        return VFA_E_NOMEM;
    if (n > len)
        n = (unsigned)len;
    if (n > max)
        n = max;
    uint64_t per = len / n, done = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t l = i == n - 1 ? len - done : per;

        /* IOVAs unrelated to the VA, keeping the in-page offset. */
        segs[i].iova = 0x800000000ull + f->next_iova + (i == 0 ? (va & 0x3fff) : 0);
        segs[i].len = l;
        f->next_iova += (l + 0x7fff) & ~0x3fffull;
        done += l;
    }
    if (f->prepare_bad_segments)
        segs[0].len += 1;
    *nsegs = n;
    *cookie = 0xc0de0000ull + f->prepares;
    f->live_cookies[f->live++] = *cookie;
    return 0;
}

static void f_dma_complete(void *ctx, uint64_t cookie)
{
    struct fake *f = ctx;

    f->platform_calls++;
    f->completes++;
    for (unsigned i = 0; i < f->live; i++) {
        if (f->live_cookies[i] == cookie) {
            f->live_cookies[i] = f->live_cookies[--f->live];
            return;
        }
    }
    abort();    /* completing something never prepared */
}

static void *f_irq_page_alloc(void *ctx)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (f->page_alloc_fails)
        return NULL;
    f->pages_alloc++;
    f->irq_page = aligned_alloc(VFA_IRQ_PAGE_SIZE, VFA_IRQ_PAGE_SIZE);
    return f->irq_page;
}

static void f_irq_page_free(void *ctx, void *page)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (page != f->irq_page)
        abort();
    free(page);
    f->irq_page = NULL;
    f->pages_free++;
}

static int f_map_memory(void *ctx, uint64_t client, uint32_t type, void **handle, uint64_t *size)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (type == VFA_MEM_IRQ_PAGE) {
        *handle = f->irq_page;
        *size = VFA_IRQ_PAGE_SIZE;
    } else {
        *handle = f->bar0;
        *size = FAKE_BAR0_SIZE;
    }
    return 0;
}

static void f_notify(void *ctx)
{
    struct fake *f = ctx;

    __atomic_fetch_add(&f->notifies, 1, __ATOMIC_RELAXED);
}

static int f_session_begin(void *ctx, uint64_t client)
{
    struct fake *f = ctx;

    f->platform_calls++;
    if (f->begin_fails)
        return VFA_E_IO;
    f->begins++;
    if (f->session_sets_mse)
        f->cfg[0x04] |= 0x02;
    return 0;
}

static void f_session_end(void *ctx, uint64_t client)
{
    struct fake *f = ctx;

    f->platform_calls++;
    f->ends++;
}

static void build_config(struct fake *f)
{
    uint8_t *c = f->cfg;

    memset(c, 0, sizeof(f->cfg));
    put16(c + 0x00, 0x1b36);
    put16(c + 0x02, 0x0010);
    put16(c + 0x04, 0x0000);
    put16(c + 0x06, 0x0010);            /* capability list */
    put32(c + 0x08, 0x01080202);
    /* The device's own BAR registers hold host addresses with junk type
     * bits, as on Apple Silicon: the core must never show these. */
    put32(c + 0x10, 0xdead0001);
    put32(c + 0x14, 0xbeef0000);
    put32(c + 0x18, 0x12345678);
    put32(c + 0x30, 0xfeed0001);
    c[0x34] = FAKE_MSI_CAP;
    c[FAKE_MSI_CAP] = 0x05;
    c[FAKE_MSI_CAP + 1] = FAKE_MSIX_CAP;
    put16(c + FAKE_MSI_CAP + 2, 0x0184);    /* 64-bit, masking, 4 vectors cap */
    c[FAKE_MSIX_CAP] = 0x11;
    c[FAKE_MSIX_CAP + 1] = FAKE_PCIE_CAP;
    put16(c + FAKE_MSIX_CAP + 2, FAKE_MSIX_VECS - 1);
    c[FAKE_PCIE_CAP] = 0x10;
    c[FAKE_PCIE_CAP + 1] = 0x00;
    put16(c + FAKE_PCIE_CAP + 2, 0x0002);
    put16(c + FAKE_PCIE_CAP + 0x08, 0x2810);  /* Device Control */
    put16(c + FAKE_PCIE_CAP + 0x10, 0x0040);  /* Link Control */
    put16(c + FAKE_PCIE_CAP + 0x28, 0x0000);  /* Device Control 2 */
    c[FAKE_PCIE_CAP + 1] = FAKE_PM_CAP;
    put32(c + FAKE_MSIX_CAP + 4, FAKE_MSIX_TABLE | 0);     /* BIR 0 */
    put32(c + FAKE_MSIX_CAP + 8, FAKE_MSIX_PBA | 0);
    c[FAKE_PM_CAP] = 0x01;
    c[FAKE_PM_CAP + 1] = FAKE_VNDR_CAP;
    put16(c + FAKE_PM_CAP + 2, 0x0203);       /* v3, D1 supported */
    put16(c + FAKE_PM_CAP + 4, 0x0008);       /* D0, No_Soft_Reset */
    c[FAKE_VNDR_CAP] = 0x09;
    c[FAKE_VNDR_CAP + 1] = 0x00;
    c[FAKE_VNDR_CAP + 2] = FAKE_VNDR_LEN;
    put32(c + FAKE_VNDR_CAP + 4, 0x11223344);

    /* Extended capabilities, each with something a guest must not set. */
    fake_put_ext(f, FAKE_AER_CAP, 0x0001, 2, FAKE_ACS_CAP);
    put32(c + FAKE_AER_CAP + 0x04, 0x00004000);    /* uncorrectable: completion timeout */
    put32(c + FAKE_AER_CAP + 0x08, 0x00400000);    /* uncorrectable mask */
    put32(c + FAKE_AER_CAP + 0x10, 0x00000001);    /* correctable: receiver error */
    fake_put_ext(f, FAKE_ACS_CAP, 0x000d, 1, FAKE_LTR_CAP);
    put16(c + FAKE_ACS_CAP + 4, 0x001f);           /* ACS capabilities */
    fake_put_ext(f, FAKE_LTR_CAP, 0x0018, 1, FAKE_L1SS_CAP);
    fake_put_ext(f, FAKE_L1SS_CAP, 0x001e, 1, FAKE_REBAR_CAP);
    fake_put_ext(f, FAKE_REBAR_CAP, 0x0015, 1, FAKE_SRIOV_CAP);
    put32(c + FAKE_REBAR_CAP + 4, 0x00000030);     /* BAR0 can be 64K..128K */
    put32(c + FAKE_REBAR_CAP + 8, 0x00000020);     /* BAR0, 1 BAR, size 64K */
    fake_put_ext(f, FAKE_SRIOV_CAP, 0x0010, 1, FAKE_VSEC_CAP);
    put16(c + FAKE_SRIOV_CAP + 0x0e, 8);           /* TotalVFs */
    fake_put_ext(f, FAKE_VSEC_CAP, 0x000b, 1, FAKE_DVSEC_CAP);
    put32(c + FAKE_VSEC_CAP + 4, FAKE_VSEC_LEN << 20 | 1u << 16 | FAKE_VSEC_ID);
    fake_put_ext(f, FAKE_DVSEC_CAP, 0x0023, 1, FAKE_UNK_CAP);
    put32(c + FAKE_DVSEC_CAP + 4, 0x10u << 20 | 0x1b36);
    put16(c + FAKE_DVSEC_CAP + 8, FAKE_DVSEC_ID);
    fake_put_ext(f, FAKE_UNK_CAP, 0x7777, 1, 0);
    for (unsigned i = 0; i < FAKE_ROM_SIZE; i++)
        f->rom[i] = (uint8_t)(i * 7 + 1);
    f->rom[0] = 0x55;
    f->rom[1] = 0xaa;
}

void fake_put16(struct fake *f, uint32_t off, uint16_t v)
{
    put16(f->cfg + off, v);
}

void fake_put32(struct fake *f, uint32_t off, uint32_t v)
{
    put32(f->cfg + off, v);
}

void fake_put_ext(struct fake *f, uint32_t off, uint16_t id, uint8_t ver, uint32_t next)
{
    put32(f->cfg + off, (uint32_t)id | (uint32_t)(ver & 0xf) << 16 | (next & 0xffc) << 20);
}

void fake_init(struct fake *f, uint64_t budget, uint32_t max_maps)
{
    memset(f, 0, sizeof(*f));
    f->config_size = 4096;
    f->session_sets_mse = true;
    build_config(f);
    f->reset_methods = VFA_RESET_FLR | VFA_RESET_HOT;
    f->ops = (struct vfa_platform_ops){
        .get_info = f_get_info,
        .config_read = f_config_read,
        .config_write = f_config_write,
        .mmio_read = f_mmio_read,
        .mmio_write = f_mmio_write,
        .rom_read = f_rom_read,
        .reset = f_reset,
        .irq_setup = f_irq_setup,
        .dma_prepare = f_dma_prepare,
        .dma_complete = f_dma_complete,
        .irq_page_alloc = f_irq_page_alloc,
        .irq_page_free = f_irq_page_free,
        .map_memory = f_map_memory,
        .notify = f_notify,
        .session_begin = f_session_begin,
        .session_end = f_session_end,
    };
    f->core = fake_core(f, budget, max_maps);
}

struct vfa_core *fake_core(struct fake *f, uint64_t budget, uint32_t max_maps)
{
    struct vfa_core_config cfg = {
        .dma_budget_bytes = budget,
        .dma_max_mappings = max_maps,
        .quirks = f->quirks,
        .nquirks = f->nquirks,
    };
    uint32_t err;

    return vfa_core_create(&f->ops, f, &cfg, &err);
}

void fake_fini(struct fake *f)
{
    vfa_core_destroy(f->core);
    f->core = NULL;
}

struct vfa_core *fake_recreate(struct fake *f)
{
    fake_fini(f);
    f->core = fake_core(f, 0, 0);
    return f->core;
}

uint32_t fake_call(struct fake *f, uint64_t client, uint32_t sel, unsigned nin,
                   const uint64_t *in, uint64_t *out, void *sout, uint32_t *soutlen)
{
    uint64_t dummy[VFA_MAX_SCALARS];
    struct vfa_call c = {
        .selector = sel,
        .nscalars_in = nin,
        .scalars_in = in,
        .nscalars_out = VFA_MAX_SCALARS,
        .scalars_out = out ? out : dummy,
        .struct_out = sout,
        .struct_out_len = soutlen ? *soutlen : 0,
    };
    uint32_t rc = vfa_core_dispatch(f->core, client, &c);

    if (soutlen)
        *soutlen = c.struct_out_len;
    return rc;
}

bool fake_wrote(const struct fake *f, uint32_t off, uint32_t len)
{
    for (unsigned i = 0; i < f->nwrites; i++) {
        const struct fake_write *w = &f->writes[i];

        if (w->off < off + len && off < w->off + w->width)
            return true;
    }
    return false;
}

bool fake_mmio_hit(const struct fake *f, unsigned bar, uint64_t off, uint64_t len, bool write)
{
    for (unsigned i = 0; i < f->nmmio; i++) {
        const struct fake_mmio *m = &f->mmio[i];

        if (m->bar == bar && m->write == write && m->off < off + len && off < m->off + m->width)
            return true;
    }
    return false;
}
