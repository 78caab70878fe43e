/*
 * Unit tests of the virtio-net model: the split-virtqueue walker
 * (sim/virtio-vq.c) over fake device memory, hostile layouts included,
 * and the model itself driven as Linux's virtio_pci and virtio_net drive
 * it: config space, BAR0's trapped page, the shared notify page, with
 * memory reached through a real DART model (IOVAs differ from addresses).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../sim/dart.h"
#include "../../sim/device.h"
#include "../../sim/virtio-net.h"
#include "../../sim/virtio-vq.h"

/* ------------------------------------------------ fake device memory -- */

#define MEM_BASE 0x100000ull
#define MEM_SIZE 0x40000u
static uint8_t mem[MEM_SIZE];
static unsigned faults;

static int m_rd(void *o, uint64_t addr, void *buf, size_t len)
{
    if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE)) {
        faults++;
        return -EFAULT;
    }
    memcpy(buf, mem + (addr - MEM_BASE), len);
    return 0;
}

static int m_wr(void *o, uint64_t addr, const void *buf, size_t len)
{
    if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE)) {
        faults++;
        return -EFAULT;
    }
    memcpy(mem + (addr - MEM_BASE), buf, len);
    return 0;
}

static const struct vq_io io = { NULL, m_rd, m_wr };

#define QSZ     16u
#define DESC    (MEM_BASE + 0x0000)
#define AVAIL   (MEM_BASE + 0x1000)
#define USED    (MEM_BASE + 0x2000)
#define BUFS    (MEM_BASE + 0x10000)

static uint8_t *at(uint64_t a) { return mem + (a - MEM_BASE); }
static void w16(uint64_t a, uint16_t v) { memcpy(at(a), &v, 2); }
static void w32(uint64_t a, uint32_t v) { memcpy(at(a), &v, 4); }
static void w64(uint64_t a, uint64_t v) { memcpy(at(a), &v, 8); }
static uint16_t r16(uint64_t a) { uint16_t v; memcpy(&v, at(a), 2); return v; }
static uint32_t r32(uint64_t a) { uint32_t v; memcpy(&v, at(a), 4); return v; }

static void desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    w64(table + 16 * i, addr);
    w32(table + 16 * i + 8, len);
    w16(table + 16 * i + 12, flags);
    w16(table + 16 * i + 14, next);
}

static uint16_t avail_idx;

/* The driver makes chain `head` available. */
static void offer(uint16_t head)
{
    w16(AVAIL + 4 + 2 * (avail_idx % QSZ), head);
    w16(AVAIL + 2, ++avail_idx);
}

static struct vq q;
static struct vq_chain c;

static int setup(void **state)
{
    memset(mem, 0, sizeof(mem));
    faults = 0;
    avail_idx = 0;
    assert_true(vq_enable(&q, QSZ, DESC, AVAIL, USED));
    return 0;
}

/* --------------------------------------------------------- vq tests -- */

static void test_enable_checks_layout(void **state)
{
    struct vq t;
    assert_false(vq_enable(&t, 0, DESC, AVAIL, USED));
    assert_false(vq_enable(&t, 12, DESC, AVAIL, USED));            /* not a power of two */
    assert_false(vq_enable(&t, 32768 * 2 - 1, DESC, AVAIL, USED));
    assert_false(vq_enable(&t, QSZ, DESC + 8, AVAIL, USED));       /* desc: 16-byte aligned */
    assert_false(vq_enable(&t, QSZ, DESC, AVAIL + 1, USED));       /* avail: 2 */
    assert_false(vq_enable(&t, QSZ, DESC, AVAIL, USED + 2));       /* used: 4 */
    assert_false(vq_enable(&t, QSZ, 0, AVAIL, USED));              /* address 0: unset */
    assert_false(vq_enable(&t, QSZ, UINT64_MAX - 15, AVAIL, USED)); /* wraps */
    assert_false(t.ready);
    assert_true(vq_enable(&t, 32768, DESC, AVAIL, USED));
    assert_true(t.ready);
}

