/*
 * The simulator's counters as one JSON object: the dext core's (what the
 * real dext would report), the DART model's, the device model's, the
 * platform's own and the socket server's.  Served by VFA_SIM_MSG_STATS_JSON
 * to `vfio-apple-sim stats`.
 */
#include <inttypes.h>

#include "log.h"
#include "platform.h"


static void selector_map(FILE *out, const char *key, const uint64_t *v)
{
    fprintf(out, "\"%s\":{", key);
    for (unsigned i = 0; i < VFA_SEL_COUNT; i++)
        fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", vfa_method_name(i), v[i]);
    fputc('}', out);
}

void sim_platform_stats_json(struct sim_platform *p, FILE *out)
{
    struct vfa_stats s;
    struct dart_stats d;
    struct dart_fault faults[DART_FAULT_LOG_SIZE];
    uint64_t total_calls = 0, regions = 0, reg_bytes = 0;
    unsigned msix_programmed, msix_altered;

    vfa_core_get_stats(p->core, &s);
    dart_get_stats(p->dart, &d);
    size_t nf = dart_fault_log(p->dart, faults, DART_FAULT_LOG_SIZE);
    for (unsigned i = 0; i < VFA_SEL_COUNT; i++)
        total_calls += s.calls[i];
    for (struct sim_region *r = p->regions; r; r = r->next) {
        regions++;
        reg_bytes += r->len;
    }

    fprintf(out, "{\"model\":\"%s\",\"abi\":\"%u.%u\",\"session_open\":%s,"
            "\"session_owner_pid\":%d,", p->model, VFA_ABI_MAJOR, VFA_ABI_MINOR,
            vfa_core_session_owner(p->core) ? "true" : "false", p->srv.owner_pid);
    fprintf(out, "\"core\":{\"calls_total\":%" PRIu64 ",", total_calls);
#define F(name) fprintf(out, "\"" #name "\":%" PRIu64 ",", s.name);
    VFA_STATS_COUNTERS(F)
#undef F
    selector_map(out, "calls", s.calls);
    fputc(',', out);
    selector_map(out, "errors", s.errors);
    fprintf(out, "},\"dart\":{\"maps\":%" PRIu64 ",\"unmaps\":%" PRIu64 ",\"map_failures\":%" PRIu64
            ",\"mapped_bytes\":%" PRIu64 ",\"peak_mapped_bytes\":%" PRIu64
            ",\"live_mappings\":%" PRIu64 ",\"peak_live_mappings\":%" PRIu64
            ",\"faults\":%" PRIu64 ",\"dma_reads\":%" PRIu64 ",\"dma_writes\":%" PRIu64
            ",\"bytes_read\":%" PRIu64 ",\"bytes_written\":%" PRIu64
            ",\"iova_lo\":%" PRIu64 ",\"iova_hi\":%" PRIu64 ",\"fault_log\":[",
            d.maps, d.unmaps, d.map_failures, d.mapped_bytes, d.peak_mapped_bytes,
            d.live_mappings, d.peak_live_mappings, d.faults, d.dma_reads, d.dma_writes,
            d.bytes_read, d.bytes_written, d.iova_lo, d.iova_hi);
    for (size_t i = 0; i < nf; i++)
        fprintf(out, "%s{\"seq\":%" PRIu64 ",\"iova\":%" PRIu64 ",\"len\":%" PRIu64 ",\"write\":%s}",
                i ? "," : "", faults[i].seq, faults[i].iova, faults[i].len,
                faults[i].is_write ? "true" : "false");
    fprintf(out, "]},\"device\":{");
    if (p->dev->ops->stats_json)
        p->dev->ops->stats_json(p->dev, out);
    sim_platform_msix_check(p, &msix_programmed, &msix_altered);
    fprintf(out, "},\"platform\":{\"registered_regions\":%" PRIu64
            ",\"registered_bytes\":%" PRIu64 ",\"max_registered\":%" PRIu64
            ",\"registrations_refused\":%" PRIu64 ",\"bar_renewals\":%" PRIu64
            ",\"bars_stale\":%s,\"unrouted_irqs\":%" PRIu64
            ",\"msix_entries_programmed\":%u,\"msix_entries_altered\":%u}",
            regions, reg_bytes, p->max_registered, p->registrations_refused, p->bar_renewals,
            p->bars_stale ? "true" : "false",
            __atomic_load_n(&p->unknown_irqs, __ATOMIC_RELAXED), msix_programmed, msix_altered);
    fprintf(out, ",\"server\":{\"connections_accepted\":%" PRIu64
            ",\"connections_refused_uid\":%" PRIu64 ",\"connections_refused_per_peer\":%" PRIu64
            ",\"connections_evicted\":%" PRIu64 ",\"protocol_errors\":%" PRIu64
            ",\"log_lines_suppressed\":%" PRIu64
            ",\"requests\":{\"CALL\":%" PRIu64 ",\"REGISTER_MEM\":%" PRIu64
            ",\"UNREGISTER_MEM\":%" PRIu64 ",\"MAP_MEMORY\":%" PRIu64
            ",\"STATS_JSON\":%" PRIu64 "}}}",
            p->srv.accepted, p->srv.refused_uid, p->srv.refused_per_peer, p->srv.evicted,
            p->srv.protocol_errors, sim_log_suppressed(),
            p->srv.requests[VFA_SIM_MSG_CALL], p->srv.requests[VFA_SIM_MSG_REGISTER_MEM],
            p->srv.requests[VFA_SIM_MSG_UNREGISTER_MEM], p->srv.requests[VFA_SIM_MSG_MAP_MEMORY],
            p->srv.requests[VFA_SIM_MSG_STATS_JSON]);
}
