/*
 * Admin command set: what Linux's nvme driver (6.1) sends while probing,
 * resetting and shutting down a controller, plus sensible answers to the
 * rest.  Every field a command carries is checked before it is used.
 */
#include "nvme.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
    ADM_DELETE_SQ = 0x00, ADM_CREATE_SQ = 0x01, ADM_GET_LOG = 0x02,
    ADM_DELETE_CQ = 0x04, ADM_CREATE_CQ = 0x05, ADM_IDENTIFY = 0x06,
    ADM_ABORT = 0x08, ADM_SET_FEAT = 0x09, ADM_GET_FEAT = 0x0a,
    ADM_AER = 0x0c, ADM_KEEP_ALIVE = 0x18,
};

enum {
    FEAT_ARB = 0x01, FEAT_PM = 0x02, FEAT_TEMP = 0x04, FEAT_ERR = 0x05,
    FEAT_VWC = 0x06, FEAT_NQ = 0x07, FEAT_IRQ_COALESCE = 0x08,
    FEAT_IRQ_CONFIG = 0x09, FEAT_WR_ATOMIC = 0x0a, FEAT_AEC = 0x0b,
    FEAT_TIMESTAMP = 0x0e,
};

#define WCTEMP  0x157           /* 70 C, in kelvin */
#define CCTEMP  0x175           /* 100 C */
#define CUR_TEMP 313            /* 40 C */

static struct nvme_result ok(uint32_t dw0) { return (struct nvme_result){ .dw0 = dw0 }; }
static struct nvme_result fail(uint16_t st) { return (struct nvme_result){ .status = st | NVME_DNR }; }
static struct nvme_result xfer(uint16_t st) { return (struct nvme_result){ .status = st }; }

