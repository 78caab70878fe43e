/*
 * NVMe controller model: definitions shared by its files (not an API of
 * the simulator: the daemon only sees sim_nvme_create() in device.h).
 *
 *   nvme.c         creation, options, ops table, stats
 *   nvme-config.c  PCI config space and expansion ROM
 *   nvme-regs.c    BAR0 register page, doorbells, polling thread, CQ posting
 *   nvme-admin.c   admin command set
 *   nvme-io.c      NVM command set (Read/Write/Flush) and the namespace store
 *   nvme-prp.c     PRP / PRP-list walker (pure, fuzzed)
 *   nvme-hold.c    completion latency: I/O completions held for latency-us
 *
 * Values from the NVMe Base Specification 1.4 unless said otherwise.
 */
#ifndef VFIO_APPLE_SIM_NVME_H
#define VFIO_APPLE_SIM_NVME_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "nvme-prp.h"
#include "poll-thread.h"

/*
 * PCI identity.  Not an ID anyone ships: 0x7a7a is absent from the PCI ID
 * database (pci.ids 2023.04); Linux binds nvme by class code, and the
 * simulator is never a real device, so a test-only vendor ID is enough.
 */
#define NVME_SIM_VENDOR         0x7a7au
#define NVME_SIM_DEVICE         0x0e01u
#define NVME_SIM_REVISION       0x01u
#define NVME_SIM_CLASS          0x010802u   /* mass storage, NVM, NVMe I/O */

/* BAR0: 32 KiB.  Page 0 shared (registers, doorbells), page 1 trapped (MSI-X). */
#define NVME_BAR0_SIZE          0x8000u
#define NVME_MSIX_TABLE_OFF     0x4000u
#define NVME_MSIX_PBA_OFF       0x5000u
#define NVME_ROM_SIZE           0x10000u

/* Controller registers (offsets in BAR0). */
#define NVME_REG_CAP    0x00
#define NVME_REG_VS     0x08
#define NVME_REG_INTMS  0x0c
#define NVME_REG_INTMC  0x10
#define NVME_REG_CC     0x14
#define NVME_REG_CSTS   0x1c
#define NVME_REG_NSSR   0x20
#define NVME_REG_AQA    0x24
#define NVME_REG_ASQ    0x28
#define NVME_REG_ACQ    0x30
#define NVME_REG_CMBLOC 0x38
#define NVME_REG_CMBSZ  0x3c
#define NVME_REG_DBS    0x1000

#define NVME_CC_EN              (1u << 0)
#define NVME_CC_CSS(cc)         (((cc) >> 4) & 7)
#define NVME_CC_MPS(cc)         (((cc) >> 7) & 15)
#define NVME_CC_SHN(cc)         (((cc) >> 14) & 3)
#define NVME_CC_IOSQES(cc)      (((cc) >> 16) & 15)
#define NVME_CC_IOCQES(cc)      (((cc) >> 20) & 15)
#define NVME_CSTS_RDY           (1u << 0)
#define NVME_CSTS_CFS           (1u << 1)
#define NVME_CSTS_SHST_CMPLT    (2u << 2)

#define NVME_MQES               1023u       /* CAP.MQES, 0-based: 1024 entries */
#define NVME_MPSMIN             0u          /* 4 KiB */
#define NVME_MPSMAX             4u          /* 64 KiB */
#define NVME_MDTS               7u          /* 2^7 * 4 KiB = 512 KiB */
#define NVME_MAX_XFER           (4096u << NVME_MDTS)
#define NVME_AERL               3u          /* 0-based: 4 outstanding AERs */
#define NVME_MAX_IO_QUEUES      128u
#define NVME_LBA_SHIFT          9u
#define NVME_NSID               1u

