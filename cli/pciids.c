/* vfio-apple CLI: pci.ids lookups (see pciids.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pciids.h"

const char *cli_pciids_path(void)
{
    static const char *const places[] = {
        "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids",
        "/opt/homebrew/share/pci.ids", "/usr/local/share/pci.ids",
    };
    const char *e = getenv("VFIO_APPLE_PCI_IDS");

    if (e && *e)
        return e;
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
        if (!access(places[i], R_OK))
            return places[i];
    return NULL;
}

/* "HEX  Name" after @tabs tabs, HEX of @digits digits: the value, name in *name. */
static int entry(const char *line, unsigned tabs, unsigned digits, unsigned *val,
                 const char **name)
{
    char hex[8];
    char *end;

    for (unsigned i = 0; i < tabs; i++)
        if (line[i] != '\t')
            return -1;
    line += tabs;
    if (strlen(line) < digits + 2 || line[digits] != ' ' || line[0] == '\t')
        return -1;
    memcpy(hex, line, digits);
    hex[digits] = 0;
    *val = (unsigned)strtoul(hex, &end, 16);
    if (*end)
        return -1;
    line += digits;
    while (*line == ' ')
        line++;
    *name = line;
    return 0;
}

static void put(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%.*s", (int)strcspn(src, "\r\n"), src);
}

int cli_pciids_lookup(const char *path, uint16_t vendor, uint16_t device,
                      uint32_t class_code, struct cli_pci_names *n)
{
    unsigned base = (class_code >> 16) & 0xff, sub = (class_code >> 8) & 0xff,
             pi = class_code & 0xff, v;
    enum { NONE, IN_VENDOR, IN_CLASS, IN_SUBCLASS } where = NONE;
    char line[512];
    const char *name;
    FILE *f;

    memset(n, 0, sizeof(*n));
    if (!path)
        path = cli_pciids_path();
    if (!path || !(f = fopen(path, "r")))
        return -ENOENT;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (line[0] == 'C' && line[1] == ' ') {
            where = !entry(line + 2, 0, 2, &v, &name) && v == base ? IN_CLASS : NONE;
            if (where == IN_CLASS)
                put(n->cls, sizeof(n->cls), name);
            continue;
        }
        if (line[0] != '\t') {
            /* A vendor line (or another section's header). */
            where = !entry(line, 0, 4, &v, &name) && v == vendor ? IN_VENDOR : NONE;
            if (where == IN_VENDOR)
                put(n->vendor, sizeof(n->vendor), name);
            continue;
        }
        switch (where) {
        case IN_VENDOR:
            if (!entry(line, 1, 4, &v, &name) && v == device)
                put(n->device, sizeof(n->device), name);
            break;
        case IN_CLASS:
        case IN_SUBCLASS:
            if (!entry(line, 1, 2, &v, &name)) {
                where = v == sub ? IN_SUBCLASS : IN_CLASS;
                if (where == IN_SUBCLASS)
                    put(n->subclass, sizeof(n->subclass), name);
            } else if (where == IN_SUBCLASS && !entry(line, 2, 2, &v, &name) && v == pi) {
                put(n->progif, sizeof(n->progif), name);
            }
            break;
        case NONE:
            break;
        }
    }
    fclose(f);
    return 0;
}
