/*
 * PCI pieces shared by the simulator's device models: little-endian byte
 * access, the capabilities every simulated endpoint has (Power Management,
 * MSI-X, PCI Express with FLR), config reads and the masked write with its
 * Initiate FLR side effect, the MSI-X table a model stores, and moving a
 * BAR onto fresh shared memory.
 *
 * A model keeps its config space as two arrays of SIM_CONFIG_SIZE bytes:
 * the values and a per-byte mask of the bits a write may change.
 */
#ifndef VFIO_APPLE_SIM_PCI_CONFIG_H
#define VFIO_APPLE_SIM_PCI_CONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"

#define SIM_PCI_COMMAND_MEMORY      0x0002u
#define SIM_PCI_COMMAND_MASTER      0x0004u
#define SIM_PCI_COMMAND_INTX_DIS    0x0400u

/* Offsets inside the PCI Express capability. */
#define SIM_PCIE_DEVCTL             0x08
#define SIM_PCIE_DEVCTL_FLR         0x8000u

#define SIM_MSIX_ENTRY_SIZE         16u

static inline void sim_put8(uint8_t *b, unsigned off, uint8_t v)
{
    b[off] = v;
}

static inline void sim_put16(uint8_t *b, unsigned off, uint16_t v)
{
    b[off] = v & 0xff;
    b[off + 1] = v >> 8;
}

static inline void sim_put32(uint8_t *b, unsigned off, uint32_t v)
{
    sim_put16(b, off, v & 0xffff);
    sim_put16(b, off + 2, v >> 16);
}

static inline uint32_t sim_get(const uint8_t *b, unsigned off, unsigned len)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint32_t)b[off + i] << (8 * i);
    return v;
}

/* A config access the ops contract allows: width 1, 2 or 4, inside the space. */
static inline bool sim_cfg_access_ok(uint32_t off, unsigned len)
{
    return (len == 1 || len == 2 || len == 4) && off < SIM_CONFIG_SIZE &&
           len <= SIM_CONFIG_SIZE - off;
}

struct sim_pci_ids {
    uint16_t vendor, device, subsys_vendor, subsys;
    uint8_t  revision;
    uint32_t class_code;        /* base, sub, prog-if */
};

/*
 * Type-0 header: IDs, class, a writable Command (memory, bus master, INTx
 * disable), the capability list starting at first_cap, BAR0 a 64-bit
 * memory BAR of bar0_size bytes, an expansion ROM BAR of rom_size bytes
 * (0: none).  Clears both arrays first.
 */
void sim_cfg_header(uint8_t *c, uint8_t *w, const struct sim_pci_ids *ids, uint32_t bar0_size,
                    uint32_t rom_size, uint8_t first_cap);
/* Power Management v3, D0 only, No_Soft_Reset; the power state writable. */
void sim_cfg_add_pm(uint8_t *c, uint8_t *w, unsigned pos, unsigned next);
/* MSI-X: `vectors` entries, table and PBA at BAR0 offsets; enable and mask writable. */
void sim_cfg_add_msix(uint8_t *c, uint8_t *w, unsigned pos, unsigned next, unsigned vectors,
                      uint32_t table_off, uint32_t pba_off);
/* PCI Express v2 endpoint, FLR capable, Gen3 x4. */
void sim_cfg_add_pcie(uint8_t *c, uint8_t *w, unsigned pos, unsigned next);

/*
 * Applies a config write through the mask.  Initiate FLR in the PCI Express
 * capability at pcie_pos reads back as 0 (it is an action, not state):
 * returns true when this write set it, and the caller then resets the
 * function (outside its own lock, as reset takes it).
 */
bool sim_cfg_write(uint8_t *c, const uint8_t *w, unsigned pcie_pos, uint32_t off, unsigned len,
                   uint32_t val);

/*
 * The config_read/config_write ops of a model whose device is dev and
 * whose config lives in c/w under lock: bounds checked (all-ones for a
 * bad read), and a write that initiates FLR resets through dev's ops.
 */
uint32_t sim_cfg_read_op(pthread_mutex_t *lock, const uint8_t *c, uint32_t off, unsigned len);
void sim_cfg_write_op(struct sim_device *dev, pthread_mutex_t *lock, uint8_t *c, const uint8_t *w,
                      unsigned pcie_pos, uint32_t off, unsigned len, uint32_t val);

static inline bool sim_cfg_bus_master(const uint8_t *c)
{
    return sim_get(c, 0x04, 2) & SIM_PCI_COMMAND_MASTER;
}

/* The MSI-X table as power-on leaves it: every vector masked. */
void sim_msix_table_reset(uint8_t *table, unsigned vectors);

/*
 * BAR b onto fresh shared memory (renew_bars in device.h): a new memfd
 * named `name` of b->size bytes replaces the old one under lock, where
 * moved(opaque, mem) repoints and resets what the model keeps there; the
 * old backing is released afterwards.  0, or -errno with the old in place.
 */
int sim_bar_renew(struct sim_bar *b, const char *name, pthread_mutex_t *lock,
                  void (*moved)(void *opaque, void *mem), void *opaque);
/* Unmaps and closes a BAR's shared backing, if it has one. */
void sim_bar_release(struct sim_bar *b);

#endif
