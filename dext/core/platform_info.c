/*
 * The part of a platform's get_info that config space alone answers,
 * for platforms that have nothing better (the macOS shell): identity
 * registers, config space size (4 KiB with a PCI Express capability) and
 * FLR (the PCIe Device Capabilities bit).  The simulator knows these
 * from its models and does not need it.
 */
#include "core_internal.h"

void vfa_platform_info_from_config(struct vfa_platform_info *in,
                                   uint32_t (*rd)(void *opaque, uint32_t off, unsigned width),
                                   void *opaque)
{
    uint32_t pcie;

    in->vendor_id = (uint16_t)rd(opaque, VFA_PCI_VENDOR_ID, 2);
    in->device_id = (uint16_t)rd(opaque, VFA_PCI_VENDOR_ID + 2, 2);
    in->revision = (uint8_t)rd(opaque, 0x08, 1)   /* revision ID */;
    in->class_code = rd(opaque, 0x08, 4) >> 8 /* class code */;
    in->header_type = (uint8_t)rd(opaque, VFA_PCI_HEADER_TYPE, 1);
    in->subsys_vendor_id = (uint16_t)rd(opaque, VFA_PCI_SUBSYSTEM_VENDOR_ID, 2);
    in->subsys_id = (uint16_t)rd(opaque, VFA_PCI_SUBSYSTEM_VENDOR_ID + 2, 2);
    pcie = vfa_pci_find_cap(rd, opaque, VFA_PCI_CAP_ID_EXP);
    in->config_size = pcie ? VFA_PCI_CFG_EXT_SIZE : VFA_PCI_CFG_SIZE;
    in->reset_methods &= ~(uint32_t)VFA_RESET_FLR;
    if (pcie && (rd(opaque, pcie + VFA_PCI_EXP_DEVCAP, 4) & VFA_PCI_EXP_DEVCAP_FLR))
        in->reset_methods |= VFA_RESET_FLR;
}
