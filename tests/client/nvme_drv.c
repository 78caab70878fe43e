/* Minimal NVMe host driver over the dext client (see nvme_drv.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "nvme_drv.h"

#define PG4K 4096u

/* Layout of the DMA memory. */
#define OFF_ASQ     0x00000u
#define OFF_ACQ     0x01000u
#define OFF_IOQ     0x02000u        /* SQ, CQ per I/O queue: 2 pages each */
#define OFF_IDENT   0x10000u
#define OFF_PRPL    0x20000u        /* PRP lists, one page per queue */

struct sqe {
    uint8_t opcode, flags;
    uint16_t cid;
    uint32_t nsid, cdw2, cdw3;
    uint64_t mptr, prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct cqe {
    uint32_t dw0, dw1;
    uint16_t sqhd, sqid, cid, status;
};

_Static_assert(sizeof(struct sqe) == 64, "sqe");
_Static_assert(sizeof(struct cqe) == 16, "cqe");

static int err(struct drv *d, int e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->err, sizeof(d->err), fmt, ap);
    va_end(ap);
    return e ? e : -EIO;
}

/* A failed command: NVMe status (> 0) or a driver error already in d->err. */
static int cmd_fail(struct drv *d, const char *what, int st)
{
    char prev[sizeof(d->err)];

    if (st < 0) {
        memcpy(prev, d->err, sizeof(prev));
        return err(d, st, "%s: %s", what, prev);
    }
    return err(d, -EIO, "%s: NVMe status %#x", what, st);
}

static uint32_t rd32(struct drv *d, unsigned off)
{
    return __atomic_load_n((volatile uint32_t *)(d->bar0 + off), __ATOMIC_ACQUIRE);
}

static void wr32(struct drv *d, unsigned off, uint32_t v)
{
    __atomic_store_n((volatile uint32_t *)(d->bar0 + off), v, __ATOMIC_RELEASE);
}

static void wr64(struct drv *d, unsigned off, uint64_t v)
{
    wr32(d, off, (uint32_t)v);
    wr32(d, off + 4, (uint32_t)(v >> 32));
}

uint64_t drv_iova(const struct drv *d, uint64_t off)
{
    for (unsigned i = 0; i < d->map.nsegs; i++) {
        if (off < d->map.segs[i].len)
            return d->map.segs[i].iova + off;
        off -= d->map.segs[i].len;
    }
    return 0;
}

