/*
 * vfio-apple CLI selftest: an NVMe controller interrupts on purpose.
 *
 * With BAR0's register page mapped: reset the controller, give it one
 * admin queue pair in DMA memory, submit Identify Controller, and wait for
 * the completion's MSI-X vector 0 through the IRQ page.  The device reads
 * the command and writes the completion and the 4 KiB identify page
 * through the DART, so this also proves DMA in both directions.  The
 * controller is disabled again afterwards.  Identify changes nothing on the
 * device.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "../client/vfio-apple-client.h"
#include "latency.h"
#include "selftest.h"

#define REG_CAP     0x00
#define REG_CC      0x14
#define REG_CSTS    0x1c
#define REG_AQA     0x24
#define REG_ASQ     0x28
#define REG_ACQ     0x30
#define REG_DBS     0x1000

#define QDEPTH      8u
#define MEM_SQ      0x0000u
#define MEM_CQ      0x1000u
#define MEM_ID      0x2000u
#define MEM_LEN     VFA_PAGE_SIZE

struct nvme_regs {
    volatile uint8_t *bar;
};

static uint32_t rd(struct nvme_regs *n, unsigned off)
{
    return __atomic_load_n((volatile uint32_t *)(n->bar + off), __ATOMIC_ACQUIRE);
}

static void wr(struct nvme_regs *n, unsigned off, uint32_t v)
{
    __atomic_store_n((volatile uint32_t *)(n->bar + off), v, __ATOMIC_RELEASE);
}

/* Waits until CSTS.RDY == want, up to ms milliseconds. */
static bool wait_ready(struct nvme_regs *n, uint32_t want, unsigned ms)
{
    uint64_t end = cli_now_ns() + (uint64_t)ms * 1000000;

    while ((rd(n, REG_CSTS) & 1) != want) {
        if (cli_now_ns() > end)
            return false;
        poll(NULL, 0, 1);
    }
    return true;
}

void cli_selftest_loopback_nvme(struct vfa_client *c, struct cli_selftest *r,
                                struct cli_step *s, volatile uint8_t *bar0,
                                struct vfa_irq_page *irq, int notify_fd)
{
    struct nvme_regs n = { .bar = bar0 };
    struct vfa_dma_map_out map;
    struct cli_dma_buf b;
    uint64_t cap, t0, taken = 0;
    unsigned timeout_ms, dstrd;
    uint8_t *mem, *sqe, model[41];
    volatile uint8_t *cqe;
    uint16_t status, vid;
    char err[256];
    bool mapped = false;

    if (cli_dma_buf_get(c, MEM_LEN, &b, err, sizeof(err))) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA memory: %s", err);
        return;
    }
    mem = b.va;
    if (vfa_dma_map(c, b.dma_va, MEM_LEN, VFA_DMA_BIDIRECTIONAL, &map)) {
        cli_step_set(s, CLI_STEP_FAIL, "DMA map: %s", vfa_client_errmsg(c));
        goto out;
    }
    mapped = true;
    cap = rd(&n, REG_CAP) | (uint64_t)rd(&n, REG_CAP + 4) << 32;
    dstrd = (unsigned)(cap >> 32) & 0xf;
    timeout_ms = (unsigned)((cap >> 24) & 0xff) * 500 + 500;
    wr(&n, REG_CC, 0);
    if (!wait_ready(&n, 0, timeout_ms)) {
        cli_step_set(s, CLI_STEP_FAIL, "NVMe controller did not stop (CSTS %#x)",
                     rd(&n, REG_CSTS));
        goto out;
    }
    wr(&n, REG_AQA, (QDEPTH - 1) << 16 | (QDEPTH - 1));
    wr(&n, REG_ASQ, (uint32_t)cli_map_iova(&map, MEM_SQ));
    wr(&n, REG_ASQ + 4, (uint32_t)(cli_map_iova(&map, MEM_SQ) >> 32));
    wr(&n, REG_ACQ, (uint32_t)cli_map_iova(&map, MEM_CQ));
    wr(&n, REG_ACQ + 4, (uint32_t)(cli_map_iova(&map, MEM_CQ) >> 32));
    wr(&n, REG_CC, 1u | 6u << 16 | 4u << 20);   /* EN, 64-byte SQEs, 16-byte CQEs */
    if (!wait_ready(&n, 1, timeout_ms)) {
        cli_step_set(s, CLI_STEP_FAIL, "NVMe controller did not become ready (CSTS %#x)",
                     rd(&n, REG_CSTS));
        goto out;
    }
    /* Identify Controller: opcode 6, command id 1, PRP1 the page, CNS 1. */
    sqe = mem + MEM_SQ;
    memset(sqe, 0, 64);
    sqe[0] = 0x06;
    sqe[2] = 1;
    {
        uint64_t prp = cli_map_iova(&map, MEM_ID);

        memcpy(sqe + 24, &prp, 8);
    }
    sqe[40] = 1;
    vfa_notify_ack(c);
    vfa_irq_take(irq, 0);
    t0 = cli_now_ns();
    wr(&n, REG_DBS, 1);         /* SQ 0 tail */
    for (uint64_t end = t0 + 5000000000ull; !(taken & 1) && cli_now_ns() < end;) {
        struct pollfd pfd = { .fd = notify_fd, .events = POLLIN };

        if (poll(&pfd, 1, 100) > 0) {
            vfa_notify_ack(c);
            taken |= vfa_irq_take(irq, 0);
        }
    }
    r->loopback_ns = cli_now_ns() - t0;
    cqe = mem + MEM_CQ;
    status = (uint16_t)(cqe[14] | cqe[15] << 8);
    if (!(taken & 1)) {
        cli_step_set(s, CLI_STEP_FAIL, "no interrupt on vector 0 within 5 s of the doorbell "
                     "(completion status %#x)", status);
        goto disable;
    }
    if (!(status & 1) || status >> 1 || cqe[12] != 1) {
        cli_step_set(s, CLI_STEP_FAIL, "completion: phase/status %#x, command id %u", status,
                     cqe[12]);
        goto disable;
    }
    wr(&n, REG_DBS + (4u << dstrd), 1);     /* CQ 0 head */
    vid = (uint16_t)(mem[MEM_ID] | mem[MEM_ID + 1] << 8);
    memcpy(model, mem + MEM_ID + 24, 40);
    model[40] = 0;
    for (int i = 39; i >= 0 && model[i] == ' '; i--)
        model[i] = 0;
    if (vid != r->id.vendor_id) {
        cli_step_set(s, CLI_STEP_FAIL, "Identify says vendor %04x, the PCI identity %04x", vid,
                     r->id.vendor_id);
        goto disable;
    }
    r->loopback = true;
    snprintf(r->loopback_what, sizeof(r->loopback_what), "NVMe Identify Controller \"%s\"",
             (char *)model);
    cli_step_set(s, CLI_STEP_PASS, "%s: completion and MSI-X vector 0 %.0f us after the "
                 "doorbell; DMA both ways through the DART", r->loopback_what,
                 r->loopback_ns / 1e3);
disable:
    wr(&n, REG_CC, 0);
    wait_ready(&n, 0, timeout_ms);
out:
    if (mapped)
        vfa_dma_unmap(c, map.handle);
    cli_dma_buf_put(c, &b);
}