static void put16(uint8_t *b, unsigned off, uint16_t v) { memcpy(b + off, &v, 2); }
static void put32(uint8_t *b, unsigned off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(uint8_t *b, unsigned off, uint64_t v) { memcpy(b + off, &v, 8); }

/* ASCII field padded with spaces, as Identify requires. */
static void put_str(uint8_t *b, unsigned off, unsigned len, const char *s)
{
    memset(b + off, ' ', len);
    memcpy(b + off, s, strnlen(s, len));
}

void nvme_features_reset(struct nvme *n)
{
    n->feat_arb = 0;
    n->feat_pm = 0;
    n->feat_temp = WCTEMP;
    n->feat_err = 0;
    n->feat_vwc = 1;
    n->feat_nq = (n->max_ioq - 1) | (n->max_ioq - 1) << 16;
    n->feat_irq_coalesce = 0;
    n->feat_wr_atomic = 0;
    n->feat_aec = 0;
    n->ts_base = 0;
    n->ts_set_at_ms = 0;
}

static void nguid(const struct nvme *n, uint8_t out[16])
{
    /* Stable for the life of this controller, unique per serial. */
    memset(out, 0, 16);
    memcpy(out, "vfas", 4);
    memcpy(out + 4, n->serial, strnlen(n->serial, 12));
}

static void identify_ctrl(struct nvme *n, uint8_t *d)
{
    put16(d, 0, NVME_SIM_VENDOR);
    put16(d, 2, NVME_SIM_VENDOR);
    put_str(d, 4, 20, n->serial);
    put_str(d, 24, 40, "vfio-apple-sim NVMe");
    put_str(d, 64, 8, "1.0");
    d[72] = 6;                              /* RAB */
    d[77] = NVME_MDTS;
    put16(d, 78, 1);                        /* CNTLID */
    put32(d, 80, 0x00010400);               /* VER 1.4 */
    d[111] = 1;                             /* CNTRLTYPE: I/O controller */
    put16(d, 256, 0);                       /* OACS: no optional admin commands */
    d[258] = 3;                             /* ACL */
    d[259] = NVME_AERL;
    d[260] = 0x03;                          /* FRMW: 1 slot, slot 1 read-only */
    d[261] = 0x00;                          /* LPA: no command effects log */
    d[262] = 0;                             /* ELPE: 1 error log entry */
    d[263] = 0;                             /* NPSS: one power state */
    put16(d, 266, WCTEMP);
    put16(d, 268, CCTEMP);
    d[512] = 0x66;                          /* SQES: 64 bytes */
    d[513] = 0x44;                          /* CQES: 16 bytes */
    put32(d, 516, 1);                       /* NN */
    put16(d, 520, 0);                       /* ONCS: only Read/Write/Flush */
    d[525] = 0x01;                          /* VWC present */
    put32(d, 536, 0);                       /* SGLS: PRPs only */
    snprintf((char *)d + 768, 256, "nqn.2024-01.io.github.vfio-apple:sim-nvme-%s", n->serial);
    put16(d, 2048, 2500);                   /* PSD0: 25 W */
}

static void identify_ns(struct nvme *n, uint8_t *d)
{
    put64(d, 0, n->ns.nlbas);               /* NSZE */
    put64(d, 8, n->ns.nlbas);               /* NCAP */
    put64(d, 16, n->ns.nlbas);              /* NUSE */
    d[25] = 0;                              /* NLBAF: one format */
    d[26] = 0;                              /* FLBAS: format 0, no metadata */
    nguid(n, d + 104);
    put32(d, 128, NVME_LBA_SHIFT << 16);    /* LBAF0: 512-byte blocks */
}

static struct nvme_result cmd_identify(struct nvme *n, const struct nvme_sqe *c)
{
    uint8_t *d = n->bounce;
    unsigned cns = c->cdw10 & 0xff, csi = c->cdw11 >> 24;
    memset(d, 0, 4096);
    switch (cns) {
    case 0x00:                              /* namespace */
        if (c->nsid != NVME_NSID)
            return fail(NVME_SC_INVALID_NS);
        identify_ns(n, d);
        break;
    case 0x01:                              /* controller */
        identify_ctrl(n, d);
        break;
    case 0x02:                              /* active namespaces after nsid */
        if (c->nsid >= 0xfffffffeu)
            return fail(NVME_SC_INVALID_NS);
        if (c->nsid < NVME_NSID)
            put32(d, 0, NVME_NSID);
        break;
    case 0x03: {                            /* namespace identification descriptors */
        if (c->nsid != NVME_NSID)
            return fail(NVME_SC_INVALID_NS);
        d[0] = 2;                           /* NIDT: NGUID */
        d[1] = 16;
        nguid(n, d + 4);
        break;
    }
    case 0x05:                              /* I/O command set specific namespace */
    case 0x06:                              /* I/O command set specific controller */
        /* NVM command set (CSI 0): all limits zero, i.e. none beyond MDTS. */
        if (csi != 0)
            return fail(NVME_SC_INVALID_FIELD);
        if (cns == 0x05 && c->nsid != NVME_NSID)
            return fail(NVME_SC_INVALID_NS);
        break;
    default:
        return fail(NVME_SC_INVALID_FIELD);
    }
    uint16_t st = nvme_dma_to_host(n, c->prp1, c->prp2, d, 4096);
    return st ? xfer(st) : ok(0);
}

static void put128(uint8_t *b, unsigned off, uint64_t v)
{
    put64(b, off, v);
    put64(b, off + 8, 0);
}

static struct nvme_result cmd_get_log(struct nvme *n, const struct nvme_sqe *c)
{
    unsigned lid = c->cdw10 & 0xff;
    uint64_t numd = ((uint64_t)(c->cdw11 & 0xffff) << 16 | c->cdw10 >> 16) + 1;
    uint64_t off = (uint64_t)c->cdw13 << 32 | c->cdw12;
    uint64_t len = numd * 4;
    uint8_t log[512];
    size_t log_len;

    memset(log, 0, sizeof(log));
    switch (lid) {
    case 0x01:                              /* error information: no errors */
        log_len = 64;
        break;
    case 0x02:                              /* SMART / health */
        log_len = 512;
        put16(log, 1, CUR_TEMP);
        log[3] = 100;                       /* available spare */
        log[4] = 10;                        /* spare threshold */
        /* Data units are thousands of 512-byte units, rounded up. */
        put128(log, 32, (n->st.bytes_read / 512 + 999) / 1000);
        put128(log, 48, (n->st.bytes_written / 512 + 999) / 1000);
        put128(log, 64, n->st.io_read);
        put128(log, 80, n->st.io_write);
        put128(log, 112, 1);                /* power cycles */
        break;
    case 0x03:                              /* firmware slot information */
        log_len = 512;
        log[0] = 0x01;                      /* slot 1 active */
        memcpy(log + 8, "1.0     ", 8);
        break;
    default:
        return fail(NVME_SC_INVALID_LOG_PAGE);
    }
    if ((off & 3) || off > log_len)
        return fail(NVME_SC_INVALID_FIELD);
    if (len > NVME_MAX_XFER)
        return fail(NVME_SC_INVALID_FIELD);
    memset(n->bounce, 0, len);
    memcpy(n->bounce, log + off, len < log_len - off ? len : log_len - off);
    uint16_t st = nvme_dma_to_host(n, c->prp1, c->prp2, n->bounce, (uint32_t)len);
    return st ? xfer(st) : ok(0);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct nvme_result cmd_features(struct nvme *n, const struct nvme_sqe *c, bool set)
{
    unsigned fid = c->cdw10 & 0xff, sel = (c->cdw10 >> 8) & 7;
    uint32_t v = c->cdw11;
    bool known = true;

    if (set && (c->cdw10 >> 31))
        return fail(NVME_SC_FEATURE_NOT_SAVEABLE);
    if (!set && sel > 3)
        return fail(NVME_SC_INVALID_FIELD);

    switch (fid) {
    case FEAT_ARB: case FEAT_PM: case FEAT_TEMP: case FEAT_ERR: case FEAT_VWC:
    case FEAT_NQ: case FEAT_IRQ_COALESCE: case FEAT_IRQ_CONFIG: case FEAT_WR_ATOMIC:
    case FEAT_AEC: case FEAT_TIMESTAMP:
        break;
    default:
        known = false;
    }
    if (!known)
        return fail(NVME_SC_INVALID_FIELD);
    if (!set && sel == 3)                   /* supported capabilities: changeable */
        return ok(0x4);

    bool dflt = !set && (sel == 1 || sel == 2);   /* nothing is saved: saved == default */
    switch (fid) {
    case FEAT_ARB:
        if (set) n->feat_arb = v;
        return ok(dflt ? 0 : n->feat_arb);
    case FEAT_PM:
        if (set && (v & 0x1f) != 0)
            return fail(NVME_SC_INVALID_FIELD);     /* only power state 0 */
        if (set) n->feat_pm = v & 0xff;
        return ok(dflt ? 0 : n->feat_pm);
    case FEAT_TEMP: {
        unsigned tmpsel = (v >> 16) & 0xf, thsel = (v >> 20) & 3;
        /* Only the composite sensor's over-temperature threshold exists. */
        if (tmpsel != 0 || thsel != 0)
            return set ? fail(NVME_SC_INVALID_FIELD) : ok(0);
        if (set) n->feat_temp = v & 0xffff;
        return ok(dflt ? WCTEMP : n->feat_temp);
    }
    case FEAT_ERR:
        if (set) n->feat_err = v & 0x1ffff;
        return ok(dflt ? 0 : n->feat_err);
    case FEAT_VWC:
        if (set) n->feat_vwc = v & 1;
        return ok(dflt ? 1 : n->feat_vwc);
    case FEAT_NQ: {
        if (!set)
            return ok(dflt ? ((n->max_ioq - 1) | (n->max_ioq - 1) << 16) : n->feat_nq);
        uint32_t nsqr = v & 0xffff, ncqr = v >> 16;
        if (nsqr == 0xffff || ncqr == 0xffff)
            return fail(NVME_SC_INVALID_FIELD);
        for (unsigned q = 1; q <= n->max_ioq; q++)
            if (n->sq[q].valid || n->cq[q].valid)
                return fail(NVME_SC_CMD_SEQ_ERROR);
        if (nsqr > n->max_ioq - 1) nsqr = n->max_ioq - 1;
        if (ncqr > n->max_ioq - 1) ncqr = n->max_ioq - 1;
        n->feat_nq = nsqr | ncqr << 16;
        return ok(n->feat_nq);
    }
    case FEAT_IRQ_COALESCE:
        if (set) n->feat_irq_coalesce = v & 0xffff;
        return ok(dflt ? 0 : n->feat_irq_coalesce);
    case FEAT_IRQ_CONFIG:
        if ((v & 0xffff) >= n->vectors)
            return fail(NVME_SC_INVALID_FIELD);
        return ok(v & 0xffff);              /* coalescing never disabled per vector */
    case FEAT_WR_ATOMIC:
        if (set) n->feat_wr_atomic = v & 1;
        return ok(dflt ? 0 : n->feat_wr_atomic);
    case FEAT_AEC:
        if (set) n->feat_aec = v & 0x3ff;
        return ok(dflt ? 0 : n->feat_aec);
    case FEAT_TIMESTAMP: {
        uint8_t ts[8] = { 0 };
        uint16_t st;
        if (set) {
            if ((st = nvme_dma_from_host(n, c->prp1, c->prp2, ts, 8)))
                return xfer(st);
            memcpy(&n->ts_base, ts, 6);
            n->ts_set_at_ms = now_ms();
            return ok(0);
        }
        uint64_t t = n->ts_set_at_ms ? n->ts_base + (now_ms() - n->ts_set_at_ms) : 0;
        memcpy(ts, &t, 6);
        ts[6] = n->ts_set_at_ms ? 0x02 : 0x00;     /* origin: set by the host */
        if ((st = nvme_dma_to_host(n, c->prp1, c->prp2, ts, 8)))
            return xfer(st);
        return ok(0);
    }
    }
    return fail(NVME_SC_INVALID_FIELD);
}

static unsigned nq_alloc(const struct nvme *n, bool cq)
{
    return (cq ? n->feat_nq >> 16 : n->feat_nq & 0xffff) + 1;
}

static struct nvme_result cmd_create_cq(struct nvme *n, const struct nvme_sqe *c)
{
    unsigned qid = c->cdw10 & 0xffff, size = (c->cdw10 >> 16) + 1;
    unsigned iv = c->cdw11 >> 16;
    bool pc = c->cdw11 & 1, ien = c->cdw11 & 2;

    if (qid == 0 || qid > n->max_ioq || qid > nq_alloc(n, true) || n->cq[qid].valid)
        return fail(NVME_SC_QID_INVALID);
    if (size < 2 || size > NVME_MQES + 1)
        return fail(NVME_SC_QUEUE_SIZE);
    if (!pc || (c->prp1 & ((1ull << n->page_shift) - 1)) || !c->prp1 || NVME_CC_IOCQES(n->cc) != 4)
        return fail(NVME_SC_INVALID_FIELD);
    if (ien && iv >= n->vectors)
        return fail(NVME_SC_INVALID_VECTOR);
    n->cq[qid] = (struct nvme_cq){ .valid = true, .ien = ien, .phase = true,
                                   .base = c->prp1, .size = size, .iv = (uint16_t)iv };
    /* A new queue's doorbell reads as 0 on hardware; clear the shared copy. */
    nvme_reg_wr32(n, NVME_REG_DBS + (2 * qid + 1) * 4, 0);
    return ok(0);
}

static struct nvme_result cmd_create_sq(struct nvme *n, const struct nvme_sqe *c)
{
    unsigned qid = c->cdw10 & 0xffff, size = (c->cdw10 >> 16) + 1;
    unsigned cqid = c->cdw11 >> 16;
    bool pc = c->cdw11 & 1;

    if (qid == 0 || qid > n->max_ioq || qid > nq_alloc(n, false) || n->sq[qid].valid)
        return fail(NVME_SC_QID_INVALID);
    if (cqid == 0 || cqid > n->max_ioq || !n->cq[cqid].valid)
        return fail(NVME_SC_CQ_INVALID);
    if (size < 2 || size > NVME_MQES + 1)
        return fail(NVME_SC_QUEUE_SIZE);
    if (!pc || (c->prp1 & ((1ull << n->page_shift) - 1)) || !c->prp1 || NVME_CC_IOSQES(n->cc) != 6)
        return fail(NVME_SC_INVALID_FIELD);
    n->sq[qid] = (struct nvme_sq){ .valid = true, .base = c->prp1, .size = size, .cqid = (uint16_t)cqid };
    n->cq[cqid].nsqs++;
    nvme_reg_wr32(n, NVME_REG_DBS + 2 * qid * 4, 0);
    return ok(0);
}

static struct nvme_result cmd_delete_sq(struct nvme *n, const struct nvme_sqe *c)
{
    unsigned qid = c->cdw10 & 0xffff;
    if (qid == 0 || qid > n->max_ioq || !n->sq[qid].valid)
        return fail(NVME_SC_QID_INVALID);
    /* Commands run as they are fetched; held completions are posted now: none is left to abort. */
    nvme_hold_drain_sq(n, qid);
    n->cq[n->sq[qid].cqid].nsqs--;
    memset(&n->sq[qid], 0, sizeof(n->sq[qid]));
    nvme_reg_wr32(n, NVME_REG_DBS + 2 * qid * 4, 0);
    return ok(0);
}

static struct nvme_result cmd_delete_cq(struct nvme *n, const struct nvme_sqe *c)
{
    unsigned qid = c->cdw10 & 0xffff;
    if (qid == 0 || qid > n->max_ioq || !n->cq[qid].valid)
        return fail(NVME_SC_QID_INVALID);
    if (n->cq[qid].nsqs)
        return fail(NVME_SC_INVALID_QUEUE_DELETION);
    memset(&n->cq[qid], 0, sizeof(n->cq[qid]));
    nvme_reg_wr32(n, NVME_REG_DBS + (2 * qid + 1) * 4, 0);
    return ok(0);
}

struct nvme_result nvme_admin_exec(struct nvme *n, const struct nvme_sqe *c)
{
    n->st.admin_cmds++;
    switch (c->opcode) {
    case ADM_IDENTIFY:  return cmd_identify(n, c);
    case ADM_GET_LOG:   return cmd_get_log(n, c);
    case ADM_SET_FEAT:  return cmd_features(n, c, true);
    case ADM_GET_FEAT:  return cmd_features(n, c, false);
    case ADM_CREATE_CQ: return cmd_create_cq(n, c);
    case ADM_CREATE_SQ: return cmd_create_sq(n, c);
    case ADM_DELETE_SQ: return cmd_delete_sq(n, c);
    case ADM_DELETE_CQ: return cmd_delete_cq(n, c);
    case ADM_ABORT:
        /* Nothing is ever queued inside the controller: "not aborted". */
        return ok(1);
    case ADM_AER:
        if (n->n_aer > NVME_AERL)
            return fail(NVME_SC_AER_LIMIT);
        /* Held until an event occurs; this model raises none. */
        n->aer_cid[n->n_aer++] = c->cid;
        return (struct nvme_result){ .defer = true };
    case ADM_KEEP_ALIVE:
        return ok(0);
    default:
        return fail(NVME_SC_INVALID_OPCODE);
    }
}
