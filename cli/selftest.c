/* vfio-apple CLI: the selftest sequence (see selftest.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/vfio-apple-client.h"
#include "progress.h"
#include "selftest.h"

struct cli_step *cli_step_begin(struct cli_selftest *r, const char *name)
{
    struct cli_step *s = &r->steps[r->nsteps < CLI_SELFTEST_MAX_STEPS ? r->nsteps++
                                                                        : r->nsteps - 1];

    s->name = name;
    s->result = CLI_STEP_PASS;
    s->detail[0] = 0;
    cli_progress_step("selftest %s: %s", r->name, name);
    return s;
}

void cli_step_set(struct cli_step *s, enum cli_step_result res, const char *fmt, ...)
{
    va_list ap;

    s->result = res;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
    va_end(ap);
}

uint64_t cli_map_iova(const struct vfa_dma_map_out *m, uint64_t off)
{
    for (unsigned i = 0; i < m->nsegs; i++) {
        if (off < m->segs[i].len)
            return m->segs[i].iova + off;
        off -= m->segs[i].len;
    }
    return 0;
}

int cli_dma_buf_get(struct vfa_client *c, uint64_t len, struct cli_dma_buf *b,
                    char *err, size_t errlen)
{
    int r;

    memset(b, 0, sizeof(*b));
    b->fd = -1;
    r = cli_host_dma_alloc(len, &b->va, &b->fd, err, errlen);
    if (r)
        return r;
    b->len = len;
    r = vfa_share_memory(c, b->va, len, b->fd, 0, &b->shared);
    if (r) {
        snprintf(err, errlen, "%s", vfa_client_errmsg(c));
        cli_host_dma_free(b->va, len, b->fd);
        memset(b, 0, sizeof(*b));
        return r;
    }
    b->dma_va = vfa_shared_mem_dma_va(b->shared);
    return 0;
}

void cli_dma_buf_put(struct vfa_client *c, struct cli_dma_buf *b)
{
    if (b->shared)
        vfa_unshare_memory(c, b->shared);
    cli_host_dma_free(b->va, b->len, b->fd);
    memset(b, 0, sizeof(*b));
}

/* Walks the capability list of a config block; how many it holds. */
static unsigned count_caps(const uint8_t *cfg, uint32_t len)
{
    unsigned n = 0, off;

    if (len < 0x40 || !(cfg[0x06] & 0x10))
        return 0;
    for (off = cfg[0x34] & 0xfc; off >= 0x40 && off + 2 <= len && n < 48; n++)
        off = cfg[off + 1] & 0xfc;
    return n;
}

static bool step_config(struct vfa_client *c, struct cli_selftest *r)
{
    struct cli_step *s = cli_step_begin(r, "config");
    static uint8_t cfg[4096];
    uint32_t len = r->id.config_size == 4096 ? 4096 : 256;

    if (vfa_config_read_block(c, 0, cfg, len)) {
        cli_step_set(s, CLI_STEP_FAIL, "config block read of %u bytes: %s", len,
                     vfa_client_errmsg(c));
        return false;
    }
    r->cfg_len = len;
    r->cfg_vendor = (uint16_t)(cfg[0] | cfg[1] << 8);
    r->cfg_device = (uint16_t)(cfg[2] | cfg[3] << 8);
    r->cfg_class = (uint32_t)(cfg[9] | cfg[10] << 8 | cfg[11] << 16);
    r->cfg_caps = count_caps(cfg, len);
    if (r->cfg_vendor != r->id.vendor_id || r->cfg_device != r->id.device_id ||
        r->cfg_class != (r->id.class_code & 0xffffff)) {
        cli_step_set(s, CLI_STEP_FAIL, "config space says %04x:%04x class %06x, the identity "
                     "%04x:%04x class %06x", r->cfg_vendor, r->cfg_device, r->cfg_class,
                     r->id.vendor_id, r->id.device_id, r->id.class_code & 0xffffff);
        return true;
    }
    cli_step_set(s, CLI_STEP_PASS, "%u bytes; IDs %04x:%04x and class %06x as identified; "
                 "%u capabilities", len, r->cfg_vendor, r->cfg_device, r->cfg_class,
                 r->cfg_caps);
    return true;
}

/* Memory decoding and bus mastering on, as a driver would. */
static int enable_device(struct vfa_client *c, char *err, size_t errlen)
{
    uint32_t cmd, fwd, now;
    int r = vfa_config_read(c, 0x04, 2, &cmd);

    if (!r)
        r = vfa_config_write_readback(c, 0x04, 2, cmd | 0x6, &fwd, &now);
    if (r < 0) {
        snprintf(err, errlen, "Command register: %s", vfa_client_errmsg(c));
        return r;
    }
    return 0;
}

