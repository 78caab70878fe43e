/*
 * vfio-apple dext wire ABI: the one definition of the method table between
 * a client (QEMU, test tools) and the dext (the DriverKit extension on
 * macOS, vfio-apple-sim on Linux).  Every side includes this header; no side
 * re-declares any of it.
 *
 * Shape.  Every method fits IOConnectCallMethod unchanged:
 *   - a selector (enum vfa_selector);
 *   - at most VFA_MAX_SCALARS (16) uint64_t scalar inputs and outputs;
 *   - a struct input and a struct output of at most VFA_MAX_STRUCT (4096)
 *     bytes each (larger ones would arrive as memory descriptors on macOS;
 *     no method needs that: bulk data moves through shared memory);
 *   - memory types for IOConnectMapMemory64 (enum vfa_memory_type);
 *   - one asynchronous notification (VFA_SEL_NOTIFY_REGISTER), coalesced.
 * All integers are little-endian (both hosts are); structs have explicit
 * padding and fixed sizes checked below, so the layout is the same for
 * every compiler on arm64 and x86-64.
 *
 * Versioning.  VFA_ABI_MAJOR changes only on an incompatible change; a
 * client and a dext with different majors refuse each other at session
 * open (VFA_E_PROTO).  A minor bump may only grow the ABI compatibly:
 *   - new selectors, appended (an older dext answers VFA_E_NOSYS);
 *   - new trailing scalar inputs: a dext treats missing trailing inputs as
 *     0, so 0 must keep the old meaning;
 *   - new trailing scalar outputs and new fields at the end of a struct
 *     output: the dext fills min(its size, the caller's size), so an old
 *     client simply does not see them; struct outputs below carry their
 *     filled size where that matters;
 *   - new flag bits: a dext rejects bits it does not know (VFA_E_INVAL), so
 *     a client that needs a new bit learns it from the version query;
 *   - new memory types, new counters at the end of struct vfa_stats, new
 *     event bits in the IRQ page.
 * Nothing is ever renumbered, resized or reordered within a major.
 *
 * Errors.  A method returns 0 or one of enum vfa_err (a positive code).  On
 * macOS the shell returns it as the IOReturn VFA_IORETURN(code); the socket
 * transport carries it as is.  Clients turn it into a negative host errno
 * with vfa_err_to_errno() (the numbers are the Linux errno values, but
 * macOS errno differs for some, so always convert).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef VFIO_APPLE_DEXT_ABI_H
#define VFIO_APPLE_DEXT_ABI_H

#include <errno.h>
#include <stdint.h>

#define VFA_ABI_MAJOR           1u
#define VFA_ABI_MINOR           1u

#define VFA_MAX_SCALARS         16u
#define VFA_MAX_STRUCT          4096u

/* Host and DART page size on Apple Silicon: the unit of every mapping. */
#define VFA_PAGE_SIZE           16384u
#define VFA_NUM_BARS            6u
#define VFA_MAX_DMA_SEGMENTS    32u
/* Largest vector count of either kind (MSI-X allows 2048). */
#define VFA_MAX_VECTORS         2048u

/*
 * Defaults of the DMA budget (DESIGN.md section 3, "reported": keep them
 * configurable; the dext reports the values in force in vfa_identity).
 */
#define VFA_DEFAULT_DMA_BUDGET_BYTES    (1536ull << 20)
#define VFA_DEFAULT_DMA_MAX_MAPPINGS    65536u

/* ------------------------------------------------------------ errors -- */

