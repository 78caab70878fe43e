/*
 * apple-dma-pci: the companion of a dma-mode=companion vfio-apple-pci
 * device.  The guest's apple_dma driver asks it, through rings in guest
 * RAM, for real DART IOVAs of whatever pages the passthrough device's
 * driver uses (include/vfio-apple/apple-dma-abi.h has the ABI and why).
 *
 * Host side of the design:
 *   - guest RAM is mapped on demand in chunks (chunk-size) through the
 *     device's dext client, one DART mapping each, published in the
 *     guest's translation table, where the guest pins and unpins them
 *     itself; unpinned chunks are evicted in CLOCK order only when the
 *     budget (the dext's, in bytes and mappings) is tight;
 *   - a range across chunks whose IOVAs are not contiguous gets a span:
 *     a DART mapping of exactly its pages, released by UNMAP;
 *   - forward progress: chunks may fill the budget only up to a reserve
 *     (span-reserve) that only spans use.  A chunk can stay pinned for
 *     ever (each new request pins it before the last one unpins), so a
 *     request whose pages lie in chunks that do not fit must still be
 *     mappable: it falls back to a span, and spans are per request, so
 *     the reserve they share is given back as requests complete;
 *   - the rings are processed by a thread of our own, never the vCPU: a
 *     doorbell only wakes it, and the guest rings it only when the thread
 *     said it is going to sleep (ADMA_HOST_IDLE), after polling a while;
 *   - sync-baseline=on does what the RFC's companion did, for benchmarks
 *     only: the doorbell processes one entry on the vCPU thread and every
 *     map is its own DART mapping.
 *
 * Trust: every register value, ring index, ring entry and table word the
 * guest writes is bounded where it is used.  Guest memory is reached only
 * inside the RAM region shared with the dext (never MMIO, ROM or a BAR),
 * through our own host pointer, so no entry can make QEMU touch anything
 * else, and nothing that is not guest RAM is ever mapped through the DART.
 *
 * Locking: s->lock serializes ring processing, the chunk and span tables
 * and the counters' writers.  The thread holds it while it calls the
 * dext (each call bounded by the device's client timeout), so the vCPU
 * never takes it in normal mode: register writes that need the tables
 * (reset) are requests the thread carries out.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "migration/blocker.h"

#include "vfio-apple/apple-dma-abi.h"
#include "container.h"
#include "trace.h"

#define TYPE_APPLE_DMA_PCI "apple-dma-pci"
OBJECT_DECLARE_SIMPLE_TYPE(AppleDMAState, APPLE_DMA_PCI)

/* Bounds of what the guest may ask for, whatever the properties say. */
#define APPLE_DMA_RING_MAX      4096u
#define APPLE_DMA_MAX_MAP       (4 * MiB)
/* Entries one pass handles before it looks at requests and completions. */
#define APPLE_DMA_BATCH         64u
/* span-reserve's default: an eighth of the dext's budget. */
#define APPLE_DMA_RESERVE_AUTO  UINT64_MAX
/*
 * The reserve holds at least one large request in spans: 256 segments
 * (1 MiB in 4 KiB pages, more than Linux's block drivers put in one
 * request: BLK_MAX_SEGMENTS is 128) of one DART page each.
 */
#define APPLE_DMA_RESERVE_MIN_MAPS  256u
#define APPLE_DMA_RESERVE_MIN_BYTES \
    ((uint64_t)APPLE_DMA_RESERVE_MIN_MAPS * ADMA_PAGE_SIZE)

typedef struct AppleDMAChunk {
    uint64_t handle;            /* the dext's, 0: not mapped */
    uint64_t iova;
} AppleDMAChunk;

typedef struct AppleDMASpan {
    uint64_t handle;            /* the dext's, 0: free slot */
    uint64_t bytes;
    uint32_t gen;               /* in the guest's handle: stale ones fail */
} AppleDMASpan;

typedef struct AppleDMACounters {
    uint64_t doorbells, entries, dart_maps, dart_unmaps, pins, evictions;
    uint64_t errors, errors_not_ram, errors_no_space, interrupts;
    uint64_t peak_bytes, peak_mappings;
} AppleDMACounters;

struct AppleDMAState {
    PCIDevice parent_obj;

    /* properties */
    VFIOApplePCIDevice *dev;
    uint64_t chunk_size;
    uint32_t ring_max;
    uint32_t max_spans;
    uint64_t span_reserve;      /* bytes; APPLE_DMA_RESERVE_AUTO: budget/8 */
    uint32_t poll_us;
    bool sync_baseline;

    MemoryRegion mmio;
    Error *migration_blocker;

    /* the served device's shared RAM and window (at enable) */
    VFIOAppleCompanionView view;
    bool have_view;
    unsigned chunk_shift;
    uint64_t nchunks;
    /* What chunks (and the window) may use of the budget: the rest is
     * the spans' reserve. */
    uint64_t chunk_limit_bytes;
    uint32_t chunk_limit_maps;

    /* guest registers */
    uint64_t guest_features;
    uint64_t ring_gpa;
    uint64_t tt_gpa;
    uint32_t ring_entries;
    uint32_t tt_entries;
    uint32_t status;            /* ADMA_STATUS_*, atomic */
    uint32_t setup_error;

    /* what ENABLE checked: host pointers into guest RAM */
    struct adma_ring_ctl *ctl;
    struct adma_sqe *sq;
    struct adma_cqe *cq;
    adma_tt_word *tt;

    QemuMutex lock;
    AppleDMAChunk *chunks;
    AppleDMASpan *spans;
    uint64_t clock_hand;
    uint64_t used_bytes;        /* atomic reads (registers) */
    uint64_t used_maps;
    uint64_t chunks_mapped;
    uint64_t spans_mapped;
    uint64_t span_bytes;
    AppleDMACounters n;

    /* the ring thread */
    QemuThread thread;
    QemuEvent kick;
    bool thread_running;
    bool stop;                  /* atomic */
    bool reset_pending;         /* atomic: ADMA_CTRL_RESET or device reset */
    bool irq_pending;           /* atomic */
    QEMUBH *irq_bh;
};

/* ---- guest memory: only the RAM shared with the dext ---- */