/* Status: SCT in bits 10:8, SC in bits 7:0, DNR in bit 14 (CQE layout >> 1). */
#define NVME_SCT_CMD            0x100u
#define NVME_DNR                0x4000u
enum {
    NVME_SC_SUCCESS             = 0x00,
    NVME_SC_INVALID_OPCODE      = 0x01,
    NVME_SC_INVALID_FIELD       = 0x02,
    NVME_SC_DATA_XFER_ERROR     = 0x04,
    NVME_SC_INTERNAL            = 0x06,
    NVME_SC_INVALID_NS          = 0x0b,
    NVME_SC_CMD_SEQ_ERROR       = 0x0c,
    NVME_SC_INVALID_PRP_OFFSET  = 0x13,
    NVME_SC_LBA_RANGE           = 0x80,
    /* command specific (SCT 1) */
    NVME_SC_CQ_INVALID          = NVME_SCT_CMD | 0x00,
    NVME_SC_QID_INVALID         = NVME_SCT_CMD | 0x01,
    NVME_SC_QUEUE_SIZE          = NVME_SCT_CMD | 0x02,
    NVME_SC_ABORT_LIMIT         = NVME_SCT_CMD | 0x03,
    NVME_SC_AER_LIMIT           = NVME_SCT_CMD | 0x05,
    NVME_SC_INVALID_LOG_PAGE    = NVME_SCT_CMD | 0x09,
    NVME_SC_INVALID_VECTOR      = NVME_SCT_CMD | 0x08,
    NVME_SC_FEATURE_NOT_SAVEABLE = NVME_SCT_CMD | 0x0d,
    NVME_SC_INVALID_QUEUE_DELETION = NVME_SCT_CMD | 0x0c,
};

/* A submission queue entry, as the spec lays it out (little-endian host). */
struct nvme_sqe {
    uint8_t  opcode;
    uint8_t  flags;
    uint16_t cid;
    uint32_t nsid;
    uint32_t cdw2, cdw3;
    uint64_t mptr;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
    uint32_t dw0, dw1;
    uint16_t sqhd, sqid;
    uint16_t cid, status;           /* status bit 0: phase tag */
};

/* Result of executing one command. */
struct nvme_result {
    uint16_t status;                /* SCT/SC/DNR as above, without phase */
    uint32_t dw0;
    bool     defer;                 /* no completion now (held AER) */
};

/* A completion held back by the latency option (nvme-hold.c). */
struct nvme_held {
    uint64_t due_ns;                /* CLOCK_MONOTONIC */
    uint16_t sqid, cid;
    struct nvme_result r;
};

/*
 * Held completions at most: 128 queues of 1024 entries could hold more,
 * but a bound keeps the FIFO small; once it is full the device stops
 * fetching I/O commands until the head falls due.
 */
#define NVME_HOLD_MAX           4096u
#define NVME_LATENCY_MAX_US     1000000u    /* 1 s: below the driver's 30 s timeout */

struct nvme_sq {
    bool     valid;
    uint64_t base;
    uint32_t size;                  /* entries */
    uint32_t head;
    uint16_t cqid;
};

struct nvme_cq {
    bool     valid;
    bool     ien;
    bool     phase;
    bool     irq_pending;           /* posted since the last interrupt */
    uint64_t base;
    uint32_t size;
    uint32_t tail;
    uint32_t head;                  /* last valid value the host wrote */
    uint16_t iv;
    uint16_t nsqs;                  /* SQs bound to this CQ */
};

/* Counters for stats_json; only the device thread writes most of them. */
struct nvme_stats {
    uint64_t admin_cmds, io_read, io_write, io_flush, io_other;
    uint64_t bytes_read, bytes_written;     /* by the guest, through DMA */
    uint64_t irqs, errors, dma_faults, invalid_doorbells;
    uint64_t polls, idle_sleeps, busy_polls;
    uint64_t ctrl_enables, ctrl_resets, shutdowns, flrs, fatal;
    uint64_t bar_renewals;                  /* BAR0 moved to fresh memory */
    uint64_t held, held_peak, held_dropped; /* latency option: completions held,
                                               most at once, never posted (reset) */
};

struct nvme_ns {
    int       fd;                   /* backing file, or -1 */
    uint8_t  *mem;                  /* memory backing (fd == -1) */
    uint64_t  size;                 /* bytes */
    uint64_t  nlbas;
};

struct nvme {
    struct sim_device dev;          /* first: container_of by cast */
    const struct sim_device_host *host;

    /* Options. */
    unsigned max_ioq;               /* I/O queue pairs offered */
    unsigned vectors;               /* MSI-X vectors */
    unsigned latency_us;            /* I/O completion latency; 0: none */

    /* PCI side. */
    uint8_t  cfg[SIM_CONFIG_SIZE];
    uint8_t  cfg_wmask[SIM_CONFIG_SIZE];
    uint8_t  rom[NVME_ROM_SIZE];
    uint8_t  msix_table[16 * 2048]; /* host-owned; stored for read-back */
    char     serial[21];