enum vfa_err {
    VFA_OK          = 0,
    VFA_E_PERM      = 1,    /* caller does not hold the session */
    VFA_E_NOENT     = 2,    /* unknown or stale DMA handle */
    VFA_E_IO        = 5,    /* the platform/device failed the operation */
    VFA_E_NOMEM     = 12,   /* dext out of memory */
    VFA_E_FAULT     = 14,   /* client range not backed by client memory */
    VFA_E_BUSY      = 16,   /* another client holds the device's session */
    VFA_E_NODEV     = 19,   /* device gone (unplugged, dext lost it) */
    VFA_E_INVAL     = 22,   /* malformed argument (width, alignment, flags) */
    VFA_E_MFILE     = 24,   /* DMA: live-mapping limit reached */
    VFA_E_NOSPC     = 28,   /* DMA: mapped-bytes budget reached */
    VFA_E_RANGE     = 34,   /* offset/length outside the resource */
    VFA_E_NOSYS     = 38,   /* unknown selector */
    VFA_E_PROTO     = 71,   /* ABI major mismatch or bad argument counts */
    VFA_E_NOTSUP    = 95,   /* not supported (e.g. that reset kind) */
    VFA_E_ALREADY   = 114,  /* this client already holds the session */
};

/* IOReturn carrying a vfa_err on macOS: iokit_vendor_specific_err(code). */
#define VFA_IORETURN_BASE       0xe3ff8000u
#define VFA_IORETURN(code)      (VFA_IORETURN_BASE | (uint32_t)(code))

/* Negative host errno for a vfa_err (0 for VFA_OK, -EIO for unknown). */
static inline int vfa_err_to_errno(uint32_t e)
{
    switch (e) {
    case VFA_OK:        return 0;
    case VFA_E_PERM:    return -EPERM;
    case VFA_E_NOENT:   return -ENOENT;
    case VFA_E_IO:      return -EIO;
    case VFA_E_NOMEM:   return -ENOMEM;
    case VFA_E_FAULT:   return -EFAULT;
    case VFA_E_BUSY:    return -EBUSY;
    case VFA_E_NODEV:   return -ENODEV;
    case VFA_E_INVAL:   return -EINVAL;
    case VFA_E_MFILE:   return -EMFILE;
    case VFA_E_NOSPC:   return -ENOSPC;
    case VFA_E_RANGE:   return -ERANGE;
    case VFA_E_NOSYS:   return -ENOSYS;
    case VFA_E_PROTO:   return -EPROTO;
    case VFA_E_NOTSUP:  return -ENOTSUP;
    case VFA_E_ALREADY: return -EALREADY;
    default:            return -EIO;
    }
}

static inline const char *vfa_err_name(uint32_t e)
{
    switch (e) {
    case VFA_OK:        return "ok";
    case VFA_E_PERM:    return "no session";
    case VFA_E_NOENT:   return "unknown handle";
    case VFA_E_IO:      return "device i/o failed";
    case VFA_E_NOMEM:   return "dext out of memory";
    case VFA_E_FAULT:   return "client memory not registered";
    case VFA_E_BUSY:    return "device busy (another session)";
    case VFA_E_NODEV:   return "device gone";
    case VFA_E_INVAL:   return "invalid argument";
    case VFA_E_MFILE:   return "DMA mapping count limit";
    case VFA_E_NOSPC:   return "DMA byte budget exhausted";
    case VFA_E_RANGE:   return "out of range";
    case VFA_E_NOSYS:   return "unknown method";
    case VFA_E_PROTO:   return "protocol mismatch";
    case VFA_E_NOTSUP:  return "not supported";
    case VFA_E_ALREADY: return "session already open";
    default:            return "unknown error";
    }
}

/* --------------------------------------------------------- selectors -- */

