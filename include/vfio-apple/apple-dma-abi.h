/*
 * apple-dma-pci companion device ABI: the one definition of what the guest
 * (the apple_dma Linux module, test tools) and QEMU (hw/vfio-apple/
 * apple-dma.c) share.  Both include this header; neither re-declares it.
 *
 * What it is for.  Apple's DART chooses every DMA address (IOVA) itself and
 * maps at most a budget (about 1.5 GiB, 65,536 mappings).  A guest whose
 * RAM is larger cannot be given all of it as one window, and GPU drivers
 * cannot be bounced.  The companion lets the guest ask the host for real
 * IOVAs of whatever pages its driver picked:
 *
 *   - a *window* of guest RAM mapped for the VM's life: GPA
 *     [window_gpa, window_gpa + window_size) is IOVA window_iova + offset,
 *     arithmetic, no exit;
 *   - the rest of guest RAM is mapped on demand in *chunks* of
 *     1 << chunk_shift bytes (aligned to RAM base), each one DART mapping;
 *   - a *translation table* in guest RAM, one 64-bit word per chunk, that
 *     the host fills when it maps a chunk: a guest that finds a chunk
 *     VALID takes a pin on it with one compare-and-swap and uses its IOVA
 *     with no exit at all; dropping the pin is one atomic subtract (a lazy
 *     unmap: the host evicts unpinned chunks only when the budget is
 *     tight, CLOCK order from the ACCESSED bit);
 *   - a *submission ring* and a *completion ring* in guest RAM for what the
 *     table cannot answer (a chunk not mapped yet, a range across chunks
 *     whose IOVAs are not contiguous: a "span" mapping of exactly its
 *     pages), processed by a host thread off the vCPU.  The guest writes a
 *     batch of entries, publishes sq_tail once and rings the doorbell only
 *     if the host said it is idle (ADMA_HOST_IDLE), so a busy guest causes
 *     a small fraction of an exit per map.
 *
 * PCI identity: vendor 0x1b36 (Red Hat, QEMU's), device 0x0015, the ID the
 * RFC proposed.  It is TENTATIVE: not allocated in QEMU's docs/specs/pci-ids
 * yet; a guest must also check ADMA_REG_MAGIC.
 *
 * Layout rules: all fields little-endian (both hosts and the guest are),
 * explicit padding, sizes checked below.  Registers are in BAR 0 (MMIO,
 * 32-bit accesses; 64-bit registers are two 32-bit halves, low first).
 *
 * Versioning, like the dext ABI: ADMA_ABI_MAJOR changes only on an
 * incompatible change (the guest refuses another major); a minor bump only
 * adds registers, opcodes, status codes and feature bits.  A guest uses a
 * feature only if the host offers it and the guest wrote it back to
 * ADMA_REG_GUEST_FEATURES before ADMA_CTRL_ENABLE.
 *
 * Trust: QEMU treats everything the guest writes here (registers, ring
 * entries, ring indexes, translation-table words) as hostile and bounds it
 * where it is used.  The guest trusts the host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef VFIO_APPLE_APPLE_DMA_ABI_H
#define VFIO_APPLE_APPLE_DMA_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
typedef u8 adma_u8;
typedef u16 adma_u16;
typedef u32 adma_u32;
typedef u64 adma_u64;
#else
#include <stdint.h>
typedef uint8_t adma_u8;
typedef uint16_t adma_u16;
typedef uint32_t adma_u32;
typedef uint64_t adma_u64;
#endif

#define ADMA_PCI_VENDOR_ID      0x1b36
#define ADMA_PCI_DEVICE_ID      0x0015  /* tentative, see above */
#define ADMA_PCI_CLASS          0x088000 /* system peripheral, other */

#define ADMA_ABI_MAJOR          1u
#define ADMA_ABI_MINOR          0u
#define ADMA_MAGIC              0x414d4441u /* "ADMA" */

/* The DART page: every mapping covers whole ones. */
#define ADMA_PAGE_SHIFT         14u
#define ADMA_PAGE_SIZE          (1u << ADMA_PAGE_SHIFT)

#define ADMA_BAR                0
#define ADMA_BAR_SIZE           0x1000u
#define ADMA_MSIX_VECTOR        0       /* completions */