static void step_bars(struct vfa_client *c, struct cli_selftest *r, void **bar_ptr)
{
    struct cli_step *s = cli_step_begin(r, "bars");
    char err[256], *p = s->detail;
    size_t left = sizeof(s->detail);
    unsigned mapped = 0, present = 0;

    if (enable_device(c, err, sizeof(err))) {
        cli_step_set(s, CLI_STEP_FAIL, "%s", err);
        return;
    }
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        struct cli_bar_result *b = &r->bar[i];
        struct vfa_bar_info bi;
        uint64_t v, size;
        uint32_t flags;
        void *m;
        int n;

        if (!(r->id.bar_flags[i] & VFA_BAR_PRESENT))
            continue;
        present++;
        b->present = true;
        if (vfa_bar_info(c, i, &bi)) {
            cli_step_set(s, CLI_STEP_FAIL, "BAR%u info: %s", i, vfa_client_errmsg(c));
            return;
        }
        b->flags = bi.flags;
        b->size = bi.size;
        b->trapped_pages = bi.trapped_pages;
        if (bi.size != r->id.bar_size[i] || bi.flags != r->id.bar_flags[i]) {
            cli_step_set(s, CLI_STEP_FAIL, "BAR%u info (size %#llx flags %#x) disagrees with "
                         "the identity (size %#llx flags %#x)", i,
                         (unsigned long long)bi.size, bi.flags,
                         (unsigned long long)r->id.bar_size[i], r->id.bar_flags[i]);
            return;
        }
        if (vfa_mmio_read(c, i, 0, 4, &v)) {
            cli_step_set(s, CLI_STEP_FAIL, "BAR%u MMIO read at 0: %s", i, vfa_client_errmsg(c));
            return;
        }
        b->mmio_value = (uint32_t)v;
        b->read = true;
        if (!(bi.flags & VFA_BAR_MAPPABLE))
            continue;
        if (vfa_map_memory(c, VFA_MEM_BAR(i), &m, &size, &flags)) {
            cli_step_set(s, CLI_STEP_FAIL, "BAR%u mapping: %s", i, vfa_client_errmsg(c));
            return;
        }
        b->mapped = true;
        b->map_size = size;
        bar_ptr[i] = m;
        mapped++;
        if (size < bi.size) {
            cli_step_set(s, CLI_STEP_FAIL, "BAR%u mapping is %#llx bytes, the BAR %#llx", i,
                         (unsigned long long)size, (unsigned long long)bi.size);
            return;
        }
        if (bi.trapped_pages & 1)
            continue;       /* page 0 goes through MMIO calls only */
        b->map_value = __atomic_load_n((volatile uint32_t *)m, __ATOMIC_ACQUIRE);
        if (b->map_value != b->mmio_value) {
            cli_step_set(s, CLI_STEP_FAIL, "BAR%u offset 0 reads %#x through the mapping, "
                         "%#x through an MMIO call", i, b->map_value, b->mmio_value);
            return;
        }
        n = snprintf(p, left, "%sBAR%u %#x", p == s->detail ? "" : "; ", i, b->map_value);
        if (n > 0 && (size_t)n < left) {
            p += n;
            left -= (size_t)n;
        }
    }
    {
        char first[200];

        snprintf(first, sizeof(first), "%s", s->detail);
        cli_step_set(s, CLI_STEP_PASS, "%u BAR(s), %u mapped; offset 0 reads the same mapped "
                     "and by MMIO call: %s", present, mapped, first[0] ? first : "-");
    }
}

static void step_interrupts(struct vfa_client *c, struct cli_selftest *r,
                            struct vfa_irq_page **irq, int *notify_fd)
{
    struct cli_step *s = cli_step_begin(r, "interrupts");
    uint32_t type = r->id.msix_vectors ? VFA_IRQ_MSIX : r->id.msi_vectors ? VFA_IRQ_MSI : 0;
    uint32_t n = type == VFA_IRQ_MSIX ? r->id.msix_vectors : r->id.msi_vectors;
    uint64_t size;
    void *p;