/*
 * Per method: scalar inputs (in order), scalar outputs, struct in/out.
 * "S" marks methods that need the caller to hold the session; the others
 * work for any client (so `stats` and identity work while QEMU runs).
 *
 * GET_VERSION        in: -                      out: major, minor, features
 * GET_IDENTITY       in: -                      out: struct vfa_identity
 * OPEN            S* in: client major, minor    out: major, minor
 *                    (*creates the session; VFA_E_BUSY if another client has
 *                    it, VFA_E_ALREADY if the caller has it)
 * CLOSE           S  in: -                      out: -
 * CONFIG_READ     S  in: offset, width(1,2,4)   out: value
 * CONFIG_READ_BLOCK S in: offset, length        out: struct: length bytes
 *                    (offset, length multiples of 4; length 4..4096)
 * CONFIG_WRITE    S  in: offset, width, value   out: bytes forwarded mask
 *                    (bit i set: byte offset+i reached the device; policy
 *                    drops the rest, which is not an error); since 1.1 also
 *                    the value a CONFIG_READ of offset/width now returns
 *                    (saves the client the read-back: a guest writes a
 *                    register, then reads it)
 * BAR_INFO        S  in: bar                    out: flags, size,
 *                    memory index, trapped-page bitmap (16 KiB pages 0..63
 *                    that must use MMIO_READ/WRITE rather than the mapping)
 * MMIO_READ       S  in: bar, offset, width(1,2,4,8)  out: value
 * MMIO_WRITE      S  in: bar, offset, width, value    out: -
 * IRQ_SETUP       S  in: type (vfa_irq_type), count   out: count
 *                    (count 1..device's vectors of that type; MSI count a
 *                    power of two; type NONE tears down.  All vectors start
 *                    disabled; pending/enabled bitmaps cleared)
 * IRQ_ENABLE      S  in: first, count, enable(0/1)    out: -
 *                    (sets the enable bit of vectors [first, first+count);
 *                    enabling a vector with a latched pending bit notifies)
 * RESET           S  in: allowed (vfa_reset_method bits, 0 = any)
 *                    out: method used (one bit)
 * DMA_MAP         S  in: client VA, length, flags (vfa_dma_flags)
 *                    out: struct vfa_dma_map_out (handle + segments)
 * DMA_UNMAP       S  in: handle                 out: -
 * ROM_READ        S  in: offset, length(1..4096)  out: struct: length bytes
 * GET_STATS          in: -                      out: struct vfa_stats
 * NOTIFY_REGISTER S  in: -                      out: -
 *                    (macOS: called with IOConnectCallAsyncScalarMethod; the
 *                    dext keeps the OSAction and sends a completion whenever
 *                    the IRQ page has news.  Socket transport: the reply
 *                    carries an eventfd.  Either way the client then reads
 *                    the IRQ page; notifications carry no payload.)
 */
enum vfa_selector {
    VFA_SEL_GET_VERSION         = 0,
    VFA_SEL_GET_IDENTITY        = 1,
    VFA_SEL_OPEN                = 2,
    VFA_SEL_CLOSE               = 3,
    VFA_SEL_CONFIG_READ         = 4,
    VFA_SEL_CONFIG_READ_BLOCK   = 5,
    VFA_SEL_CONFIG_WRITE        = 6,
    VFA_SEL_BAR_INFO            = 7,
    VFA_SEL_MMIO_READ           = 8,
    VFA_SEL_MMIO_WRITE          = 9,
    VFA_SEL_IRQ_SETUP           = 10,
    VFA_SEL_IRQ_ENABLE          = 11,
    VFA_SEL_RESET               = 12,
    VFA_SEL_DMA_MAP             = 13,
    VFA_SEL_DMA_UNMAP           = 14,
    VFA_SEL_ROM_READ            = 15,
    VFA_SEL_GET_STATS           = 16,
    VFA_SEL_NOTIFY_REGISTER     = 17,
    VFA_SEL_COUNT,
};

/* Room in the statistics for selectors added by later minors. */
#define VFA_STATS_MAX_SELECTORS 32u

enum vfa_method_flags {
    VFA_MF_SESSION  = 1u << 0,  /* caller must hold the session */
    VFA_MF_DEVICE   = 1u << 1,  /* VFA_E_NODEV once the device is gone */
};
#define VFA_MF_SD       (VFA_MF_SESSION | VFA_MF_DEVICE)
#define VFA_ID_SIZE     sizeof(struct vfa_identity)
#define VFA_MAP_SIZE    sizeof(struct vfa_dma_map_out)
#define VFA_STATS_SIZE  sizeof(struct vfa_stats)

