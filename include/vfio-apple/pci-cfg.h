/*
 * vfio-apple: PCI configuration space constants and a capability walker
 *
 * The one definition of the PCI config-space layout that vfio-apple's
 * portable code needs (the dext core, the simulator, our QEMU device),
 * and one bounded, loop-safe walker over the standard and extended
 * capability lists.  Everything is prefixed VFA_PCI_ so that this header
 * can be included next to QEMU's or Linux's pci_regs.h.
 *
 * The walker never trusts the device: config space comes from hardware
 * the host does not control (a Thunderbolt enclosure, a hostile or broken
 * function).  It reads through a callback, refuses pointers into the
 * header or past the config size, remembers every position it visited so
 * a cycle ends the walk, and stops at the first malformed link.  It does
 * not know how long a capability is: callers that read a capability's
 * fields must check that they fit (vfa_pci_cap_fits()).
 *
 * Copyright (c) 2026 The vfio-apple authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFIO_APPLE_PCI_CFG_H
#define VFIO_APPLE_PCI_CFG_H

#include <stdbool.h>
#include <stdint.h>

/* Sizes of the three regions of config space. */
#define VFA_PCI_STD_HEADER_SIZE     0x40u
#define VFA_PCI_CFG_SIZE            0x100u
#define VFA_PCI_CFG_EXT_SIZE        0x1000u

/* Type 0 header. */
#define VFA_PCI_VENDOR_ID           0x00u
#define VFA_PCI_DEVICE_ID           0x02u
#define VFA_PCI_COMMAND             0x04u
#define VFA_PCI_STATUS              0x06u
#define VFA_PCI_REVISION_ID         0x08u
#define VFA_PCI_CLASS_PROG          0x09u
#define VFA_PCI_CACHE_LINE_SIZE     0x0cu
#define VFA_PCI_LATENCY_TIMER       0x0du
#define VFA_PCI_HEADER_TYPE         0x0eu
#define VFA_PCI_BIST                0x0fu
#define VFA_PCI_BASE_ADDRESS_0      0x10u
#define VFA_PCI_NUM_BARS            6u
#define VFA_PCI_BASE_ADDRESS_END    0x28u   /* one past BAR 5 */
#define VFA_PCI_CARDBUS_CIS         0x28u
#define VFA_PCI_SUBSYSTEM_VENDOR_ID 0x2cu
#define VFA_PCI_SUBSYSTEM_ID        0x2eu
#define VFA_PCI_ROM_ADDRESS         0x30u
#define VFA_PCI_CAPABILITY_LIST     0x34u
#define VFA_PCI_INTERRUPT_LINE      0x3cu
#define VFA_PCI_INTERRUPT_PIN       0x3du
#define VFA_PCI_MIN_GNT             0x3eu
#define VFA_PCI_MAX_LAT             0x3fu

/* Command register bits. */
#define VFA_PCI_COMMAND_IO          0x0001u
#define VFA_PCI_COMMAND_MEMORY      0x0002u
#define VFA_PCI_COMMAND_MASTER      0x0004u
#define VFA_PCI_COMMAND_PARITY      0x0040u
#define VFA_PCI_COMMAND_SERR        0x0100u
#define VFA_PCI_COMMAND_INTX_DIS    0x0400u

/* Status register bits. */
#define VFA_PCI_STATUS_CAP_LIST     0x0010u

/* Standard capability header and IDs. */
#define VFA_PCI_CAP_ID              0x00u
#define VFA_PCI_CAP_NEXT            0x01u
#define VFA_PCI_CAP_ID_PM           0x01u
#define VFA_PCI_CAP_ID_VPD          0x03u
#define VFA_PCI_CAP_ID_MSI          0x05u
#define VFA_PCI_CAP_ID_VNDR         0x09u
#define VFA_PCI_CAP_ID_EXP          0x10u
#define VFA_PCI_CAP_ID_MSIX         0x11u
#define VFA_PCI_CAP_ID_AF           0x13u

/* Power Management capability. */
#define VFA_PCI_PM_PMC              0x02u
#define VFA_PCI_PM_PMC_D1           0x0200u
#define VFA_PCI_PM_PMC_D2           0x0400u
#define VFA_PCI_PM_CTRL             0x04u
#define VFA_PCI_PM_CTRL_STATE_MASK  0x0003u
#define VFA_PCI_PM_CTRL_NO_SOFT_RST 0x0008u
#define VFA_PCI_PM_CTRL_PME_ENABLE  0x0100u
#define VFA_PCI_PM_CTRL_PME_STATUS  0x8000u
#define VFA_PCI_PM_SIZE             8u
#define VFA_PCI_PM_D0               0u
#define VFA_PCI_PM_D1               1u
#define VFA_PCI_PM_D2               2u
#define VFA_PCI_PM_D3HOT            3u

