/*
 * vfio-apple CLI selftest: the DMA budget probe and the round-trip
 * latencies (see selftest.h).  The probe maps one region of memory again
 * and again: the dext counts every mapping against the budget, so the
 * budget is found without that much memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../client/vfio-apple-client.h"
#include "opts.h"
#include "progress.h"
#include "selftest.h"

#define PROBE_CHUNK     (64ull << 20)   /* the region mapped over and over */

struct handles {
    uint64_t *v;
    size_t n, cap;
};

static int keep(struct handles *h, uint64_t handle)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        uint64_t *v = realloc(h->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = handle;
    return 0;
}

/* Unmaps all; 0 or the first error. */
static int unmap_all(struct vfa_client *c, struct handles *h)
{
    int first = 0;

    for (size_t i = 0; i < h->n; i++) {
        int r = vfa_dma_unmap(c, h->v[i]);

        if (r && !first)
            first = r;
        if (i % 4096 == 0)
            cli_progress("selftest: unmapping %zu/%zu", i, h->n);
    }
    h->n = 0;
    return first;
}

/*
 * Maps pieces of @piece bytes (halving down to one page) until the dext
 * says NOSPC with a single page: the byte budget.  Stops early on MFILE.
 * Returns 0, or the error that is neither.
 */
static int probe_bytes(struct vfa_client *c, const struct cli_dma_buf *b, struct handles *h,
                       struct cli_selftest *r, int *stop)
{
    uint64_t piece = b->len;
    char a[32];

    while (piece >= VFA_PAGE_SIZE) {
        struct vfa_dma_map_out out;
        int e = vfa_dma_map(c, b->dma_va, piece, VFA_DMA_BIDIRECTIONAL, &out);

        r->budget_map_calls++;
        if (e == -ENOSPC) {
            piece /= 2;
            continue;
        }
        if (e) {
            *stop = e;
            return e == -EMFILE ? 0 : e;
        }
        if (out.nsegs > r->max_segments_seen)
            r->max_segments_seen = out.nsegs;
        if (keep(h, out.handle))
            return -ENOMEM;
        r->budget_bytes += piece;
        cli_progress("selftest: DMA budget: %s mapped in %zu mappings",
                     cli_fmt_size(r->budget_bytes, a, sizeof(a)), h->n);
    }
    *stop = -ENOSPC;
    return 0;
}

/* One page per mapping until MFILE (or NOSPC first). */
static int probe_mappings(struct vfa_client *c, const struct cli_dma_buf *b, struct handles *h,
                          const struct cli_selftest_opts *o, struct cli_selftest *r, int *stop)
{
    for (;;) {
        struct vfa_dma_map_out out;
        int e;

        if (o->max_mappings_probe && h->n >= o->max_mappings_probe) {
            *stop = 0;
            return 0;
        }
        e = vfa_dma_map(c, b->dma_va, VFA_PAGE_SIZE, VFA_DMA_BIDIRECTIONAL, &out);
        r->budget_map_calls++;
        if (e == -EMFILE || e == -ENOSPC) {
            *stop = e;
            return 0;
        }
        if (e)
            return e;
        if (keep(h, out.handle))
            return -ENOMEM;
        if (h->n % 1024 == 0)
            cli_progress("selftest: DMA mappings: %zu live", h->n);
    }
}

void cli_selftest_budget(struct vfa_client *c, const struct cli_selftest_opts *o,
                         struct cli_selftest *r)
{
    struct cli_step *s = cli_step_begin(r, "dma-budget");
    struct handles h = { 0 };
    struct cli_dma_buf b;
    struct vfa_stats st;
    char err[256], a[32], x[32];
    int e, stop = 0;