/*
 * The method table as data, for the dext's validation and the client's
 * argument shaping alike:
 *   X(name, selector, scalars in min, scalars in max, scalars out min,
 *     scalars out max, struct in bytes, struct out max bytes, flags)
 * A client must offer room for at least "scalars out min" outputs (what
 * 1.0 returned); the dext fills as many as it has, up to the room offered.
 * The max grows when a minor appends outputs.
 * Struct out max 0xffff means "length given by a scalar input" (<= 4096).
 */
#define VFA_METHODS(X) \
    X(GET_VERSION, VFA_SEL_GET_VERSION, 0, 0, 3, 3, 0, 0, 0) \
    X(GET_IDENTITY, VFA_SEL_GET_IDENTITY, 0, 0, 0, 0, 0, VFA_ID_SIZE, 0) \
    X(OPEN, VFA_SEL_OPEN, 2, 2, 2, 2, 0, 0, VFA_MF_DEVICE) \
    X(CLOSE, VFA_SEL_CLOSE, 0, 0, 0, 0, 0, 0, VFA_MF_SESSION) \
    X(CONFIG_READ, VFA_SEL_CONFIG_READ, 2, 2, 1, 1, 0, 0, VFA_MF_SD) \
    X(CONFIG_READ_BLOCK, VFA_SEL_CONFIG_READ_BLOCK, 2, 2, 0, 0, 0, 0xffff, \
      VFA_MF_SD) \
    X(CONFIG_WRITE, VFA_SEL_CONFIG_WRITE, 3, 3, 1, 2, 0, 0, VFA_MF_SD) \
    X(BAR_INFO, VFA_SEL_BAR_INFO, 1, 1, 4, 4, 0, 0, VFA_MF_SD) \
    X(MMIO_READ, VFA_SEL_MMIO_READ, 3, 3, 1, 1, 0, 0, VFA_MF_SD) \
    X(MMIO_WRITE, VFA_SEL_MMIO_WRITE, 4, 4, 0, 0, 0, 0, VFA_MF_SD) \
    X(IRQ_SETUP, VFA_SEL_IRQ_SETUP, 2, 2, 1, 1, 0, 0, VFA_MF_SD) \
    X(IRQ_ENABLE, VFA_SEL_IRQ_ENABLE, 3, 3, 0, 0, 0, 0, VFA_MF_SD) \
    X(RESET, VFA_SEL_RESET, 1, 1, 1, 1, 0, 0, VFA_MF_SD) \
    X(DMA_MAP, VFA_SEL_DMA_MAP, 3, 3, 0, 0, 0, VFA_MAP_SIZE, VFA_MF_SD) \
    X(DMA_UNMAP, VFA_SEL_DMA_UNMAP, 1, 1, 0, 0, 0, 0, VFA_MF_SESSION) \
    X(ROM_READ, VFA_SEL_ROM_READ, 2, 2, 0, 0, 0, 0xffff, VFA_MF_SD) \
    X(GET_STATS, VFA_SEL_GET_STATS, 0, 0, 0, 0, 0, VFA_STATS_SIZE, 0) \
    X(NOTIFY_REGISTER, VFA_SEL_NOTIFY_REGISTER, 0, 0, 0, 0, 0, 0, \
      VFA_MF_SESSION)

#define VFA_STRUCT_OUT_VARIABLE 0xffffu

/* The method's name, from the table above; NULL for an unknown selector. */
static inline const char *vfa_method_name(uint32_t sel)
{
#define VFA_METHOD_NAME(name, s, ...) case s: return #name;
    switch (sel) {
    VFA_METHODS(VFA_METHOD_NAME)
    }
#undef VFA_METHOD_NAME
    return (const char *)0;
}

/* --------------------------------------------------------- identity -- */

enum vfa_bar_flags {
    VFA_BAR_PRESENT      = 1u << 0,
    VFA_BAR_MEM64        = 1u << 1,   /* takes this and the next register */
    VFA_BAR_PREFETCHABLE = 1u << 2,   /* write-combine allowed when mapped */
    VFA_BAR_MAPPABLE     = 1u << 3,   /* VFA_MEM_BAR(n) can be mapped */
    VFA_BAR_TRAPPED      = 1u << 4,   /* some pages need MMIO_READ/WRITE */
};

