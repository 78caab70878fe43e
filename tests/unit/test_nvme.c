/*
 * Unit tests of the NVMe controller model, driven as a driver would: through
 * BAR0's shared page, the trapped page and config space, with host memory
 * reached through a real DART model (so IOVAs differ from host addresses).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../sim/dart.h"
#include "../../sim/device.h"
#include "../../sim/nvme.h"

#define HOST_MEM (8u << 20)

struct ctx {
    struct dart *dart;
    uint8_t *mem;                   /* host memory, mapped through the DART */
    uint64_t iova;                  /* IOVA of mem[0] */
    uint64_t map_id;
    size_t brk;                     /* bump allocator over mem */
    struct sim_device_host host;
    struct sim_device *dev;
    volatile uint8_t *bar;
    unsigned irqs[64];
    /* queues: 0 admin, 1.. I/O */
    struct { uint8_t *sq, *cq; uint32_t size, sqsize, tail, head; int phase; } q[4];
    uint16_t cid;
    int last_status;                /* with DNR, of the last cmd() */
};

static int h_dma_read(void *o, uint64_t iova, void *buf, size_t len)
{
    return dart_read(((struct ctx *)o)->dart, iova, buf, len);
}

static int h_dma_write(void *o, uint64_t iova, const void *buf, size_t len)
{
    return dart_write(((struct ctx *)o)->dart, iova, buf, len);
}

static void h_irq(void *o, unsigned v)
{
    __atomic_add_fetch(&((struct ctx *)o)->irqs[v & 63], 1, __ATOMIC_RELAXED);
}

static void *alloc(struct ctx *c, size_t len, size_t align)
{
    c->brk = (c->brk + align - 1) & ~(align - 1);
    void *p = c->mem + c->brk;
    c->brk += len;
    assert_true(c->brk <= HOST_MEM);
    memset(p, 0, len);
    return p;
}

static uint64_t iova_of(struct ctx *c, const void *p)
{
    return c->iova + (uint64_t)((const uint8_t *)p - c->mem);
}

static uint32_t rd32(struct ctx *c, unsigned off)
{
    return __atomic_load_n((volatile uint32_t *)(c->bar + off), __ATOMIC_ACQUIRE);
}

static void wr32(struct ctx *c, unsigned off, uint32_t v)
{
    __atomic_store_n((volatile uint32_t *)(c->bar + off), v, __ATOMIC_RELEASE);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Waits (up to 3 s) for (reg & mask) == val. */
static int wait_reg(struct ctx *c, unsigned off, uint32_t mask, uint32_t val)
{
    for (int i = 0; i < 3000; i++) {
        if ((rd32(c, off) & mask) == val)
            return 0;
        sleep_ms(1);
    }
    return -1;
}

static struct ctx *ctx_new(const char *args)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->dart = dart_create(NULL);
    assert_int_equal(posix_memalign((void **)&c->mem, DART_PAGE_SIZE, HOST_MEM), 0);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    assert_int_equal(dart_map(c->dart, c->mem, HOST_MEM, s, DART_MAX_SEGMENTS, &n, &c->map_id), 0);
    assert_int_equal(n, 1);
    c->iova = s[0].iova;
    c->host = (struct sim_device_host){ c, h_dma_read, h_dma_write, h_irq };
    char err[256] = "";
    c->dev = sim_nvme_create(args, &c->host, err, sizeof(err));
    if (!c->dev)
        fail_msg("create: %s", err);
    c->bar = c->dev->bars[0].mem;
    assert_int_equal(c->dev->ops->start(c->dev), 0);
    return c;
}

static void ctx_free(struct ctx *c)
{
    c->dev->ops->destroy(c->dev);
    dart_destroy(c->dart);
    free(c->mem);
    free(c);
}

static void bus_master(struct ctx *c, int on)
{
    c->dev->ops->config_write(c->dev, 0x04, 2, on ? 0x0006 : 0x0002);
}

/* Admin queue registers and bus master on; CC.EN still 0. */
static void admin_queues(struct ctx *c)
{
    bus_master(c, 1);
    c->q[0].size = c->q[0].sqsize = 32;
    c->q[0].sq = alloc(c, 4096, 4096);
    c->q[0].cq = alloc(c, 4096, 4096);
    c->q[0].tail = c->q[0].head = 0;
    c->q[0].phase = 1;
    wr32(c, NVME_REG_AQA, (31u << 16) | 31u);
    wr32(c, NVME_REG_ASQ, (uint32_t)iova_of(c, c->q[0].sq));
    wr32(c, NVME_REG_ASQ + 4, (uint32_t)(iova_of(c, c->q[0].sq) >> 32));
    wr32(c, NVME_REG_ACQ, (uint32_t)iova_of(c, c->q[0].cq));
    wr32(c, NVME_REG_ACQ + 4, (uint32_t)(iova_of(c, c->q[0].cq) >> 32));
}

#define CC_ENABLE   (NVME_CC_EN | 6u << 16 | 4u << 20)

static void enable(struct ctx *c)
{
    admin_queues(c);
    wr32(c, NVME_REG_CC, CC_ENABLE);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, NVME_CSTS_RDY, NVME_CSTS_RDY), 0);
}

static void submit(struct ctx *c, unsigned qid, struct nvme_sqe *e)
{
    e->cid = ++c->cid;
    memcpy(c->q[qid].sq + c->q[qid].tail * 64, e, 64);
    c->q[qid].tail = (c->q[qid].tail + 1) % c->q[qid].sqsize;
    wr32(c, NVME_REG_DBS + 2 * qid * 4, c->q[qid].tail);
}