/* Host pointer of GPA [gpa, gpa + len) if it is all shared guest RAM. */
static void *apple_dma_ram_ptr(AppleDMAState *s, uint64_t gpa, uint64_t len)
{
    const VFIOAppleCompanionView *v = &s->view;

    /* Written to not overflow: len and gpa are the guest's. */
    if (!len || gpa < v->ram_gpa || gpa - v->ram_gpa >= v->ram_size ||
        len > v->ram_size - (gpa - v->ram_gpa)) {
        return NULL;
    }
    return (uint8_t *)v->ram_hva + (gpa - v->ram_gpa);
}

static uint64_t apple_dma_chunk_bytes(AppleDMAState *s, uint64_t idx)
{
    uint64_t off = idx << s->chunk_shift;

    return MIN(s->chunk_size, s->view.ram_size - off);
}

static void apple_dma_account(AppleDMAState *s, int64_t bytes, int maps)
{
    uint64_t b = s->used_bytes + bytes, m = s->used_maps + maps;

    qatomic_set(&s->used_bytes, b);
    qatomic_set(&s->used_maps, m);
    s->n.peak_bytes = MAX(s->n.peak_bytes, b);
    s->n.peak_mappings = MAX(s->n.peak_mappings, m);
}

/* ---- DART mappings through the device's client ---- */

/*
 * Map [off, off + len) of the shared RAM; one segment or nothing (the
 * guest needs one IOVA range per map).  Returns an adma_status.
 */
static uint32_t apple_dma_dart_map(AppleDMAState *s, uint64_t off,
                                   uint64_t len, uint64_t *handle,
                                   uint64_t *iova)
{
    g_autofree struct vfa_dma_map_out *out = g_new0(struct vfa_dma_map_out, 1);
    int ret;

    ret = vfa_dma_map(s->view.client, s->view.ram_dma_va + off, len,
                      VFA_DMA_BIDIRECTIONAL, out);
    s->n.dart_maps++;
    if (ret == -ENOSPC || ret == -EMFILE) {
        return ADMA_S_NO_SPACE;
    }
    if (ret) {
        return ADMA_S_HOST;
    }
    /* The dext's answer reaches the guest: check it where it is used. */
    if (out->nsegs != 1 || out->segs[0].len != len ||
        out->segs[0].iova % ADMA_PAGE_SIZE ||
        out->segs[0].iova + len < out->segs[0].iova ||
        (out->segs[0].iova >> ADMA_PAGE_SHIFT) > ADMA_TT_IOVA_MASK) {
        vfa_dma_unmap(s->view.client, out->handle);
        s->n.dart_unmaps++;
        return out->nsegs == 1 ? ADMA_S_HOST : ADMA_S_FRAGMENT;
    }
    *handle = out->handle;
    *iova = out->segs[0].iova;
    return ADMA_S_OK;
}

static void apple_dma_dart_unmap(AppleDMAState *s, uint64_t handle)
{
    if (vfa_dma_unmap(s->view.client, handle) &&
        vfio_apple_reachable(s->dev)) {
        warn_report_once("apple-dma-pci: a DART unmap failed: %s",
                         vfa_client_errmsg(s->view.client));
    }
    s->n.dart_unmaps++;
}

static void apple_dma_chunk_unmap(AppleDMAState *s, uint64_t idx)
{
    AppleDMAChunk *c = &s->chunks[idx];

    apple_dma_dart_unmap(s, c->handle);
    apple_dma_account(s, -(int64_t)apple_dma_chunk_bytes(s, idx), -1);
    c->handle = 0;
    s->chunks_mapped--;
}

/*
 * Evict one chunk the guest holds no pin on, in CLOCK order: a chunk the
 * guest used since the hand last passed (ACCESSED) gets a second chance.
 */
static bool apple_dma_evict_one(AppleDMAState *s)
{
    uint64_t steps;

    if (!s->tt || !s->chunks_mapped) {
        return false;
    }
    for (steps = 0; steps < 2 * s->nchunks; steps++) {
        uint64_t idx = s->clock_hand;
        adma_tt_word w;

        s->clock_hand = (s->clock_hand + 1) % s->nchunks;
        if (!s->chunks[idx].handle) {
            continue;
        }
        w = qatomic_read(&s->tt[idx]);
        if (ADMA_TT_PINS(w)) {
            continue;
        }
        if (w & ADMA_TT_ACCESSED) {
            qatomic_cmpxchg(&s->tt[idx], w, w & ~ADMA_TT_ACCESSED);
            continue;
        }
        /* A pin racing with us wins: the word changed, we move on. */
        if (qatomic_cmpxchg(&s->tt[idx], w, 0) != w) {
            continue;
        }
        apple_dma_chunk_unmap(s, idx);
        s->n.evictions++;
        return true;
    }
    return false;
}

/*
 * Is there room for one more mapping of @bytes?  A chunk must also stay
 * out of the spans' reserve.
 */
static bool apple_dma_fits(AppleDMAState *s, uint64_t bytes, bool chunk)
{
    const VFIOAppleCompanionView *v = &s->view;

    if (s->used_bytes + bytes > v->budget_bytes ||
        s->used_maps + 1 > v->budget_mappings) {
        return false;
    }
    return !chunk ||
           (s->used_bytes - s->span_bytes + bytes <= s->chunk_limit_bytes &&
            s->used_maps - s->spans_mapped + 1 <= s->chunk_limit_maps);
}

/* Room for @bytes in one more mapping, evicting if needed. */
static bool apple_dma_make_room(AppleDMAState *s, uint64_t bytes, bool chunk)
{
    while (!apple_dma_fits(s, bytes, chunk)) {
        if (!apple_dma_evict_one(s)) {
            return false;
        }
    }
    return true;
}

/*
 * Map with eviction: the dext's budget may be tighter than it said (other
 * clients, fragmentation), so a refusal evicts and retries a few times.
 */
static uint32_t apple_dma_map_evicting(AppleDMAState *s, uint64_t off,
                                       uint64_t len, bool chunk,
                                       uint64_t *handle, uint64_t *iova)
{
    uint32_t st;
    int tries;

    for (tries = 0; tries < 8; tries++) {
        if (!apple_dma_make_room(s, len, chunk)) {
            return ADMA_S_NO_SPACE;
        }
        st = apple_dma_dart_map(s, off, len, handle, iova);
        if (st != ADMA_S_NO_SPACE || !apple_dma_evict_one(s)) {
            return st;
        }
    }
    return ADMA_S_NO_SPACE;
}