/* MSI capability. */
#define VFA_PCI_MSI_FLAGS           0x02u
#define VFA_PCI_MSI_FLAGS_ENABLE    0x0001u
#define VFA_PCI_MSI_FLAGS_64BIT     0x0080u
#define VFA_PCI_MSI_FLAGS_MASKBIT   0x0100u

/* MSI-X capability. */
#define VFA_PCI_MSIX_FLAGS          0x02u
#define VFA_PCI_MSIX_FLAGS_QSIZE    0x07ffu
#define VFA_PCI_MSIX_FLAGS_MASKALL  0x4000u
#define VFA_PCI_MSIX_FLAGS_ENABLE   0x8000u
#define VFA_PCI_MSIX_TABLE          0x04u
#define VFA_PCI_MSIX_PBA            0x08u
#define VFA_PCI_MSIX_BIR_MASK       0x00000007u
#define VFA_PCI_MSIX_OFFSET_MASK    0xfffffff8u
#define VFA_PCI_MSIX_SIZE           12u
#define VFA_PCI_MSIX_ENTRY_SIZE     16u

/* Vendor-specific capability: a length byte after the header. */
#define VFA_PCI_VNDR_LEN            0x02u

/* PCI Express capability (offsets from the capability). */
#define VFA_PCI_EXP_FLAGS           0x02u
#define VFA_PCI_EXP_DEVCAP          0x04u
#define VFA_PCI_EXP_DEVCAP_FLR      0x10000000u
#define VFA_PCI_EXP_DEVCTL          0x08u
#define VFA_PCI_EXP_DEVCTL_FLR      0x8000u
#define VFA_PCI_EXP_DEVSTA          0x0au
#define VFA_PCI_EXP_LNKCAP          0x0cu
#define VFA_PCI_EXP_LNKCTL          0x10u
#define VFA_PCI_EXP_LNKSTA          0x12u
#define VFA_PCI_EXP_SLTCAP          0x14u
#define VFA_PCI_EXP_SLTCTL          0x18u
#define VFA_PCI_EXP_SLTSTA          0x1au
#define VFA_PCI_EXP_RTCTL           0x1cu
#define VFA_PCI_EXP_RTSTA           0x20u
#define VFA_PCI_EXP_DEVCAP2         0x24u
#define VFA_PCI_EXP_DEVCTL2         0x28u
#define VFA_PCI_EXP_DEVSTA2         0x2au
#define VFA_PCI_EXP_LNKCAP2         0x2cu
#define VFA_PCI_EXP_LNKCTL2         0x30u
#define VFA_PCI_EXP_LNKSTA2         0x32u
#define VFA_PCI_EXP_SLTCTL2         0x38u
#define VFA_PCI_EXP_SIZE_V2         0x3cu

/* Extended capabilities: a 32-bit header at 0x100 and after. */
#define VFA_PCI_EXT_CAP_START       0x100u
#define VFA_PCI_EXT_CAP_ID_AER      0x0001u
#define VFA_PCI_EXT_CAP_ID_VC       0x0002u
#define VFA_PCI_EXT_CAP_ID_DSN      0x0003u
#define VFA_PCI_EXT_CAP_ID_PWR      0x0004u
#define VFA_PCI_EXT_CAP_ID_VC9      0x0009u
#define VFA_PCI_EXT_CAP_ID_VNDR     0x000bu
#define VFA_PCI_EXT_CAP_ID_ACS      0x000du
#define VFA_PCI_EXT_CAP_ID_ARI      0x000eu
#define VFA_PCI_EXT_CAP_ID_ATS      0x000fu
#define VFA_PCI_EXT_CAP_ID_SRIOV    0x0010u
#define VFA_PCI_EXT_CAP_ID_PRI      0x0013u
#define VFA_PCI_EXT_CAP_ID_REBAR    0x0015u
#define VFA_PCI_EXT_CAP_ID_TPH      0x0017u
#define VFA_PCI_EXT_CAP_ID_LTR      0x0018u
#define VFA_PCI_EXT_CAP_ID_SECPCI   0x0019u
#define VFA_PCI_EXT_CAP_ID_PASID    0x001bu
#define VFA_PCI_EXT_CAP_ID_DPC      0x001du
#define VFA_PCI_EXT_CAP_ID_L1SS     0x001eu
#define VFA_PCI_EXT_CAP_ID_PTM      0x001fu
#define VFA_PCI_EXT_CAP_ID_DVSEC    0x0023u

