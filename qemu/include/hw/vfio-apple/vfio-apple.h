/*
 * vfio-apple: PCI device assignment through an Apple DriverKit extension
 * (or, on Linux, vfio-apple-sim).  What machines need to know.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VFIO_APPLE_H
#define HW_VFIO_APPLE_H

#include "exec/hwaddr.h"

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
 * At machine done, before the device tree is loaded: describe the DMA
 * window (if a vfio-apple-pci device mapped one) with `dma-ranges` on the
 * PCIe host bridge node @pcie_node of @fdt, keeping the MSI doorbell
 * [@msi_base, @msi_base + @msi_size) (0 size: none) reachable for emulated
 * devices.  Fails (with a message saying what to change) when the guest
 * could not learn the window: a user-supplied DTB (@user_dtb) or an ACPI
 * boot (@acpi).
 */
void vfio_apple_machine_done(void *fdt, const char *pcie_node, bool user_dtb,
                             bool acpi, hwaddr msi_base, uint64_t msi_size,
                             Error **errp);

#endif
