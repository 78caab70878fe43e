/*
 * vfio-apple: PCI device assignment through an Apple DriverKit extension
 * (or, on Linux, vfio-apple-sim).  What machines need to know.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VFIO_APPLE_H
#define HW_VFIO_APPLE_H

#include "exec/hwaddr.h"

typedef struct Aml Aml;     /* hw/acpi/aml-build.h */

#define TYPE_VFIO_APPLE_PCI "vfio-apple-pci"

/*
 * Give a PCI root bus the DMA address space of vfio-apple's DMA window.
 * A machine calls it only when asked to (virt: -machine vfio-apple=on),
 * when the bus is created and before devices are added to it: a device's
 * bus-master address space is fixed when it is realized.  The identity of
 * system memory while there is no window.
 */
void vfio_apple_pci_bus_init(PCIBus *bus);

/*
 * At machine done, before the device tree is loaded and the ACPI tables
 * are built: fix the DMA window's bus ranges (if a vfio-apple-pci device
 * mapped one), keeping the MSI doorbell [@msi_base, @msi_base + @msi_size)
 * (0 size: none) reachable for emulated devices, and describe them with
 * `dma-ranges` on the PCIe host bridge node @pcie_node of @fdt.  Fails
 * (with a message saying what to change) when the guest could not learn
 * the window: a user-supplied DTB (@user_dtb) on a guest that does not
 * boot with ACPI (@acpi: firmware that hands it ACPI tables).  Warns when
 * firmware boots the guest from its devices (@firmware_boot: no -kernel)
 * and would drive the passthrough device itself.
 */
void vfio_apple_machine_done(void *fdt, const char *pcie_node, bool user_dtb,
                             bool firmware_boot, bool acpi, hwaddr msi_base,
                             uint64_t msi_size, Error **errp);

/*
 * In the DSDT, after the PCIe host bridge device @bridge was added to
 * @scope: the window's bus ranges as the bridge's _DMA (nothing without a
 * window).
 */
void vfio_apple_acpi_add_dma(Aml *scope, const char *bridge);

/*
 * The IORT root complex node's memory address size limit, in bits: the
 * highest guest-physical address the window reaches, so that the guest's
 * DMA zone is the window; 64 without a window.
 */
uint8_t vfio_apple_acpi_address_limit(void);

#endif
