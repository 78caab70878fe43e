/*
 * libFuzzer target for the dext core's method dispatcher.
 *
 * The input is a program of operations against one core over the fake
 * platform: method calls from three clients (the owner, an intruder, the
 * anonymous client 0) with arbitrary selectors, scalar counts, scalar
 * values and struct capacities; memory-type mapping; interrupts; a client
 * dying; the device vanishing.  The fake platform aborts whenever the core
 * hands it something it promised to have validated (out-of-range config
 * or MMIO access, bad width, completing an unknown DMA cookie), and after
 * every step the core's bookkeeping must agree with the fake DART.  At the
 * end the core is destroyed and must have released every mapping.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_core_fake.h"

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t u64(struct reader *r)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

/* Mostly small values (the interesting edges), sometimes anything. */
static uint64_t scalar(struct reader *r)
{
    uint8_t k = u8(r);

    switch (k >> 6) {
    case 0: return k & 0x3f;                            /* 0..63 */
    case 1: return (uint64_t)u8(r) << ((k & 7) * 4);    /* shifted byte */
    case 2: return ~(uint64_t)(k & 0x3f);               /* near 2^64 */
    default: return u64(r);
    }
}

static const uint64_t clients[3] = { 0x1111, 0x2222, 0 };

static void check(struct fake *f)
{
    struct vfa_stats s;

    vfa_core_get_stats(f->core, &s);
    if (s.dma_live_mappings != f->live)
        abort();
    if (s.dma_mapped_bytes > s.dma_peak_mapped_bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake f;
    static uint8_t sbuf[VFA_MAX_STRUCT + 64];
    struct reader r = { data, size };
    uint8_t cfg = u8(&r);

    /* Small budgets sometimes, so both limits get hit. */
    fake_init(&f, cfg & 1 ? 8 * VFA_PAGE_SIZE : 0, cfg & 2 ? 4 : 0);
    f.fragment = (cfg >> 2) & 0x3f;
    if (!f.core)
        abort();

    for (int steps = 0; r.n && steps < 256; steps++) {
        uint8_t op = u8(&r);
        uint64_t client = clients[(op >> 4) % 3];

        switch (op & 0xf) {
        default: {                      /* a method call */
            uint64_t in[VFA_MAX_SCALARS + 2], out[VFA_MAX_SCALARS];
            uint8_t sel = u8(&r);
            uint8_t nin = u8(&r) % (VFA_MAX_SCALARS + 2);
            uint32_t cap = (uint32_t)u8(&r) << 5;       /* 0..8160 */
            uint8_t nout = u8(&r) % (VFA_MAX_SCALARS + 1);

            for (unsigned i = 0; i < nin; i++)
                in[i] = scalar(&r);
            if (cap > sizeof(sbuf))
                cap = sizeof(sbuf);
            struct vfa_call c = {
                .selector = sel % (VFA_SEL_COUNT + 2),
                .nscalars_in = nin,
                .scalars_in = in,
                .nscalars_out = nout,
                .scalars_out = out,
                .struct_out = sbuf,
                .struct_out_len = cap,
            };
            uint32_t rc = vfa_core_dispatch(f.core, client, &c);
            if (rc && (c.nscalars_out || c.struct_out_len))
                abort();        /* failures return nothing */
            if (!rc && c.struct_out_len > cap)
                abort();
            break;
        }
        case 1: {
            void *h;
            uint64_t sz;

            vfa_core_map_memory(f.core, client, u8(&r) % 20, &h, &sz);
            break;
        }
        case 2:
        case 3:
            vfa_core_irq(f.core, u8(&r) | (op & 1 ? 0 : 0x100u));
            break;
        case 4:
            vfa_core_client_gone(f.core, client);
            if (client && vfa_core_session_owner(f.core) == client)
                abort();
            break;
        case 5:
            if (u8(&r) == 0xa5)
                vfa_core_device_gone(f.core);
            break;
        case 6:
            f.flr_fails = u8(&r) & 1;
            f.prepare_fails = u8(&r) == 0x5a;
            break;
        }
        check(&f);
    }
    fake_fini(&f);
    if (f.live != 0 || f.irq_page != NULL || f.pages_alloc != f.pages_free)
        abort();
    return 0;
}
