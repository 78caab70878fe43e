/*
 * BAR0 of the NVMe model and the device thread that runs it.
 *
 * Page 0 of BAR0 (registers and doorbells) is shared memory the client
 * writes directly, exactly as a guest writes the real BAR through a stage-2
 * mapping: there is no trap per doorbell.  So the device polls: each pass
 * it restores the read-only registers from its own copy (guest writes to
 * them are ignored, as on hardware), acts on CC transitions, and consumes
 * new doorbell values.  Page 1 (MSI-X table and PBA) is trapped and served
 * by nvme_mmio_read/write.
 * The thread (poll-thread.c) adapts its sleep to the work it finds.
 */
#include "nvme.h"

#include <errno.h>
#include <string.h>

#define SQ_BURST        64u             /* commands per SQ per pass (fairness) */

static uint64_t cap_value(void)
{
    return (uint64_t)NVME_MQES |
           1ull << 16 |                 /* CQR: queues must be contiguous */
           20ull << 24 |                /* TO: 10 s to become ready */
           0ull << 32 |                 /* DSTRD: 4-byte doorbell stride */
           1ull << 37 |                 /* CSS: NVM command set */
           (uint64_t)NVME_MPSMIN << 48 |
           (uint64_t)NVME_MPSMAX << 52;
}

/* Registers the host can read but must not change. */
static void restore_ro(struct nvme *n)
{
    static const struct { unsigned off; } zero_regs[] = {
        { NVME_REG_INTMS }, { NVME_REG_INTMC }, { NVME_REG_NSSR },
        { NVME_REG_CMBLOC }, { NVME_REG_CMBSZ },
    };
    uint64_t cap = cap_value();
    if (nvme_reg_rd32(n, NVME_REG_CAP) != (uint32_t)cap)
        nvme_reg_wr32(n, NVME_REG_CAP, (uint32_t)cap);
    if (nvme_reg_rd32(n, NVME_REG_CAP + 4) != (uint32_t)(cap >> 32))
        nvme_reg_wr32(n, NVME_REG_CAP + 4, (uint32_t)(cap >> 32));
    if (nvme_reg_rd32(n, NVME_REG_VS) != 0x00010400u)
        nvme_reg_wr32(n, NVME_REG_VS, 0x00010400u);
    if (nvme_reg_rd32(n, NVME_REG_CSTS) != n->csts)
        nvme_reg_wr32(n, NVME_REG_CSTS, n->csts);
    for (size_t i = 0; i < sizeof(zero_regs) / sizeof(zero_regs[0]); i++)
        if (nvme_reg_rd32(n, zero_regs[i].off))
            nvme_reg_wr32(n, zero_regs[i].off, 0);
}

void nvme_regs_init(struct nvme *n)
{
    memset((void *)n->regs, 0, SIM_PAGE_SIZE);
    n->cc = 0;
    n->csts = 0;
    restore_ro(n);
}

/* Every doorbell back to 0, the value a controller reset gives them. */
static void doorbells_reset(struct nvme *n)
{
    if (n->regs)
        memset((void *)(n->regs + NVME_REG_DBS), 0, 8u * (NVME_MAX_IO_QUEUES + 1));
}

/* Controller reset (CC.EN 1->0, or part of FLR): queues and held AERs go. */
void nvme_ctrl_reset_locked(struct nvme *n)
{
    memset(n->sq, 0, sizeof(n->sq));
    memset(n->cq, 0, sizeof(n->cq));
    n->n_aer = 0;
    nvme_hold_reset(n);
    n->enabled = false;
    n->shutdown = false;
    n->csts = 0;
    nvme_features_reset(n);
    /* Doorbells of queues that no longer exist read as 0 again. */
    doorbells_reset(n);
}

static void ctrl_enable(struct nvme *n, uint32_t cc)
{
    uint32_t aqa = nvme_reg_rd32(n, NVME_REG_AQA);
    uint64_t asq = nvme_reg_rd64(n, NVME_REG_ASQ) & ~0xfffull;
    uint64_t acq = nvme_reg_rd64(n, NVME_REG_ACQ) & ~0xfffull;
    uint32_t sqs = (aqa & 0xfff) + 1, cqs = ((aqa >> 16) & 0xfff) + 1;

    n->st.ctrl_enables++;
    if (sqs < 2 || cqs < 2 || !asq || !acq || NVME_CC_CSS(cc) != 0 ||
        NVME_CC_MPS(cc) > NVME_MPSMAX) {       /* MPSMIN is 4 KiB: nothing lower exists */
        /* An impossible configuration is fatal until the next reset. */
        n->csts = NVME_CSTS_CFS;
        n->st.fatal++;
        return;
    }
    n->page_shift = 12 + NVME_CC_MPS(cc);
    /*
     * The doorbells are shared memory, so a value the host wrote while the
     * controller was disabled is still sitting there.  A real controller
     * holds its doorbells in reset while CC.EN=0 and ignores such writes:
     * the admin queues start empty (head = tail = 0), whatever was written.
     */
    doorbells_reset(n);
    n->sq[0] = (struct nvme_sq){ .valid = true, .base = asq, .size = sqs, .cqid = 0 };
    n->cq[0] = (struct nvme_cq){ .valid = true, .ien = true, .phase = true, .base = acq,
                                 .size = cqs, .iv = 0, .nsqs = 1 };
    n->enabled = true;
    n->csts = NVME_CSTS_RDY;
}