static void test_pop_empty_and_single(void **state)
{
    assert_int_equal(vq_pop(&q, &io, &c), 0);
    desc(DESC, 3, BUFS, 100, VQ_DESC_F_WRITE, 0);
    offer(3);
    assert_int_equal(vq_pop(&q, &io, &c), 1);
    assert_int_equal(c.head, 3);
    assert_int_equal(c.nread, 0);
    assert_int_equal(c.nwrite, 1);
    assert_int_equal(c.write_bytes, 100);
    assert_int_equal(c.seg[0].addr, BUFS);
    assert_int_equal(vq_pop(&q, &io, &c), 0);
}

static void test_chain_read_then_write(void **state)
{
    /* 12-byte header, two data pieces, then an empty and a writable descriptor. */
    desc(DESC, 0, BUFS, 12, VQ_DESC_F_NEXT, 5);
    desc(DESC, 5, BUFS + 0x100, 30, VQ_DESC_F_NEXT, 2);
    desc(DESC, 2, BUFS + 0x200, 20, VQ_DESC_F_NEXT, 7);
    desc(DESC, 7, BUFS + 0x300, 0, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 9);
    desc(DESC, 9, BUFS + 0x400, 64, VQ_DESC_F_WRITE, 0);
    offer(0);
    assert_int_equal(vq_pop(&q, &io, &c), 1);
    assert_int_equal(c.ndesc, 5);
    assert_int_equal(c.nread, 3);
    assert_int_equal(c.nwrite, 1);                 /* the empty one is no segment */
    assert_int_equal(c.read_bytes, 62);
    assert_int_equal(c.write_bytes, 64);

    /* Reading from byte 12 on spans the two data pieces. */
    for (unsigned i = 0; i < 30; i++)
        at(BUFS + 0x100)[i] = (uint8_t)i;
    for (unsigned i = 0; i < 20; i++)
        at(BUFS + 0x200)[i] = (uint8_t)(30 + i);
    uint8_t buf[50];
    assert_int_equal(vq_chain_read(&io, &c, 12, buf, 50), 0);
    for (unsigned i = 0; i < 50; i++)
        assert_int_equal(buf[i], i);
    assert_int_equal(vq_chain_read(&io, &c, 20, buf, 10), 0);
    assert_int_equal(buf[0], 8);
    memset(buf, 0xab, sizeof(buf));
    assert_int_equal(vq_chain_write(&io, &c, buf, 50), 0);
    assert_int_equal(at(BUFS + 0x400)[49], 0xab);
    assert_int_equal(at(BUFS + 0x400)[50], 0);
}

static void expect_chain_error(uint16_t head, const char *why)
{
    offer(head);
    assert_int_equal(vq_pop(&q, &io, &c), VQ_E_CHAIN);
    assert_int_equal(c.head, head);                /* consumed: to be returned */
    assert_non_null(c.why);
    assert_non_null(strstr(c.why, why));
    assert_int_equal(q.last_avail, avail_idx);
}

static void test_hostile_chains(void **state)
{
    /* A loop: 1 -> 2 -> 1. */
    desc(DESC, 1, BUFS, 10, VQ_DESC_F_NEXT, 2);
    desc(DESC, 2, BUFS, 10, VQ_DESC_F_NEXT, 1);
    expect_chain_error(1, "loop");
    /* A descriptor pointing at itself. */
    desc(DESC, 4, BUFS, 0, VQ_DESC_F_NEXT, 4);
    expect_chain_error(4, "loop");
    /* next beyond the table. */
    desc(DESC, 3, BUFS, 10, VQ_DESC_F_NEXT, QSZ);
    expect_chain_error(3, "next index");
    /* Indirect tables are not negotiated. */
    desc(DESC, 5, BUFS, 32, VQ_DESC_F_INDIRECT, 0);
    expect_chain_error(5, "indirect");
    /* Readable after writable. */
    desc(DESC, 6, BUFS, 10, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 7);
    desc(DESC, 7, BUFS, 10, 0, 0);
    expect_chain_error(6, "readable descriptor after");
    /* A buffer wrapping the address space. */
    desc(DESC, 8, UINT64_MAX - 4, 10, 0, 0);
    expect_chain_error(8, "wraps");
    /* Lengths that would overflow a 32-bit sum. */
    desc(DESC, 9, BUFS, 0xffffffffu, VQ_DESC_F_NEXT, 10);
    desc(DESC, 10, BUFS, 0xffffffffu, 0, 0);
    expect_chain_error(9, "too long in bytes");
    /* After all that, a good chain still works. */
    desc(DESC, 11, BUFS, 60, 0, 0);
    offer(11);
    assert_int_equal(vq_pop(&q, &io, &c), 1);
    assert_int_equal(c.read_bytes, 60);
}

