/*
 * vfio-apple: the DMA window in ACPI.
 *
 * A guest that boots through UEFI firmware with ACPI never sees the device
 * tree's dma-ranges.  It learns the window instead from:
 *
 *  - _DMA on the PCIe host bridge: one QWordMemory descriptor per bus range,
 *    a producer (the bridge translates), _MIN.._MAX the bus addresses
 *    (IOVAs) and the translation offset CPU - bus, so that Linux's
 *    acpi_dma_get_range() builds the same bus offsets as of_dma_get_range()
 *    does from dma-ranges, and bounces what lies outside;
 *  - the IORT root complex node's memory address size limit: Linux sizes
 *    its DMA zone (where swiotlb lives) from it as from dma-ranges' highest
 *    CPU address, so the zone is the window when the window is smaller
 *    than RAM (it then ends on a power of two: container.c).
 *
 * Both come from the one list of bus ranges window.c makes at machine done
 * (vfio_apple_window_bus_ranges()); the ACPI tables are built after it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "hw/acpi/aml-build.h"
#include "hw/pci/pci.h"
#include "hw/vfio-apple/vfio-apple.h"

#include "container.h"
#include "trace.h"

void vfio_apple_acpi_add_dma(Aml *scope, const char *bridge)
{
    const VFIOAppleBusRange *r;
    unsigned n = vfio_apple_window_bus_ranges(&r), i;
    Aml *dma, *bridge_scope;

    if (!n) {
        return;     /* no window: the bridge is what it always was */
    }
    dma = aml_resource_template();
    for (i = 0; i < n; i++) {
        /* Bus + translation = CPU, modulo 2^64 (the IOVA may be higher). */
        aml_append(dma, aml_qword_memory(AML_POS_DECODE, AML_MIN_FIXED,
                                         AML_MAX_FIXED, AML_CACHEABLE,
                                         AML_READ_WRITE, 0, r[i].bus,
                                         r[i].bus + r[i].size - 1,
                                         r[i].cpu - r[i].bus, r[i].size));
    }
    bridge_scope = aml_scope("%s", bridge);
    aml_append(bridge_scope, aml_name_decl("_DMA", dma));
    aml_append(scope, bridge_scope);
    trace_vfio_apple_acpi_dma(bridge, n);
}

uint8_t vfio_apple_acpi_address_limit(void)
{
    const VFIOAppleBusRange *r;
    unsigned n = vfio_apple_window_bus_ranges(&r), i;
    hwaddr top = 0;

    if (!n) {
        return 64;  /* what the IORT says without a window */
    }
    /* Bits of the highest CPU address a range reaches (fls64). */
    for (i = 0; i < n; i++) {
        top = MAX(top, r[i].cpu + r[i].size - 1);
    }
    trace_vfio_apple_acpi_address_limit(top, 64 - clz64(top));
    return 64 - clz64(top);
}
