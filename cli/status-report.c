/* vfio-apple CLI: `status` output, for people and as JSON (see devinfo.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devinfo.h"
#include "json-out.h"
#include "opts.h"

static void print_calls(FILE *f, const struct vfa_stats *st)
{
    uint64_t total = 0, errs = 0;
    unsigned n = st->nselectors < VFA_SEL_COUNT ? st->nselectors : VFA_SEL_COUNT;

    for (unsigned i = 0; i < n; i++) {
        total += st->calls[i];
        errs += st->errors[i];
    }
    fprintf(f, "  dext calls   %" PRIu64 " (%" PRIu64 " failed):", total, errs);
    for (unsigned i = 0; i < n; i++)
        if (st->calls[i])
            fprintf(f, " %s=%" PRIu64, vfa_method_name(i), st->calls[i]);
    fputc('\n', f);
}

static void print_qemu(FILE *f, const struct cli_devinfo *d)
{
    const struct jnode *q = d->qemu, *w;
    char a[32];

    if (!q) {
        fprintf(f, "  QEMU         %s\n", d->qmp_note[0] ? d->qmp_note : "no VM");
        return;
    }
    fprintf(f, "  QEMU         device %s (%s): %" PRIu64 " dext calls (%" PRIu64
            " setting up), %" PRIu64 " timed out, longest wait %" PRIu64 " us%s%s\n",
            json_str(json_get(q, "id"), "?"), d->ref.qmp,
            json_u64(json_get(q, "dext-calls"), 0), json_u64(json_get(q, "dext-calls-realize"), 0),
            json_u64(json_get(q, "dext-timeouts"), 0),
            json_u64(json_get(q, "dext-wait-max-ns"), 0) / 1000,
            json_bool(json_get(q, "lost"), false) ? ", LOST" : "",
            json_bool(json_get(q, "unresponsive"), false) ? ", UNRESPONSIVE" : "");
    fprintf(f, "               %s mode, %" PRIu64 " interrupts delivered (%" PRIu64
            " notifications), %" PRIu64 " config reads from its cache\n",
            json_str(json_get(q, "dma-mode"), "?"), json_u64(json_get(q, "interrupts"), 0),
            json_u64(json_get(q, "notifications"), 0),
            json_u64(json_get(q, "config-cache-hits"), 0));
    w = json_get(q, "window");
    for (const struct jnode *s = w ? w->child : NULL; s; s = s->next)
        fprintf(f, "               window GPA 0x%" PRIx64 " -> IOVA 0x%" PRIx64 " (%s)\n",
                json_u64(json_get(s, "gpa"), 0), json_u64(json_get(s, "iova"), 0),
                cli_fmt_size(json_u64(json_get(s, "size"), 0), a, sizeof(a)));
}

static void print_one(FILE *f, const struct cli_devinfo *d)
{
    const struct vfa_stats *s = &d->st;
    char a[32], b[32], c[32];

    fprintf(f, "  device       %04x:%04x at %04x:%02x:%02x.%x on %s (%s)\n", d->id.vendor_id,
            d->id.device_id, d->id.domain, d->id.bus, d->id.dev, d->id.fn, d->id.location,
            d->transport);
    if (!d->session_open)
        fprintf(f, "  session      free\n");
    else if (d->owner_pid)
        fprintf(f, "  session      open, owner pid %d%s%s%s\n", d->owner_pid,
                d->owner_name[0] ? " (" : "", d->owner_name, d->owner_name[0] ? ")" : "");
    else
        fprintf(f, "  session      open\n");
    fprintf(f, "  DART         %s in %" PRIu64 " mapping(s) now; peak %s in %" PRIu64
            "; budget %s, %u mappings\n",
            cli_fmt_size(s->dma_mapped_bytes, a, sizeof(a)), s->dma_live_mappings,
            cli_fmt_size(s->dma_peak_mapped_bytes, b, sizeof(b)), s->dma_peak_live_mappings,
            cli_fmt_size(d->id.dma_budget_bytes, c, sizeof(c)), d->id.dma_max_mappings);
    fprintf(f, "  DMA maps     %" PRIu64 " mapped, %" PRIu64 " unmapped, %" PRIu64
            " cleaned up, %" PRIu64 " failed (%" PRIu64 " over the bytes, %" PRIu64
            " over the mappings)\n", s->dma_maps, s->dma_unmaps, s->dma_cleanup_unmaps,
            s->dma_map_failures, s->dma_fail_budget_bytes, s->dma_fail_budget_maps);
    fprintf(f, "  interrupts   %" PRIu64 " from the device (%" PRIu64 " latched, %" PRIu64
            " coalesced), %" PRIu64 " notifications\n", s->irq_received, s->irq_latched,
            s->irq_coalesced, s->notifications);
    if (d->have_sim)
        fprintf(f, "  faults       %" PRIu64 " DART faults\n", d->dart_faults);
    else
        fprintf(f, "  faults       not reported by this dext (see the system log)\n");
    print_calls(f, s);
    fprintf(f, "  sessions     %" PRIu64 " opened, %" PRIu64 " closed, %" PRIu64
            " ended by a dead client, %" PRIu64 " refused busy\n", s->sessions_opened,
            s->sessions_closed, s->sessions_client_died, s->sessions_refused_busy);
    fprintf(f, "  config       %" PRIu64 " reads, %" PRIu64 " writes (%" PRIu64
            " filtered, %" PRIu64 " bytes dropped)\n", s->config_reads, s->config_writes,
            s->config_writes_filtered, s->config_bytes_dropped);
    fprintf(f, "  MMIO/reset   %" PRIu64 " reads, %" PRIu64 " writes, %" PRIu64
            " dropped; resets FLR %" PRIu64 ", hot %" PRIu64 ", failed %" PRIu64 "\n",
            s->mmio_reads, s->mmio_writes, s->mmio_dropped, s->resets_flr, s->resets_hot,
            s->reset_failures);
    print_qemu(f, d);
}

void cli_status_print(FILE *f, const struct cli_devinfo *v, size_t n)
{
    cli_devices_print(f, v, n, print_one);
}

static void counters_json(struct jw *w, const struct vfa_stats *s)
{
    unsigned n = s->nselectors < VFA_SEL_COUNT ? s->nselectors : VFA_SEL_COUNT;

    jw_obj(w, "counters");
#define F(name) jw_u64(w, #name, s->name);
    VFA_STATS_COUNTERS(F)
#undef F
    jw_obj(w, "calls");
    for (unsigned i = 0; i < n; i++)
        jw_u64(w, vfa_method_name(i), s->calls[i]);
    jw_obj_end(w);
    jw_obj(w, "errors");
    for (unsigned i = 0; i < n; i++)
        jw_u64(w, vfa_method_name(i), s->errors[i]);
    jw_obj_end(w);
    jw_obj_end(w);
}

static void status_members(struct jw *w, const struct cli_devinfo *d)
{
    const struct vfa_stats *s = &d->st;

    jw_u64(w, "vendor_id", d->id.vendor_id);
    jw_u64(w, "device_id", d->id.device_id);
    jw_str(w, "location", d->id.location);
    cli_session_json(w, d);
    jw_obj(w, "dart");
    jw_u64(w, "mapped_bytes", s->dma_mapped_bytes);
    jw_u64(w, "mappings", s->dma_live_mappings);
    jw_u64(w, "peak_mapped_bytes", s->dma_peak_mapped_bytes);
    jw_u64(w, "peak_mappings", s->dma_peak_live_mappings);
    jw_u64(w, "budget_bytes", d->id.dma_budget_bytes);
    jw_u64(w, "max_mappings", d->id.dma_max_mappings);
    if (d->have_sim)
        jw_u64(w, "faults", d->dart_faults);
    else
        jw_null(w, "faults");
    jw_obj_end(w);
    jw_obj(w, "interrupts");
    jw_u64(w, "received", s->irq_received);
    jw_u64(w, "latched", s->irq_latched);
    jw_u64(w, "coalesced", s->irq_coalesced);
    jw_u64(w, "notifications", s->notifications);
    jw_obj_end(w);
    counters_json(w, s);
    if (d->qemu) {
        char *raw = strndup(d->qemu->start, (size_t)(d->qemu->end - d->qemu->start));

        jw_obj(w, "qemu");
        jw_str(w, "qmp", d->ref.qmp);
        jw_raw(w, "device", raw ? raw : "null");
        jw_obj_end(w);
        free(raw);
    } else {
        jw_null(w, "qemu");
        jw_str(w, "qemu_note", d->qmp_note[0] ? d->qmp_note : NULL);
    }
}

void cli_status_json(FILE *f, const struct cli_devinfo *v, size_t n)
{
    cli_devices_json(f, v, n, status_members);
}