static void test_too_many_segments(void **state)
{
    struct vq big;
    uint64_t table = MEM_BASE + 0x20000;           /* 128 entries: 2 KiB */
    assert_true(vq_enable(&big, 128, table, AVAIL, USED));
    for (unsigned i = 0; i < 127; i++)
        desc(table, i, BUFS, 1, VQ_DESC_F_NEXT, (uint16_t)(i + 1));
    desc(table, 127, BUFS, 1, 0, 0);
    w16(AVAIL + 4, 0);
    w16(AVAIL + 2, 1);
    assert_int_equal(vq_pop(&big, &io, &c), VQ_E_CHAIN);
    assert_string_equal(c.why, "too many descriptors");
    assert_int_equal(c.nread, VQ_MAX_SEGS);
}

static void test_broken_rings(void **state)
{
    /* Head index out of range: cannot even be returned. */
    offer(QSZ + 3);
    assert_int_equal(vq_pop(&q, &io, &c), VQ_E_RING);
    /* The available index claiming more than a ring's worth. */
    assert_true(vq_enable(&q, QSZ, DESC, AVAIL, USED));
    w16(AVAIL + 2, QSZ + 1);
    uint16_t n;
    assert_int_equal(vq_avail(&q, &io, &n), VQ_E_RING);
    assert_int_equal(vq_pop(&q, &io, &c), VQ_E_RING);
    /* Exactly a ring's worth is fine. */
    w16(AVAIL + 2, QSZ);
    assert_int_equal(vq_avail(&q, &io, &n), VQ_OK);
    assert_int_equal(n, QSZ);
    /* Rings the device cannot reach (a DART fault, in the simulator). */
    struct vq far;
    assert_true(vq_enable(&far, QSZ, 0x10, 0x1000, 0x2000));
    assert_int_equal(vq_pop(&far, &io, &c), VQ_E_RING);
    assert_int_equal(vq_push(&far, &io, 0, 0), VQ_E_RING);
    assert_true(faults > 0);
    /* A descriptor table outside memory. */
    assert_true(vq_enable(&far, QSZ, 0x10, AVAIL, USED));
    w16(AVAIL + 2, 1);
    w16(AVAIL + 4, 0);
    assert_int_equal(vq_pop(&far, &io, &c), VQ_E_RING);
}

static void test_push_and_wrap(void **state)
{
    /* Free-running indexes across 65535 -> 0. */
    q.last_avail = q.used_idx = q.signalled_used = 65534;
    avail_idx = 65534;
    w16(AVAIL + 2, avail_idx);
    for (unsigned i = 0; i < 4; i++) {
        desc(DESC, i, BUFS + i * 64, 64, VQ_DESC_F_WRITE, 0);
        offer((uint16_t)i);
    }
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(vq_pop(&q, &io, &c), 1);
        assert_int_equal(c.head, i);
        assert_int_equal(vq_push(&q, &io, c.head, 10 + i), VQ_OK);
    }
    assert_int_equal(vq_pop(&q, &io, &c), 0);
    assert_int_equal(r16(USED + 2), (uint16_t)(65534 + 4));
    /* Slot of index 65534 is 65534 % 16 = 14, then 15, 0, 1. */
    assert_int_equal(r32(USED + 4 + 8 * 14), 0);
    assert_int_equal(r32(USED + 4 + 8 * 14 + 4), 10);
    assert_int_equal(r32(USED + 4 + 8 * 1), 3);
    assert_int_equal(r32(USED + 4 + 8 * 1 + 4), 13);
}

static void test_notify_suppression(void **state)
{
    assert_false(vq_should_notify(&q, &io));       /* nothing used yet */
    assert_int_equal(vq_push(&q, &io, 0, 0), VQ_OK);
    assert_true(vq_should_notify(&q, &io));
    assert_false(vq_should_notify(&q, &io));       /* already signalled */
    w16(AVAIL, VQ_AVAIL_F_NO_INTERRUPT);
    assert_int_equal(vq_push(&q, &io, 1, 0), VQ_OK);
    assert_false(vq_should_notify(&q, &io));
    w16(AVAIL, 0);
    assert_int_equal(vq_push(&q, &io, 2, 0), VQ_OK);
    assert_true(vq_should_notify(&q, &io));
}