/* AER registers (offsets from the capability). */
#define VFA_PCI_ERR_UNCOR_STATUS    0x04u
#define VFA_PCI_ERR_UNCOR_MASK      0x08u
#define VFA_PCI_ERR_UNCOR_SEVER     0x0cu
#define VFA_PCI_ERR_COR_STATUS      0x10u
#define VFA_PCI_ERR_COR_MASK        0x14u
#define VFA_PCI_ERR_CAP             0x18u

/* Vendor-specific extended capability (VSEC) and designated VSEC. */
#define VFA_PCI_VSEC_HDR            0x04u
#define VFA_PCI_DVSEC_HDR2          0x08u

static inline uint16_t vfa_pci_ext_cap_id(uint32_t hdr)
{
    return (uint16_t)(hdr & 0xffffu);
}

static inline unsigned vfa_pci_ext_cap_ver(uint32_t hdr)
{
    return (hdr >> 16) & 0xfu;
}

/* The low two bits of the next pointer are reserved: masked. */
static inline uint32_t vfa_pci_ext_cap_next(uint32_t hdr)
{
    return (hdr >> 20) & 0xffcu;
}

/* VSEC header (at VFA_PCI_VSEC_HDR): ID in 15:0, length in 31:20. */
static inline uint16_t vfa_pci_vsec_id(uint32_t vsec_hdr)
{
    return (uint16_t)(vsec_hdr & 0xffffu);
}

static inline uint32_t vfa_pci_vsec_len(uint32_t vsec_hdr)
{
    return vsec_hdr >> 20;
}

/* Bytes of an MSI capability with these flags: 10, 14, 20 or 24. */
static inline uint32_t vfa_pci_msi_size(uint32_t flags)
{
    uint32_t len = 10;

    if (flags & VFA_PCI_MSI_FLAGS_64BIT) {
        len += 4;
    }
    if (flags & VFA_PCI_MSI_FLAGS_MASKBIT) {
        len += 10;
    }
    return len;
}

/* Vectors an MSI-X capability with these flags has: 1..2048. */
static inline uint32_t vfa_pci_msix_vectors(uint32_t flags)
{
    return (flags & VFA_PCI_MSIX_FLAGS_QSIZE) + 1;
}

/*
 * Bytes of its table (16 per vector) and of its PBA (a bit per vector,
 * in whole qwords).
 */
static inline uint32_t vfa_pci_msix_table_size(uint32_t flags)
{
    return vfa_pci_msix_vectors(flags) * VFA_PCI_MSIX_ENTRY_SIZE;
}

static inline uint32_t vfa_pci_msix_pba_size(uint32_t flags)
{
    return (vfa_pci_msix_vectors(flags) + 63) / 64 * 8;
}

/*
 * Does a structure of len bytes at pos end at or before limit?  Written
 * so that no sum can wrap: pos and len come from the device.
 */
static inline bool vfa_pci_cap_fits(uint32_t pos, uint32_t len,
                                    uint32_t limit)
{
    return pos <= limit && len <= limit - pos;
}

/*
 * Reads width (1, 2 or 4) bytes of config space at off.  A failed read
 * must return all-ones, as a failed config read does on PCI: every walk
 * below ends on it.
 */
typedef uint32_t (*vfa_pci_cfg_read_fn)(void *opaque, uint32_t off,
                                        unsigned width);

/* Called once per capability found; a nonzero return ends the walk. */
typedef int (*vfa_pci_cap_fn)(void *opaque, unsigned id, uint32_t pos);

/*
 * Walk the standard capability list: cb(cb_opaque, id, pos) for each one,
 * in list order.  Returns how many were found.  The walk ends at a null
 * pointer, a pointer into the header, an all-ones ID (the function did not
 * answer), a position already visited (a cycle), or after 48 entries (as
 * many as fit between the header and 0x100).
 */