    /* Everything below is guarded by lock (the device thread holds it for one pass). */
    pthread_mutex_t lock;
    volatile uint8_t *regs;         /* BAR0 page 0 (shared with the client);
                                       moves on renew_bars, under lock */
    uint32_t cc;                    /* last CC value acted on */
    uint32_t csts;
    bool     enabled, shutdown;
    unsigned page_shift;            /* from CC.MPS */
    struct nvme_sq sq[NVME_MAX_IO_QUEUES + 1];
    struct nvme_cq cq[NVME_MAX_IO_QUEUES + 1];
    unsigned n_aer;                 /* held Asynchronous Event Requests */
    uint16_t aer_cid[NVME_AERL + 1];
    struct nvme_held *held;         /* NVME_HOLD_MAX, a FIFO; NULL without latency */
    unsigned held_head, held_count;

    /* Features. */
    uint32_t feat_arb, feat_pm, feat_temp, feat_err, feat_irq_coalesce,
             feat_wr_atomic, feat_aec, feat_vwc, feat_nq;
    uint64_t ts_base, ts_set_at_ms;

    struct nvme_ns ns;
    uint8_t *bounce;                /* NVME_MAX_XFER, for one I/O at a time */

    struct sim_poller poller;       /* the device thread */
    struct nvme_stats st;
};

/* nvme-config.c */
void nvme_config_init(struct nvme *n);
void nvme_rom_init(struct nvme *n);
uint32_t nvme_config_read(struct sim_device *dev, uint32_t off, unsigned len);
void nvme_config_write(struct sim_device *dev, uint32_t off, unsigned len, uint32_t val);
bool nvme_bus_master(const struct nvme *n);

/* nvme-regs.c */
void nvme_regs_init(struct nvme *n);
void nvme_ctrl_reset_locked(struct nvme *n);
unsigned nvme_poll_locked(struct nvme *n);
int nvme_thread_start(struct nvme *n);
void nvme_thread_stop(struct nvme *n);
uint64_t nvme_mmio_read(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width);
void nvme_mmio_write(struct sim_device *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val);
bool nvme_cq_full(struct nvme *n, unsigned cqid);
/* Posts one completion; false if the CQ cannot be written (the caller calls nvme_fatal). */
bool nvme_post_cqe(struct nvme *n, unsigned cqid, uint16_t sqid, uint16_t cid,
                   const struct nvme_result *r);
void nvme_fatal(struct nvme *n);

/* Data movement through host->dma_*; return an NVMe status. */
uint16_t nvme_dma_to_host(struct nvme *n, uint64_t prp1, uint64_t prp2, const void *buf, uint32_t len);
uint16_t nvme_dma_from_host(struct nvme *n, uint64_t prp1, uint64_t prp2, void *buf, uint32_t len);

/* nvme-admin.c */
struct nvme_result nvme_admin_exec(struct nvme *n, const struct nvme_sqe *c);
void nvme_features_reset(struct nvme *n);

/* nvme-io.c */
struct nvme_result nvme_io_exec(struct nvme *n, const struct nvme_sqe *c);
int nvme_ns_open(struct nvme_ns *ns, const char *path, uint64_t size, char *err, size_t errlen);
void nvme_ns_close(struct nvme_ns *ns);

/* nvme-hold.c (all under lock but init/free) */
int nvme_hold_init(struct nvme *n, unsigned latency_us);   /* 0, or -1: no memory */
void nvme_hold_free(struct nvme *n);
bool nvme_hold_full(const struct nvme *n);
void nvme_hold(struct nvme *n, uint16_t sqid, uint16_t cid, const struct nvme_result *r);
unsigned nvme_hold_post_due(struct nvme *n);               /* completions posted */
void nvme_hold_drain_sq(struct nvme *n, unsigned sqid);    /* before SQ deletion */
void nvme_hold_reset(struct nvme *n);                      /* controller reset */

static inline uint32_t nvme_reg_rd32(const struct nvme *n, unsigned off)
{
    return __atomic_load_n((const volatile uint32_t *)(n->regs + off), __ATOMIC_ACQUIRE);
}

static inline void nvme_reg_wr32(struct nvme *n, unsigned off, uint32_t v)
{
    __atomic_store_n((volatile uint32_t *)(n->regs + off), v, __ATOMIC_RELEASE);
}

static inline uint64_t nvme_reg_rd64(const struct nvme *n, unsigned off)
{
    return nvme_reg_rd32(n, off) | (uint64_t)nvme_reg_rd32(n, off + 4) << 32;
}

#endif