/* Waits for the next completion on qid's CQ; returns status (without phase) or -1. */
static int reap(struct ctx *c, unsigned qid, struct nvme_cqe *out, unsigned timeout_ms)
{
    for (unsigned i = 0; i < timeout_ms; i++) {
        struct nvme_cqe e;
        memcpy(&e, c->q[qid].cq + c->q[qid].head * 16, 16);
        if ((e.status & 1) == c->q[qid].phase) {
            if (out)
                *out = e;
            if (++c->q[qid].head == c->q[qid].size) {
                c->q[qid].head = 0;
                c->q[qid].phase ^= 1;
            }
            wr32(c, NVME_REG_DBS + (2 * qid + 1) * 4, c->q[qid].head);
            return e.status >> 1;
        }
        sleep_ms(1);
    }
    return -1;
}

static int cmd(struct ctx *c, unsigned qid, struct nvme_sqe *e, struct nvme_cqe *out)
{
    submit(c, qid, e);
    struct nvme_cqe tmp;
    int st = reap(c, qid, &tmp, 3000);
    if (st >= 0)
        assert_int_equal(tmp.cid, e->cid);
    if (out)
        *out = tmp;
    c->last_status = st;
    /* Callers compare SCT/SC; DNR is checked separately through last_status. */
    return st < 0 ? st : (int)(st & ~(int)NVME_DNR);
}

static int identify(struct ctx *c, unsigned cns, uint32_t nsid, void *buf)
{
    struct nvme_sqe e = { .opcode = 0x06, .nsid = nsid, .prp1 = iova_of(c, buf), .cdw10 = cns };
    return cmd(c, 0, &e, NULL);
}

static void create_io_queue(struct ctx *c, unsigned qid, unsigned iv)
{
    c->q[qid].size = c->q[qid].sqsize = 64;
    c->q[qid].sq = alloc(c, 64 * 64, 4096);
    c->q[qid].cq = alloc(c, 64 * 16, 4096);
    c->q[qid].tail = c->q[qid].head = 0;
    c->q[qid].phase = 1;
    struct nvme_sqe cq = { .opcode = 0x05, .prp1 = iova_of(c, c->q[qid].cq),
                           .cdw10 = 63u << 16 | qid, .cdw11 = iv << 16 | 3 };
    assert_int_equal(cmd(c, 0, &cq, NULL), 0);
    struct nvme_sqe sq = { .opcode = 0x01, .prp1 = iova_of(c, c->q[qid].sq),
                           .cdw10 = 63u << 16 | qid, .cdw11 = qid << 16 | 1 };
    assert_int_equal(cmd(c, 0, &sq, NULL), 0);
}

/*
 * Builds PRP1/PRP2 for a 4 KiB-aligned buffer.  The list starts `list_off`
 * bytes into its page, so small values of 4096 - list_off force chaining.
 */
static void build_prps(struct ctx *c, uint8_t *buf, uint32_t len, unsigned list_off,
                       uint64_t *prp1, uint64_t *prp2)
{
    unsigned pages = (len + 4095) / 4096;
    *prp1 = iova_of(c, buf);
    *prp2 = 0;
    if (pages == 2)
        *prp2 = iova_of(c, buf + 4096);
    if (pages <= 2)
        return;
    uint8_t *page = alloc(c, 4096, 4096);
    uint64_t *slot = (uint64_t *)(page + list_off);
    *prp2 = iova_of(c, slot);
    for (unsigned i = 1; i < pages; i++) {
        bool last_slot = ((uintptr_t)(slot + 1) & 4095) == 0;
        if (last_slot && i < pages - 1) {
            uint8_t *next = alloc(c, 4096, 4096);
            *slot = iova_of(c, next);
            slot = (uint64_t *)next;
        }
        *slot++ = iova_of(c, buf + (size_t)i * 4096);
    }
}

static int rw(struct ctx *c, unsigned qid, bool write, uint64_t slba, uint8_t *buf, uint32_t len,
              unsigned list_off)
{
    struct nvme_sqe e = { .opcode = write ? 0x01 : 0x02, .nsid = 1,
                          .cdw10 = (uint32_t)slba, .cdw11 = (uint32_t)(slba >> 32),
                          .cdw12 = len / 512 - 1 };
    build_prps(c, buf, len, list_off, &e.prp1, &e.prp2);
    return cmd(c, qid, &e, NULL);
}