static uint32_t apple_dma_chunk_map(AppleDMAState *s, uint64_t idx)
{
    AppleDMAChunk *c = &s->chunks[idx];
    uint64_t bytes = apple_dma_chunk_bytes(s, idx);
    uint32_t st;

    if (c->handle) {
        return ADMA_S_OK;
    }
    st = apple_dma_map_evicting(s, idx << s->chunk_shift, bytes, true,
                                &c->handle, &c->iova);
    if (st) {
        c->handle = 0;
        return st;
    }
    apple_dma_account(s, bytes, 1);
    s->chunks_mapped++;
    /* Publish: pins start at 0; the guest's cmpxchg needs VALID. */
    qatomic_set(&s->tt[idx], ADMA_TT_VALID | (c->iova >> ADMA_PAGE_SHIFT));
    return ADMA_S_OK;
}

/* Take a pin for the guest, as its own cmpxchg would. */
static bool apple_dma_chunk_pin(AppleDMAState *s, uint64_t idx)
{
    adma_tt_word w = qatomic_read(&s->tt[idx]), seen;

    for (;;) {
        if (ADMA_TT_PINS(w) == ADMA_TT_PIN_MAX) {
            return false;
        }
        seen = qatomic_cmpxchg(&s->tt[idx], w,
                               (w + ADMA_TT_PIN_ONE) | ADMA_TT_ACCESSED);
        if (seen == w) {
            return true;
        }
        w = seen;
    }
}

static void apple_dma_chunk_unpin(AppleDMAState *s, uint64_t idx)
{
    adma_tt_word w = qatomic_read(&s->tt[idx]), seen;

    while (ADMA_TT_PINS(w)) {
        seen = qatomic_cmpxchg(&s->tt[idx], w, w - ADMA_TT_PIN_ONE);
        if (seen == w) {
            return;
        }
        w = seen;
    }
}

static uint32_t apple_dma_span_map(AppleDMAState *s, uint64_t off,
                                   uint64_t len, struct adma_cqe *cqe)
{
    uint64_t start = QEMU_ALIGN_DOWN(off, ADMA_PAGE_SIZE);
    uint64_t bytes = QEMU_ALIGN_UP(off + len, ADMA_PAGE_SIZE) - start;
    uint64_t handle, iova;
    uint32_t i, st;

    for (i = 0; i < s->max_spans && s->spans[i].handle; i++) {
        continue;
    }
    if (i == s->max_spans) {
        return ADMA_S_NO_SPACE;
    }
    st = apple_dma_map_evicting(s, start, bytes, false, &handle, &iova);
    if (st) {
        return st;
    }
    s->spans[i].handle = handle;
    s->spans[i].bytes = bytes;
    s->spans[i].gen++;
    apple_dma_account(s, bytes, 1);
    qatomic_set(&s->spans_mapped, s->spans_mapped + 1);
    qatomic_set(&s->span_bytes, s->span_bytes + bytes);
    cqe->iova = iova + (off - start);
    /* Never ADMA_HANDLE_NONE: slot + 1 in the low half. */
    cqe->handle = ((uint64_t)s->spans[i].gen << 32) | (i + 1);
    return ADMA_S_OK;
}

static void apple_dma_span_release(AppleDMAState *s, uint32_t i)
{
    apple_dma_dart_unmap(s, s->spans[i].handle);
    apple_dma_account(s, -(int64_t)s->spans[i].bytes, -1);
    qatomic_set(&s->spans_mapped, s->spans_mapped - 1);
    qatomic_set(&s->span_bytes, s->span_bytes - s->spans[i].bytes);
    s->spans[i].handle = 0;
}

/* ---- ring entries ---- */

static uint32_t apple_dma_do_map(AppleDMAState *s, const struct adma_sqe *e,
                                 struct adma_cqe *cqe)
{
    const VFIOAppleCompanionView *v = &s->view;
    uint64_t off, c0, c1, idx;
    uint32_t st = ADMA_S_OK;

    if (e->dir < ADMA_DIR_TO_DEVICE || e->dir > ADMA_DIR_BIDI ||
        (e->flags & ~ADMA_MAP_PIN) || e->rsvd ||
        !e->len || e->len > APPLE_DMA_MAX_MAP) {
        return ADMA_S_INVAL;
    }
    if (!apple_dma_ram_ptr(s, e->addr, e->len)) {
        s->n.errors_not_ram++;
        return ADMA_S_NOT_RAM;
    }
    off = e->addr - v->ram_gpa;

    /* In the window: arithmetic (the guest need not ask, but may). */
    if (!s->sync_baseline && e->addr >= v->window_gpa &&
        e->addr - v->window_gpa < v->window_size &&
        e->len <= v->window_size - (e->addr - v->window_gpa)) {
        cqe->iova = v->window_iova + (e->addr - v->window_gpa);
        return ADMA_S_OK;
    }
    if (s->sync_baseline || !s->tt) {
        return apple_dma_span_map(s, off, e->len, cqe);
    }

    c0 = off >> s->chunk_shift;
    c1 = (off + e->len - 1) >> s->chunk_shift;
    /* Inside RAM (checked above), so inside the table: say so anyway. */
    if (c1 >= s->nchunks) {
        return ADMA_S_NOT_RAM;
    }
    for (idx = c0; idx <= c1; idx++) {
        st = apple_dma_chunk_map(s, idx);
        if (st || !apple_dma_chunk_pin(s, idx)) {
            st = st ? st : ADMA_S_PIN_MAX;
            break;
        }
        if (idx > c0 && s->chunks[idx].iova !=
            s->chunks[c0].iova + ((idx - c0) << s->chunk_shift)) {
            st = ADMA_S_FRAGMENT;       /* not contiguous: a span */
            idx++;
            break;
        }
    }
    if (st) {
        while (idx-- > c0) {
            apple_dma_chunk_unpin(s, idx);
        }
        /*
         * Not contiguous: a span.  No room for whole chunks: a span of just
         * the range's pages needs far less, so under pressure the guest
         * degrades to exact mappings instead of failing (a request whose
         * pages lie in more chunks than the budget holds could otherwise
         * never be mapped).
         */
        if (st != ADMA_S_FRAGMENT && st != ADMA_S_NO_SPACE) {
            return st;
        }
        return apple_dma_span_map(s, off, e->len, cqe);
    }
    s->n.pins += c1 - c0 + 1;
    if (!(e->flags & ADMA_MAP_PIN)) {
        for (idx = c0; idx <= c1; idx++) {
            apple_dma_chunk_unpin(s, idx);
        }
    }
    cqe->iova = s->chunks[c0].iova + (off - (c0 << s->chunk_shift));
    cqe->handle = ADMA_HANDLE_NONE;
    return ADMA_S_OK;
}

