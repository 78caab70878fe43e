/*
 * vfio-apple CLI: names of PCI IDs and classes from the system's pci.ids
 * (Debian's pci.ids package: /usr/share/misc/pci.ids), optional: without
 * it, or for IDs it does not know, the names stay empty.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_PCIIDS_H
#define VFA_CLI_PCIIDS_H

#include <stdint.h>

struct cli_pci_names {
    char vendor[128];
    char device[160];
    char cls[80];               /* base class, e.g. "Mass storage controller" */
    char subclass[96];          /* e.g. "Non-Volatile memory controller" */
    char progif[96];            /* e.g. "NVM Express" */
};

/* $VFIO_APPLE_PCI_IDS, else the first of the usual places that exists; NULL. */
const char *cli_pciids_path(void);
/* 0, or -ENOENT when there is no pci.ids (the names are then empty). */
int cli_pciids_lookup(const char *path, uint16_t vendor, uint16_t device,
                      uint32_t class_code, struct cli_pci_names *n);

#endif