static uint64_t checksum(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* ---------------------------------------------------------------- tests -- */

static void test_config_and_rom(void **state)
{
    struct ctx *c = ctx_new("size=1M");
    const struct sim_device_ops *o = c->dev->ops;
    struct sim_device *d = c->dev;

    assert_int_equal(o->config_read(d, 0, 2), NVME_SIM_VENDOR);
    assert_int_equal(o->config_read(d, 2, 2), NVME_SIM_DEVICE);
    assert_int_equal(o->config_read(d, 8, 4) >> 8, 0x010802);
    assert_int_equal(o->config_read(d, 6, 2) & 0x10, 0x10);

    /* Only memory, bus master and INTx disable are writable in Command. */
    o->config_write(d, 4, 2, 0xffff);
    assert_int_equal(o->config_read(d, 4, 2), 0x0406);

    /* BAR0: 64-bit memory, 32 KiB (sizing), BAR2+ absent; ROM BAR 64 KiB. */
    assert_int_equal(o->config_read(d, 0x10, 4), 0x4);
    o->config_write(d, 0x10, 4, 0xffffffff);
    assert_int_equal(o->config_read(d, 0x10, 4), 0xffff8004u);
    o->config_write(d, 0x18, 4, 0xffffffff);
    assert_int_equal(o->config_read(d, 0x18, 4), 0);
    o->config_write(d, 0x30, 4, 0xffffffff);
    assert_int_equal(o->config_read(d, 0x30, 4), 0xffff0001u);

    /* Capability list: PM -> MSI-X -> PCIe. */
    unsigned found = 0, ptr = o->config_read(d, 0x34, 1);
    for (int guard = 0; ptr && guard < 16; guard++) {
        unsigned id = o->config_read(d, ptr, 1);
        if (id == 0x01)
            found |= 1;
        if (id == 0x11) {
            found |= 2;
            assert_int_equal((o->config_read(d, ptr + 2, 2) & 0x7ff) + 1, 8);
            assert_int_equal(o->config_read(d, ptr + 4, 4), 0x4000);   /* table, BIR 0 */
            assert_int_equal(o->config_read(d, ptr + 8, 4), 0x5000);   /* PBA, BIR 0 */
        }
        if (id == 0x10) {
            found |= 4;
            assert_int_equal((o->config_read(d, ptr + 2, 2) >> 4) & 0xf, 0);  /* endpoint */
            assert_true(o->config_read(d, ptr + 4, 4) & (1u << 28));          /* FLR */
        }
        ptr = o->config_read(d, ptr + 1, 1);
    }
    assert_int_equal(found, 7);
    /* Extended space exists and is readable. */
    assert_int_equal(o->config_read(d, 0x100, 4), 0);
    assert_int_equal(o->config_read(d, 0xffc, 4), 0);

    /* BARs as the simulator sees them. */
    assert_int_equal(d->bars[0].size, 0x8000);
    assert_true(d->bars[0].flags & SIM_BAR_MEM64);
    assert_int_equal(d->bars[0].trapped_pages, 0x2);
    assert_true(d->bars[0].memfd >= 0);
    assert_int_equal(d->bars[1].flags, 0);
    assert_int_equal(d->msix_vectors, 8);

    /* ROM: signature, PCIR with our IDs, the text, zero checksum. */
    const uint8_t *r = d->rom;
    assert_int_equal(d->rom_size, 65536);
    assert_int_equal(r[0], 0x55);
    assert_int_equal(r[1], 0xaa);
    unsigned pcir = r[0x18] | r[0x19] << 8;
    assert_memory_equal(r + pcir, "PCIR", 4);
    assert_int_equal(r[pcir + 4] | r[pcir + 5] << 8, NVME_SIM_VENDOR);
    assert_int_equal(r[pcir + 6] | r[pcir + 7] << 8, NVME_SIM_DEVICE);
    assert_non_null(memmem(r, d->rom_size, "vfio-apple-sim NVMe expansion ROM", 33));
    uint8_t sum = 0;
    for (size_t i = 0; i < d->rom_size; i++)
        sum += r[i];
    assert_int_equal(sum, 0);

    /* Trapped page: MSI-X table stores what is written; PBA reads 0. */
    assert_int_equal(o->mmio_read(d, 0, 0x4000 + 12, 4), 1);       /* masked at reset */
    o->mmio_write(d, 0, 0x4010, 8, 0xfee0000012345678ull);
    assert_int_equal(o->mmio_read(d, 0, 0x4010, 8), 0xfee0000012345678ull);
    o->mmio_write(d, 0, 0x5000, 8, ~0ull);
    assert_int_equal(o->mmio_read(d, 0, 0x5000, 8), 0);
    ctx_free(c);
}

static void test_options(void **state)
{
    struct sim_device_host h = { NULL, h_dma_read, h_dma_write, h_irq };
    char err[256];
    static const struct { const char *args, *names; } bad[] = {
        { "queues=0", "queues" }, { "queues=129", "queues" }, { "vectors=0", "vectors" },
        { "vectors=1000", "vectors" }, { "size=100", "size" }, { "size=1Q", "size" },
        { "bogus=1", "bogus" }, { "latency-us=1000001", "latency-us" },
        { "latency-us=-1", "latency-us" }, { "size", "size" }, { "file=/nonexistent/dir/x", "/nonexistent" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_null(sim_nvme_create(bad[i].args, &h, err, sizeof(err)));
        if (!strstr(err, bad[i].names))
            fail_msg("'%s': message '%s' does not name the option", bad[i].args, err);
    }

    /* A file namespace is created sparse at the requested size. */
    char path[] = "/tmp/test_nvme_nsXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    char args[128];
    snprintf(args, sizeof(args), "file=%s,size=1G,queues=2,vectors=4", path);
    struct sim_device *d = sim_nvme_create(args, &h, err, sizeof(err));
    assert_non_null(d);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 1ll << 30);
    assert_true(sb.st_blocks * 512 < (1ll << 20));          /* sparse */
    assert_int_equal(d->msix_vectors, 4);
    d->ops->destroy(d);
    unlink(path);
}

static void test_enable_and_admin(void **state)
{
    struct ctx *c = ctx_new("size=16M,queues=4");
    /* CAP: MQES 1023, CQR, DSTRD 0, NVM command set; VS 1.4. */
    assert_int_equal(rd32(c, NVME_REG_CAP) & 0xffff, 1023);
    assert_true(rd32(c, NVME_REG_CAP) & (1u << 16));
    assert_int_equal(rd32(c, NVME_REG_CAP + 4) & 0xf, 0);
    assert_true(rd32(c, NVME_REG_CAP + 4) & (1u << 5));
    assert_int_equal(rd32(c, NVME_REG_VS), 0x10400);
    /* Guest writes to read-only registers do not stick. */
    wr32(c, NVME_REG_CAP, 0);
    wr32(c, NVME_REG_CSTS, 0xff);
    assert_int_equal(wait_reg(c, NVME_REG_CAP, 0xffff, 1023), 0);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, ~0u, 0), 0);

    enable(c);
    uint8_t *buf = alloc(c, 4096, 4096);
    assert_int_equal(identify(c, 1, 0, buf), 0);
    assert_int_equal(buf[0] | buf[1] << 8, NVME_SIM_VENDOR);
    assert_memory_equal(buf + 24, "vfio-apple-sim NVMe", 19);
    assert_int_equal(buf[77], NVME_MDTS);
    assert_int_equal(buf[512], 0x66);
    assert_int_equal(buf[513], 0x44);
    assert_int_equal(buf[516], 1);                      /* NN */

    assert_int_equal(identify(c, 0, 1, buf), 0);
    uint64_t nsze;
    memcpy(&nsze, buf, 8);
    assert_int_equal(nsze, (16u << 20) / 512);
    assert_int_equal(buf[130], 9);                      /* LBADS: 512 bytes */
    assert_int_equal(identify(c, 0, 2, buf), NVME_SC_INVALID_NS);

    assert_int_equal(identify(c, 2, 0, buf), 0);        /* active NS list */
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[4], 0);
    assert_int_equal(identify(c, 3, 1, buf), 0);        /* NS descriptors: NGUID */
    assert_int_equal(buf[0], 2);
    assert_int_equal(buf[1], 16);
    assert_int_equal(identify(c, 6, 0, buf), 0);        /* NVM CS controller: no limits */
    assert_int_equal(identify(c, 0x10, 0, buf), NVME_SC_INVALID_FIELD);

    struct nvme_cqe e;
    struct nvme_sqe s = { .opcode = 0x09, .cdw10 = 0x07, .cdw11 = 15u << 16 | 15u };
    assert_int_equal(cmd(c, 0, &s, &e), 0);             /* asks 16, gets 4 */
    assert_int_equal(e.dw0, 3u << 16 | 3u);
    s = (struct nvme_sqe){ .opcode = 0x0a, .cdw10 = 0x06 };
    assert_int_equal(cmd(c, 0, &s, &e), 0);
    assert_int_equal(e.dw0, 1);                         /* write cache on */
    s = (struct nvme_sqe){ .opcode = 0x09, .cdw10 = 0x08, .cdw11 = 0x0a05 };
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    s = (struct nvme_sqe){ .opcode = 0x0a, .cdw10 = 0x08 };
    assert_int_equal(cmd(c, 0, &s, &e), 0);
    assert_int_equal(e.dw0, 0x0a05);
    s = (struct nvme_sqe){ .opcode = 0x0a, .cdw10 = 0x7f };
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_INVALID_FIELD);
    s = (struct nvme_sqe){ .opcode = 0x09, .cdw10 = 0x80000006u, .cdw11 = 0 };
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_FEATURE_NOT_SAVEABLE);

    /* Logs: SMART gives a temperature; an unknown log page is rejected. */
    s = (struct nvme_sqe){ .opcode = 0x02, .nsid = 0xffffffff, .prp1 = iova_of(c, buf),
                           .cdw10 = 127u << 16 | 0x02 };
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    assert_int_equal(buf[1] | buf[2] << 8, 313);
    s.cdw10 = 127u << 16 | 0x03;
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    assert_int_equal(buf[0], 1);
    s.cdw10 = 127u << 16 | 0x01;
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    s.cdw10 = 127u << 16 | 0x7e;
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_INVALID_LOG_PAGE);

    /* An AER is held: no completion, and later commands still complete. */
    s = (struct nvme_sqe){ .opcode = 0x0c };
    submit(c, 0, &s);
    assert_int_equal(reap(c, 0, NULL, 50), -1);
    s = (struct nvme_sqe){ .opcode = 0x08 };            /* Abort: not aborted */
    assert_int_equal(cmd(c, 0, &s, &e), 0);
    assert_int_equal(e.dw0 & 1, 1);
    s = (struct nvme_sqe){ .opcode = 0xc1 };            /* vendor specific: unknown */
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_INVALID_OPCODE);
    assert_int_equal(c->last_status, NVME_SC_INVALID_OPCODE | NVME_DNR);  /* retry is pointless */

    /* Queue creation checks. */
    uint8_t *q = alloc(c, 4096, 4096);
    s = (struct nvme_sqe){ .opcode = 0x05, .prp1 = iova_of(c, q), .cdw10 = 15u << 16 | 5, .cdw11 = 3 };
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_QID_INVALID);     /* beyond 4 */
    s.cdw10 = 15u << 16 | 1;
    s.cdw11 = 8u << 16 | 3;
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_INVALID_VECTOR);
    s.cdw11 = 2;                                                     /* PC=0 */
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_INVALID_FIELD);
    s.cdw10 = 1;                                                     /* 1 entry */
    s.cdw11 = 3;
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_QUEUE_SIZE);
    s = (struct nvme_sqe){ .opcode = 0x01, .prp1 = iova_of(c, q), .cdw10 = 15u << 16 | 1, .cdw11 = 2u << 16 | 1 };
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_CQ_INVALID);
    create_io_queue(c, 1, 1);
    s = (struct nvme_sqe){ .opcode = 0x04, .cdw10 = 1 };            /* CQ still used */
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_INVALID_QUEUE_DELETION);
    s = (struct nvme_sqe){ .opcode = 0x09, .cdw10 = 0x07, .cdw11 = 0 };
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_CMD_SEQ_ERROR);   /* queues exist */
    s = (struct nvme_sqe){ .opcode = 0x00, .cdw10 = 1 };
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    s = (struct nvme_sqe){ .opcode = 0x04, .cdw10 = 1 };
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    assert_int_equal(cmd(c, 0, &s, NULL), NVME_SC_QID_INVALID);
    assert_true(c->irqs[0] > 0);
    ctx_free(c);
}