enum vfa_id_flags {
    VFA_ID_PCIE          = 1u << 0,   /* 4 KiB config space */
    VFA_ID_FLR           = 1u << 1,   /* function-level reset available */
    VFA_ID_HOT_RESET     = 1u << 2,   /* hot (secondary bus) reset available */
    VFA_ID_SIMULATED     = 1u << 3,   /* served by vfio-apple-sim */
};

struct vfa_identity {
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsys_vendor_id;
    uint16_t subsys_id;
    uint32_t class_code;        /* 24 bits: base, sub, prog-if */
    uint8_t  revision;
    uint8_t  header_type;
    uint16_t flags;             /* enum vfa_id_flags */
    /*
     * Host location.  Apple Silicon reuses bus numbers across root ports,
     * so the BDF is only unique together with `location`.  The macOS dext
     * sends "regid:0x<IORegistry entry ID of the IOPCIDevice>"; the IOKit
     * client checks it and replaces it with the root port's registry name
     * (dext/macos/README.md, "Location").  "sim:<model>" in the simulator.
     */
    uint32_t domain;
    uint8_t  bus, dev, fn, _pad0;
    char     location[64];      /* NUL-terminated */
    uint32_t config_size;       /* 256 or 4096 */
    uint32_t num_bars;          /* BARs present */
    uint32_t bar_flags[VFA_NUM_BARS];   /* enum vfa_bar_flags */
    uint64_t bar_size[VFA_NUM_BARS];
    uint64_t rom_size;          /* 0: no expansion ROM */
    uint32_t msi_vectors;       /* 0: no MSI capability */
    uint32_t msix_vectors;      /* 0: no MSI-X capability */
    /* DMA limits in force for this device. */
    uint64_t dma_budget_bytes;
    uint32_t dma_max_mappings;
    uint32_t dma_page_size;     /* VFA_PAGE_SIZE */
    uint32_t dma_max_segments;  /* VFA_MAX_DMA_SEGMENTS */
    uint32_t _pad1;
    uint64_t reserved[8];
};

/* ------------------------------------------------------ memory types -- */

/*
 * Memory the client maps (IOConnectMapMemory64 / the socket transport's
 * VFA_SIM_MSG_MAP_MEMORY).  Needs the session.  A BAR is mappable only if
 * VFA_BAR_MAPPABLE; its trapped pages (BAR_INFO) must not be accessed
 * through the mapping.  Map BARs and the IRQ page read/write, never
 * executable (DESIGN.md section 3: executable device memory can panic HVF).
 */
enum vfa_memory_type {
    VFA_MEM_BAR0     = 0,       /* VFA_MEM_BAR0 + n for BAR n, n < 6 */
    VFA_MEM_IRQ_PAGE = 16,
};
#define VFA_MEM_BAR(n)          (VFA_MEM_BAR0 + (n))

/* ---------------------------------------------------------- IRQ page -- */

enum vfa_irq_type {
    VFA_IRQ_NONE = 0,
    VFA_IRQ_MSI  = 1,
    VFA_IRQ_MSIX = 2,
};

/* Bits of vfa_irq_page.events: things other than interrupts. */
enum vfa_event {
    /* device unplugged or lost: every device method now fails NODEV */
    VFA_EVENT_DEVICE_GONE = 1u << 0,
};

#define VFA_IRQ_PAGE_MAGIC      0x49414656u     /* "VFAI" */
#define VFA_IRQ_PAGE_SIZE       VFA_PAGE_SIZE
#define VFA_IRQ_BITMAP_WORDS    (VFA_MAX_VECTORS / 64)