/* ------------------------------------------- the model, as Linux drives it -- */

#define HOST_MEM (4u << 20)

struct ctx {
    struct dart *dart;
    uint8_t *mem;
    uint64_t iova, map_id;
    size_t brk;
    struct sim_device_host host;
    struct sim_device *dev;
    volatile uint8_t *bar;              /* the shared mapping of BAR0 */
    unsigned irqs[8];
    struct { uint8_t *desc, *avail, *used; uint16_t avail_idx, last_used; } q[2];
};

static int h_rd(void *o, uint64_t iova, void *buf, size_t len)
{
    return dart_read(((struct ctx *)o)->dart, iova, buf, len);
}

static int h_wr(void *o, uint64_t iova, const void *buf, size_t len)
{
    return dart_write(((struct ctx *)o)->dart, iova, buf, len);
}

static void h_irq(void *o, unsigned v)
{
    __atomic_add_fetch(&((struct ctx *)o)->irqs[v & 7], 1, __ATOMIC_RELAXED);
}

static void *alloc(struct ctx *x, size_t len, size_t align)
{
    x->brk = (x->brk + align - 1) & ~(align - 1);
    void *p = x->mem + x->brk;
    x->brk += len;
    assert_true(x->brk <= HOST_MEM);
    memset(p, 0, len);
    return p;
}

static uint64_t iova_of(struct ctx *x, const void *p)
{
    return x->iova + (uint64_t)((const uint8_t *)p - x->mem);
}

static struct ctx *ctx_new(const char *args)
{
    struct ctx *x = calloc(1, sizeof(*x));
    x->dart = dart_create(NULL);
    assert_int_equal(posix_memalign((void **)&x->mem, DART_PAGE_SIZE, HOST_MEM), 0);
    struct dart_segment s[DART_MAX_SEGMENTS];
    unsigned n;
    assert_int_equal(dart_map(x->dart, x->mem, HOST_MEM, s, DART_MAX_SEGMENTS, &n, &x->map_id), 0);
    x->iova = s[0].iova;
    x->host = (struct sim_device_host){ x, h_rd, h_wr, h_irq };
    char err[256] = "";
    x->dev = sim_virtio_net_create(args, &x->host, err, sizeof(err));
    if (!x->dev)
        fail_msg("create: %s", err);
    x->bar = x->dev->bars[0].mem;
    assert_int_equal(x->dev->ops->start(x->dev), 0);
    return x;
}

static void ctx_free(struct ctx *x)
{
    x->dev->ops->destroy(x->dev);
    dart_destroy(x->dart);
    free(x->mem);
    free(x);
}

static uint64_t rd(struct ctx *x, uint64_t off, unsigned w)
{
    return x->dev->ops->mmio_read(x->dev, 0, off, w);
}