static void test_io_roundtrip(void **state)
{
    struct ctx *c = ctx_new("size=32M,queues=2,vectors=4");
    enable(c);
    create_io_queue(c, 1, 1);
    create_io_queue(c, 2, 2);

    const uint32_t len = 256 * 1024;
    uint8_t *w = alloc(c, len, 4096), *r = alloc(c, len, 4096);
    for (uint32_t i = 0; i < len; i++)
        w[i] = (uint8_t)(i * 31 + (i >> 9));
    unsigned before1 = c->irqs[1], before2 = c->irqs[2];

    /* Write on queue 1 with a list that starts mid-page; read on queue 2 with a chained list. */
    assert_int_equal(rw(c, 1, true, 1000, w, len, 0x100), 0);
    assert_int_equal(rw(c, 2, false, 1000, r, len, 4096 - 16), 0);
    assert_int_equal(checksum(r, len), checksum(w, len));
    assert_true(c->irqs[1] > before1);
    assert_true(c->irqs[2] > before2);

    /* Two-page (PRP2 data) and one-page transfers. */
    memset(r, 0, len);
    assert_int_equal(rw(c, 1, false, 1000, r, 8192, 0), 0);
    assert_memory_equal(r, w, 8192);
    assert_int_equal(rw(c, 1, false, 1008, r, 512, 0), 0);
    assert_memory_equal(r, w + 8 * 512, 512);

    /* Maximum transfer, then one block more than MDTS allows. */
    uint8_t *big = alloc(c, NVME_MAX_XFER + 4096, 4096);
    assert_int_equal(rw(c, 1, true, 0, big, NVME_MAX_XFER, 0), 0);
    struct nvme_sqe e = { .opcode = 0x02, .nsid = 1, .cdw12 = NVME_MAX_XFER / 512 };
    build_prps(c, big, NVME_MAX_XFER, 0, &e.prp1, &e.prp2);
    assert_int_equal(cmd(c, 1, &e, NULL), NVME_SC_INVALID_FIELD);

    /* Range checks. */
    uint64_t nlbas = (32u << 20) / 512;
    assert_int_equal(rw(c, 1, false, nlbas - 1, r, 1024, 0), NVME_SC_LBA_RANGE);
    assert_int_equal(rw(c, 1, false, nlbas - 2, r, 1024, 0), 0);
    e = (struct nvme_sqe){ .opcode = 0x02, .nsid = 7, .prp1 = iova_of(c, r) };
    assert_int_equal(cmd(c, 1, &e, NULL), NVME_SC_INVALID_NS);
    e = (struct nvme_sqe){ .opcode = 0x00, .nsid = 1 };
    assert_int_equal(cmd(c, 1, &e, NULL), 0);                       /* Flush */
    e = (struct nvme_sqe){ .opcode = 0x7f, .nsid = 1 };
    assert_int_equal(cmd(c, 1, &e, NULL), NVME_SC_INVALID_OPCODE);

    char stats[2048];
    FILE *f = fmemopen(stats, sizeof(stats), "w");
    c->dev->ops->stats_json(c->dev, f);
    fclose(f);
    assert_non_null(strstr(stats, "\"cmds_write\":2,"));
    assert_non_null(strstr(stats, "\"io_queues\":2,"));
    ctx_free(c);
}