/* ---- Registers (BAR 0). RO: read-only; WO: write-only; RW. ---- */
enum adma_reg {
    ADMA_REG_MAGIC          = 0x000, /* RO ADMA_MAGIC */
    ADMA_REG_VERSION        = 0x004, /* RO major << 16 | minor */
    ADMA_REG_FEATURES       = 0x008, /* RO 64: ADMA_F_* the host offers */
    ADMA_REG_GUEST_FEATURES = 0x010, /* RW 64: ADMA_F_* the guest uses */
    ADMA_REG_STATUS         = 0x018, /* RO ADMA_STATUS_* */
    ADMA_REG_CONTROL        = 0x01c, /* WO ADMA_CTRL_* */
    ADMA_REG_SETUP_ERROR    = 0x020, /* RO why ENABLE failed (adma_status) */
    ADMA_REG_NUM_DEVICES    = 0x024, /* RO passthrough functions served */
    ADMA_REG_DEVICE0        = 0x028, /* RO per function: ADMA_DEVICE_* */
    /* ... ADMA_MAX_DEVICES words */
    ADMA_REG_WINDOW_GPA     = 0x048, /* RO 64 */
    ADMA_REG_WINDOW_SIZE    = 0x050, /* RO 64, 0: no window */
    ADMA_REG_WINDOW_IOVA    = 0x058, /* RO 64 */
    ADMA_REG_RAM_GPA        = 0x060, /* RO 64: what chunks cover */
    ADMA_REG_RAM_SIZE       = 0x068, /* RO 64 */
    ADMA_REG_CHUNK_SHIFT    = 0x070, /* RO log2 of the chunk size */
    ADMA_REG_MAX_MAP        = 0x074, /* RO largest length of one MAP */
    ADMA_REG_RING_MAX       = 0x078, /* RO largest ring (entries) */
    ADMA_REG_BUDGET_MAPS    = 0x07c, /* RO DART mappings allowed */
    ADMA_REG_BUDGET_BYTES   = 0x080, /* RO 64: DART bytes allowed */
    ADMA_REG_USED_BYTES     = 0x088, /* RO 64: mapped now (window too) */
    ADMA_REG_USED_MAPS      = 0x090, /* RO mappings now */
    ADMA_REG_RING_ENTRIES   = 0x094, /* RW power of two <= RING_MAX */
    ADMA_REG_RING_GPA       = 0x098, /* RW 64: struct adma_ring_area */
    ADMA_REG_TT_GPA         = 0x0a0, /* RW 64: adma_tt_word[tt_entries] */
    ADMA_REG_TT_ENTRIES     = 0x0a8, /* RW >= RAM_SIZE >> CHUNK_SHIFT */
    ADMA_REG_DOORBELL       = 0x0ac, /* WO any value: entries are ready */
};
#define ADMA_MAX_DEVICES        8u

/* ADMA_REG_DEVICE0 + 4 * i: the guest's PCI address of a served function. */
#define ADMA_DEVICE_VALID       (1u << 31)
#define ADMA_DEVICE_BUS(w)      (((w) >> 8) & 0xffu)
#define ADMA_DEVICE_DEVFN(w)    ((w) & 0xffu)

/* Features. */
#define ADMA_F_TT               (1ull << 0) /* translation table, lazy unmap */
#define ADMA_F_MSIX             (1ull << 1) /* completion interrupt */
#define ADMA_F_EVENT_IDX        (1ull << 2) /* ADMA_HOST_IDLE is meaningful */

#define ADMA_STATUS_ENABLED     (1u << 0)
#define ADMA_STATUS_FAILED      (1u << 1) /* see ADMA_REG_SETUP_ERROR */
#define ADMA_STATUS_SYNC        (1u << 2) /* sync-baseline host: kick each */
#define ADMA_STATUS_BUSY        (1u << 3) /* a RESET is being carried out */

#define ADMA_CTRL_ENABLE        (1u << 0) /* rings and table set: go */
/*
 * Stop processing, forget the rings and every pin the guest held: chunks
 * and spans are unmapped (the window stays).  The guest must have stopped
 * every DMA of the devices it serves first.
 */
#define ADMA_CTRL_RESET         (1u << 1)

/* ---- Translation table: one word per chunk, index (gpa - ram) >> shift. */
typedef adma_u64 adma_tt_word;

#define ADMA_TT_VALID           (1ull << 63) /* host: the IOVA is mapped */
#define ADMA_TT_ACCESSED        (1ull << 62) /* guest: used since last scan */
#define ADMA_TT_PIN_SHIFT       40
#define ADMA_TT_PIN_ONE         (1ull << ADMA_TT_PIN_SHIFT)
#define ADMA_TT_PIN_MASK        (0x3fffffull << ADMA_TT_PIN_SHIFT) /* 22 bits */
#define ADMA_TT_PIN_MAX         0x3fffffull
#define ADMA_TT_IOVA_MASK       ((1ull << ADMA_TT_PIN_SHIFT) - 1)
/* IOVA of the chunk's first byte (pages of 16 KiB, up to 2^54). */
#define ADMA_TT_IOVA(w)         (((w) & ADMA_TT_IOVA_MASK) << ADMA_PAGE_SHIFT)
#define ADMA_TT_PINS(w)         (((w) & ADMA_TT_PIN_MASK) >> ADMA_TT_PIN_SHIFT)
/*
 * Protocol.  Guest pin: cmpxchg(w, w + PIN_ONE | ACCESSED) while VALID and
 * PINS < PIN_MAX.  Guest unpin: atomic subtract PIN_ONE.  Host evict:
 * cmpxchg(w, 0) from a word that is VALID with no pins (so a racing pin
 * either happened first and stops the eviction, or fails and goes to the
 * ring).  Host map: store VALID | iova (plus the pins an ADMA_OP_MAP took
 * for the guest).  The guest writes nothing else.
 */

