/*
 * A fake platform for the dext core's unit tests and fuzzer: an in-memory
 * PCIe function (config space with MSI, MSI-X and PCIe capabilities, two
 * BARs, a ROM) and a fake DART, recording everything the core asks of it
 * so tests can prove what did and did not reach the "device".
 */
#ifndef TEST_CORE_FAKE_H
#define TEST_CORE_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../dext/core/core.h"

/* Layout of the fake function's config space. */
#define FAKE_MSI_CAP    0x40    /* 64-bit, per-vector masking: 24 bytes */
#define FAKE_MSIX_CAP   0x60
#define FAKE_PCIE_CAP   0x70
#define FAKE_BAR0_SIZE  (64u * 1024)    /* 64-bit, mappable, page 1 trapped */
#define FAKE_BAR2_SIZE  (16u * 1024)    /* 32-bit, prefetchable, not mappable */
#define FAKE_ROM_SIZE   8192u
#define FAKE_MSIX_VECS  8u
#define FAKE_MSI_VECS   4u
#define FAKE_MAX_LIVE   4096u

struct fake_write {
    uint32_t off;
    unsigned width;
    uint32_t val;
};

struct fake {
    struct vfa_core *core;
    struct vfa_platform_ops ops;
    uint8_t cfg[4096];
    uint8_t bar0[FAKE_BAR0_SIZE], bar2[FAKE_BAR2_SIZE];
    uint8_t rom[FAKE_ROM_SIZE];

    struct fake_write writes[256];
    unsigned nwrites;

    /* reset */
    uint32_t reset_methods;     /* what get_info offers */
    bool flr_fails, hot_fails;
    unsigned flr_count, hot_count;

    /* irq */
    uint32_t irq_type, irq_count;
    unsigned irq_setup_calls;
    unsigned notifies;

    /* DART */
    unsigned fragment;          /* segments per map (>=1) */
    bool prepare_fails;
    bool prepare_bad_segments;  /* return inconsistent segments */
    uint64_t next_iova;
    uint64_t live_cookies[FAKE_MAX_LIVE];
    unsigned live;
    unsigned prepares, completes;
    uint64_t last_client;

    /* sessions */
    unsigned begins, ends;
    bool begin_fails;
    void *irq_page;
    unsigned pages_alloc, pages_free;
    bool page_alloc_fails;

    bool info_fails;
    bool no_rom;
    bool no_msix;
    unsigned platform_calls;    /* any op at all (for "nothing reached") */
};

/* Sets up the fake and a core on it with the given budget (0: defaults). */
void fake_init(struct fake *f, uint64_t budget, uint32_t max_maps);
struct vfa_core *fake_core(struct fake *f, uint64_t budget, uint32_t max_maps);
void fake_fini(struct fake *f);

/*
 * cmocka fixtures (test_core_fixture.c): a heap fake with a core (budget 0: defaults); when
 * `client` is not 0 it already holds the session.  fake_teardown destroys
 * the core and checks it released every DMA mapping.
 */
struct fake *fake_new(uint64_t budget, uint32_t max_maps, uint64_t client);
int fake_teardown(void **state);

/* Calls a method with scalars; out gets up to 16 scalars. */
uint32_t fake_call(struct fake *f, uint64_t client, uint32_t sel, unsigned nin,
                   const uint64_t *in, uint64_t *out, void *sout, uint32_t *soutlen);

#define CALLN(f, client, sel, out, ...) \
    fake_call((f), (client), (sel), sizeof((uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t), \
              (uint64_t[]){ __VA_ARGS__ }, (out), NULL, NULL)
#define CALL0(f, client, sel, out) fake_call((f), (client), (sel), 0, NULL, (out), NULL, NULL)

/* Was anything written to config bytes [off, off+len)? */
bool fake_wrote(const struct fake *f, uint32_t off, uint32_t len);

#endif
