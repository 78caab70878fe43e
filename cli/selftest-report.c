/* vfio-apple CLI: the selftest report, for people and as JSON (see selftest.h). */
#include <inttypes.h>
#include <stdio.h>

#include "json-out.h"
#include "opts.h"
#include "selftest.h"

static const char *result_name(enum cli_step_result r)
{
    return r == CLI_STEP_PASS ? "pass" : r == CLI_STEP_SKIP ? "skip" : "FAIL";
}

static void lat_line(FILE *f, const char *what, const struct cli_lat *l)
{
    if (!l->n)
        return;
    fprintf(f, "  %-18s min %7.1f  median %7.1f  p99 %7.1f  max %8.1f us  (%u samples)\n",
            what, l->min_ns / 1e3, l->median_ns / 1e3, l->p99_ns / 1e3, l->max_ns / 1e3, l->n);
}

void cli_selftest_print(FILE *f, const struct cli_selftest *r)
{
    char a[32], b[32];

    fprintf(f, "vfio-apple selftest: %s (%s)\n", r->name, r->target);
    for (unsigned i = 0; i < r->nsteps; i++)
        fprintf(f, "  %-4s %-11s %s\n", result_name(r->steps[i].result), r->steps[i].name,
                r->steps[i].detail);
    if (r->budget_probed) {
        fprintf(f, "DMA budget found: %s%s (%" PRIu64 " bytes; reported %s), %s%" PRIu64
                " mappings (reported %u)\n", r->budget_bytes_exact ? "" : "at least ",
                cli_fmt_size(r->budget_bytes, a, sizeof(a)), r->budget_bytes,
                cli_fmt_size(r->id.dma_budget_bytes, b, sizeof(b)),
                r->budget_mappings_exact ? "" : "at least ", r->budget_mappings,
                r->id.dma_max_mappings);
    }
    if (r->lat_config.n) {
        fprintf(f, "Round trips to the dext:\n");
        lat_line(f, "config read", &r->lat_config);
        lat_line(f, "DMA map (16 KiB)", &r->lat_map);
        lat_line(f, "DMA unmap", &r->lat_unmap);
    }
    fprintf(f, "Result: %s (%u step(s) failed) in %.1f s\n", r->failed ? "FAILED" : "PASSED",
            r->failed, r->wall_ns / 1e9);
}

static void lat_json(struct jw *w, const char *key, const struct cli_lat *l)
{
    jw_obj(w, key);
    jw_u64(w, "samples", l->n);
    jw_u64(w, "min_ns", l->min_ns);
    jw_u64(w, "median_ns", l->median_ns);
    jw_u64(w, "p99_ns", l->p99_ns);
    jw_u64(w, "max_ns", l->max_ns);
    jw_obj_end(w);
}

void cli_selftest_json(FILE *f, const struct cli_selftest *r)
{
    struct jw w;

    jw_init(&w, f, true);
    jw_obj(&w, NULL);
    jw_str(&w, "device", r->name);
    jw_str(&w, "target", r->target);
    jw_str(&w, "transport", r->transport);
    jw_bool(&w, "passed", !r->failed);
    jw_u64(&w, "steps_failed", r->failed);
    jw_arr(&w, "steps");
    for (unsigned i = 0; i < r->nsteps; i++) {
        jw_obj(&w, NULL);
        jw_str(&w, "name", r->steps[i].name);
        jw_str(&w, "result", r->steps[i].result == CLI_STEP_PASS ? "pass" :
               r->steps[i].result == CLI_STEP_SKIP ? "skip" : "fail");
        jw_str(&w, "detail", r->steps[i].detail);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj(&w, "identity");
    jw_u64(&w, "vendor_id", r->id.vendor_id);
    jw_u64(&w, "device_id", r->id.device_id);
    jw_u64(&w, "class_code", r->id.class_code & 0xffffff);
    jw_str(&w, "location", r->id.location);
    jw_u64(&w, "config_size", r->id.config_size);
    jw_u64(&w, "msi_vectors", r->id.msi_vectors);
    jw_u64(&w, "msix_vectors", r->id.msix_vectors);
    jw_obj_end(&w);
    jw_obj(&w, "config");
    jw_u64(&w, "bytes_read", r->cfg_len);
    jw_u64(&w, "vendor_id", r->cfg_vendor);
    jw_u64(&w, "device_id", r->cfg_device);
    jw_u64(&w, "class_code", r->cfg_class);
    jw_u64(&w, "capabilities", r->cfg_caps);
    jw_obj_end(&w);
    jw_arr(&w, "bars");
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        const struct cli_bar_result *b = &r->bar[i];

        if (!b->present)
            continue;
        jw_obj(&w, NULL);
        jw_u64(&w, "index", i);
        jw_u64(&w, "size", b->size);
        jw_u64(&w, "flags", b->flags);
        jw_bool(&w, "mapped", b->mapped);
        jw_u64(&w, "map_size", b->map_size);
        jw_u64(&w, "trapped_pages", b->trapped_pages);
        jw_u64(&w, "mmio_value", b->mmio_value);
        jw_u64(&w, "map_value", b->map_value);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj(&w, "interrupts");
    jw_str(&w, "type", r->irq_type == VFA_IRQ_MSIX ? "msix" : r->irq_type == VFA_IRQ_MSI ?
           "msi" : NULL);
    jw_u64(&w, "vectors", r->irq_vectors);
    jw_bool(&w, "loopback", r->loopback);
    jw_str(&w, "loopback_what", r->loopback ? r->loopback_what : NULL);
    jw_u64(&w, "loopback_ns", r->loopback ? r->loopback_ns : 0);
    jw_obj_end(&w);
    jw_obj(&w, "dma_budget");
    jw_bool(&w, "probed", r->budget_probed);
    jw_u64(&w, "bytes", r->budget_bytes);
    jw_bool(&w, "bytes_exact", r->budget_bytes_exact);
    jw_u64(&w, "reported_bytes", r->id.dma_budget_bytes);
    jw_u64(&w, "mappings", r->budget_mappings);
    jw_bool(&w, "mappings_exact", r->budget_mappings_exact);
    jw_u64(&w, "reported_mappings", r->id.dma_max_mappings);
    jw_u64(&w, "map_calls", r->budget_map_calls);
    jw_u64(&w, "max_segments_seen", r->max_segments_seen);
    jw_bool(&w, "gauges_zero_after", r->gauges_zero);
    jw_obj_end(&w);
    jw_obj(&w, "latency");
    lat_json(&w, "config_read", &r->lat_config);
    lat_json(&w, "dma_map", &r->lat_map);
    lat_json(&w, "dma_unmap", &r->lat_unmap);
    jw_obj_end(&w);
    jw_dbl(&w, "wall_seconds", r->wall_ns / 1e9);
    jw_obj_end(&w);
    jw_done(&w);
}
