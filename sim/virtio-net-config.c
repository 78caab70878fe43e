/*
 * PCI side of the virtio-net model: a type-0 header with PM, MSI-X, PCIe
 * and the virtio vendor-specific capabilities (virtio 1.2, section 4.1.4).
 *
 * Layout:
 *   0x00  header: 1af4:1041 rev 1, class 020000, BAR0 64-bit 32 KiB, no ROM
 *   0x40  Power Management           0x50  MSI-X (table BAR0+0x3000, PBA +0x3800)
 *   0x60  PCI Express v2 endpoint, FLR capable
 *   0xa0  virtio common cfg   BAR0+0x0000, 0x38 bytes  (trapped page)
 *   0xb0  virtio notify       BAR0+0x4000, multiplier 4 (shared page)
 *   0xc4  virtio ISR          BAR0+0x1000              (trapped page)
 *   0xd4  virtio device cfg   BAR0+0x2000, 0x20 bytes  (trapped page)
 *
 * There is no VIRTIO_PCI_CAP_PCI_CFG capability, though section 4.1.4.9
 * says a device presents one: it is a window onto the BARs through config
 * writes, which the dext core's policy drops (vendor-specific capabilities
 * are read-only to a client, docs/config-policy.md), and Linux's driver
 * never uses it (it is for firmware without BAR mappings).  Advertising a
 * window that cannot work would be worse than leaving it out.
 */
#include "virtio-net.h"
#include "pci-config.h"

#define CAP_PM      0x40
#define CAP_MSIX    0x50
#define CAP_PCIE    0x60
#define CAP_COMMON  0xa0
#define CAP_NOTIFY  0xb0
#define CAP_ISR     0xc4
#define CAP_DEVICE  0xd4

/* cfg_type values (section 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG   1
#define VIRTIO_PCI_CAP_NOTIFY_CFG   2
#define VIRTIO_PCI_CAP_ISR_CFG      3
#define VIRTIO_PCI_CAP_DEVICE_CFG   4

/* struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id, pad[2], offset, length. */
static void add_virtio_cap(uint8_t *c, unsigned pos, unsigned next, unsigned len, uint8_t type,
                           uint32_t off, uint32_t length)
{
    sim_put8(c, pos, 0x09);                         /* vendor-specific */
    sim_put8(c, pos + 1, (uint8_t)next);
    sim_put8(c, pos + 2, (uint8_t)len);
    sim_put8(c, pos + 3, type);
    sim_put8(c, pos + 4, 0);                        /* BAR0 */
    sim_put32(c, pos + 8, off);
    sim_put32(c, pos + 12, length);
}

void vnet_config_init(struct vnet *n)
{
    static const struct sim_pci_ids ids = {
        .vendor = VNET_VENDOR, .device = VNET_DEVICE,
        .subsys_vendor = VNET_VENDOR, .subsys = VNET_SUBSYS,
        .revision = VNET_REVISION, .class_code = VNET_CLASS,
    };
    uint8_t *c = n->cfg, *w = n->cfg_wmask;

    sim_cfg_header(c, w, &ids, VNET_BAR0_SIZE, 0, CAP_PM);
    sim_cfg_add_pm(c, w, CAP_PM, CAP_MSIX);
    sim_cfg_add_msix(c, w, CAP_MSIX, CAP_PCIE, n->vectors, VNET_MSIX_TABLE_OFF, VNET_MSIX_PBA_OFF);
    sim_cfg_add_pcie(c, w, CAP_PCIE, CAP_COMMON);
    add_virtio_cap(c, CAP_COMMON, CAP_NOTIFY, 16, VIRTIO_PCI_CAP_COMMON_CFG, VNET_COMMON_OFF,
                   VNET_COMMON_LEN);
    /* Queue q's notify word is at notify offset + q * multiplier (queue_notify_off = q). */
    add_virtio_cap(c, CAP_NOTIFY, CAP_ISR, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, VNET_NOTIFY_OFF,
                   VNET_NOTIFY_MULT * VNET_NUM_QUEUES);
    sim_put32(c, CAP_NOTIFY + 16, VNET_NOTIFY_MULT);
    add_virtio_cap(c, CAP_ISR, CAP_DEVICE, 16, VIRTIO_PCI_CAP_ISR_CFG, VNET_ISR_OFF, VNET_ISR_LEN);
    add_virtio_cap(c, CAP_DEVICE, 0, 16, VIRTIO_PCI_CAP_DEVICE_CFG, VNET_DEVCFG_OFF,
                   VNET_DEVCFG_LEN);
}

bool vnet_bus_master(const struct vnet *n)
{
    return sim_cfg_bus_master(n->cfg);
}

uint32_t vnet_config_read(struct sim_device *dev, uint32_t off, unsigned len)
{
    struct vnet *n = (struct vnet *)dev;
    return sim_cfg_read_op(&n->lock, n->cfg, off, len);
}

void vnet_config_write(struct sim_device *dev, uint32_t off, unsigned len, uint32_t val)
{
    struct vnet *n = (struct vnet *)dev;
    sim_cfg_write_op(dev, &n->lock, n->cfg, n->cfg_wmask, CAP_PCIE, off, len, val);
}