    if (!type) {
        cli_step_set(s, CLI_STEP_SKIP, "the device has neither MSI nor MSI-X");
        return;
    }
    if (vfa_irq_setup(c, type, n) || vfa_irq_enable(c, 0, n, true)) {
        cli_step_set(s, CLI_STEP_FAIL, "%s x%u: %s", type == VFA_IRQ_MSIX ? "MSI-X" : "MSI", n,
                     vfa_client_errmsg(c));
        return;
    }
    if (vfa_map_memory(c, VFA_MEM_IRQ_PAGE, &p, &size, NULL)) {
        cli_step_set(s, CLI_STEP_FAIL, "IRQ page: %s", vfa_client_errmsg(c));
        return;
    }
    *irq = p;
    if ((*irq)->magic != VFA_IRQ_PAGE_MAGIC || (*irq)->irq_type != type ||
        (*irq)->nvectors != n) {
        cli_step_set(s, CLI_STEP_FAIL, "IRQ page: magic %#x type %u vectors %u (want %#x, %u, "
                     "%u)", (*irq)->magic, (*irq)->irq_type, (*irq)->nvectors,
                     VFA_IRQ_PAGE_MAGIC, type, n);
        *irq = NULL;
        return;
    }
    *notify_fd = vfa_notify_fd(c);
    if (*notify_fd < 0) {
        cli_step_set(s, CLI_STEP_FAIL, "notification: %s", vfa_client_errmsg(c));
        return;
    }
    r->irq_type = type;
    r->irq_vectors = n;
    cli_step_set(s, CLI_STEP_PASS, "%s, %u vectors set up and enabled; IRQ page and "
                 "notification ready", type == VFA_IRQ_MSIX ? "MSI-X" : "MSI", n);
}

unsigned cli_selftest_run(const struct cli_device_ref *ref, const struct cli_selftest_opts *o,
                          struct cli_selftest *r)
{
    uint64_t t0 = cli_now_ns(), feat;
    struct vfa_client *c = NULL;
    struct vfa_irq_page *irq = NULL;
    void *bar_ptr[VFA_NUM_BARS] = { 0 };
    int notify_fd = -1, e;
    struct cli_step *s;
    char err[512];

    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", ref->name);
    snprintf(r->target, sizeof(r->target), "%s", ref->target);
    s = cli_step_begin(r, "identity");
    if ((e = vfa_client_connect(ref->target, &c, err, sizeof(err)))) {
        cli_step_set(s, CLI_STEP_FAIL, "cannot reach the dext: %s", err);
        goto out;
    }
    r->transport = vfa_client_transport(c) == VFA_TRANSPORT_SOCKET ? "vfio-apple-sim" : "dext";
    vfa_client_set_timeout(c, 10000);
    if (vfa_get_version(c, &r->abi_major, &r->abi_minor, &feat) ||
        vfa_get_identity(c, &r->id)) {
        cli_step_set(s, CLI_STEP_FAIL, "%s", vfa_client_errmsg(c));
        goto out;
    }
    r->id.location[sizeof(r->id.location) - 1] = 0;
    if ((e = vfa_session_open(c))) {
        cli_step_set(s, CLI_STEP_FAIL, "session: %s%s", vfa_client_errmsg(c),
                     e == -EBUSY ? " -- another client (a VM?) holds the device: stop it "
                     "first (`vfio-apple status` names the owner)" : "");
        goto out;
    }
    cli_step_set(s, CLI_STEP_PASS, "%04x:%04x at %04x:%02x:%02x.%x on %s, ABI %u.%u (%s); "
                 "session open", r->id.vendor_id, r->id.device_id, r->id.domain, r->id.bus,
                 r->id.dev, r->id.fn, r->id.location, r->abi_major, r->abi_minor, r->transport);
    if (!step_config(c, r))
        goto out;
    step_bars(c, r, bar_ptr);
    step_interrupts(c, r, &irq, &notify_fd);
    s = cli_step_begin(r, "loopback");
    if ((r->id.class_code & 0xffffff) != 0x010802)
        cli_step_set(s, CLI_STEP_SKIP, "no loopback known for class %06x (NVMe has one)",
                     r->id.class_code & 0xffffff);
    else if (!irq || !bar_ptr[0] || (r->bar[0].trapped_pages & 1))
        cli_step_set(s, CLI_STEP_FAIL, "needs BAR0's register page mapped and interrupts "
                     "set up (see above)");
    else
        cli_selftest_loopback_nvme(c, r, s, bar_ptr[0], irq, notify_fd);
    if (o->skip_budget) {
        cli_step_set(cli_step_begin(r, "dma-budget"), CLI_STEP_SKIP, "--no-budget");
    } else {
        cli_selftest_budget(c, o, r);
    }
    cli_selftest_latency(c, o, r);
out:
    cli_progress_done();
    if (c) {
        for (unsigned i = 0; i < VFA_NUM_BARS; i++)
            if (bar_ptr[i])
                vfa_unmap_memory(c, bar_ptr[i], r->bar[i].map_size);
        if (irq)
            vfa_unmap_memory(c, irq, VFA_IRQ_PAGE_SIZE);
        vfa_session_close(c);
        vfa_client_disconnect(c);
    }
    r->wall_ns = cli_now_ns() - t0;
    for (unsigned i = 0; i < r->nsteps; i++)
        r->failed += r->steps[i].result == CLI_STEP_FAIL;
    return r->failed;
}