/*
 * The IRQ page, shared read/write between dext and client, one per
 * session.  Protocol (all accesses are atomic 64-bit or 32-bit operations):
 *   dext on an interrupt for vector v:
 *       count[v]++; old = fetch_or(pending[v/64], bit);
 *       notify if the bit was clear and v is enabled (otherwise coalesced:
 *       the client has not consumed the previous one yet, or the vector is
 *       disabled and the interrupt stays latched until it is enabled).
 *   client on a notification (and whenever it enables vectors):
 *       for each word w:
 *           bits = fetch_and(pending[w], ~enabled[w]) & enabled[w];
 *       deliver each bit; then look at events (fetch_and(events, 0)).
 *   The client must only clear pending bits of enabled vectors, so that
 *   latched interrupts of disabled vectors survive.  `enabled` is written
 *   only by the dext (IRQ_ENABLE); the client reads it.
 */
struct vfa_irq_page {
    uint32_t magic;             /* VFA_IRQ_PAGE_MAGIC */
    uint32_t version;           /* VFA_ABI_MAJOR << 16 | VFA_ABI_MINOR */
    uint32_t irq_type;          /* enum vfa_irq_type in force */
    uint32_t nvectors;
    uint64_t notifications;     /* notifications sent (diagnostic) */
    uint64_t events;            /* enum vfa_event bits, client clears */
    uint64_t reserved[4];
    uint64_t pending[VFA_IRQ_BITMAP_WORDS];
    uint64_t enabled[VFA_IRQ_BITMAP_WORDS];
    uint32_t count[VFA_MAX_VECTORS];    /* interrupts per vector, wrapping */
};

/* -------------------------------------------------------------- reset -- */

enum vfa_reset_method {
    VFA_RESET_FLR = 1u << 0,    /* function-level reset, tried first */
    VFA_RESET_HOT = 1u << 1,    /* hot reset of the link (macOS 13+) */
};

/* ---------------------------------------------------------------- DMA -- */

enum vfa_dma_flags {
    VFA_DMA_TO_DEVICE   = 1u << 0,  /* device reads the memory */
    VFA_DMA_FROM_DEVICE = 1u << 1,  /* device writes the memory */
};
#define VFA_DMA_BIDIRECTIONAL   (VFA_DMA_TO_DEVICE | VFA_DMA_FROM_DEVICE)

/*
 * DMA_MAP takes a range of the client's own virtual address space (as
 * CreateMemoryDescriptorFromClient does; the socket transport translates it
 * through memory registered with VFA_SIM_MSG_REGISTER_MEM).  The system
 * chooses the IOVAs; the first keeps the client address's offset within its
 * 16 KiB page; the segments' lengths add up to the requested length.
 * Budget accounting counts whole 16 KiB pages.
 */
struct vfa_dma_segment {
    uint64_t iova;
    uint64_t len;
};

struct vfa_dma_map_out {
    uint64_t handle;            /* for DMA_UNMAP; never 0 */
    uint32_t nsegs;             /* 1..VFA_MAX_DMA_SEGMENTS */
    uint32_t _pad;
    struct vfa_dma_segment segs[VFA_MAX_DMA_SEGMENTS];
};

/* --------------------------------------------------------- statistics -- */

/*
 * Counters since the dext started (not per session), for benchmarks and the
 * simulator's `stats`.  Gauges (live, mapped) are current values.  New
 * counters are only appended; `size` says how many bytes the dext filled.
 */
struct vfa_stats {
    uint32_t size;              /* bytes of this struct the dext filled */
    uint32_t nselectors;        /* entries valid in calls/errors */
    uint64_t calls[VFA_STATS_MAX_SELECTORS];    /* by selector, incl. failed */
    uint64_t errors[VFA_STATS_MAX_SELECTORS];   /* by selector, failed ones */
    uint64_t bad_selector;      /* calls with an unknown selector */
    uint64_t bad_shape;         /* wrong scalar/struct counts (VFA_E_PROTO) */

    uint64_t sessions_opened;
    uint64_t sessions_refused_busy;
    uint64_t sessions_closed;       /* by CLOSE */
    uint64_t sessions_client_died;  /* cleaned up after the client vanished */