static void test_file_backed_persists(void **state)
{
    char path[] = "/tmp/test_nvme_fileXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char args[128];
    snprintf(args, sizeof(args), "file=%s,size=4M", path);
    struct ctx *c = ctx_new(args);
    enable(c);
    create_io_queue(c, 1, 1);
    uint8_t *w = alloc(c, 16384, 4096);
    for (int i = 0; i < 16384; i++)
        w[i] = (uint8_t)(i ^ 0x5a);
    assert_int_equal(rw(c, 1, true, 64, w, 16384, 0), 0);
    ctx_free(c);
    /* The data is in the file at LBA 64. */
    uint8_t back[16384];
    fd = open(path, O_RDONLY);
    assert_int_equal(pread(fd, back, sizeof(back), 64 * 512), (ssize_t)sizeof(back));
    close(fd);
    unlink(path);
    for (int i = 0; i < 16384; i++)
        assert_int_equal(back[i], (uint8_t)(i ^ 0x5a));
}

static void test_dart_fault_is_data_transfer_error(void **state)
{
    struct ctx *c = ctx_new("size=8M");
    enable(c);
    create_io_queue(c, 1, 1);
    uint8_t *buf = alloc(c, 8192, 4096);
    struct dart_stats before, after;
    dart_get_stats(c->dart, &before);

    /* A host address leaked as a PRP (never a valid IOVA). */
    struct nvme_sqe e = { .opcode = 0x02, .nsid = 1, .cdw12 = 7,
                          .prp1 = (uint64_t)(uintptr_t)buf };
    assert_int_equal(cmd(c, 1, &e, NULL), NVME_SC_DATA_XFER_ERROR);
    assert_int_equal(c->last_status, NVME_SC_DATA_XFER_ERROR);   /* no DNR: may be transient */
    /* A write whose PRP list lives at an unmapped IOVA. */
    e = (struct nvme_sqe){ .opcode = 0x01, .nsid = 1, .cdw12 = 23, .prp1 = iova_of(c, buf),
                           .prp2 = 0x1000 };
    assert_int_equal(cmd(c, 1, &e, NULL) & 0xff, NVME_SC_DATA_XFER_ERROR);
    /* Identify into an unmapped buffer, on the admin queue. */
    e = (struct nvme_sqe){ .opcode = 0x06, .cdw10 = 1, .prp1 = 0x40000000 };
    assert_int_equal(cmd(c, 0, &e, NULL) & 0xff, NVME_SC_DATA_XFER_ERROR);

    dart_get_stats(c->dart, &after);
    assert_int_equal(after.faults - before.faults, 3);
    /* The controller keeps running. */
    assert_int_equal(rd32(c, NVME_REG_CSTS), NVME_CSTS_RDY);
    assert_int_equal(rw(c, 1, true, 0, buf, 8192, 0), 0);
    assert_int_equal(rw(c, 1, false, 0, buf, 8192, 0), 0);

    char stats[2048];
    FILE *f = fmemopen(stats, sizeof(stats), "w");
    c->dev->ops->stats_json(c->dev, f);
    fclose(f);
    assert_non_null(strstr(stats, "\"dma_faults\":3,"));
    ctx_free(c);
}

