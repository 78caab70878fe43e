/*
 * Split virtqueue, device side: see virtio-vq.h.  Layouts from the virtio
 * 1.2 specification, section 2.7:
 *
 *   descriptor table  16 bytes per entry: le64 addr, le32 len, le16 flags, le16 next
 *   available ring    le16 flags, le16 idx, le16 ring[size] (then used_event)
 *   used ring         le16 flags, le16 idx, {le32 id, le32 len} ring[size]
 *
 * Indexes are free-running 16-bit counters; ring slots are index mod size.
 * Ordering: the driver writes ring entries before the index, so the index
 * is read first and everything it covers after an acquire fence; the
 * device writes used entries before the used index, with a release fence
 * between (the DMA callbacks are plain copies into shared memory).
 */
#include "virtio-vq.h"

#include <endian.h>
#include <string.h>

#define DESC_SIZE       16u
#define AVAIL_IDX       2u
#define AVAIL_RING      4u
#define USED_IDX        2u
#define USED_RING       4u
#define USED_ELEM_SIZE  8u

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

static bool span_ok(uint64_t addr, uint64_t len, uint64_t align)
{
    return addr && !(addr & (align - 1)) && addr + len > addr;
}

bool vq_enable(struct vq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
    vq_disable(q);
    /* A split ring's size is a power of two up to 32768 (section 2.7). */
    if (!size || (size & (size - 1)) || size > VQ_MAX_SIZE)
        return false;
    /* Alignment from section 2.7: 16, 2 and 4 bytes; no ring may wrap. */
    if (!span_ok(desc, (uint64_t)DESC_SIZE * size, 16) ||
        !span_ok(avail, AVAIL_RING + 2ull * size + 2, 2) ||
        !span_ok(used, USED_RING + (uint64_t)USED_ELEM_SIZE * size + 2, 4))
        return false;
    *q = (struct vq){ .ready = true, .size = size, .desc = desc, .avail = avail, .used = used };
    return true;
}

void vq_disable(struct vq *q)
{
    *q = (struct vq){ 0 };
}

static int rd16(const struct vq_io *io, uint64_t addr, uint16_t *v)
{
    uint16_t le;
    if (io->read(io->opaque, addr, &le, sizeof(le)))
        return -1;
    *v = le16toh(le);
    return 0;
}

int vq_avail(struct vq *q, const struct vq_io *io, uint16_t *n)
{
    uint16_t idx;

    *n = 0;
    if (!q->ready)
        return VQ_OK;
    if (rd16(io, q->avail + AVAIL_IDX, &idx))
        return VQ_E_RING;
    /* More than a ring's worth outstanding: the index is garbage. */
    if ((uint16_t)(idx - q->last_avail) > q->size)
        return VQ_E_RING;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    *n = (uint16_t)(idx - q->last_avail);
    return VQ_OK;
}

static int chain_fail(struct vq_chain *c, const char *why)
{
    c->why = why;
    return VQ_E_CHAIN;
}

/* Walks the chain starting at c->head (already checked against the size). */
static int walk(struct vq *q, const struct vq_io *io, struct vq_chain *c)
{
    uint16_t i = c->head;

    for (;;) {
        struct vq_desc d;
        uint8_t raw[DESC_SIZE];

        /* A chain longer than the table must revisit an entry: a loop. */
        if (c->ndesc >= q->size)
            return chain_fail(c, "descriptor loop");
        if (io->read(io->opaque, q->desc + (uint64_t)i * DESC_SIZE, raw, sizeof(raw))) {
            c->why = "descriptor table unreadable";
            return VQ_E_RING;
        }
        memcpy(&d.addr, raw, 8);
        memcpy(&d.len, raw + 8, 4);
        memcpy(&d.flags, raw + 12, 2);
        memcpy(&d.next, raw + 14, 2);
        d.addr = le64toh(d.addr);
        d.len = le32toh(d.len);
        d.flags = le16toh(d.flags);
        d.next = le16toh(d.next);
        c->ndesc++;

        /* Not negotiated (the device does not offer VIRTIO_F_INDIRECT_DESC). */
        if (d.flags & VQ_DESC_F_INDIRECT)
            return chain_fail(c, "indirect descriptor");
        if (d.len) {
            bool w = d.flags & VQ_DESC_F_WRITE;
            uint32_t *total = w ? &c->write_bytes : &c->read_bytes;

            /* Section 2.7.4.2: readable descriptors come before writable ones. */
            if (!w && c->nwrite)
                return chain_fail(c, "readable descriptor after a writable one");
            if (c->nread + c->nwrite == VQ_MAX_SEGS)
                return chain_fail(c, "too many descriptors");
            if (d.addr + d.len < d.addr)
                return chain_fail(c, "buffer wraps the address space");
            if (d.len > VQ_MAX_CHAIN_BYTES - *total)
                return chain_fail(c, "chain too long in bytes");
            *total += d.len;
            c->seg[c->nread + c->nwrite] = (struct vq_seg){ d.addr, d.len };
            if (w)
                c->nwrite++;
            else
                c->nread++;
        }
        if (!(d.flags & VQ_DESC_F_NEXT))
            return 1;
        if (d.next >= q->size)
            return chain_fail(c, "next index out of range");
        i = d.next;
    }
}