    if ((e = cli_dma_buf_get(c, PROBE_CHUNK, &b, err, sizeof(err)))) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA memory: %s", err);
        return;
    }
    r->budget_probed = true;
    e = probe_bytes(c, &b, &h, r, &stop);
    if (e) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA map after %s: %s",
                     cli_fmt_size(r->budget_bytes, a, sizeof(a)), vfa_client_errmsg(c));
        goto out;
    }
    r->budget_bytes_exact = stop == -ENOSPC;
    if ((e = unmap_all(c, &h))) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA unmap: %s", vfa_client_errmsg(c));
        goto out;
    }
    e = probe_mappings(c, &b, &h, o, r, &stop);
    r->budget_mappings = h.n;
    r->budget_mappings_exact = stop == -EMFILE;
    if (e) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA map of one page after %zu mappings: %s", h.n,
                     vfa_client_errmsg(c));
        goto out;
    }
    if ((e = unmap_all(c, &h))) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA unmap: %s", vfa_client_errmsg(c));
        goto out;
    }
    if (vfa_get_stats(c, &st)) {
        cli_step_set(s, CLI_STEP_FAIL, "stats: %s", vfa_client_errmsg(c));
        goto out;
    }
    r->gauges_zero = !st.dma_mapped_bytes && !st.dma_live_mappings;
    cli_fmt_size(r->budget_bytes, a, sizeof(a));
    cli_fmt_size(r->id.dma_budget_bytes, x, sizeof(x));
    if (!r->gauges_zero)
        cli_step_set(s, CLI_STEP_FAIL, "after unmapping everything the dext still counts "
                     "%llu bytes in %llu mappings", (unsigned long long)st.dma_mapped_bytes,
                     (unsigned long long)st.dma_live_mappings);
    else if (r->budget_bytes_exact && r->budget_bytes != r->id.dma_budget_bytes)
        cli_step_set(s, CLI_STEP_FAIL, "found %s (%llu bytes) of budget, the dext reports %s",
                     a, (unsigned long long)r->budget_bytes, x);
    else if (r->budget_mappings_exact && r->budget_mappings != r->id.dma_max_mappings)
        cli_step_set(s, CLI_STEP_FAIL, "found %llu mappings, the dext reports %u",
                     (unsigned long long)r->budget_mappings, r->id.dma_max_mappings);
    else
        cli_step_set(s, CLI_STEP_PASS, "%s%s (%llu bytes) and %s%llu mappings, as reported; "
                     "%llu maps, up to %u segment(s) each; all unmapped, gauges back at 0",
                     r->budget_bytes_exact ? "" : "at least ", a,
                     (unsigned long long)r->budget_bytes,
                     r->budget_mappings_exact ? "" : "at least ",
                     (unsigned long long)r->budget_mappings,
                     (unsigned long long)r->budget_map_calls, r->max_segments_seen);
out:
    unmap_all(c, &h);
    free(h.v);
    cli_dma_buf_put(c, &b);
}

void cli_selftest_latency(struct vfa_client *c, const struct cli_selftest_opts *o,
                          struct cli_selftest *r)
{
    struct cli_step *s = cli_step_begin(r, "latency");
    unsigned n = o->samples ? o->samples : 1000;
    uint64_t *cfg = calloc(n, sizeof(uint64_t)), *map = calloc(n, sizeof(uint64_t)),
             *unmap = calloc(n, sizeof(uint64_t));
    struct cli_dma_buf b = { .fd = -1 };
    char err[256];
    int e;

    if (!cfg || !map || !unmap) {
        cli_step_set(s, CLI_STEP_FAIL, "out of memory");
        goto out;
    }
    if ((e = cli_dma_buf_get(c, VFA_PAGE_SIZE, &b, err, sizeof(err)))) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA memory: %s", err);
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        struct vfa_dma_map_out out;
        uint32_t v;
        uint64_t t0 = cli_now_ns(), t1, t2;

        if (vfa_config_read(c, 0, 4, &v)) {
            cli_step_set(s, CLI_STEP_FAIL, "config read: %s", vfa_client_errmsg(c));
            goto out;
        }
        t1 = cli_now_ns();
        if (vfa_dma_map(c, b.dma_va, VFA_PAGE_SIZE, VFA_DMA_BIDIRECTIONAL, &out)) {
            cli_step_set(s, CLI_STEP_FAIL, "DMA map: %s", vfa_client_errmsg(c));
            goto out;
        }
        t2 = cli_now_ns();
        if (vfa_dma_unmap(c, out.handle)) {
            cli_step_set(s, CLI_STEP_FAIL, "DMA unmap: %s", vfa_client_errmsg(c));
            goto out;
        }
        cfg[i] = t1 - t0;
        map[i] = t2 - t1;
        unmap[i] = cli_now_ns() - t2;
        if (i % 256 == 0)
            cli_progress("selftest: latency sample %u/%u", i, n);
    }
    cli_lat_summarise(cfg, n, &r->lat_config);
    cli_lat_summarise(map, n, &r->lat_map);
    cli_lat_summarise(unmap, n, &r->lat_unmap);
    cli_step_set(s, CLI_STEP_PASS, "%u samples each: config read median %.1f us, DMA map "
                 "%.1f us, unmap %.1f us", n, r->lat_config.median_ns / 1e3,
                 r->lat_map.median_ns / 1e3, r->lat_unmap.median_ns / 1e3);
out:
    if (b.va)
        cli_dma_buf_put(c, &b);
    free(cfg);
    free(map);
    free(unmap);
}