static void test_queue_fetch_fault_is_fatal(void **state)
{
    /* The admin SQ at an unmapped IOVA: the controller reports fatal status. */
    struct ctx *c = ctx_new("size=1M");
    bus_master(c, 1);
    uint8_t *cq = alloc(c, 4096, 4096);
    wr32(c, NVME_REG_AQA, 1u << 16 | 1);
    wr32(c, NVME_REG_ASQ, 0x1000);
    wr32(c, NVME_REG_ACQ, (uint32_t)iova_of(c, cq));
    wr32(c, NVME_REG_ACQ + 4, (uint32_t)(iova_of(c, cq) >> 32));
    wr32(c, NVME_REG_CC, NVME_CC_EN | 6u << 16 | 4u << 20);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, NVME_CSTS_RDY, NVME_CSTS_RDY), 0);
    wr32(c, NVME_REG_DBS, 1);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, NVME_CSTS_CFS, NVME_CSTS_CFS), 0);
    /* A controller reset clears it. */
    wr32(c, NVME_REG_CC, 0);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, ~0u, 0), 0);
    ctx_free(c);
}

static void test_flr_and_bus_master(void **state)
{
    struct ctx *c = ctx_new("size=8M");
    enable(c);
    create_io_queue(c, 1, 1);
    uint8_t *buf = alloc(c, 4096, 4096);

    /* Bus master off: commands wait, nothing is fetched. */
    bus_master(c, 0);
    struct nvme_sqe e = { .opcode = 0x02, .nsid = 1, .cdw12 = 7, .prp1 = iova_of(c, buf) };
    submit(c, 1, &e);
    assert_int_equal(reap(c, 1, NULL, 100), -1);
    bus_master(c, 1);
    assert_int_equal(reap(c, 1, NULL, 3000), 0);

    /* FLR: registers, config and queues back to power-on; no DMA afterwards. */
    c->dev->ops->reset(c->dev);
    assert_int_equal(rd32(c, NVME_REG_CSTS), 0);
    assert_int_equal(rd32(c, NVME_REG_CC), 0);
    assert_int_equal(c->dev->ops->config_read(c->dev, 4, 2), 0);
    struct dart_stats before, after;
    dart_get_stats(c->dart, &before);
    bus_master(c, 1);
    submit(c, 1, &e);                       /* doorbell of a queue that is gone */
    sleep_ms(50);
    dart_get_stats(c->dart, &after);
    assert_int_equal(after.dma_reads + after.dma_writes, before.dma_reads + before.dma_writes);
    assert_int_equal(after.faults, before.faults);

    /* Re-enable: I/O queue 1 can be created again, so the old one is gone. */
    c->cid = 0;
    enable(c);
    create_io_queue(c, 1, 1);
    assert_int_equal(rw(c, 1, false, 0, buf, 4096, 0), 0);

    /* FLR through PCIe Device Control's Initiate FLR bit. */
    uint32_t devctl = 0x60 + 8;
    c->dev->ops->config_write(c->dev, devctl, 2, 0x8000 | c->dev->ops->config_read(c->dev, devctl, 2));
    assert_int_equal(rd32(c, NVME_REG_CSTS), 0);
    assert_int_equal(c->dev->ops->config_read(c->dev, devctl, 2) & 0x8000, 0);
    ctx_free(c);
}

static void test_shutdown_and_disable(void **state)
{
    struct ctx *c = ctx_new("size=1M");
    enable(c);
    wr32(c, NVME_REG_CC, rd32(c, NVME_REG_CC) | 1u << 14);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, 0xc, NVME_CSTS_SHST_CMPLT), 0);
    wr32(c, NVME_REG_CC, 0);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, ~0u, 0), 0);
    /* Enabling with an impossible admin queue size is a fatal status. */
    wr32(c, NVME_REG_AQA, 0);
    wr32(c, NVME_REG_CC, NVME_CC_EN);
    assert_int_equal(wait_reg(c, NVME_REG_CSTS, NVME_CSTS_CFS, NVME_CSTS_CFS), 0);
    assert_int_equal(rd32(c, NVME_REG_CSTS) & NVME_CSTS_RDY, 0);
    ctx_free(c);
}

