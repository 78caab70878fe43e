/*
 * libFuzzer target for the NVMe model's command and PRP parsing.
 *
 * The model sees a fake host: 64 KiB of "guest memory" at IOVA 0x10000
 * whose data area comes from the input; any DMA outside it faults, as a
 * DART fault would.  The controller is driven synchronously (no device
 * thread): the harness writes BAR registers and doorbells, then runs poll
 * passes itself.
 *
 * Input layout:
 *   byte 0         mode: bit 7 set -> PRP walker only (see fuzz_prp)
 *                        bits 0-1  -> CC.MPS (page size 4/8/16/32 KiB)
 *                        bit 2     -> create I/O queue pair 1 first
 *                        bit 3     -> the host never frees CQ entries (CQ full)
 *                        bit 4     -> ring an out-of-range doorbell first
 *                        bit 5     -> bus mastering off for the first pass
 *                        bit 6     -> I/O CQ of 2 entries (phase wraps often)
 *   byte 1         number of command records (at most 16)
 *   then the records, 65 bytes each: queue selector (bit 0: I/O queue 1),
 *                  then a 64-byte submission queue entry
 *   the rest       copied to the data area (PRP lists, write data)
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/nvme.h"

#define MEM_BASE    0x10000ull
#define MEM_SIZE    0x10000u
#define ASQ         0x0000u
#define ACQ         0x1000u
#define IOSQ        0x2000u
#define IOCQ        0x3000u
#define DATA        0x4000u
#define QSIZE       32u
#define MAX_CMDS    16u

#include "fuzz-mem.h"

static unsigned irqs;

static void f_irq(void *o, unsigned v)
{
    if (v >= 8)
        abort();                        /* the model must only raise vectors it has */
    irqs++;
}

static int hold_cq;

static const struct sim_device_host host = { NULL, f_read, f_write, f_irq };
static struct nvme *n;

static void wr(unsigned off, uint32_t v) { nvme_reg_wr32(n, off, v); }

/* Runs passes until the controller is idle, consuming every completion. */
static void run(void)
{
    for (int pass = 0; pass < 8; pass++) {
        pthread_mutex_lock(&n->lock);
        unsigned work = nvme_poll_locked(n);
        for (unsigned q = 0; q <= 1; q++)
            if (n->cq[q].valid && !hold_cq)
                wr(NVME_REG_DBS + (2 * q + 1) * 4, n->cq[q].tail);
        pthread_mutex_unlock(&n->lock);
        if (!work)
            break;
    }
}

static void fuzz_prp(const uint8_t *d, size_t size)
{
    if (size < 1 + 8 + 8 + 4)
        return;
    uint64_t prp1, prp2;
    uint32_t len;
    memcpy(&prp1, d + 1, 8);
    memcpy(&prp2, d + 9, 8);
    memcpy(&len, d + 17, 4);
    len %= NVME_MAX_XFER + 1;
    unsigned shift = 12 + (d[0] & 3);
    memset(mem, 0, sizeof(mem));
    memcpy(mem, d + 21, size - 21 < MEM_SIZE ? size - 21 : MEM_SIZE);

    struct nvme_prp_seg segs[(NVME_MAX_XFER >> 12) + 2];
    unsigned nsegs = 0;
    uint16_t st = nvme_prp_walk(prp1, prp2, len, shift, f_read, NULL, segs,
                                sizeof(segs) / sizeof(segs[0]), &nsegs);
    if (st)
        return;
    /* Success means an exact description of len bytes. */
    uint64_t sum = 0;
    for (unsigned i = 0; i < nsegs; i++) {
        if (!segs[i].len)
            abort();
        sum += segs[i].len;
    }
    if (sum != len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    if (!size)
        return 0;
    if (d[0] & 0x80) {
        fuzz_prp(d, size);
        return 0;
    }
    if (!n) {
        char err[256];
        n = (struct nvme *)sim_nvme_create("size=1M,queues=2,vectors=8", &host, err, sizeof(err));
        if (!n)
            abort();
    }
    n->dev.ops->reset(&n->dev);
    memset(mem, 0, sizeof(mem));
    hold_cq = d[0] & 8;
    if (size < 2)
        return 0;
    size_t ncmds = d[1] % (MAX_CMDS + 1);
    if (ncmds > (size - 2) / 65)
        ncmds = (size - 2) / 65;
    size_t data_at = 2 + ncmds * 65;
    if (size > data_at)
        memcpy(mem + DATA, d + data_at, size - data_at < MEM_SIZE - DATA ? size - data_at : MEM_SIZE - DATA);

    /* Enable with admin queues in fake memory; MPS from the input. */
    n->dev.ops->config_write(&n->dev, 4, 2, 0x0006);
    wr(NVME_REG_AQA, (QSIZE - 1) << 16 | (QSIZE - 1));
    wr(NVME_REG_ASQ, (uint32_t)(MEM_BASE + ASQ));
    wr(NVME_REG_ACQ, (uint32_t)(MEM_BASE + ACQ));
    wr(NVME_REG_CC, NVME_CC_EN | (d[0] & 3u) << 7 | 6u << 16 | 4u << 20);
    run();

    unsigned atail = 0, iotail = 0;
    if (d[0] & 4) {
        unsigned cqsize = d[0] & 0x40 ? 2 : QSIZE;
        struct nvme_sqe cq = { .opcode = 0x05, .cid = 0xf000, .prp1 = MEM_BASE + IOCQ,
                               .cdw10 = (cqsize - 1) << 16 | 1, .cdw11 = 1u << 16 | 3 };
        struct nvme_sqe sq = { .opcode = 0x01, .cid = 0xf001, .prp1 = MEM_BASE + IOSQ,
                               .cdw10 = (QSIZE - 1) << 16 | 1, .cdw11 = 1u << 16 | 1 };
        memcpy(mem + ASQ + atail++ * 64, &cq, 64);
        memcpy(mem + ASQ + atail++ * 64, &sq, 64);
        wr(NVME_REG_DBS, atail);
        hold_cq = 0;                    /* setup completions are always consumed */
        run();
        hold_cq = d[0] & 8;
    }
    if (d[0] & 0x10) {
        wr(NVME_REG_DBS + 8, 0xffff);
        wr(NVME_REG_DBS + 4, 0x7777);
        run();
    }
    if (d[0] & 0x20)
        n->dev.ops->config_write(&n->dev, 4, 2, 0x0002);

    for (size_t i = 0; i < ncmds; i++) {
        const uint8_t *rec = d + 2 + i * 65;
        if (rec[0] & 1) {
            memcpy(mem + IOSQ + iotail * 64, rec + 1, 64);
            iotail = (iotail + 1) % QSIZE;
        } else {
            memcpy(mem + ASQ + atail * 64, rec + 1, 64);
            atail = (atail + 1) % QSIZE;
        }
    }
    wr(NVME_REG_DBS, atail);
    wr(NVME_REG_DBS + 8, iotail);
    run();
    if (d[0] & 0x20) {
        n->dev.ops->config_write(&n->dev, 4, 2, 0x0006);
        run();
    }

    /* Orderly shutdown and disable, as the driver would do at unbind. */
    wr(NVME_REG_CC, nvme_reg_rd32(n, NVME_REG_CC) | 1u << 14);
    run();
    wr(NVME_REG_CC, 0);
    run();
    return 0;
}