static uint32_t apple_dma_do_unmap(AppleDMAState *s, uint64_t handle)
{
    uint32_t i = (uint32_t)handle - 1, gen = handle >> 32;

    /* The guest's handle: index and generation both checked. */
    if ((uint32_t)handle == 0 || i >= s->max_spans || !s->spans[i].handle ||
        s->spans[i].gen != gen) {
        return ADMA_S_HANDLE;
    }
    apple_dma_span_release(s, i);
    return ADMA_S_OK;
}

/* Unmap every chunk nobody pins (FLUSH; the guest going away). */
static void apple_dma_flush(AppleDMAState *s)
{
    uint64_t idx;

    for (idx = 0; s->tt && idx < s->nchunks; idx++) {
        adma_tt_word w;

        if (!s->chunks[idx].handle) {
            continue;
        }
        w = qatomic_read(&s->tt[idx]);
        if (!ADMA_TT_PINS(w) && qatomic_cmpxchg(&s->tt[idx], w, 0) == w) {
            apple_dma_chunk_unmap(s, idx);
        }
    }
}

static void apple_dma_process_one(AppleDMAState *s, const struct adma_sqe *e,
                                  struct adma_cqe *out)
{
    struct adma_cqe c = { .tag = e->tag }, *cqe = &c;
    uint32_t st;

    switch (e->op) {
    case ADMA_OP_MAP:
        st = apple_dma_do_map(s, e, cqe);
        break;
    case ADMA_OP_UNMAP:
        st = apple_dma_do_unmap(s, e->addr);
        break;
    case ADMA_OP_FLUSH:
        apple_dma_flush(s);
        st = ADMA_S_OK;
        break;
    case ADMA_OP_QUERY:
        cqe->iova = s->used_bytes;
        cqe->handle = s->used_maps;
        st = ADMA_S_OK;
        break;
    default:
        st = ADMA_S_INVAL;
        break;
    }
    if (st == ADMA_S_NO_SPACE) {
        s->n.errors_no_space++;
    }
    if (st) {
        s->n.errors++;
        cqe->iova = 0;
        cqe->handle = 0;
    }
    cqe->status = st;
    s->n.entries++;
    out->tag = cpu_to_le64(c.tag);
    out->status = cpu_to_le32(c.status);
    out->rsvd = 0;
    out->iova = cpu_to_le64(c.iova);
    out->handle = cpu_to_le64(c.handle);
}

static void apple_dma_fail(AppleDMAState *s, uint32_t why)
{
    s->setup_error = why;
    qatomic_or(&s->status, ADMA_STATUS_FAILED);
    qatomic_and(&s->status, ~ADMA_STATUS_ENABLED);
}

/*
 * Process up to @max entries (lock held).  Returns how many; stops where
 * the completion ring is full.  Indexes are the guest's: a distance beyond
 * the ring is a broken guest driver, and stops the companion for it.
 */
static unsigned apple_dma_process(AppleDMAState *s, unsigned max)
{
    struct adma_ring_ctl *ctl = s->ctl;
    uint32_t mask = s->ring_entries - 1, n = 0;
    uint32_t sq_head = ctl->sq_head, cq_tail = ctl->cq_tail;

    while (n < max) {
        uint32_t sq_tail = qatomic_load_acquire(&ctl->sq_tail);
        uint32_t cq_head = qatomic_load_acquire(&ctl->cq_head);
        struct adma_sqe e;

        if (sq_tail - sq_head > s->ring_entries ||
            cq_tail - cq_head > s->ring_entries) {
            apple_dma_fail(s, ADMA_S_RING);
            break;
        }
        if (sq_tail == sq_head || cq_tail - cq_head == s->ring_entries) {
            break;
        }
        /* One copy: the guest may change the entry while we look at it. */
        memcpy(&e, &s->sq[sq_head & mask], sizeof(e));
        e.tag = le64_to_cpu(e.tag);
        e.addr = le64_to_cpu(e.addr);
        e.len = le64_to_cpu(e.len);
        e.flags = le16_to_cpu(e.flags);
        e.rsvd = le32_to_cpu(e.rsvd);
        apple_dma_process_one(s, &e, &s->cq[cq_tail & mask]);
        sq_head++;
        cq_tail++;
        n++;
        /* Completions are visible before the index that publishes them. */
        qatomic_store_release(&ctl->sq_head, sq_head);
        qatomic_store_release(&ctl->cq_tail, cq_tail);
    }
    if (n && !(le32_to_cpu(qatomic_read(&ctl->guest_flags)) &
               ADMA_GUEST_NO_IRQ)) {
        qatomic_set(&s->irq_pending, true);
        qemu_bh_schedule(s->irq_bh);
    }
    return n;
}

static bool apple_dma_work_ready(AppleDMAState *s)
{
    struct adma_ring_ctl *ctl = s->ctl;

    return (qatomic_read(&s->status) & ADMA_STATUS_ENABLED) &&
           qatomic_load_acquire(&ctl->sq_tail) != ctl->sq_head;
}

/* Forget the guest's rings and pins (lock held): ADMA_CTRL_RESET. */
static void apple_dma_reset_locked(AppleDMAState *s)
{
    uint64_t idx;
    uint32_t i;

    for (idx = 0; s->chunks && idx < s->nchunks; idx++) {
        if (s->chunks[idx].handle) {
            if (s->tt) {
                qatomic_set(&s->tt[idx], 0);
            }
            apple_dma_chunk_unmap(s, idx);
        }
    }
    for (i = 0; s->spans && i < s->max_spans; i++) {
        if (s->spans[i].handle) {
            apple_dma_span_release(s, i);
        }
    }
    s->ctl = NULL;
    s->sq = NULL;
    s->cq = NULL;
    s->tt = NULL;
    s->clock_hand = 0;
    qatomic_set(&s->status, s->sync_baseline ? ADMA_STATUS_SYNC : 0);
}

