/*
 * vfio-apple-pci: x-query-vfio-apple (QMP) and info vfio-apple (HMP).
 *
 * Every number comes from where it is counted: dext round trips from the
 * client library, DART usage from the container, the window from what
 * the guest was told.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-vfio-apple.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"

#include "container.h"

static QLIST_HEAD(, VFIOApplePCIDevice) vfio_apple_devices =
    QLIST_HEAD_INITIALIZER(vfio_apple_devices);

void vfio_apple_monitor_add(VFIOApplePCIDevice *a)
{
    QLIST_INSERT_HEAD(&vfio_apple_devices, a, next);
}

void vfio_apple_monitor_del(VFIOApplePCIDevice *a)
{
    QLIST_SAFE_REMOVE(a, next);
}

static char *vfio_apple_dext_name(VFIOApplePCIDevice *a)
{
    VFIOPCIDevice *vdev = &a->parent_obj;

    if (a->socket) {
        return g_strdup(a->socket->u.q_unix.path);
    }
    return g_strdup_printf("%04x:%02x:%02x.%x%s%s", vdev->host.domain,
                           vdev->host.bus, vdev->host.slot,
                           vdev->host.function,
                           a->host_root_port ? " on " : "",
                           a->host_root_port ? a->host_root_port : "");
}

static VfioAppleDmaSegmentList *vfio_apple_info_bus_ranges(void)
{
    const VFIOAppleBusRange *r;
    unsigned n = vfio_apple_window_bus_ranges(&r), i;
    VfioAppleDmaSegmentList *l = NULL, **tail = &l;

    for (i = 0; i < n; i++) {
        VfioAppleDmaSegment *s = g_new0(VfioAppleDmaSegment, 1);

        s->gpa = r[i].cpu;
        s->iova = r[i].bus;
        s->size = r[i].size;
        QAPI_LIST_APPEND(tail, s);
    }
    return l;
}

static void vfio_apple_info_window(VfioAppleInfo *info,
                                   VFIOAppleContainer *container)
{
    VfioAppleDmaSegmentList **tail = &info->window;
    uint64_t off = 0;
    unsigned i;

    info->dma_mapped_bytes = container->mapped_bytes;
    info->dma_mappings = container->mappings;
    info->window_gpa = container->gpa;
    info->window_size = container->size;
    for (i = 0; container->mapped && i < container->nsegs; i++) {
        VfioAppleDmaSegment *s = g_new0(VfioAppleDmaSegment, 1);

        s->gpa = container->gpa + off;
        s->iova = container->segs[i].iova;
        s->size = container->segs[i].len;
        off += container->segs[i].len;
        QAPI_LIST_APPEND(tail, s);
    }
}

static VfioAppleInfo *vfio_apple_info(VFIOApplePCIDevice *a)
{
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;
    VfioAppleInfo *info = g_new0(VfioAppleInfo, 1);
    VfioAppleMethodCallsList **mtail = &info->dext_calls_by_method;
    struct vfa_client_stats st = { 0 };
    unsigned i;

    if (a->client) {
        vfa_client_get_stats(a->client, &st);
    }
    info->qom_path = object_get_canonical_path(OBJECT(a));
    info->id = g_strdup(DEVICE(a)->id);
    info->dext = vfio_apple_dext_name(a);
    info->transport = a->client &&
                      vfa_client_transport(a->client) == VFA_TRANSPORT_IOKIT ?
                      VFIO_APPLE_TRANSPORT_IOKIT :
                      VFIO_APPLE_TRANSPORT_UNIX_SOCKET;
    info->lost = qatomic_read(&a->lost);
    info->unresponsive = qatomic_read(&a->stuck_since) != 0;
    info->unresponsive_episodes = qatomic_read(&a->stuck_episodes);
    info->unresponsive_ms = qatomic_read(&a->stuck_ms_total);
    info->dext_calls = st.round_trips;
    info->dext_calls_realize = a->calls_realize;
    for (i = 0; i < VFA_CLIENT_OP_COUNT; i++) {
        if (st.calls[i]) {
            VfioAppleMethodCalls *m = g_new0(VfioAppleMethodCalls, 1);

            m->method = g_strdup(vfa_client_op_name(i));
            m->calls = st.calls[i];
            QAPI_LIST_APPEND(mtail, m);
        }
    }
    info->dext_timeouts = st.timeouts;
    info->dext_calls_refused = st.fast_failures +
                               qatomic_read(&a->refused_stuck);
    info->dext_wait_max_ns = st.wait_ns_max;
    info->config_cache_hits = a->cfg_cache_hits;
    info->config_writes_spared = a->cfg_writes_spared;
    info->interrupts = qatomic_read(&a->interrupts);
    info->notifications = qatomic_read(&a->notifications);
    info->dma_mode = a->dma_mode;
    info->dma_budget_bytes = a->id.dma_budget_bytes;
    info->dma_max_mappings = a->id.dma_max_mappings;
    if (vbasedev->bcontainer) {
        vfio_apple_info_window(info, VFIO_IOMMU_APPLE(vbasedev->bcontainer));
    }
    info->bus_ranges = vfio_apple_info_bus_ranges();
    info->window_overlaps = vfio_apple_window_overlaps();
    if (a->companion_info) {
        a->companion_info(a->companion, info);
    }
    return info;
}

VfioAppleInfoList *qmp_x_query_vfio_apple(Error **errp)
{
    VfioAppleInfoList *head = NULL, **tail = &head;
    VFIOApplePCIDevice *a;

    QLIST_FOREACH(a, &vfio_apple_devices, next) {
        QAPI_LIST_APPEND(tail, vfio_apple_info(a));
    }
    return head;
}

static void hmp_info_vfio_apple_one(Monitor *mon, VfioAppleInfo *i)
{
    VfioAppleMethodCallsList *m;
    VfioAppleDmaSegmentList *s;
    VfioAppleWindowOverlapList *o;

    monitor_printf(mon, "%s%s%s: dext %s (%s)%s%s\n", i->qom_path,
                   i->id ? " id " : "", i->id ? i->id : "", i->dext,
                   VfioAppleTransport_str(i->transport),
                   i->lost ? " LOST" : "",
                   i->unresponsive ? " UNRESPONSIVE" : "");
    monitor_printf(mon, "  dext calls: %" PRIu64 " (%" PRIu64
                   " while setting up); %" PRIu64 " timed out, %" PRIu64
                   " refused; longest wait %" PRIu64 " us\n",
                   i->dext_calls, i->dext_calls_realize, i->dext_timeouts,
                   i->dext_calls_refused, i->dext_wait_max_ns / 1000);
    monitor_printf(mon, "   ");
    for (m = i->dext_calls_by_method; m; m = m->next) {
        monitor_printf(mon, " %s=%" PRIu64, m->value->method,
                       m->value->calls);
    }
    monitor_printf(mon, "\n");
    monitor_printf(mon, "  unresponsive %" PRIu64 " time(s), %" PRIu64
                   " ms in all\n", i->unresponsive_episodes,
                   i->unresponsive_ms);
    monitor_printf(mon, "  config reads from cache %" PRIu64 ", moot config "
                   "writes spared %" PRIu64 "\n", i->config_cache_hits,
                   i->config_writes_spared);
    monitor_printf(mon, "  interrupts delivered: %" PRIu64 " (%" PRIu64
                   " notifications)\n", i->interrupts, i->notifications);
    monitor_printf(mon, "  DART: %" PRIu64 " bytes in %" PRIu64
                   " mapping(s); budget %" PRIu64 " bytes, %" PRIu64
                   " mappings\n", i->dma_mapped_bytes, i->dma_mappings,
                   i->dma_budget_bytes, i->dma_max_mappings);
    monitor_printf(mon, "  DMA %s: GPA 0x%" PRIx64 " size 0x%" PRIx64 "\n",
                   VfioAppleDmaMode_str(i->dma_mode), i->window_gpa,
                   i->window_size);
    for (s = i->window; s; s = s->next) {
        monitor_printf(mon, "    GPA 0x%" PRIx64 " -> IOVA 0x%" PRIx64
                       " size 0x%" PRIx64 "\n", s->value->gpa,
                       s->value->iova, s->value->size);
    }
    for (s = i->bus_ranges; s; s = s->next) {
        monitor_printf(mon, "    guest told: bus 0x%" PRIx64 " -> GPA 0x%"
                       PRIx64 " size 0x%" PRIx64 "\n", s->value->iova,
                       s->value->gpa, s->value->size);
    }
    for (o = i->window_overlaps; o; o = o->next) {
        monitor_printf(mon, "    IOVA 0x%" PRIx64 " size 0x%" PRIx64
                       " overlaps %s (%s)", o->value->iova, o->value->size,
                       o->value->region,
                       VfioAppleOverlapKind_str(o->value->kind));
        if (o->value->has_reserved_gpa) {
            monitor_printf(mon, ": GPA 0x%" PRIx64 " reserved",
                           o->value->reserved_gpa);
        }
        monitor_printf(mon, "\n");
    }
    if (i->companion) {
        VfioAppleCompanionInfo *c = i->companion;

        monitor_printf(mon, "  companion %s%s%s: chunks of 0x%" PRIx64
                       ", %" PRIu64 " chunk(s) and %" PRIu64 " span(s) "
                       "(0x%" PRIx64 " bytes, reserve 0x%" PRIx64 ") "
                       "mapped; peak %" PRIu64 " bytes, %" PRIu64
                       " mappings\n", c->qom_path,
                       c->enabled ? "" : " (not enabled)",
                       c->sync_baseline ? " sync-baseline" : "",
                       c->chunk_size, c->chunks_mapped, c->spans_mapped,
                       c->span_bytes, c->span_reserve_bytes,
                       c->peak_bytes, c->peak_mappings);
        monitor_printf(mon, "    doorbells %" PRIu64 ", entries %" PRIu64
                       ", DART maps %" PRIu64 " unmaps %" PRIu64 ", pins %"
                       PRIu64 ", evictions %" PRIu64 ", errors %" PRIu64
                       " (not RAM %" PRIu64 ", no space %" PRIu64
                       "), interrupts %" PRIu64 "; guest hits %" PRIu64
                       " misses %" PRIu64 "\n", c->doorbells, c->entries,
                       c->dart_maps, c->dart_unmaps, c->pins, c->evictions,
                       c->errors, c->errors_not_ram, c->errors_no_space,
                       c->interrupts, c->guest_hits, c->guest_misses);
    }
}

void hmp_info_vfio_apple(Monitor *mon, const QDict *qdict)
{
    g_autoptr(VfioAppleInfoList) list = qmp_x_query_vfio_apple(NULL);
    VfioAppleInfoList *l;

    if (!list) {
        monitor_printf(mon, "No vfio-apple-pci device\n");
        return;
    }
    for (l = list; l; l = l->next) {
        hmp_info_vfio_apple_one(mon, l->value);
    }
}
