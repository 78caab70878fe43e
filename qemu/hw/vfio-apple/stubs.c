/*
 * vfio-apple hooks when vfio-apple-pci is not built.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-vfio-apple.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "hw/acpi/aml-build.h"
#include "hw/vfio-apple/vfio-apple.h"

void vfio_apple_pci_bus_init(PCIBus *bus)
{
}

void vfio_apple_machine_done(void *fdt, const char *pcie_node, bool user_dtb,
                             bool firmware_boot, bool acpi, hwaddr msi_base,
                             uint64_t msi_size, Error **errp)
{
}

void vfio_apple_acpi_add_dma(Aml *scope, const char *bridge)
{
}

uint8_t vfio_apple_acpi_address_limit(void)
{
    return 64;
}

VfioAppleInfoList *qmp_x_query_vfio_apple(Error **errp)
{
    error_setg(errp, "vfio-apple-pci is not built into this QEMU");
    return NULL;
}

void hmp_info_vfio_apple(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "vfio-apple-pci is not built into this QEMU\n");
}