static void *apple_dma_thread(void *opaque)
{
    AppleDMAState *s = opaque;

    rcu_register_thread();
    while (!qatomic_read(&s->stop)) {
        qemu_event_reset(&s->kick);
        qemu_mutex_lock(&s->lock);
        if (qatomic_xchg(&s->reset_pending, false)) {
            apple_dma_reset_locked(s);
        }
        if (s->ctl && (qatomic_read(&s->status) & ADMA_STATUS_ENABLED)) {
            int64_t until = get_clock() + s->poll_us * SCALE_US;

            qatomic_set(&s->ctl->host_flags, 0);
            /* Awake before we look at the tail (pairs with the guest's). */
            smp_mb();
            /* Poll a while: a busy guest then never rings at all. */
            while (!qatomic_read(&s->stop) &&
                   !qatomic_read(&s->reset_pending) &&
                   (qatomic_read(&s->status) & ADMA_STATUS_ENABLED)) {
                if (apple_dma_process(s, APPLE_DMA_BATCH)) {
                    until = get_clock() + s->poll_us * SCALE_US;
                    continue;
                }
                if (get_clock() >= until) {
                    break;
                }
                cpu_relax();
            }
            if (s->ctl) {
                /* Sleep, then look once more: a racing tail is not lost. */
                qatomic_set(&s->ctl->host_flags, ADMA_HOST_IDLE);
                /*
                 * IDLE visible before the last look at the tail: a guest
                 * that published after it sees IDLE and rings.
                 */
                smp_mb();
                if (apple_dma_work_ready(s)) {
                    qemu_mutex_unlock(&s->lock);
                    continue;
                }
            }
        }
        qemu_mutex_unlock(&s->lock);
        qemu_event_wait(&s->kick);
    }
    rcu_unregister_thread();
    return NULL;
}

static void apple_dma_irq_bh(void *opaque)
{
    AppleDMAState *s = opaque;
    PCIDevice *pdev = PCI_DEVICE(s);

    if (qatomic_xchg(&s->irq_pending, false) && msix_enabled(pdev)) {
        msix_notify(pdev, ADMA_MSIX_VECTOR);
        qatomic_inc(&s->n.interrupts);
    }
}

/* ---- registers ---- */

static void apple_dma_enable_locked(AppleDMAState *s, uint32_t n);
static bool apple_dma_ready(void *opaque);

/* ADMA_CTRL_ENABLE: check what the guest set up; vCPU thread, BQL. */
static void apple_dma_enable(AppleDMAState *s)
{
    uint32_t n = s->ring_entries;

    if (qatomic_read(&s->status) &
        (ADMA_STATUS_ENABLED | ADMA_STATUS_FAILED | ADMA_STATUS_BUSY)) {
        return;
    }
    if (!s->dev) {
        apple_dma_fail(s, ADMA_S_HOST);
        return;
    }
    /* The thread is idle (not enabled, no reset): a short wait at most. */
    qemu_mutex_lock(&s->lock);
    apple_dma_enable_locked(s, n);
    qemu_mutex_unlock(&s->lock);
    if (apple_dma_ready(s)) {
        vfio_apple_companion_ready(s->dev);
    }
}

static void apple_dma_enable_locked(AppleDMAState *s, uint32_t n)
{
    uint64_t tt_bytes;

    /* Gone with the served device (apple_dma_device_release). */
    if (!s->have_view) {
        apple_dma_fail(s, ADMA_S_HOST);
        return;
    }
    if (!is_power_of_2(n) || n < 2 || n > s->ring_max ||
        s->ring_gpa % 4096 ||
        !apple_dma_ram_ptr(s, s->ring_gpa, ADMA_RING_AREA_SIZE(n))) {
        apple_dma_fail(s, ADMA_S_RING);
        return;
    }
    s->tt = NULL;
    if (s->guest_features & ADMA_F_TT) {
        tt_bytes = (uint64_t)s->tt_entries * sizeof(adma_tt_word);
        if (s->tt_entries < s->nchunks || s->tt_gpa % 8 ||
            !apple_dma_ram_ptr(s, s->tt_gpa, tt_bytes)) {
            apple_dma_fail(s, ADMA_S_RING);
            return;
        }
        s->tt = apple_dma_ram_ptr(s, s->tt_gpa, tt_bytes);
        /* The guest's copy starts empty: nothing is mapped yet. */
        memset(s->tt, 0, tt_bytes);
    }
    s->ctl = apple_dma_ram_ptr(s, s->ring_gpa, ADMA_RING_AREA_SIZE(n));
    s->sq = (struct adma_sqe *)((uint8_t *)s->ctl + ADMA_RING_SQ_OFFSET);
    s->cq = (struct adma_cqe *)((uint8_t *)s->ctl + ADMA_RING_CQ_OFFSET(n));
    s->ctl->sq_head = s->ctl->sq_tail;
    s->ctl->cq_tail = s->ctl->cq_head;
    s->ctl->host_flags = ADMA_HOST_IDLE;
    qatomic_or(&s->status, ADMA_STATUS_ENABLED);
    trace_apple_dma_enable(n, s->tt_gpa, s->tt_entries, s->guest_features);
}

static bool apple_dma_ready(void *opaque)
{
    AppleDMAState *s = opaque;

    return qatomic_read(&s->status) & ADMA_STATUS_ENABLED;
}

/* A reset request: the thread unmaps; the guest polls STATUS for it. */
static void apple_dma_request_reset(AppleDMAState *s)
{
    qatomic_and(&s->status, ~(ADMA_STATUS_ENABLED | ADMA_STATUS_FAILED));
    s->setup_error = 0;
    if (s->sync_baseline || !s->thread_running) {
        qemu_mutex_lock(&s->lock);
        apple_dma_reset_locked(s);
        qemu_mutex_unlock(&s->lock);
        return;
    }
    qatomic_or(&s->status, ADMA_STATUS_BUSY);
    qatomic_set(&s->reset_pending, true);
    qemu_event_set(&s->kick);
}

static uint64_t apple_dma_features(AppleDMAState *s)
{
    return s->sync_baseline ? ADMA_F_MSIX :
           ADMA_F_TT | ADMA_F_MSIX | ADMA_F_EVENT_IDX;
}