static inline unsigned vfa_pci_for_each_cap(vfa_pci_cfg_read_fn rd,
                                            void *rd_opaque,
                                            vfa_pci_cap_fn cb,
                                            void *cb_opaque)
{
    uint64_t seen = 0;          /* one bit per dword of 0..0xff */
    unsigned count = 0, n;
    uint32_t pos, id;

    if (!(rd(rd_opaque, VFA_PCI_STATUS, 2) & VFA_PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    /* The low two bits of every capability pointer are reserved. */
    pos = rd(rd_opaque, VFA_PCI_CAPABILITY_LIST, 1) & 0xfcu;
    for (n = 0; n < (VFA_PCI_CFG_SIZE - VFA_PCI_STD_HEADER_SIZE) / 4; n++) {
        if (pos < VFA_PCI_STD_HEADER_SIZE || pos >= VFA_PCI_CFG_SIZE) {
            break;
        }
        if (seen & (1ull << (pos / 4))) {
            break;
        }
        seen |= 1ull << (pos / 4);
        id = rd(rd_opaque, pos + VFA_PCI_CAP_ID, 1) & 0xffu;
        if (id == 0xffu) {
            break;
        }
        count++;
        if (cb && cb(cb_opaque, id, pos)) {
            break;
        }
        pos = rd(rd_opaque, pos + VFA_PCI_CAP_NEXT, 1) & 0xfcu;
    }
    return count;
}

/*
 * Walk the extended capability list of a function with cfg_size bytes of
 * config space (nothing happens below 4 KiB): cb(cb_opaque, id, pos) for
 * each header, in list order.  Returns how many were found.  The walk
 * ends at a header of zero (no extended capabilities) or all-ones (no
 * answer), a next pointer of zero, below 0x100 or past cfg_size, a
 * position already visited, or after as many entries as fit.
 */
static inline unsigned vfa_pci_for_each_ext_cap(vfa_pci_cfg_read_fn rd,
                                                void *rd_opaque,
                                                uint32_t cfg_size,
                                                vfa_pci_cap_fn cb,
                                                void *cb_opaque)
{
    /* One bit per dword of 0..0xfff. */
    uint64_t seen[VFA_PCI_CFG_EXT_SIZE / 4 / 64] = { 0 };
    unsigned count = 0, n;
    uint32_t pos = VFA_PCI_EXT_CAP_START, hdr;

    if (cfg_size > VFA_PCI_CFG_EXT_SIZE) {
        cfg_size = VFA_PCI_CFG_EXT_SIZE;
    }
    for (n = 0; n < (VFA_PCI_CFG_EXT_SIZE - VFA_PCI_CFG_SIZE) / 4; n++) {
        if (pos < VFA_PCI_EXT_CAP_START || !vfa_pci_cap_fits(pos, 4,
                                                             cfg_size)) {
            break;
        }
        if (seen[pos / 4 / 64] & (1ull << (pos / 4 % 64))) {
            break;
        }
        seen[pos / 4 / 64] |= 1ull << (pos / 4 % 64);
        hdr = rd(rd_opaque, pos, 4);
        if (hdr == 0 || hdr == 0xffffffffu) {
            break;
        }
        count++;
        if (cb && cb(cb_opaque, vfa_pci_ext_cap_id(hdr), pos)) {
            break;
        }
        pos = vfa_pci_ext_cap_next(hdr);
    }
    return count;
}

struct vfa_pci_find {
    unsigned id;
    uint32_t pos;
};

static inline int vfa_pci_find_cb(void *opaque, unsigned id, uint32_t pos)
{
    struct vfa_pci_find *f = opaque;

    if (id != f->id) {
        return 0;
    }
    f->pos = pos;
    return 1;
}

/* Position of the first standard capability with this ID, or 0. */
static inline uint32_t vfa_pci_find_cap(vfa_pci_cfg_read_fn rd,
                                        void *rd_opaque, unsigned id)
{
    struct vfa_pci_find f = { id, 0 };

    vfa_pci_for_each_cap(rd, rd_opaque, vfa_pci_find_cb, &f);
    return f.pos;
}

/* Position of the first extended capability with this ID, or 0. */
static inline uint32_t vfa_pci_find_ext_cap(vfa_pci_cfg_read_fn rd,
                                            void *rd_opaque,
                                            uint32_t cfg_size, unsigned id)
{
    struct vfa_pci_find f = { id, 0 };

    vfa_pci_for_each_ext_cap(rd, rd_opaque, cfg_size, vfa_pci_find_cb, &f);
    return f.pos;
}

#endif