int drv_sealed_memfd(const char *name, uint64_t len)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), e;

    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)len) || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) {
        e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int drv_attach(struct drv *d, const char *socket)
{
    char e[256];
    int r;
    uint32_t flags;
    void *p;
    uint64_t size;

    memset(d, 0, sizeof(*d));
    d->memfd = -1;
    d->notify_fd = -1;
    r = vfa_client_connect(socket, &d->c, e, sizeof(e));
    if (r)
        return err(d, r, "connect: %s", e);
    r = vfa_session_open(d->c);
    if (r)
        return err(d, r, "%s", vfa_client_errmsg(d->c));
    r = vfa_map_memory(d->c, VFA_MEM_BAR(0), &p, &size, &flags);
    if (r)
        return err(d, r, "%s", vfa_client_errmsg(d->c));
    d->bar0 = p;
    d->bar0_size = size;
    r = vfa_map_memory(d->c, VFA_MEM_IRQ_PAGE, &p, &size, NULL);
    if (r)
        return err(d, r, "%s", vfa_client_errmsg(d->c));
    d->irq = p;
    if (d->irq->magic != VFA_IRQ_PAGE_MAGIC)
        return err(d, -EPROTO, "IRQ page has no magic");
    d->notify_fd = vfa_notify_fd(d->c);
    if (d->notify_fd < 0)
        return err(d, d->notify_fd, "%s", vfa_client_errmsg(d->c));

    /* "Guest RAM": a memfd at a 16 KiB-aligned address, shared with the
     * simulator, then mapped through the DART in one piece (window mode). */
    d->memfd = drv_sealed_memfd("vfa-test-client-ram", DRV_MEM_SIZE);
    if (d->memfd < 0)
        return err(d, d->memfd, "memfd: %s", strerror(-d->memfd));
    uint8_t *res = mmap(NULL, DRV_MEM_SIZE + VFA_PAGE_SIZE, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        return err(d, -errno, "mmap: %s", strerror(errno));
    uint8_t *al = (uint8_t *)(((uintptr_t)res + VFA_PAGE_SIZE - 1) & ~(uintptr_t)(VFA_PAGE_SIZE - 1));
    if (mmap(al, DRV_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, d->memfd, 0) ==
        MAP_FAILED)
        return err(d, -errno, "mmap memfd: %s", strerror(errno));
    d->mem = al;
    r = vfa_register_memory(d->c, d->mem, DRV_MEM_SIZE, d->memfd, 0, &d->reg_id);
    if (r)
        return err(d, r, "%s", vfa_client_errmsg(d->c));
    r = vfa_dma_map(d->c, d->mem, DRV_MEM_SIZE, VFA_DMA_BIDIRECTIONAL, &d->map);
    if (r)
        return err(d, r, "%s", vfa_client_errmsg(d->c));
    d->mapped = true;
    /* The DART chose the address: it must not be ours (a leaked client or
     * guest-physical address must fault, not hit memory). */
    if (d->map.segs[0].iova == (uint64_t)(uintptr_t)d->mem)
        return err(d, -EPROTO, "IOVA equals the client address");

    r = vfa_irq_setup(d->c, VFA_IRQ_MSIX, DRV_NVEC);
    if (r)
        return err(d, r, "%s", vfa_client_errmsg(d->c));
    r = vfa_irq_enable(d->c, 0, DRV_NVEC, true);
    if (r)
        return err(d, r, "%s", vfa_client_errmsg(d->c));
    return 0;
}

/* Collect interrupts from the IRQ page after a notification. */
static void take_irqs(struct drv *d)
{
    uint64_t bits;

    vfa_notify_ack(d->c);
    bits = vfa_irq_take(d->irq, 0);
    for (unsigned v = 0; v < DRV_NVEC; v++)
        if (bits & (1ull << v))
            d->irqs_seen[v]++;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int drv_submit_wait(struct drv *d, struct drv_queue *q, void *sqe64, uint32_t *dw0)
{
    struct sqe *s = sqe64;
    volatile struct cqe *cq = (volatile struct cqe *)(d->mem + q->cq_off);
    unsigned db_sq = 0x1000 + (2 * q->qid) * (4u << d->dstrd);
    unsigned db_cq = 0x1000 + (2 * q->qid + 1) * (4u << d->dstrd);
    uint64_t deadline = now_ms() + 5000;

    s->cid = ++q->cid;
    memcpy(d->mem + q->sq_off + q->sq_tail * sizeof(*s), s, sizeof(*s));
    q->sq_tail = (q->sq_tail + 1) % DRV_QDEPTH;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    wr32(d, db_sq, q->sq_tail);

    for (;;) {
        volatile struct cqe *e = &cq[q->cq_head];
        uint16_t st = __atomic_load_n(&e->status, __ATOMIC_ACQUIRE);

        if ((st & 1) == q->phase) {
            uint16_t cid = e->cid;

            if (dw0)
                *dw0 = e->dw0;
            q->cq_head = (q->cq_head + 1) % DRV_QDEPTH;
            if (!q->cq_head)
                q->phase = !q->phase;
            wr32(d, db_cq, q->cq_head);
            if (cid != s->cid)
                return err(d, -EPROTO, "completion for cid %u, expected %u", cid, s->cid);
            return st >> 1;
        }
        if (now_ms() > deadline)
            return err(d, -ETIMEDOUT, "queue %u: no completion within 5 s", q->qid);
        /* Sleep until the device interrupts (the MSI-X path under test) or
         * the dext goes away (no completion will ever come then). */
        struct pollfd pfd[2] = { { .fd = d->notify_fd, .events = POLLIN },
                                 { .fd = vfa_client_conn_fd(d->c), .events = 0 } };
        if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, 100) > 0) {
            if (pfd[1].revents & (POLLHUP | POLLERR))
                return err(d, -ENODEV, "queue %u: the dext went away", q->qid);
            take_irqs(d);
        }
    }
}

static int admin(struct drv *d, uint8_t opc, uint32_t nsid, uint64_t prp1, uint32_t cdw10,
                 uint32_t cdw11, uint32_t *dw0)
{
    struct sqe s = { .opcode = opc, .nsid = nsid, .prp1 = prp1, .cdw10 = cdw10, .cdw11 = cdw11 };

    return drv_submit_wait(d, &d->admin, &s, dw0);
}

int drv_init_controller(struct drv *d)
{
    uint64_t cap = rd32(d, 0x00) | (uint64_t)rd32(d, 0x04) << 32;
    uint64_t deadline;
    int st;

    uint32_t cmd, fwd;
    int r;

    /* Memory space and bus mastering (the guest's Command bits, which the
     * dext forwards); a reset clears them, so every init sets them. */
    if ((r = vfa_config_read(d->c, 0x04, 2, &cmd)) ||
        (r = vfa_config_write(d->c, 0x04, 2, cmd | 0x6, &fwd)))
        return err(d, r, "command register: %s", vfa_client_errmsg(d->c));
    if (fwd != 0x3)
        return err(d, -EIO, "command register write not forwarded (%#x)", fwd);
    d->dstrd = (cap >> 32) & 0xf;
    memset(d->mem, 0, OFF_PRPL + PG4K * (DRV_NIOQ + 1));
    /* Disable first (a previous owner's state is gone after reset, but a
     * driver never assumes). */
    wr32(d, 0x14, 0);
    for (deadline = now_ms() + 2000; rd32(d, 0x1c) & 1;)
        if (now_ms() > deadline)
            return err(d, -ETIMEDOUT, "controller did not disable");
    d->admin = (struct drv_queue){ .qid = 0, .sq_off = OFF_ASQ, .cq_off = OFF_ACQ, .phase = 1 };
    wr32(d, 0x24, (DRV_QDEPTH - 1) << 16 | (DRV_QDEPTH - 1));
    wr64(d, 0x28, drv_iova(d, OFF_ASQ));
    wr64(d, 0x30, drv_iova(d, OFF_ACQ));
    wr32(d, 0x14, 1u | 6u << 16 | 4u << 20);       /* EN, IOSQES 64, IOCQES 16, MPS 4K */
    for (deadline = now_ms() + 2000; !(rd32(d, 0x1c) & 1);) {
        if (rd32(d, 0x1c) & 2)
            return err(d, -EIO, "controller fatal status during enable");
        if (now_ms() > deadline)
            return err(d, -ETIMEDOUT, "controller not ready within 2 s");
    }

    /* Identify controller: our simulated vendor, a serial, MDTS. */
    if ((st = admin(d, 0x06, 0, drv_iova(d, OFF_IDENT), 1, 0, NULL)))
        return cmd_fail(d, "identify controller", st);
    uint16_t vid;
    memcpy(&vid, d->mem + OFF_IDENT, 2);
    if (vid != 0x7a7a)
        return err(d, -EIO, "identify controller: vendor %#x", vid);
    /* Identify namespace 1: size and LBA format. */
    if ((st = admin(d, 0x06, 1, drv_iova(d, OFF_IDENT), 0, 0, NULL)))
        return cmd_fail(d, "identify namespace", st);
    memcpy(&d->nlbas, d->mem + OFF_IDENT, 8);
    uint8_t flbas = d->mem[OFF_IDENT + 26] & 0xf;
    uint32_t lbaf;
    memcpy(&lbaf, d->mem + OFF_IDENT + 128 + 4 * flbas, 4);
    d->lba_size = 1u << ((lbaf >> 16) & 0xff);
    if (!d->nlbas || d->lba_size < 512)
        return err(d, -EIO, "identify namespace: %llu LBAs of %u bytes",
                   (unsigned long long)d->nlbas, d->lba_size);
    /* Number of queues. */
    uint32_t dw0 = 0;
    if ((st = admin(d, 0x09, 0, 0, 0x07, (DRV_NIOQ - 1) << 16 | (DRV_NIOQ - 1), &dw0)))
        return cmd_fail(d, "set features (number of queues)", st);
    if ((dw0 & 0xffff) + 1 < DRV_NIOQ)
        return err(d, -EIO, "controller grants only %u I/O queues", (dw0 & 0xffff) + 1);
    /* I/O queue pairs, queue q on MSI-X vector q. */
    for (unsigned i = 0; i < DRV_NIOQ; i++) {
        struct drv_queue *q = &d->io[i];

        *q = (struct drv_queue){ .qid = (uint16_t)(i + 1), .sq_off = OFF_IOQ + i * 2 * PG4K,
                                 .cq_off = OFF_IOQ + i * 2 * PG4K + PG4K, .phase = 1 };
        if ((st = admin(d, 0x05, 0, drv_iova(d, q->cq_off), (DRV_QDEPTH - 1) << 16 | q->qid,
                        (uint32_t)q->qid << 16 | 3u, NULL)))
            return cmd_fail(d, "create I/O CQ", st);
        if ((st = admin(d, 0x01, 0, drv_iova(d, q->sq_off), (DRV_QDEPTH - 1) << 16 | q->qid,
                        (uint32_t)q->qid << 16 | 1u, NULL)))
            return cmd_fail(d, "create I/O SQ", st);
    }
    return 0;
}

int drv_rw(struct drv *d, unsigned qi, bool write, uint64_t lba, uint64_t buf_off, uint32_t len)
{
    struct drv_queue *q = &d->io[qi];
    struct sqe s = { .opcode = write ? 0x01 : 0x02, .nsid = 1 };
    uint32_t npages = (len + PG4K - 1) / PG4K;

    if (len % d->lba_size || !len || npages > PG4K / 8 || buf_off % PG4K)
        return err(d, -EINVAL, "bad I/O shape");
    s.prp1 = drv_iova(d, buf_off);
    if (npages == 2) {
        s.prp2 = drv_iova(d, buf_off + PG4K);
    } else if (npages > 2) {
        /* PRP list: entries for pages 1..n-1 in this queue's list page. */
        uint64_t *l = (uint64_t *)(d->mem + OFF_PRPL + qi * PG4K);

        for (uint32_t i = 1; i < npages; i++)
            l[i - 1] = drv_iova(d, buf_off + (uint64_t)i * PG4K);
        s.prp2 = drv_iova(d, OFF_PRPL + qi * PG4K);
    }
    s.cdw10 = (uint32_t)lba;
    s.cdw11 = (uint32_t)(lba >> 32);
    s.cdw12 = len / d->lba_size - 1;
    return drv_submit_wait(d, q, &s, NULL);
}

void drv_detach(struct drv *d)
{
    if (d->c) {
        if (d->mapped)
            vfa_dma_unmap(d->c, d->map.handle);
        if (d->reg_id)
            vfa_unregister_memory(d->c, d->reg_id);
        vfa_client_disconnect(d->c);
    }
    if (d->mem)
        munmap(d->mem, DRV_MEM_SIZE);
    if (d->memfd >= 0)
        close(d->memfd);
    if (d->bar0)
        munmap((void *)d->bar0, d->bar0_size);
    if (d->irq)
        munmap(d->irq, VFA_IRQ_PAGE_SIZE);
    memset(d, 0, sizeof(*d));
}
