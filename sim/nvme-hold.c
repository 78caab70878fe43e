/*
 * Completion latency of the NVMe model (option latency-us=N).
 *
 * An I/O command still runs when it is fetched (its data moves at once),
 * but its completion is held back until N microseconds later.  A driver
 * therefore keeps N us worth of requests in flight, and their DMA mappings
 * live, however fast the simulator is: the mapping-pressure tests need
 * that, since without it how much I/O is in flight depends on the load of
 * the machine running them.  Admin commands are never held.
 *
 * The latency is one constant, so completions fall due in the order their
 * commands were fetched: the held completions are a FIFO, and only its
 * head is ever compared with the clock.  The due time is a minimum; the
 * device thread's idle sleep (up to SIM_POLL_MAX_NS) is the resolution.
 */
#include "nvme.h"

#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int nvme_hold_init(struct nvme *n, unsigned latency_us)
{
    n->latency_us = latency_us;
    if (!latency_us)
        return 0;
    n->held = calloc(NVME_HOLD_MAX, sizeof(*n->held));
    return n->held ? 0 : -1;
}

void nvme_hold_free(struct nvme *n)
{
    free(n->held);
    n->held = NULL;
}

bool nvme_hold_full(const struct nvme *n)
{
    return n->held_count == NVME_HOLD_MAX;
}

static struct nvme_held *slot(struct nvme *n, unsigned i)
{
    return &n->held[(n->held_head + i) % NVME_HOLD_MAX];
}

void nvme_hold(struct nvme *n, uint16_t sqid, uint16_t cid, const struct nvme_result *r)
{
    /* process_sq() stops fetching while the FIFO is full: never overwritten. */
    *slot(n, n->held_count) = (struct nvme_held){
        .due_ns = now_ns() + (uint64_t)n->latency_us * 1000u,
        .sqid = sqid, .cid = cid, .r = *r,
    };
    n->held_count++;
    n->st.held++;
    if (n->held_count > n->st.held_peak)
        n->st.held_peak = n->held_count;
}

static void pop(struct nvme *n)
{
    n->held_head = (n->held_head + 1) % NVME_HOLD_MAX;
    n->held_count--;
}

unsigned nvme_hold_post_due(struct nvme *n)
{
    unsigned posted = 0;
    uint64_t now = n->held_count ? now_ns() : 0;

    while (n->held_count) {
        struct nvme_held *h = slot(n, 0);
        if (h->due_ns > now)
            break;
        /* Deleting an SQ drains its entries first: its queue pair is live. */
        unsigned cqid = n->sq[h->sqid].cqid;
        if (nvme_cq_full(n, cqid))
            break;                      /* resume when the host frees CQ space */
        if (!nvme_post_cqe(n, cqid, h->sqid, h->cid, &h->r)) {
            nvme_fatal(n);
            break;
        }
        pop(n);
        posted++;
    }
    return posted;
}

void nvme_hold_drain_sq(struct nvme *n, unsigned sqid)
{
    unsigned kept = 0, count = n->held_count;
    unsigned cqid = n->sq[sqid].cqid;

    /*
     * The SQ's commands have all run: complete them now, before the delete
     * does, so none is left to abort and none can later land on a queue
     * that reuses the ID.  One the CQ has no room for is lost, as the
     * host's own overflowing CQ would lose it; it is counted.
     */
    for (unsigned i = 0; i < count; i++) {
        struct nvme_held h = *slot(n, i);
        if (h.sqid != sqid) {
            *slot(n, kept++) = h;
            continue;
        }
        if (nvme_cq_full(n, cqid) || !nvme_post_cqe(n, cqid, h.sqid, h.cid, &h.r))
            n->st.held_dropped++;
    }
    n->held_count = kept;
}

void nvme_hold_reset(struct nvme *n)
{
    /* A controller reset ends every command: the host expects no completion. */
    n->st.held_dropped += n->held_count;
    n->held_head = 0;
    n->held_count = 0;
}