static void handle_cc(struct nvme *n, uint32_t cc)
{
    uint32_t old = n->cc;
    n->cc = cc;
    if ((old & NVME_CC_EN) && !(cc & NVME_CC_EN)) {
        nvme_ctrl_reset_locked(n);
        n->st.ctrl_resets++;
    } else if (!(old & NVME_CC_EN) && (cc & NVME_CC_EN)) {
        ctrl_enable(n, cc);
    }
    if (NVME_CC_SHN(cc) && !NVME_CC_SHN(old) && (cc & NVME_CC_EN)) {
        /* Nothing is cached: shutdown completes at once and stops processing. */
        n->shutdown = true;
        n->csts = (n->csts & ~(3u << 2)) | NVME_CSTS_SHST_CMPLT;
        n->st.shutdowns++;
    }
}

static int dma_rd(void *opaque, uint64_t addr, void *buf, size_t len)
{
    struct nvme *n = opaque;
    return n->host->dma_read(n->host->opaque, addr, buf, len);
}

/*
 * Moves a command's data between buf and host memory along its PRPs, every
 * access through the DART (host->dma_read/dma_write).  A fault on the PRP
 * list or the data is a Data Transfer Error for this command only.
 */
static uint16_t nvme_dma(struct nvme *n, uint64_t prp1, uint64_t prp2, uint8_t *buf,
                         uint32_t len, bool to_host)
{
    struct nvme_prp_seg segs[(NVME_MAX_XFER >> 12) + 2];
    unsigned nsegs;
    uint16_t st = nvme_prp_walk(prp1, prp2, len, n->page_shift, dma_rd, n, segs,
                                sizeof(segs) / sizeof(segs[0]), &nsegs);
    if (st) {
        if ((st & 0x7ff) == NVME_SC_DATA_XFER_ERROR)
            n->st.dma_faults++;
        return st;
    }
    for (unsigned i = 0; i < nsegs; i++) {
        int r = to_host ? n->host->dma_write(n->host->opaque, segs[i].addr, buf, segs[i].len)
                        : n->host->dma_read(n->host->opaque, segs[i].addr, buf, segs[i].len);
        if (r) {
            n->st.dma_faults++;
            return NVME_SC_DATA_XFER_ERROR;
        }
        buf += segs[i].len;
    }
    return 0;
}

uint16_t nvme_dma_to_host(struct nvme *n, uint64_t prp1, uint64_t prp2, const void *buf, uint32_t len)
{
    return nvme_dma(n, prp1, prp2, (uint8_t *)(uintptr_t)buf, len, true);
}

uint16_t nvme_dma_from_host(struct nvme *n, uint64_t prp1, uint64_t prp2, void *buf, uint32_t len)
{
    return nvme_dma(n, prp1, prp2, buf, len, false);
}

void nvme_fatal(struct nvme *n)
{
    /* The controller cannot reach its own queues: stop, as hardware does. */
    n->csts |= NVME_CSTS_CFS;
    n->st.fatal++;
    n->st.dma_faults++;
}

static unsigned db_off(unsigned qid, bool cq)
{
    return NVME_REG_DBS + (2 * qid + (cq ? 1 : 0)) * 4;
}

/* Refreshes cq->head from its doorbell; an out-of-range value is ignored. */
static void read_cq_head(struct nvme *n, unsigned qid)
{
    struct nvme_cq *cq = &n->cq[qid];
    uint32_t v = nvme_reg_rd32(n, db_off(qid, true));
    if (v < cq->size)
        cq->head = v;
    else if (v != cq->head)
        n->st.invalid_doorbells++;
}

bool nvme_cq_full(struct nvme *n, unsigned cqid)
{
    struct nvme_cq *cq = &n->cq[cqid];
    read_cq_head(n, cqid);
    return (cq->tail + 1) % cq->size == cq->head;
}