int vq_pop(struct vq *q, const struct vq_io *io, struct vq_chain *c)
{
    uint16_t n, head;
    int r;

    c->head = 0;
    c->ndesc = 0;
    c->nread = c->nwrite = 0;
    c->read_bytes = c->write_bytes = 0;
    c->why = NULL;
    if ((r = vq_avail(q, io, &n)) < 0) {
        c->why = "available index out of range or unreadable";
        return r;
    }
    if (!n)
        return 0;
    if (rd16(io, q->avail + AVAIL_RING + 2ull * (q->last_avail & (q->size - 1)), &head)) {
        c->why = "available ring unreadable";
        return VQ_E_RING;
    }
    /* A head we could not even return on the used ring. */
    if (head >= q->size) {
        c->why = "head index out of range";
        return VQ_E_RING;
    }
    q->last_avail++;
    c->head = head;
    return walk(q, io, c);
}

int vq_push(struct vq *q, const struct vq_io *io, uint16_t head, uint32_t len)
{
    uint32_t elem[2] = { htole32(head), htole32(len) };
    uint16_t idx;

    if (!q->ready)
        return VQ_E_RING;
    if (io->write(io->opaque, q->used + USED_RING +
                  (uint64_t)USED_ELEM_SIZE * (q->used_idx & (q->size - 1)), elem, sizeof(elem)))
        return VQ_E_RING;
    /* The driver may take the entry as soon as it sees the index move. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    q->used_idx++;
    idx = htole16(q->used_idx);
    if (io->write(io->opaque, q->used + USED_IDX, &idx, sizeof(idx)))
        return VQ_E_RING;
    return VQ_OK;
}

bool vq_should_notify(struct vq *q, const struct vq_io *io)
{
    uint16_t flags;

    if (!q->ready || q->used_idx == q->signalled_used)
        return false;
    q->signalled_used = q->used_idx;
    /*
     * The used index must be visible before the flags are read: a driver
     * re-enabling interrupts clears the flag and then rechecks the used
     * index, so one of the two sides always sees the other's write.
     */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (rd16(io, q->avail, &flags))
        return true;
    return !(flags & VQ_AVAIL_F_NO_INTERRUPT);
}

int vq_chain_read(const struct vq_io *io, const struct vq_chain *c, uint32_t off, void *buf,
                  uint32_t len)
{
    uint8_t *p = buf;

    for (unsigned i = 0; i < c->nread && len; i++) {
        const struct vq_seg *s = &c->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        uint32_t n = s->len - off < len ? s->len - off : len;
        int r = io->read(io->opaque, s->addr + off, p, n);
        if (r)
            return r;
        p += n;
        len -= n;
        off = 0;
    }
    return 0;
}

int vq_chain_write(const struct vq_io *io, const struct vq_chain *c, const void *buf,
                   uint32_t len)
{
    const uint8_t *p = buf;

    for (unsigned i = c->nread; i < c->nread + c->nwrite && len; i++) {
        const struct vq_seg *s = &c->seg[i];
        uint32_t n = s->len < len ? s->len : len;
        int r = io->write(io->opaque, s->addr, p, n);
        if (r)
            return r;
        p += n;
        len -= n;
    }
    return 0;
}
