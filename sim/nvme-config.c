/*
 * PCI side of the NVMe model: a type-0 config header with PM, MSI-X and
 * PCIe capabilities, 4 KiB of extended space, and an expansion ROM image.
 *
 * Layout:
 *   0x00  header: vendor/device, command, status (capability list), class
 *         010802, BAR0 64-bit non-prefetchable 32 KiB, ROM BAR 64 KiB
 *   0x40  Power Management (v3, D0 only, No_Soft_Reset)
 *   0x50  MSI-X: N vectors, table BAR0+0x4000, PBA BAR0+0x5000
 *   0x60  PCI Express v2, endpoint, FLR capable, Gen3 x4
 *   0x100 extended space: no extended capabilities (header of zeros)
 *
 * Writable bits are described by a per-byte mask; registers with side
 * effects (BAR sizing, Command, Device Control's Initiate FLR) are handled
 * after the masked write.
 */
#include "nvme.h"

#include <stdio.h>
#include <string.h>

#define CAP_PM      0x40
#define CAP_MSIX    0x50
#define CAP_PCIE    0x60

#define PCI_COMMAND_MEMORY   0x0002u
#define PCI_COMMAND_MASTER   0x0004u
#define PCI_COMMAND_INTX_DIS 0x0400u

#define PCIE_DEVCTL         (CAP_PCIE + 0x08)
#define PCIE_DEVCTL_FLR     0x8000u

static void put8(uint8_t *b, unsigned off, uint8_t v) { b[off] = v; }

static void put16(uint8_t *b, unsigned off, uint16_t v)
{
    b[off] = v & 0xff;
    b[off + 1] = v >> 8;
}

static void put32(uint8_t *b, unsigned off, uint32_t v)
{
    put16(b, off, v & 0xffff);
    put16(b, off + 2, v >> 16);
}

static uint32_t get(const uint8_t *b, unsigned off, unsigned len)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint32_t)b[off + i] << (8 * i);
    return v;
}

void nvme_config_init(struct nvme *n)
{
    uint8_t *c = n->cfg, *w = n->cfg_wmask;
    memset(c, 0, SIM_CONFIG_SIZE);
    memset(w, 0, SIM_CONFIG_SIZE);

    put16(c, 0x00, NVME_SIM_VENDOR);
    put16(c, 0x02, NVME_SIM_DEVICE);
    put16(w, 0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DIS);
    put16(c, 0x06, 0x0010);                         /* capability list */
    put8(c, 0x08, NVME_SIM_REVISION);
    put8(c, 0x09, NVME_SIM_CLASS & 0xff);
    put8(c, 0x0a, (NVME_SIM_CLASS >> 8) & 0xff);
    put8(c, 0x0b, NVME_SIM_CLASS >> 16);
    put8(w, 0x0c, 0xff);                            /* cache line size */
    put8(c, 0x0e, 0x00);                            /* type 0, single function */

    put32(c, 0x10, 0x4);                            /* BAR0: memory, 64-bit */
    put32(w, 0x10, ~(NVME_BAR0_SIZE - 1) & 0xfffffff0u);
    put32(w, 0x14, 0xffffffffu);
    put16(c, 0x2c, NVME_SIM_VENDOR);                /* subsystem IDs */
    put16(c, 0x2e, NVME_SIM_DEVICE);
    put32(w, 0x30, ~(NVME_ROM_SIZE - 1) | 1u);      /* ROM BAR + enable */
    put8(c, 0x34, CAP_PM);
    put8(w, 0x3c, 0xff);                            /* interrupt line */
    put8(c, 0x3d, 0x01);                            /* INTA# (unused: no INTx on Apple) */

    /* Power Management: version 3, D0 only; PMCSR power state writable. */
    put8(c, CAP_PM, 0x01);
    put8(c, CAP_PM + 1, CAP_MSIX);
    put16(c, CAP_PM + 2, 0x0003);
    put16(c, CAP_PM + 4, 0x0008);                   /* No_Soft_Reset */
    put16(w, CAP_PM + 4, 0x0003);

    /* MSI-X: enable and function mask writable; table and PBA in BAR0 page 1. */
    put8(c, CAP_MSIX, 0x11);
    put8(c, CAP_MSIX + 1, CAP_PCIE);
    put16(c, CAP_MSIX + 2, (uint16_t)(n->vectors - 1));
    put16(w, CAP_MSIX + 2, 0xc000);
    put32(c, CAP_MSIX + 4, NVME_MSIX_TABLE_OFF | 0);
    put32(c, CAP_MSIX + 8, NVME_MSIX_PBA_OFF | 0);

    /* PCI Express v2 endpoint. */
    put8(c, CAP_PCIE, 0x10);
    put8(c, CAP_PCIE + 1, 0x00);
    put16(c, CAP_PCIE + 2, 0x0002);                 /* version 2, endpoint */
    put32(c, CAP_PCIE + 4, 1u << 28 | 1u << 15);    /* DevCap: FLR, RBER; MPS 128 */
    put16(c, PCIE_DEVCTL, 0x2810);                  /* RO enable, MRRS 512 */
    put16(w, PCIE_DEVCTL, 0x7cff | PCIE_DEVCTL_FLR);
    put32(c, CAP_PCIE + 0x0c, 0x00400043);          /* LinkCap: Gen3 x4, port 0 */
    put16(w, CAP_PCIE + 0x10, 0x01c3);              /* LinkCtl */
    put16(c, CAP_PCIE + 0x12, 0x1043);              /* LinkSta: Gen3 x4, slot clock */
    put32(c, CAP_PCIE + 0x24, 0x00000010);          /* DevCap2: completion timeout disable */
    put16(w, CAP_PCIE + 0x28, 0x041f);              /* DevCtl2 */
    put32(c, CAP_PCIE + 0x2c, 0x0000000e);          /* LinkCap2: 2.5-8 GT/s */
    /* 0x100: extended capability header 0: none. */
}