/* Posts one completion; the phase tag is written last. */
bool nvme_post_cqe(struct nvme *n, unsigned cqid, uint16_t sqid, uint16_t cid,
                   const struct nvme_result *r)
{
    struct nvme_cq *cq = &n->cq[cqid];
    struct nvme_sq *sq = &n->sq[sqid];
    struct nvme_cqe e = {
        .dw0 = r->dw0,
        .sqhd = (uint16_t)sq->head,
        .sqid = sqid,
        .cid = cid,
        .status = (uint16_t)(r->status << 1 | (cq->phase ? 1 : 0)),
    };
    uint64_t addr = cq->base + (uint64_t)cq->tail * sizeof(e);
    if (n->host->dma_write(n->host->opaque, addr, &e, 12))
        return false;
    /* The host may consume the entry as soon as it sees the new phase. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (n->host->dma_write(n->host->opaque, addr + 12, &e.cid, 4))
        return false;
    if (++cq->tail == cq->size) {
        cq->tail = 0;
        cq->phase = !cq->phase;
    }
    cq->irq_pending = true;
    if (r->status)
        n->st.errors++;
    return true;
}

/* Processes up to SQ_BURST new commands of one SQ; returns how many. */
static unsigned process_sq(struct nvme *n, unsigned qid)
{
    struct nvme_sq *sq = &n->sq[qid];
    uint32_t tail = nvme_reg_rd32(n, db_off(qid, false));
    unsigned done = 0;

    if (tail >= sq->size) {
        /* Invalid doorbell write: ignored (an async error event on hardware). */
        n->st.invalid_doorbells++;
        return 0;
    }
    while (sq->head != tail && done < SQ_BURST) {
        if (nvme_cq_full(n, sq->cqid))
            break;                      /* resume when the host frees CQ space */
        if (qid && n->latency_us && nvme_hold_full(n))
            break;                      /* resume when held completions fall due */
        struct nvme_sqe c;
        /* The acquire load of the doorbell orders this read after it. */
        if (n->host->dma_read(n->host->opaque, sq->base + (uint64_t)sq->head * sizeof(c), &c, sizeof(c))) {
            nvme_fatal(n);
            return done;
        }
        sq->head = (sq->head + 1) % sq->size;
        done++;

        struct nvme_result r = qid == 0 ? nvme_admin_exec(n, &c) : nvme_io_exec(n, &c);
        if (r.defer)
            continue;
        if (qid && n->latency_us) {
            nvme_hold(n, (uint16_t)qid, c.cid, &r);
            continue;
        }
        /* The command may have deleted this SQ (Delete I/O SQ on itself is invalid, but be safe). */
        if (!n->sq[qid].valid || !n->cq[n->sq[qid].cqid].valid)
            return done;
        if (!nvme_post_cqe(n, sq->cqid, (uint16_t)qid, c.cid, &r)) {
            nvme_fatal(n);
            return done;
        }
    }
    return done;
}

static void raise_irqs(struct nvme *n)
{
    for (unsigned i = 0; i <= n->max_ioq; i++) {
        struct nvme_cq *cq = &n->cq[i];
        if (cq->valid && cq->irq_pending) {
            cq->irq_pending = false;
            if (cq->ien) {
                n->st.irqs++;
                n->host->irq(n->host->opaque, cq->iv);
            }
        }
    }
}

unsigned nvme_poll_locked(struct nvme *n)
{
    unsigned work = 0;
    n->st.polls++;
    uint32_t cc = nvme_reg_rd32(n, NVME_REG_CC);
    if (cc != n->cc) {
        handle_cc(n, cc);
        work++;
    }
    restore_ro(n);

    /* Bus master off: the function may not issue DMA, so queues wait. */
    if (!n->enabled || n->shutdown || (n->csts & NVME_CSTS_CFS) || !nvme_bus_master(n))
        return work;

    /* Held completions first: they free the driver's tags for new commands. */
    work += nvme_hold_post_due(n);
    for (unsigned q = 0; q <= n->max_ioq && !(n->csts & NVME_CSTS_CFS); q++) {
        if (!n->sq[q].valid)
            continue;
        work += process_sq(n, q);
        if (n->csts & NVME_CSTS_CFS)
            break;
    }
    raise_irqs(n);
    restore_ro(n);                      /* CSTS may have changed */
    return work;
}

static unsigned poll_pass(void *opaque)
{
    return nvme_poll_locked(opaque);
}

int nvme_thread_start(struct nvme *n)
{
    return sim_poller_start(&n->poller, &n->lock, poll_pass, n, &n->st.busy_polls,
                            &n->st.idle_sleeps);
}

void nvme_thread_stop(struct nvme *n)
{
    sim_poller_stop(&n->poller);
}

/* Page 1 of BAR0: the MSI-X table (16 bytes per vector) and the PBA. */
uint64_t nvme_mmio_read(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width)
{
    struct nvme *n = (struct nvme *)dev;
    uint64_t v = 0;
    if (bar != 0 || off < NVME_MSIX_TABLE_OFF || off + width > NVME_BAR0_SIZE)
        return ~0ull;
    pthread_mutex_lock(&n->lock);
    if (off + width <= NVME_MSIX_TABLE_OFF + n->vectors * 16u)
        memcpy(&v, n->msix_table + (off - NVME_MSIX_TABLE_OFF), width);
    /* PBA reads 0: pending state lives in the host platform's IRQ page. */
    pthread_mutex_unlock(&n->lock);
    return v;
}

void nvme_mmio_write(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
    struct nvme *n = (struct nvme *)dev;
    if (bar != 0 || off < NVME_MSIX_TABLE_OFF || off + width > NVME_MSIX_TABLE_OFF + n->vectors * 16u)
        return;                         /* PBA and unused space are read-only */
    pthread_mutex_lock(&n->lock);
    memcpy(n->msix_table + (off - NVME_MSIX_TABLE_OFF), &val, width);
    pthread_mutex_unlock(&n->lock);
}