static uint64_t apple_dma_reg64(AppleDMAState *s, hwaddr reg)
{
    const VFIOAppleCompanionView *v = &s->view;
    VFIOAppleCompanionView live;
    bool have = s->have_view ||
                (s->dev && vfio_apple_companion_view(s->dev, &live));

    if (!s->have_view && have) {
        v = &live;
    }
    switch (reg) {
    case ADMA_REG_FEATURES:
        return apple_dma_features(s);
    case ADMA_REG_GUEST_FEATURES:
        return s->guest_features;
    case ADMA_REG_WINDOW_GPA:
        return have ? v->window_gpa : 0;
    case ADMA_REG_WINDOW_SIZE:
        return have && !s->sync_baseline ? v->window_size : 0;
    case ADMA_REG_WINDOW_IOVA:
        return have ? v->window_iova : 0;
    case ADMA_REG_RAM_GPA:
        return have ? v->ram_gpa : 0;
    case ADMA_REG_RAM_SIZE:
        return have ? v->ram_size : 0;
    case ADMA_REG_BUDGET_BYTES:
        return have ? v->budget_bytes : 0;
    case ADMA_REG_USED_BYTES:
        return qatomic_read(&s->used_bytes);
    case ADMA_REG_RING_GPA:
        return s->ring_gpa;
    case ADMA_REG_TT_GPA:
        return s->tt_gpa;
    }
    return UINT64_MAX;      /* not a 64-bit register */
}

static uint32_t apple_dma_device_word(AppleDMAState *s, unsigned i)
{
    PCIDevice *pdev = s->dev ? PCI_DEVICE(s->dev) : NULL;

    /* The bus number is read live: the guest numbers bridges itself. */
    if (i || !pdev) {
        return 0;
    }
    return ADMA_DEVICE_VALID | (pci_dev_bus_num(pdev) << 8) | pdev->devfn;
}

static uint64_t apple_dma_read(void *opaque, hwaddr addr, unsigned size)
{
    AppleDMAState *s = opaque;
    hwaddr reg = addr & ~7ull;
    uint64_t v = apple_dma_reg64(s, reg);

    if (v != UINT64_MAX) {
        v >>= (addr & 4) * 8;
        return size == 8 ? v : (uint32_t)v;
    }
    switch (addr) {
    case ADMA_REG_MAGIC:
        return ADMA_MAGIC;
    case ADMA_REG_VERSION:
        return ADMA_ABI_MAJOR << 16 | ADMA_ABI_MINOR;
    case ADMA_REG_STATUS:
        return qatomic_read(&s->status);
    case ADMA_REG_SETUP_ERROR:
        return s->setup_error;
    case ADMA_REG_NUM_DEVICES:
        return s->dev ? 1 : 0;
    case ADMA_REG_CHUNK_SHIFT:
        return s->sync_baseline ? 0 : ctz64(s->chunk_size);
    case ADMA_REG_MAX_MAP:
        return APPLE_DMA_MAX_MAP;
    case ADMA_REG_RING_MAX:
        return s->ring_max;
    case ADMA_REG_BUDGET_MAPS:
        return s->have_view ? s->view.budget_mappings :
               s->dev ? s->dev->id.dma_max_mappings : 0;
    case ADMA_REG_USED_MAPS:
        return qatomic_read(&s->used_maps);
    case ADMA_REG_RING_ENTRIES:
        return s->ring_entries;
    case ADMA_REG_TT_ENTRIES:
        return s->tt_entries;
    }
    if (addr >= ADMA_REG_DEVICE0 &&
        addr < ADMA_REG_DEVICE0 + 4 * ADMA_MAX_DEVICES) {
        return apple_dma_device_word(s, (addr - ADMA_REG_DEVICE0) / 4);
    }
    return 0;
}

/* sync-baseline: one entry per doorbell, here on the vCPU thread. */
static void apple_dma_doorbell_sync(AppleDMAState *s)
{
    qemu_mutex_lock(&s->lock);
    if (s->ctl && (qatomic_read(&s->status) & ADMA_STATUS_ENABLED)) {
        apple_dma_process(s, 1);
    }
    qemu_mutex_unlock(&s->lock);
}

static void apple_dma_set64(uint64_t *r, hwaddr addr, uint64_t val,
                            unsigned size)
{
    if (size == 8) {
        *r = val;
    } else if (addr & 4) {
        *r = deposit64(*r, 32, 32, val);
    } else {
        *r = deposit64(*r, 0, 32, val);
    }
}

static void apple_dma_write(void *opaque, hwaddr addr, uint64_t val,
                            unsigned size)
{
    AppleDMAState *s = opaque;
    bool enabled = qatomic_read(&s->status) & ADMA_STATUS_ENABLED;

    switch (addr) {
    case ADMA_REG_DOORBELL:
        qatomic_inc(&s->n.doorbells);
        if (s->sync_baseline) {
            apple_dma_doorbell_sync(s);
        } else {
            qemu_event_set(&s->kick);
        }
        return;
    case ADMA_REG_CONTROL:
        if (val & ADMA_CTRL_RESET) {
            apple_dma_request_reset(s);
        } else if (val & ADMA_CTRL_ENABLE) {
            apple_dma_enable(s);
            qemu_event_set(&s->kick);
        }
        return;
    }
    /* The setup registers hold still while the rings are in use. */
    if (enabled) {
        return;
    }
    switch (addr & ~7ull) {
    case ADMA_REG_GUEST_FEATURES:
        apple_dma_set64(&s->guest_features, addr, val, size);
        s->guest_features &= apple_dma_features(s);
        return;
    case ADMA_REG_RING_GPA:
        apple_dma_set64(&s->ring_gpa, addr, val, size);
        return;
    case ADMA_REG_TT_GPA:
        apple_dma_set64(&s->tt_gpa, addr, val, size);
        return;
    }
    switch (addr) {
    case ADMA_REG_RING_ENTRIES:
        s->ring_entries = val;
        break;
    case ADMA_REG_TT_ENTRIES:
        s->tt_entries = val;
        break;
    }
}