/* ---- Rings. ---- */
enum adma_op {
    ADMA_OP_MAP   = 1, /* addr: GPA, len: bytes; out: iova, handle */
    ADMA_OP_UNMAP = 2, /* addr: a handle an earlier MAP returned */
    ADMA_OP_FLUSH = 3, /* unmap every chunk the guest holds no pin on */
    ADMA_OP_QUERY = 4, /* out: iova = used bytes, handle = used maps */
};

enum adma_dir {
    ADMA_DIR_TO_DEVICE   = 1,
    ADMA_DIR_FROM_DEVICE = 2,
    ADMA_DIR_BIDI        = 3,
};

/* MAP flags. */
#define ADMA_MAP_PIN            (1u << 0) /* take a pin for the guest */

struct adma_sqe {
    adma_u8  op;        /* enum adma_op */
    adma_u8  dir;       /* enum adma_dir (MAP) */
    adma_u16 flags;     /* ADMA_MAP_* */
    adma_u32 rsvd;      /* 0 */
    adma_u64 tag;       /* the guest's, echoed in the completion */
    adma_u64 addr;
    adma_u64 len;
};

enum adma_status {
    ADMA_S_OK        = 0,
    ADMA_S_INVAL     = 1, /* bad opcode, direction, flags or length */
    ADMA_S_NOT_RAM   = 2, /* GPA range is not (all) guest RAM */
    ADMA_S_NO_SPACE  = 3, /* budget: bytes or mappings, nothing evictable */
    ADMA_S_HANDLE    = 4, /* unknown handle */
    ADMA_S_HOST      = 5, /* the dext refused or is unreachable */
    ADMA_S_FRAGMENT  = 6, /* the DART returned several segments */
    ADMA_S_PIN_MAX   = 7, /* too many pins on a chunk */
    ADMA_S_RING      = 8, /* setup: ring or table not in RAM, bad size */
};

/* MAP result handle: 0 for chunk pins (released through the table). */
#define ADMA_HANDLE_NONE        0ull

struct adma_cqe {
    adma_u64 tag;
    adma_u32 status;    /* enum adma_status */
    adma_u32 rsvd;
    adma_u64 iova;      /* MAP: IOVA of addr */
    adma_u64 handle;    /* MAP: span handle or ADMA_HANDLE_NONE */
};

/*
 * Ring indexes are free-running 32-bit counters; entry i lives at
 * i & (ring_entries - 1).  The guest writes the first cache line, the host
 * the second: each side's writes stay on its own line.
 */
#define ADMA_HOST_IDLE          (1u << 0) /* host sleeps: ring the doorbell */
#define ADMA_GUEST_NO_IRQ       (1u << 0) /* guest polls: no MSI-X needed */

struct adma_ring_ctl {
    /* written by the guest */
    adma_u32 sq_tail;
    adma_u32 cq_head;
    adma_u32 guest_flags;       /* ADMA_GUEST_* */
    adma_u32 rsvd0;
    /* guest counters, for the host's report (QMP); never trusted */
    adma_u64 guest_hits;        /* maps answered by window or table */
    adma_u64 guest_misses;      /* maps that went to the ring */
    adma_u64 guest_errors;      /* DMA_MAPPING_ERROR returned */
    adma_u8  pad0[64 - 40];
    /* written by the host */
    adma_u32 sq_head;
    adma_u32 cq_tail;
    adma_u32 host_flags;        /* ADMA_HOST_* */
    adma_u32 rsvd1;
    adma_u8  pad1[64 - 16];
};

/*
 * The ring area at ADMA_REG_RING_GPA: the control block, then the
 * submission ring at ADMA_RING_SQ_OFFSET, then the completion ring; the
 * whole area in guest RAM, 4 KiB aligned.
 */
#define ADMA_RING_SQ_OFFSET     4096u
#define ADMA_RING_CQ_OFFSET(n)  (ADMA_RING_SQ_OFFSET + (n) * 32u)
#define ADMA_RING_AREA_SIZE(n)  (ADMA_RING_SQ_OFFSET + (n) * 64u)

_Static_assert(sizeof(struct adma_sqe) == 32, "adma_sqe layout");
_Static_assert(sizeof(struct adma_cqe) == 32, "adma_cqe layout");
_Static_assert(sizeof(struct adma_ring_ctl) == 128, "adma_ring_ctl layout");
_Static_assert(sizeof(adma_tt_word) == 8, "adma_tt_word layout");
_Static_assert(ADMA_RING_CQ_OFFSET(1) - ADMA_RING_SQ_OFFSET ==
               sizeof(struct adma_sqe), "ring area layout");
_Static_assert(ADMA_REG_DEVICE0 + 4 * ADMA_MAX_DEVICES <= ADMA_REG_WINDOW_GPA,
               "device list overlaps the window registers");
_Static_assert(ADMA_REG_DOORBELL < ADMA_BAR_SIZE, "registers fit BAR 0");

#endif