static void test_cq_full_waits(void **state)
{
    /* A 4-entry I/O CQ holds 3 completions; further commands wait for the head. */
    struct ctx *c = ctx_new("size=1M");
    enable(c);
    unsigned qid = 1;
    c->q[qid].size = 4;
    c->q[qid].sqsize = 16;
    c->q[qid].sq = alloc(c, 4096, 4096);
    c->q[qid].cq = alloc(c, 4096, 4096);
    c->q[qid].phase = 1;
    struct nvme_sqe s = { .opcode = 0x05, .prp1 = iova_of(c, c->q[qid].cq), .cdw10 = 3u << 16 | 1, .cdw11 = 1u << 16 | 3 };
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    s = (struct nvme_sqe){ .opcode = 0x01, .prp1 = iova_of(c, c->q[qid].sq), .cdw10 = 15u << 16 | 1, .cdw11 = 1u << 16 | 1 };
    assert_int_equal(cmd(c, 0, &s, NULL), 0);
    struct nvme_sqe f = { .opcode = 0x00, .nsid = 1 };
    for (int i = 0; i < 6; i++) {
        struct nvme_sqe x = f;
        submit(c, qid, &x);
    }
    /* Without moving the CQ head: 3 entries get posted (phase 1)... */
    int posted = 0;
    for (int t = 0; t < 3000 && posted < 3; t++) {
        sleep_ms(1);
        posted = 0;
        for (int i = 0; i < 4; i++)
            posted += __atomic_load_n(&c->q[qid].cq[i * 16 + 14], __ATOMIC_ACQUIRE) & 1;
    }
    assert_int_equal(posted, 3);
    /* ...and no more, however long we wait (the 4th slot would overwrite). */
    sleep_ms(50);
    posted = 0;
    for (int i = 0; i < 4; i++)
        posted += c->q[qid].cq[i * 16 + 14] & 1;
    assert_int_equal(posted, 3);
    /* Consuming them lets the other 3 complete, wrapping the phase. */
    for (int i = 0; i < 6; i++)
        assert_int_equal(reap(c, qid, NULL, 1000), 0);
    for (int i = 0; i < 5; i++) {
        struct nvme_sqe x = f;
        assert_int_equal(cmd(c, qid, &x, NULL), 0);
    }
    ctx_free(c);
}

/*
 * Tests that need no timing drive the controller by hand: the device
 * thread is stopped and each pass is one nvme_poll_locked(), exactly what
 * the thread would run.
 */
static void manual(struct ctx *c)
{
    c->dev->ops->stop(c->dev);
}

static unsigned pass(struct ctx *c)
{
    struct nvme *n = (struct nvme *)c->dev;
    pthread_mutex_lock(&n->lock);
    unsigned work = nvme_poll_locked(n);
    pthread_mutex_unlock(&n->lock);
    return work;
}

/*
 * A doorbell written while CC.EN=0 is ignored: doorbells reset with the
 * controller, so once it is enabled its admin SQ is empty until the host
 * rings again.  (The model keeps doorbells in shared memory, where such a
 * write would otherwise wait for the enable and then run the command.)
 */
static void test_doorbell_while_disabled_ignored(void **state)
{
    struct ctx *c = ctx_new("size=1M");
    uint8_t *id = alloc(c, 4096, 4096);
    struct nvme_sqe e = { .opcode = 0x06, .cid = 77, .prp1 = iova_of(c, id), .cdw10 = 1 };
    struct dart_stats before, after;

    manual(c);
    admin_queues(c);
    memcpy(c->q[0].sq, &e, sizeof(e));
    wr32(c, NVME_REG_DBS, 1);               /* SQ0 tail, controller disabled */
    for (int i = 0; i < 3; i++)
        pass(c);
    dart_get_stats(c->dart, &before);
    wr32(c, NVME_REG_CC, CC_ENABLE);
    for (int i = 0; i < 4; i++)
        pass(c);
    assert_int_equal(rd32(c, NVME_REG_CSTS) & NVME_CSTS_RDY, NVME_CSTS_RDY);
    dart_get_stats(c->dart, &after);
    assert_int_equal(after.dma_reads + after.dma_writes, before.dma_reads + before.dma_writes);
    assert_int_equal(c->q[0].cq[14] & 1, 0);    /* no completion posted */
    assert_int_equal(rd32(c, NVME_REG_DBS), 0);  /* the doorbell reads as reset */

    /* Rung after the enable, the same command runs. */
    wr32(c, NVME_REG_DBS, 1);
    pass(c);
    struct nvme_cqe ce;
    memcpy(&ce, c->q[0].cq, sizeof(ce));
    assert_int_equal(ce.status & 1, 1);
    assert_int_equal(ce.cid, 77);
    assert_int_equal(ce.status >> 1, 0);
    ctx_free(c);
}

/*
 * BAR renewal (session end): the model moves BAR0 to a new sealed memfd
 * in its reset state, and a client mapping of the old one only reaches
 * orphaned memory: writing CC there enables nothing.
 */
static void test_bar_renew_orphans_old_mapping(void **state)
{
    struct ctx *c = ctx_new("size=1M");
    struct nvme *n = (struct nvme *)c->dev;
    int fd0 = c->dev->bars[0].memfd;
    int seals = fcntl(fd0, F_GET_SEALS);

    assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
                     F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    assert_int_not_equal(ftruncate(fd0, 4096), 0);   /* a client cannot shrink it */
    assert_int_equal(errno, EPERM);

    /* A client's own mapping of BAR0, as MAP_MEMORY would give it. */
    volatile uint8_t *old = mmap(NULL, NVME_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd0, 0);
    assert_true(old != MAP_FAILED);
    manual(c);
    admin_queues(c);
    wr32(c, NVME_REG_CC, CC_ENABLE);
    pass(c);
    assert_int_equal(rd32(c, NVME_REG_CSTS) & NVME_CSTS_RDY, NVME_CSTS_RDY);

    c->dev->ops->reset(c->dev);             /* the session's FLR comes first */
    assert_int_equal(c->dev->ops->renew_bars(c->dev), 0);
    assert_true((volatile uint8_t *)c->dev->bars[0].mem != c->bar);
    assert_true(c->dev->bars[0].memfd >= 0);
    seals = fcntl(c->dev->bars[0].memfd, F_GET_SEALS);
    assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
                     F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    c->bar = c->dev->bars[0].mem;
    assert_int_equal(n->st.bar_renewals, 1);

    /* The new page is in reset state: registers, no enable, no doorbells. */
    assert_int_equal(rd32(c, NVME_REG_VS), 0x00010400u);
    assert_int_equal(rd32(c, NVME_REG_CC), 0);
    assert_int_equal(rd32(c, NVME_REG_CSTS), 0);
    assert_int_equal(rd32(c, NVME_REG_AQA), 0);

    /* The old owner writes through its stale mapping: nothing reaches the device. */
    __atomic_store_n((volatile uint32_t *)(old + NVME_REG_AQA), 0x001f001fu, __ATOMIC_RELEASE);
    __atomic_store_n((volatile uint32_t *)(old + NVME_REG_CC), CC_ENABLE, __ATOMIC_RELEASE);
    __atomic_store_n((volatile uint32_t *)(old + NVME_REG_DBS), 1u, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++)
        pass(c);
    assert_int_equal(rd32(c, NVME_REG_CSTS), 0);
    assert_int_equal(rd32(c, NVME_REG_AQA), 0);
    assert_false(n->enabled);

    /* The new owner drives the new page as usual. */
    c->brk = 0;
    admin_queues(c);
    wr32(c, NVME_REG_CC, CC_ENABLE);
    pass(c);
    assert_int_equal(rd32(c, NVME_REG_CSTS) & NVME_CSTS_RDY, NVME_CSTS_RDY);
    munmap((void *)old, NVME_BAR0_SIZE);
    ctx_free(c);
}