static const MemoryRegionOps apple_dma_mmio_ops = {
    .read = apple_dma_read,
    .write = apple_dma_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- life cycle ---- */

static void apple_dma_stop_thread(AppleDMAState *s)
{
    if (!s->thread_running) {
        return;
    }
    qatomic_set(&s->stop, true);
    qemu_event_set(&s->kick);
    qemu_thread_join(&s->thread);
    s->thread_running = false;
}

/*
 * The served device releases its session (unplug, QEMU exit, a failed
 * realize): our chunks are mappings of that session, so unmap them now,
 * and stop looking at guest RAM.
 */
static void apple_dma_device_release(void *opaque)
{
    AppleDMAState *s = opaque;

    apple_dma_stop_thread(s);
    qemu_mutex_lock(&s->lock);
    apple_dma_reset_locked(s);
    qemu_mutex_unlock(&s->lock);
    qatomic_set(&s->status, ADMA_STATUS_FAILED);
    s->setup_error = ADMA_S_HOST;
    s->have_view = false;
    s->dev->companion = NULL;
    s->dev->companion_release = NULL;
    s->dev->companion_info = NULL;
    s->dev->companion_ready = NULL;
    s->dev = NULL;
}

/*
 * QMP and HMP, under the BQL: no s->lock, which the ring thread holds
 * across dext calls (a stuck dext must not stall the monitor).  Counters
 * are read as they are; a report may be a moment old.
 */
static void apple_dma_info(void *opaque, VfioAppleInfo *info)
{
    AppleDMAState *s = opaque;
    VfioAppleCompanionInfo *c = g_new0(VfioAppleCompanionInfo, 1);
    struct adma_ring_ctl *ctl = qatomic_read(&s->ctl);

    c->qom_path = object_get_canonical_path(OBJECT(s));
    c->enabled = qatomic_read(&s->status) & ADMA_STATUS_ENABLED;
    c->sync_baseline = s->sync_baseline;
    c->chunk_size = s->chunk_size;
    c->used_bytes = qatomic_read(&s->used_bytes);
    c->used_mappings = qatomic_read(&s->used_maps);
    c->peak_bytes = qatomic_read(&s->n.peak_bytes);
    c->peak_mappings = qatomic_read(&s->n.peak_mappings);
    c->chunks_mapped = qatomic_read(&s->chunks_mapped);
    c->spans_mapped = qatomic_read(&s->spans_mapped);
    c->span_bytes = qatomic_read(&s->span_bytes);
    c->span_reserve_bytes = s->have_view ?
                            s->view.budget_bytes - s->chunk_limit_bytes : 0;
    c->doorbells = qatomic_read(&s->n.doorbells);
    c->entries = qatomic_read(&s->n.entries);
    c->dart_maps = qatomic_read(&s->n.dart_maps);
    c->dart_unmaps = qatomic_read(&s->n.dart_unmaps);
    c->pins = qatomic_read(&s->n.pins);
    c->evictions = qatomic_read(&s->n.evictions);
    c->errors = qatomic_read(&s->n.errors);
    c->errors_not_ram = qatomic_read(&s->n.errors_not_ram);
    c->errors_no_space = qatomic_read(&s->n.errors_no_space);
    c->interrupts = qatomic_read(&s->n.interrupts);
    c->bus_master_held = s->dev->bme_held;
    if (ctl) {
        /* The guest's own count: reported, never used for a decision. */
        c->guest_hits = le64_to_cpu(qatomic_read(&ctl->guest_hits));
        c->guest_misses = le64_to_cpu(qatomic_read(&ctl->guest_misses));
    }
    info->companion = c;
}

/*
 * Split the dext's budget: the window and chunks up to the limit, the
 * rest (span-reserve, and mappings in the same proportion, at least a
 * large request's worth) only for spans, so a request that needs memory
 * outside every chunk that fits can always be mapped once the spans of
 * earlier requests are unmapped.  Chunks need few mappings (a 1.5 GiB
 * budget is 768 chunks of 2 MiB), so the mapping reserve costs them
 * little; half the mappings at most, so a tiny budget still has chunks.
 */
static bool apple_dma_set_reserve(AppleDMAState *s, Error **errp)
{
    const VFIOAppleCompanionView *v = &s->view;
    uint64_t room = v->budget_bytes > v->window_bytes ?
                    v->budget_bytes - v->window_bytes : 0;
    uint32_t maps = v->budget_mappings > v->window_mappings ?
                    v->budget_mappings - v->window_mappings : 0;
    uint64_t bytes = s->span_reserve;
    uint32_t rmaps;

    if (bytes == APPLE_DMA_RESERVE_AUTO) {
        bytes = MIN(MAX(v->budget_bytes / 8, APPLE_DMA_RESERVE_MIN_BYTES),
                    room);
    } else if (bytes > room) {
        error_setg(errp, "apple-dma-pci: span-reserve=0x%" PRIx64 " is more "
                   "than the 0x%" PRIx64 " bytes of DART budget the window "
                   "leaves", bytes, room);
        error_append_hint(errp, "Give a smaller span-reserve, or a smaller "
                          "window-size to the device\n");
        return false;
    }
    bytes = MIN(QEMU_ALIGN_UP(bytes, ADMA_PAGE_SIZE), room);
    rmaps = 0;
    if (bytes) {
        /*
         * maps * bytes / room, rounded up: the budget is the dext's, so
         * the product may not fit 64 bits; the quotient is at most maps.
         */
        uint64_t lo, hi, rem;

        mulu64(&lo, &hi, maps, bytes);
        rem = divu128(&lo, &hi, room);
        rmaps = lo + (rem != 0);
        rmaps = MAX(rmaps, MIN(APPLE_DMA_RESERVE_MIN_MAPS, maps / 2));
    }
    s->chunk_limit_bytes = v->budget_bytes - bytes;
    s->chunk_limit_maps = v->budget_mappings - rmaps;
    return true;
}

static void apple_dma_realize(PCIDevice *pdev, Error **errp)
{
    AppleDMAState *s = APPLE_DMA_PCI(pdev);

    if (!s->dev) {
        error_setg(errp, "apple-dma-pci: no device= given");
        error_append_hint(errp, "Name the vfio-apple-pci device it serves: "
                          "-device vfio-apple-pci,id=gpu0,dma-mode=companion"
                          ",... -device apple-dma-pci,device=gpu0\n");
        return;
    }
    if (s->dev->dma_mode != VFIO_APPLE_DMA_MODE_COMPANION) {
        error_setg(errp, "apple-dma-pci: %s is in dma-mode=%s",
                   DEVICE(s->dev)->id ? DEVICE(s->dev)->id : "the device",
                   VfioAppleDmaMode_str(s->dev->dma_mode));
        error_append_hint(errp, "Give it dma-mode=companion\n");
        return;
    }
    if (s->dev->companion) {
        error_setg(errp, "apple-dma-pci: %s has a companion already",
                   DEVICE(s->dev)->id ? DEVICE(s->dev)->id : "the device");
        return;
    }
    if (!vfio_apple_companion_view(s->dev, &s->view)) {
        error_setg(errp, "apple-dma-pci: the device has no DMA window "
                   "mapped (was it realized?)");
        return;
    }
    if (!is_power_of_2(s->chunk_size) || s->chunk_size < ADMA_PAGE_SIZE ||
        s->chunk_size > 1 * GiB) {
        error_setg(errp, "apple-dma-pci: chunk-size=0x%" PRIx64 " must be a "
                   "power of two from 16 KiB to 1 GiB", s->chunk_size);
        return;
    }
    if (!is_power_of_2(s->ring_max) || s->ring_max < 2 ||
        s->ring_max > APPLE_DMA_RING_MAX || !s->max_spans) {
        error_setg(errp, "apple-dma-pci: ring-max must be a power of two "
                   "from 2 to %u, max-spans at least 1", APPLE_DMA_RING_MAX);
        return;
    }

    if (!apple_dma_set_reserve(s, errp)) {
        return;
    }
    s->chunk_shift = ctz64(s->chunk_size);
    s->nchunks = DIV_ROUND_UP(s->view.ram_size, s->chunk_size);
    s->chunks = g_new0(AppleDMAChunk, s->nchunks);
    s->spans = g_new0(AppleDMASpan, s->max_spans);
    s->have_view = true;
    /* The window is part of what the budget covers. */
    s->used_bytes = s->view.window_bytes;
    s->used_maps = s->view.window_mappings;

    pci_config_set_interrupt_pin(pdev->config, 0);
    memory_region_init_io(&s->mmio, OBJECT(s), &apple_dma_mmio_ops, s,
                          "apple-dma-regs", ADMA_BAR_SIZE);
    pci_register_bar(pdev, ADMA_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
    if (msix_init_exclusive_bar(pdev, 1, 1, errp)) {
        return;
    }
    error_setg(&s->migration_blocker, "apple-dma-pci cannot be migrated: "
               "its mappings live in the host's DART");
    if (migrate_add_blocker(&s->migration_blocker, errp) < 0) {
        msix_uninit_exclusive_bar(pdev);
        return;
    }

    qemu_mutex_init(&s->lock);
    qemu_event_init(&s->kick, false);
    s->irq_bh = qemu_bh_new_guarded(apple_dma_irq_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);
    s->status = s->sync_baseline ? ADMA_STATUS_SYNC : 0;
    if (!s->sync_baseline) {
        qemu_thread_create(&s->thread, "apple-dma", apple_dma_thread, s,
                           QEMU_THREAD_JOINABLE);
        s->thread_running = true;
    }
    s->dev->companion = s;
    s->dev->companion_release = apple_dma_device_release;
    s->dev->companion_info = apple_dma_info;
    s->dev->companion_ready = apple_dma_ready;
}

static void apple_dma_exit(PCIDevice *pdev)
{
    AppleDMAState *s = APPLE_DMA_PCI(pdev);

    if (s->dev) {
        apple_dma_device_release(s);
    }
    apple_dma_stop_thread(s);
    migrate_del_blocker(&s->migration_blocker);
    msix_uninit_exclusive_bar(pdev);
    qemu_bh_delete(s->irq_bh);
    qemu_event_destroy(&s->kick);
    qemu_mutex_destroy(&s->lock);
    g_free(s->chunks);
    g_free(s->spans);
}

/* Device reset: the guest driver starts over, holding nothing. */
static void apple_dma_reset(DeviceState *dev)
{
    AppleDMAState *s = APPLE_DMA_PCI(dev);

    if (s->dev) {
        apple_dma_request_reset(s);
    }
    s->guest_features = 0;
    s->ring_gpa = s->tt_gpa = 0;
    s->ring_entries = s->tt_entries = 0;
    msix_unuse_all_vectors(PCI_DEVICE(s));
}

static const Property apple_dma_properties[] = {
    DEFINE_PROP_LINK("device", AppleDMAState, dev, TYPE_VFIO_APPLE_PCI,
                     VFIOApplePCIDevice *),
    DEFINE_PROP_SIZE("chunk-size", AppleDMAState, chunk_size, 2 * MiB),
    DEFINE_PROP_UINT32("ring-max", AppleDMAState, ring_max, 1024),
    DEFINE_PROP_UINT32("max-spans", AppleDMAState, max_spans, 4096),
    DEFINE_PROP_SIZE("span-reserve", AppleDMAState, span_reserve,
                     APPLE_DMA_RESERVE_AUTO),
    DEFINE_PROP_UINT32("poll-us", AppleDMAState, poll_us, 50),
    DEFINE_PROP_BOOL("sync-baseline", AppleDMAState, sync_baseline, false),
};

static void apple_dma_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = apple_dma_realize;
    k->exit = apple_dma_exit;
    k->vendor_id = ADMA_PCI_VENDOR_ID;
    k->device_id = ADMA_PCI_DEVICE_ID;
    k->revision = ADMA_ABI_MAJOR;
    k->class_id = ADMA_PCI_CLASS >> 8;
    device_class_set_legacy_reset(dc, apple_dma_reset);
    device_class_set_props(dc, apple_dma_properties);
    dc->desc = "vfio-apple DMA companion (mappings on demand for the "
               "guest's apple_dma driver)";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    /* Unplugged with its device, which it cannot outlive usefully. */
    dc->hotpluggable = true;
    object_class_property_set_description(klass, "chunk-size",
        "bytes of guest RAM one DART mapping covers (power of two)");
    object_class_property_set_description(klass, "span-reserve",
        "bytes of the DART budget chunks never use, kept for span "
        "mappings so every request can make progress (default: budget/8)");
    object_class_property_set_description(klass, "sync-baseline",
        "the RFC's design, for benchmarks: one entry per doorbell on the "
        "vCPU thread, one DART mapping per map");
}

static const TypeInfo apple_dma_types[] = {
    {
        .name = TYPE_APPLE_DMA_PCI,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(AppleDMAState),
        .class_init = apple_dma_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_PCIE_DEVICE },
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(apple_dma_types)
