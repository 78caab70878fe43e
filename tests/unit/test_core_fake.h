/*
 * A fake platform for the dext core's unit tests and fuzzer: an in-memory
 * PCIe function (config space with MSI, MSI-X, PCIe, vendor-specific and
 * PM capabilities and a chain of extended ones, two BARs with the MSI-X
 * table and PBA in BAR0, a ROM) and a fake DART, recording everything the
 * core asks of it so tests can prove what did and did not reach the
 * "device".
 */
#ifndef TEST_CORE_FAKE_H
#define TEST_CORE_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../dext/core/core.h"

/*
 * Layout of the fake function's config space.  Standard list:
 * 0x40 MSI -> 0x60 MSI-X -> 0x70 PCIe -> 0xc8 PM -> 0xb0 vendor -> end.
 * Extended list: AER -> ACS -> LTR -> L1SS -> ReBAR -> SR-IOV -> VSEC ->
 * DVSEC -> an unknown ID -> end.
 */
#define FAKE_MSI_CAP    0x40    /* 64-bit, per-vector masking: 24 bytes */
#define FAKE_MSIX_CAP   0x60
#define FAKE_PCIE_CAP   0x70
#define FAKE_VNDR_CAP   0xb0    /* 16 bytes */
#define FAKE_VNDR_LEN   16u
#define FAKE_PM_CAP     0xc8    /* D1 supported, D2 not */
#define FAKE_AER_CAP    0x100
#define FAKE_ACS_CAP    0x148
#define FAKE_LTR_CAP    0x150
#define FAKE_L1SS_CAP   0x158
#define FAKE_REBAR_CAP  0x168
#define FAKE_SRIOV_CAP  0x180
#define FAKE_VSEC_CAP   0x1c0   /* VSEC ID FAKE_VSEC_ID, 0x18 bytes */
#define FAKE_VSEC_ID    0x1234u
#define FAKE_VSEC_LEN   0x18u
#define FAKE_DVSEC_CAP  0x1e0   /* DVSEC ID FAKE_DVSEC_ID, 0x10 bytes */
#define FAKE_DVSEC_ID   0x0042u
#define FAKE_UNK_CAP    0x200   /* extended ID 0x7777: nobody knows it */
#define FAKE_MSIX_TABLE 0x6000u /* in BAR0, trapped page 1 */
#define FAKE_MSIX_PBA   0x7000u
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

    /* MMIO that reached the device. */
    struct fake_mmio {
        unsigned bar;
        uint64_t off;
        unsigned width;
        bool write;
    } mmio[256];
    unsigned nmmio;

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
    bool session_sets_mse;      /* session_begin sets memory space, as the
                                   macOS shell does (default on) */
    uint32_t config_size;       /* get_info's (default 4096) */
    const struct vfa_quirk *quirks;     /* passed to the core on creation */
    unsigned nquirks;
    unsigned platform_calls;    /* any op at all (for "nothing reached") */
};

/* Sets up the fake and a core on it with the given budget (0: defaults). */
void fake_init(struct fake *f, uint64_t budget, uint32_t max_maps);
struct vfa_core *fake_core(struct fake *f, uint64_t budget, uint32_t max_maps);
void fake_fini(struct fake *f);
/* Destroys the core and creates a new one over the fake's current config
 * space (after a test reshaped it); NULL on failure. */
struct vfa_core *fake_recreate(struct fake *f);

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
/* Did any MMIO (write, or read) reach BAR bar's [off, off+len)? */
bool fake_mmio_hit(const struct fake *f, unsigned bar, uint64_t off, uint64_t len, bool write);

/* Little-endian stores into the fake's config space. */
void fake_put16(struct fake *f, uint32_t off, uint16_t v);
void fake_put32(struct fake *f, uint32_t off, uint32_t v);
/* An extended capability header. */
void fake_put_ext(struct fake *f, uint32_t off, uint16_t id, uint8_t ver, uint32_t next);

#endif