bool nvme_bus_master(const struct nvme *n)
{
    return get(n->cfg, 0x04, 2) & PCI_COMMAND_MASTER;
}

uint32_t nvme_config_read(struct sim_device *dev, uint32_t off, unsigned len)
{
    struct nvme *n = (struct nvme *)dev;
    if ((len != 1 && len != 2 && len != 4) || off >= SIM_CONFIG_SIZE || len > SIM_CONFIG_SIZE - off)
        return 0xffffffffu;
    pthread_mutex_lock(&n->lock);
    uint32_t v = get(n->cfg, off, len);
    pthread_mutex_unlock(&n->lock);
    return v;
}

void nvme_config_write(struct sim_device *dev, uint32_t off, unsigned len, uint32_t val)
{
    struct nvme *n = (struct nvme *)dev;
    if ((len != 1 && len != 2 && len != 4) || off >= SIM_CONFIG_SIZE || len > SIM_CONFIG_SIZE - off)
        return;
    bool flr = false;
    pthread_mutex_lock(&n->lock);
    for (unsigned i = 0; i < len; i++) {
        uint8_t m = n->cfg_wmask[off + i], b = (val >> (8 * i)) & 0xff;
        n->cfg[off + i] = (n->cfg[off + i] & ~m) | (b & m);
    }
    /* Initiate FLR reads back as 0: it is an action, not state. */
    if (off <= PCIE_DEVCTL + 1 && off + len > PCIE_DEVCTL + 1 &&
        (get(n->cfg, PCIE_DEVCTL, 2) & PCIE_DEVCTL_FLR)) {
        put16(n->cfg, PCIE_DEVCTL, get(n->cfg, PCIE_DEVCTL, 2) & ~PCIE_DEVCTL_FLR);
        flr = true;
    }
    pthread_mutex_unlock(&n->lock);
    if (flr)
        n->dev.ops->reset(&n->dev);
}

/*
 * A 64 KiB image: legacy ROM header (0x55AA, pointer to the PCI Data
 * Structure at 0x18), the PCIR structure naming our IDs and class, a text
 * string tests can look for, and a checksum byte making the image sum to 0.
 */
void nvme_rom_init(struct nvme *n)
{
    uint8_t *r = n->rom;
    memset(r, 0xff, NVME_ROM_SIZE);
    memset(r, 0, 0x200);
    put8(r, 0x00, 0x55);
    put8(r, 0x01, 0xaa);
    put8(r, 0x02, NVME_ROM_SIZE / 512);             /* legacy size field */
    put16(r, 0x18, 0x40);                           /* -> PCIR */

    uint8_t *p = r + 0x40;
    memcpy(p, "PCIR", 4);
    put16(p, 0x04, NVME_SIM_VENDOR);
    put16(p, 0x06, NVME_SIM_DEVICE);
    put16(p, 0x08, 0);                              /* no device list */
    put16(p, 0x0a, 0x18);                           /* structure length */
    put8(p, 0x0c, 0x03);                            /* PCI 3.0 structure */
    put8(p, 0x0d, NVME_SIM_CLASS & 0xff);
    put8(p, 0x0e, (NVME_SIM_CLASS >> 8) & 0xff);
    put8(p, 0x0f, NVME_SIM_CLASS >> 16);
    put16(p, 0x10, NVME_ROM_SIZE / 512);            /* image length, 512 B units */
    put16(p, 0x12, 0x0001);                         /* revision of the code */
    put8(p, 0x14, 0xf0);                            /* code type: none we run */
    put8(p, 0x15, 0x80);                            /* last image */

    snprintf((char *)r + 0x80, 0x100, "vfio-apple-sim NVMe expansion ROM %04x:%04x serial %s",
             NVME_SIM_VENDOR, NVME_SIM_DEVICE, n->serial);

    uint8_t sum = 0;
    for (unsigned i = 0; i < NVME_ROM_SIZE - 1; i++)
        sum += r[i];
    r[NVME_ROM_SIZE - 1] = (uint8_t)-sum;
}