/* Consumes the next completion of qid if one is posted now (no waiting: manual mode). */
static int reap_now(struct ctx *c, unsigned qid, struct nvme_cqe *out)
{
    return reap(c, qid, out, 1);
}

/*
 * latency-us: an I/O command runs when fetched, its completion is posted
 * only once the latency has passed; admin commands are never held.
 */
static void test_latency_holds_io_completions(void **state)
{
    struct ctx *c = ctx_new("size=1M,latency-us=100000");
    struct nvme *n = (struct nvme *)c->dev;
    struct nvme_cqe ce;

    enable(c);
    create_io_queue(c, 1, 1);
    manual(c);
    uint8_t *w = alloc(c, 4096, 4096), *id = alloc(c, 4096, 4096);
    memset(w, 0x5a, 4096);
    struct nvme_sqe e = { .opcode = 0x01, .nsid = 1, .prp1 = iova_of(c, w), .cdw12 = 7 };
    submit(c, 1, &e);
    pass(c);
    assert_int_equal(n->st.io_write, 1);            /* the data moved at fetch */
    assert_int_equal(n->st.held, 1);
    assert_int_equal(reap_now(c, 1, NULL), -1);     /* the completion did not */

    struct nvme_sqe a = { .opcode = 0x06, .prp1 = iova_of(c, id), .cdw10 = 1 };
    submit(c, 0, &a);
    pass(c);
    assert_int_equal(reap_now(c, 0, &ce), 0);       /* admin: at once */
    assert_int_equal(ce.cid, a.cid);
    pass(c);
    assert_int_equal(reap_now(c, 1, NULL), -1);

    sleep_ms(110);
    pass(c);
    assert_int_equal(reap_now(c, 1, &ce), 0);
    assert_int_equal(ce.cid, e.cid);
    assert_int_equal(ce.sqid, 1);
    assert_int_equal(n->st.held_peak, 1);
    assert_int_equal(n->held_count, 0);
    ctx_free(c);
}

/*
 * Deleting an SQ posts its held completions before the delete completes
 * (none is lost or left to land on a later queue of the same ID); a
 * controller reset drops them, as it ends every command.
 */
static void test_latency_drain_and_reset(void **state)
{
    struct ctx *c = ctx_new("size=1M,latency-us=1000000");
    struct nvme *n = (struct nvme *)c->dev;
    struct nvme_cqe ce;
    uint16_t cids[3];

    enable(c);
    create_io_queue(c, 1, 1);
    manual(c);
    for (int i = 0; i < 3; i++) {
        struct nvme_sqe f = { .opcode = 0x00, .nsid = 1 };
        submit(c, 1, &f);
        cids[i] = f.cid;
    }
    pass(c);
    assert_int_equal(n->held_count, 3);
    assert_int_equal(reap_now(c, 1, NULL), -1);
    struct nvme_sqe del = { .opcode = 0x00, .cdw10 = 1 };
    submit(c, 0, &del);
    pass(c);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(reap_now(c, 1, &ce), 0);
        assert_int_equal(ce.cid, cids[i]);
    }
    assert_int_equal(reap_now(c, 0, &ce), 0);
    assert_int_equal(ce.cid, del.cid);
    assert_int_equal(n->held_count, 0);
    assert_int_equal(n->st.held_dropped, 0);
    ctx_free(c);

    c = ctx_new("size=1M,latency-us=1000000");
    n = (struct nvme *)c->dev;
    enable(c);
    create_io_queue(c, 1, 1);
    manual(c);
    struct nvme_sqe f = { .opcode = 0x00, .nsid = 1 };
    submit(c, 1, &f);
    pass(c);
    assert_int_equal(n->held_count, 1);
    wr32(c, NVME_REG_CC, 0);
    pass(c);
    assert_int_equal(n->held_count, 0);
    assert_int_equal(n->st.held_dropped, 1);
    ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_and_rom),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_enable_and_admin),
        cmocka_unit_test(test_io_roundtrip),
        cmocka_unit_test(test_file_backed_persists),
        cmocka_unit_test(test_dart_fault_is_data_transfer_error),
        cmocka_unit_test(test_queue_fetch_fault_is_fatal),
        cmocka_unit_test(test_flr_and_bus_master),
        cmocka_unit_test(test_shutdown_and_disable),
        cmocka_unit_test(test_cq_full_waits),
        cmocka_unit_test(test_doorbell_while_disabled_ignored),
        cmocka_unit_test(test_bar_renew_orphans_old_mapping),
        cmocka_unit_test(test_latency_holds_io_completions),
        cmocka_unit_test(test_latency_drain_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