    uint64_t config_reads;          /* each read, block reads count once */
    uint64_t config_block_bytes;
    uint64_t config_writes;
    uint64_t config_writes_filtered;/* writes with at least one byte dropped */
    uint64_t config_bytes_dropped;
    uint64_t mmio_reads;
    uint64_t mmio_writes;
    uint64_t memory_maps;           /* memory types handed out */

    uint64_t irq_setups;
    uint64_t irq_received;          /* interrupts from the device */
    uint64_t irq_latched;           /* ... that arrived while disabled */
    uint64_t irq_coalesced;         /* ... that needed no new notification */
    uint64_t notifications;         /* notifications sent to the client */

    uint64_t resets_flr;
    uint64_t resets_hot;
    uint64_t reset_failures;

    uint64_t dma_maps;
    uint64_t dma_unmaps;            /* by DMA_UNMAP */
    uint64_t dma_cleanup_unmaps;    /* by session cleanup */
    uint64_t dma_map_failures;      /* all failed DMA_MAPs */
    uint64_t dma_fail_budget_bytes; /* ... with VFA_E_NOSPC */
    uint64_t dma_fail_budget_maps;  /* ... with VFA_E_MFILE */
    uint64_t dma_mapped_bytes;      /* gauge, whole pages */
    uint64_t dma_peak_mapped_bytes;
    uint64_t dma_live_mappings;     /* gauge */
    uint64_t dma_peak_live_mappings;
    uint64_t dma_segments;          /* segments handed out */

    uint64_t rom_reads;
    uint64_t device_gone;

    /* Taken from reserved (the size is unchanged; older dexts left 0). */
    /*
     * MMIO kept from the device: MSI-X table (reads answer 0) and PBA
     * writes, any access while it does not decode memory.
     */
    uint64_t mmio_dropped;
    /* Config writes with a byte dropped at 0x100 or above. */
    uint64_t config_writes_dropped_ext;
    /*
     * Guest memory-space clears and moves out of D0 kept virtual because
     * a BAR is mapped.
     */
    uint64_t config_decode_held;
    uint64_t reserved[13];
};

/*
 * The counters of struct vfa_stats after calls/errors, by name, as data
 * (X(name) per field), for tools that print them all.
 */
#define VFA_STATS_COUNTERS(X) \
    X(bad_selector) X(bad_shape) \
    X(sessions_opened) X(sessions_refused_busy) X(sessions_closed) \
    X(sessions_client_died) \
    X(config_reads) X(config_block_bytes) X(config_writes) \
    X(config_writes_filtered) \
    X(config_bytes_dropped) X(mmio_reads) X(mmio_writes) X(memory_maps) \
    X(irq_setups) X(irq_received) X(irq_latched) X(irq_coalesced) \
    X(notifications) \
    X(resets_flr) X(resets_hot) X(reset_failures) \
    X(dma_maps) X(dma_unmaps) X(dma_cleanup_unmaps) X(dma_map_failures) \
    X(dma_fail_budget_bytes) X(dma_fail_budget_maps) X(dma_mapped_bytes) \
    X(dma_peak_mapped_bytes) X(dma_live_mappings) X(dma_peak_live_mappings) \
    X(dma_segments) \
    X(rom_reads) X(device_gone) \
    X(mmio_dropped) X(config_writes_dropped_ext) X(config_decode_held)

/* Layouts are part of the ABI: pin them. */
_Static_assert(sizeof(struct vfa_identity) == 272, "vfa_identity layout");
_Static_assert(sizeof(struct vfa_dma_map_out) == 16 + 16 * VFA_MAX_DMA_SEGMENTS,
               "vfa_dma_map_out layout");
_Static_assert(sizeof(struct vfa_stats) <= VFA_MAX_STRUCT, "vfa_stats too big");
_Static_assert(sizeof(struct vfa_irq_page) <= VFA_IRQ_PAGE_SIZE,
               "IRQ page too big");
_Static_assert(VFA_SEL_COUNT <= VFA_STATS_MAX_SELECTORS, "stats selector room");

#endif