static void wr(struct ctx *x, uint64_t off, unsigned w, uint64_t v)
{
    x->dev->ops->mmio_write(x->dev, 0, off, w, v);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_model_config_space(void **state)
{
    struct ctx *x = ctx_new(NULL);
    const struct sim_device_ops *o = x->dev->ops;
    struct sim_device *d = x->dev;
    assert_int_equal(o->config_read(d, 0, 4), 0x10411af4u);
    assert_true(o->config_read(d, 8, 1) >= 1);                      /* revision */
    assert_int_equal(o->config_read(d, 8, 4) >> 8, 0x020000);
    assert_int_equal(d->msix_vectors, 3);
    assert_int_equal(d->bars[0].size, VNET_BAR0_SIZE);
    assert_int_equal(d->bars[0].trapped_pages, 1);

    /* Walk the list: one capability of each virtio type, pointing into BAR0. */
    unsigned types = 0, ptr = o->config_read(d, 0x34, 1), hops = 0;
    while (ptr && hops++ < 48) {
        unsigned id = o->config_read(d, ptr, 1);
        if (id == 0x09) {
            unsigned type = o->config_read(d, ptr + 3, 1);
            uint32_t off = o->config_read(d, ptr + 8, 4), len = o->config_read(d, ptr + 12, 4);
            assert_int_equal(o->config_read(d, ptr + 4, 1), 0);     /* BAR0 */
            assert_true(type >= 1 && type <= 4);                   /* no PCI_CFG window */
            assert_true(off + len <= VNET_BAR0_SIZE);
            types |= 1u << type;
            if (type == 2) {
                assert_int_equal(o->config_read(d, ptr + 2, 1), 20);
                assert_int_equal(o->config_read(d, ptr + 16, 4), VNET_NOTIFY_MULT);
                assert_int_equal(off, VNET_NOTIFY_OFF);            /* the shared page */
            } else {
                assert_true(off < SIM_PAGE_SIZE);                   /* the trapped page */
            }
        } else if (id == 0x11) {
            assert_int_equal(o->config_read(d, ptr + 4, 4), VNET_MSIX_TABLE_OFF);
            assert_int_equal(o->config_read(d, ptr + 8, 4), VNET_MSIX_PBA_OFF);
        }
        ptr = o->config_read(d, ptr + 1, 1);
    }
    assert_int_equal(types, 0x1e);

    /* Device configuration: the MAC option. */
    ctx_free(x);
    x = ctx_new("mac=02:11:22:33:44:55,vectors=5");
    assert_int_equal(rd(x, VNET_DEVCFG_OFF, 1), 0x02);
    assert_int_equal(rd(x, VNET_DEVCFG_OFF + 5, 1), 0x55);
    assert_int_equal(x->dev->msix_vectors, 5);
    ctx_free(x);

    char err[128];
    struct sim_device_host h = { NULL, h_rd, h_wr, h_irq };
    assert_null(sim_virtio_net_create("queues=2", &h, err, sizeof(err)));
    assert_null(sim_virtio_net_create("mac=03:00:00:00:00:01", &h, err, sizeof(err)));
    assert_null(sim_virtio_net_create("vectors=0", &h, err, sizeof(err)));
    assert_null(sim_virtio_net_create("speed=10G", &h, err, sizeof(err)));
}

/* The feature dance of virtio_pci_modern: select, read, write, FEATURES_OK, read back. */
static bool negotiate(struct ctx *x, uint64_t features)
{
    wr(x, 0x14, 1, 0);
    wr(x, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(x, 0x08, 4, 0);
    wr(x, 0x0c, 4, (uint32_t)features);
    wr(x, 0x08, 4, 1);
    wr(x, 0x0c, 4, (uint32_t)(features >> 32));
    wr(x, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return rd(x, 0x14, 1) & VIRTIO_STATUS_FEATURES_OK;
}

static void test_model_features(void **state)
{
    struct ctx *x = ctx_new(NULL);
    wr(x, 0x00, 4, 0);
    assert_int_equal(rd(x, 0x04, 4), 1u << VIRTIO_NET_F_MAC);
    wr(x, 0x00, 4, 1);
    assert_int_equal(rd(x, 0x04, 4), 3u);          /* VERSION_1, ACCESS_PLATFORM */
    wr(x, 0x00, 4, 7);
    assert_int_equal(rd(x, 0x04, 4), 0);
    assert_int_equal(rd(x, 0x12, 2), 2);           /* num_queues */

    /* Without ACCESS_PLATFORM the driver would hand out guest-physical addresses. */
    assert_false(negotiate(x, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC));
    /* A feature the device never offered. */
    assert_false(negotiate(x, VNET_FEATURES | 1ull << 15));
    assert_true(negotiate(x, VNET_FEATURES));
    /* Features are fixed once accepted. */
    wr(x, 0x08, 4, 0);
    wr(x, 0x0c, 4, 0);
    assert_int_equal(rd(x, 0x0c, 4), 1u << VIRTIO_NET_F_MAC);

    /* Vectors: taken when in range, NO_VECTOR when not (how Linux detects refusal). */
    wr(x, 0x10, 2, 2);
    assert_int_equal(rd(x, 0x10, 2), 2);
    wr(x, 0x10, 2, 3);
    assert_int_equal(rd(x, 0x10, 2), VIRTIO_MSI_NO_VECTOR);
    wr(x, 0x16, 2, 1);
    wr(x, 0x1a, 2, 1);
    assert_int_equal(rd(x, 0x1a, 2), 1);
    assert_int_equal(rd(x, 0x1e, 2), 1);           /* queue_notify_off */
    assert_int_equal(rd(x, 0x18, 2), VNET_QUEUE_MAX);
    wr(x, 0x16, 2, 2);                              /* no such queue: size 0 */
    assert_int_equal(rd(x, 0x18, 2), 0);
    wr(x, 0x18, 2, 64);                             /* and writes go nowhere */

    /* Reset: status 0 clears everything. */
    wr(x, 0x14, 1, 0);
    assert_int_equal(rd(x, 0x14, 1), 0);
    assert_int_equal(rd(x, 0x10, 2), VIRTIO_MSI_NO_VECTOR);
    wr(x, 0x16, 2, 1);
    assert_int_equal(rd(x, 0x1a, 2), VIRTIO_MSI_NO_VECTOR);
    ctx_free(x);
}

static void queue_setup(struct ctx *x, unsigned qi, uint16_t size, uint16_t vector)
{
    x->q[qi].desc = alloc(x, 16u * size, 4096);
    x->q[qi].avail = alloc(x, 6u + 2u * size, 4096);
    x->q[qi].used = alloc(x, 6u + 8u * size, 4096);
    wr(x, 0x16, 2, qi);
    assert_int_equal(rd(x, 0x1c, 2), 0);
    wr(x, 0x18, 2, size);
    wr(x, 0x20, 4, (uint32_t)iova_of(x, x->q[qi].desc));
    wr(x, 0x24, 4, (uint32_t)(iova_of(x, x->q[qi].desc) >> 32));
    wr(x, 0x28, 8, iova_of(x, x->q[qi].avail));
    wr(x, 0x30, 8, iova_of(x, x->q[qi].used));
    wr(x, 0x1a, 2, vector);
    wr(x, 0x1c, 2, 1);
    assert_int_equal(rd(x, 0x1c, 2), 1);
}

static void bring_up(struct ctx *x)
{
    x->dev->ops->config_write(x->dev, 0x04, 2, 0x0006);        /* memory, bus master */
    assert_true(negotiate(x, VNET_FEATURES));
    wr(x, 0x10, 2, 2);
    queue_setup(x, VNET_RXQ, 64, 0);
    queue_setup(x, VNET_TXQ, 64, 1);
    wr(x, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void kick(struct ctx *x, unsigned qi)
{
    __atomic_store_n((volatile uint16_t *)(x->bar + VNET_NOTIFY_OFF + qi * VNET_NOTIFY_MULT),
                     (uint16_t)qi, __ATOMIC_RELEASE);
}

static void post(struct ctx *x, unsigned qi, uint16_t id, const void *buf, uint32_t len,
                 bool writable)
{
    uint8_t *d = x->q[qi].desc + 16u * id;
    uint64_t a = iova_of(x, buf);
    uint16_t flags = writable ? VQ_DESC_F_WRITE : 0, z = 0;
    memcpy(d, &a, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &z, 2);
    uint16_t slot = x->q[qi].avail_idx % 64;
    memcpy(x->q[qi].avail + 4 + 2 * slot, &id, 2);
    x->q[qi].avail_idx++;
    __atomic_store_n((uint16_t *)(x->q[qi].avail + 2), x->q[qi].avail_idx, __ATOMIC_RELEASE);
}

static uint16_t used_idx(struct ctx *x, unsigned qi)
{
    return __atomic_load_n((uint16_t *)(x->q[qi].used + 2), __ATOMIC_ACQUIRE);
}

static int wait_used(struct ctx *x, unsigned qi, uint16_t want)
{
    for (int i = 0; i < 3000; i++) {
        if (used_idx(x, qi) == want)
            return 0;
        sleep_ms(1);
    }
    return -1;
}

static uint32_t used_len(struct ctx *x, unsigned qi, uint16_t idx)
{
    uint32_t v;
    memcpy(&v, x->q[qi].used + 4 + 8 * (idx % 64) + 4, 4);
    return v;
}

static void stats(struct ctx *x, char *buf, size_t len)
{
    FILE *f = fmemopen(buf, len, "w");
    x->dev->ops->stats_json(x->dev, f);
    fclose(f);
}

static void test_model_loopback(void **state)
{
    struct ctx *x = ctx_new(NULL);
    bring_up(x);
    uint8_t *rx[8], *tx[8];
    for (unsigned i = 0; i < 8; i++) {
        rx[i] = alloc(x, VNET_HDR_LEN + 1514, 64);
        post(x, VNET_RXQ, (uint16_t)i, rx[i], VNET_HDR_LEN + 1514, true);
    }
    kick(x, VNET_RXQ);
    /* Frames of 60..1514 bytes, header first, as virtio_net pushes it. */
    static const unsigned sizes[8] = { 60, 61, 100, 512, 1000, 1499, 1513, 1514 };
    for (unsigned i = 0; i < 8; i++) {
        tx[i] = alloc(x, VNET_HDR_LEN + sizes[i], 64);
        for (unsigned b = 0; b < sizes[i]; b++)
            tx[i][VNET_HDR_LEN + b] = (uint8_t)(b * 7 + i);
        post(x, VNET_TXQ, (uint16_t)i, tx[i], VNET_HDR_LEN + sizes[i], false);
    }
    kick(x, VNET_TXQ);
    assert_int_equal(wait_used(x, VNET_TXQ, 8), 0);
    assert_int_equal(wait_used(x, VNET_RXQ, 8), 0);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(used_len(x, VNET_RXQ, (uint16_t)i), VNET_HDR_LEN + sizes[i]);
        assert_int_equal(used_len(x, VNET_TXQ, (uint16_t)i), 0);
        assert_int_equal(rx[i][10], 1);             /* num_buffers */
        assert_memory_equal(rx[i] + VNET_HDR_LEN, tx[i] + VNET_HDR_LEN, sizes[i]);
    }
    sleep_ms(20);
    assert_true(x->irqs[0] > 0 && x->irqs[1] > 0);

    /* No receive buffer left: the next frame waits on the ring, then goes. */
    post(x, VNET_TXQ, 0, tx[3], VNET_HDR_LEN + sizes[3], false);
    kick(x, VNET_TXQ);
    sleep_ms(30);
    assert_int_equal(used_idx(x, VNET_TXQ), 8);
    post(x, VNET_RXQ, 0, rx[0], VNET_HDR_LEN + 1514, true);
    kick(x, VNET_RXQ);
    assert_int_equal(wait_used(x, VNET_RXQ, 9), 0);
    assert_int_equal(wait_used(x, VNET_TXQ, 9), 0);
    assert_memory_equal(rx[0] + VNET_HDR_LEN, tx[3] + VNET_HDR_LEN, sizes[3]);

    /* Bad frames complete with nothing delivered: too short, too long. */
    post(x, VNET_TXQ, 1, tx[0], VNET_HDR_LEN + 10, false);
    post(x, VNET_TXQ, 2, tx[0], VNET_HDR_LEN + VNET_MAX_FRAME + 1, false);
    post(x, VNET_RXQ, 1, rx[1], VNET_HDR_LEN + 1514, true);
    kick(x, VNET_TXQ);
    assert_int_equal(wait_used(x, VNET_TXQ, 11), 0);
    assert_int_equal(used_idx(x, VNET_RXQ), 9);
    /* A transmit buffer at an IOVA nothing maps: a DART fault, counted; the
     * device goes on (and the receive buffer waits for the next frame). */
    post(x, VNET_TXQ, 3, tx[0], VNET_HDR_LEN + 100, false);
    uint64_t unmapped = x->iova + HOST_MEM + 0x100000;
    memcpy(x->q[VNET_TXQ].desc + 16 * 3, &unmapped, 8);
    kick(x, VNET_TXQ);
    assert_int_equal(wait_used(x, VNET_TXQ, 12), 0);
    assert_int_equal(used_idx(x, VNET_RXQ), 9);
    post(x, VNET_TXQ, 4, tx[7], VNET_HDR_LEN + sizes[7], false);
    kick(x, VNET_TXQ);
    assert_int_equal(wait_used(x, VNET_RXQ, 10), 0);
    /* A receive buffer too small for the next frame: dropped, buffer returned empty. */
    post(x, VNET_RXQ, 2, rx[2], 40, true);
    post(x, VNET_TXQ, 5, tx[7], VNET_HDR_LEN + sizes[7], false);
    kick(x, VNET_TXQ);
    assert_int_equal(wait_used(x, VNET_TXQ, 14), 0);
    assert_int_equal(wait_used(x, VNET_RXQ, 11), 0);
    assert_int_equal(used_len(x, VNET_RXQ, 10), 0);

    char js[4096];
    stats(x, js, sizeof(js));
    assert_non_null(strstr(js, "\"frames_tx\":11,"));
    assert_non_null(strstr(js, "\"frames_rx\":10,"));
    assert_non_null(strstr(js, "\"tx_errors\":3,"));
    assert_non_null(strstr(js, "\"rx_errors\":1,"));
    assert_non_null(strstr(js, "\"dma_faults\":1,"));
    assert_non_null(strstr(js, "\"ring_errors\":0,"));
    ctx_free(x);
}

static void test_model_hostile_ring(void **state)
{
    struct ctx *x = ctx_new(NULL);
    bring_up(x);
    /* An available index a thousand entries ahead of a 64-entry ring. */
    uint16_t bogus = 1000;
    __atomic_store_n((uint16_t *)(x->q[VNET_TXQ].avail + 2), bogus, __ATOMIC_RELEASE);
    kick(x, VNET_TXQ);
    for (int i = 0; i < 1000 && !(rd(x, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET); i++)
        sleep_ms(1);
    assert_true(rd(x, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
    assert_true(x->irqs[2] > 0);                   /* configuration change */
    /* The driver cannot clear it; a reset does, and the device works again. */
    wr(x, 0x14, 1, 0x0f);
    assert_true(rd(x, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
    x->brk = 0;
    memset(x->q, 0, sizeof(x->q));
    bring_up(x);
    assert_false(rd(x, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
    uint8_t *rx = alloc(x, 2048, 64), *tx = alloc(x, 2048, 64);
    post(x, VNET_RXQ, 0, rx, 2048, true);
    post(x, VNET_TXQ, 0, tx, VNET_HDR_LEN + 64, false);
    kick(x, VNET_TXQ);
    assert_int_equal(wait_used(x, VNET_RXQ, 1), 0);

    /* A queue enabled with a size that is not a power of two. */
    wr(x, 0x14, 1, 0);
    x->dev->ops->config_write(x->dev, 0x04, 2, 0x0006);
    assert_true(negotiate(x, VNET_FEATURES));
    wr(x, 0x16, 2, 0);
    wr(x, 0x18, 2, 100);
    wr(x, 0x20, 8, iova_of(x, rx));
    wr(x, 0x28, 8, iova_of(x, rx));
    wr(x, 0x30, 8, iova_of(x, rx));
    wr(x, 0x1c, 2, 1);
    assert_int_equal(rd(x, 0x1c, 2), 0);
    assert_true(rd(x, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);

    /* A power of two, but larger than the device offered. */
    wr(x, 0x14, 1, 0);
    assert_true(negotiate(x, VNET_FEATURES));
    wr(x, 0x16, 2, 0);
    wr(x, 0x18, 2, 2 * VNET_QUEUE_MAX);
    wr(x, 0x20, 8, iova_of(x, rx));
    wr(x, 0x28, 8, iova_of(x, rx));
    wr(x, 0x30, 8, iova_of(x, rx));
    wr(x, 0x1c, 2, 1);
    assert_int_equal(rd(x, 0x1c, 2), 0);
    assert_true(rd(x, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
    ctx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_enable_checks_layout, setup),
        cmocka_unit_test_setup(test_pop_empty_and_single, setup),
        cmocka_unit_test_setup(test_chain_read_then_write, setup),
        cmocka_unit_test_setup(test_hostile_chains, setup),
        cmocka_unit_test_setup(test_too_many_segments, setup),
        cmocka_unit_test_setup(test_broken_rings, setup),
        cmocka_unit_test_setup(test_push_and_wrap, setup),
        cmocka_unit_test_setup(test_notify_suppression, setup),
        cmocka_unit_test(test_model_config_space),
        cmocka_unit_test(test_model_features),
        cmocka_unit_test(test_model_loopback),
        cmocka_unit_test(test_model_hostile_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
