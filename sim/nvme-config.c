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
#include "pci-config.h"

#include <stdio.h>
#include <string.h>

#define CAP_PM      0x40
#define CAP_MSIX    0x50
#define CAP_PCIE    0x60

void nvme_config_init(struct nvme *n)
{
    static const struct sim_pci_ids ids = {
        .vendor = NVME_SIM_VENDOR, .device = NVME_SIM_DEVICE,
        .subsys_vendor = NVME_SIM_VENDOR, .subsys = NVME_SIM_DEVICE,
        .revision = NVME_SIM_REVISION, .class_code = NVME_SIM_CLASS,
    };
    uint8_t *c = n->cfg, *w = n->cfg_wmask;

    sim_cfg_header(c, w, &ids, NVME_BAR0_SIZE, NVME_ROM_SIZE, CAP_PM);
    sim_cfg_add_pm(c, w, CAP_PM, CAP_MSIX);
    /* MSI-X table and PBA in BAR0 page 1. */
    sim_cfg_add_msix(c, w, CAP_MSIX, CAP_PCIE, n->vectors, NVME_MSIX_TABLE_OFF, NVME_MSIX_PBA_OFF);
    sim_cfg_add_pcie(c, w, CAP_PCIE, 0);
    /* 0x100: extended capability header 0: none. */
}

bool nvme_bus_master(const struct nvme *n)
{
    return sim_cfg_bus_master(n->cfg);
}

uint32_t nvme_config_read(struct sim_device *dev, uint32_t off, unsigned len)
{
    struct nvme *n = (struct nvme *)dev;
    return sim_cfg_read_op(&n->lock, n->cfg, off, len);
}

void nvme_config_write(struct sim_device *dev, uint32_t off, unsigned len, uint32_t val)
{
    struct nvme *n = (struct nvme *)dev;
    sim_cfg_write_op(dev, &n->lock, n->cfg, n->cfg_wmask, CAP_PCIE, off, len, val);
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
    sim_put8(r, 0x00, 0x55);
    sim_put8(r, 0x01, 0xaa);
    sim_put8(r, 0x02, NVME_ROM_SIZE / 512);             /* legacy size field */
    sim_put16(r, 0x18, 0x40);                           /* -> PCIR */

    uint8_t *p = r + 0x40;
    memcpy(p, "PCIR", 4);
    sim_put16(p, 0x04, NVME_SIM_VENDOR);
    sim_put16(p, 0x06, NVME_SIM_DEVICE);
    sim_put16(p, 0x08, 0);                              /* no device list */
    sim_put16(p, 0x0a, 0x18);                           /* structure length */
    sim_put8(p, 0x0c, 0x03);                            /* PCI 3.0 structure */
    sim_put8(p, 0x0d, NVME_SIM_CLASS & 0xff);
    sim_put8(p, 0x0e, (NVME_SIM_CLASS >> 8) & 0xff);
    sim_put8(p, 0x0f, NVME_SIM_CLASS >> 16);
    sim_put16(p, 0x10, NVME_ROM_SIZE / 512);            /* image length, 512 B units */
    sim_put16(p, 0x12, 0x0001);                         /* revision of the code */
    sim_put8(p, 0x14, 0xf0);                            /* code type: none we run */
    sim_put8(p, 0x15, 0x80);                            /* last image */

    snprintf((char *)r + 0x80, 0x100, "vfio-apple-sim NVMe expansion ROM %04x:%04x serial %s",
             NVME_SIM_VENDOR, NVME_SIM_DEVICE, n->serial);

    uint8_t sum = 0;
    for (unsigned i = 0; i < NVME_ROM_SIZE - 1; i++)
        sum += r[i];
    r[NVME_ROM_SIZE - 1] = (uint8_t)-sum;
}
