/* vfio-apple CLI: `list` output, for people and as JSON (see devinfo.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "devinfo.h"
#include "json-out.h"
#include "opts.h"

static void class_str(const struct cli_devinfo *d, char *buf, size_t len)
{
    const struct cli_pci_names *n = &d->names;

    snprintf(buf, len, "%06x%s%s%s%s%s%s%s", d->id.class_code & 0xffffff,
             n->cls[0] ? " (" : "", n->cls, n->subclass[0] ? ", " : "", n->subclass,
             n->progif[0] ? ", " : "", n->progif, n->cls[0] ? ")" : "");
}

static void print_one(FILE *f, const struct cli_devinfo *d)
{
    const struct vfa_identity *id = &d->id;
    char a[64], b[64], cls[320];

    fprintf(f, "  location     %04x:%02x:%02x.%x on %s (%s, ABI %u.%u)\n", id->domain, id->bus,
            id->dev, id->fn, id->location, d->transport, d->abi_major, d->abi_minor);
    fprintf(f, "  IDs          %04x:%04x %s%s%s (subsystem %04x:%04x, rev %02x)\n",
            id->vendor_id, id->device_id,
            d->names.vendor[0] ? d->names.vendor : "(vendor not in pci.ids)",
            d->names.device[0] ? " " : "", d->names.device, id->subsys_vendor_id, id->subsys_id,
            id->revision);
    class_str(d, cls, sizeof(cls));
    fprintf(f, "  class        %s\n", cls);
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        if (!(id->bar_flags[i] & VFA_BAR_PRESENT))
            continue;
        cli_bar_flags_str(id->bar_flags[i], b, sizeof(b));
        fprintf(f, "  BAR%u         %s, %s\n", i, cli_fmt_size(id->bar_size[i], a, sizeof(a)), b);
    }
    if (id->rom_size)
        fprintf(f, "  ROM          %s\n", cli_fmt_size(id->rom_size, a, sizeof(a)));
    fprintf(f, "  interrupts   MSI %u, MSI-X %u\n", id->msi_vectors, id->msix_vectors);
    cli_reset_kinds_str(id->flags, b, sizeof(b));
    fprintf(f, "  reset        %s\n", b);
    fprintf(f, "  DMA budget   %s, %u mappings (%s pages, up to %u segments a map)\n",
            cli_fmt_size(id->dma_budget_bytes, a, sizeof(a)), id->dma_max_mappings,
            cli_fmt_size(id->dma_page_size, b, sizeof(b)), id->dma_max_segments);
    if (!d->session_open)
        fprintf(f, "  session      free\n");
    else if (d->owner_pid)
        fprintf(f, "  session      open (pid %d%s%s)\n", d->owner_pid,
                d->owner_name[0] ? " " : "", d->owner_name);
    else
        fprintf(f, "  session      open\n");
}

void cli_list_print(FILE *f, const struct cli_devinfo *v, size_t n)
{
    cli_devices_print(f, v, n, print_one);
}

/* The identity as JSON members (shared by list and status). */
void cli_identity_json(struct jw *w, const struct cli_devinfo *d)
{
    const struct vfa_identity *id = &d->id;
    char bdf[32], b[64];

    snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", id->domain, id->bus, id->dev, id->fn);
    jw_str(w, "transport", d->transport);
    jw_str(w, "abi", (snprintf(b, sizeof(b), "%u.%u", d->abi_major, d->abi_minor), b));
    jw_str(w, "address", bdf);
    jw_str(w, "location", id->location);
    jw_u64(w, "vendor_id", id->vendor_id);
    jw_u64(w, "device_id", id->device_id);
    jw_str(w, "vendor_name", d->names.vendor[0] ? d->names.vendor : NULL);
    jw_str(w, "device_name", d->names.device[0] ? d->names.device : NULL);
    jw_u64(w, "subsystem_vendor_id", id->subsys_vendor_id);
    jw_u64(w, "subsystem_id", id->subsys_id);
    jw_u64(w, "revision", id->revision);
    jw_u64(w, "class_code", id->class_code & 0xffffff);
    jw_str(w, "class_name", d->names.cls[0] ? d->names.cls : NULL);
    jw_str(w, "subclass_name", d->names.subclass[0] ? d->names.subclass : NULL);
    jw_str(w, "progif_name", d->names.progif[0] ? d->names.progif : NULL);
    jw_u64(w, "config_size", id->config_size);
    jw_arr(w, "bars");
    for (unsigned i = 0; i < VFA_NUM_BARS; i++) {
        if (!(id->bar_flags[i] & VFA_BAR_PRESENT))
            continue;
        jw_obj(w, NULL);
        jw_u64(w, "index", i);
        jw_u64(w, "size", id->bar_size[i]);
        jw_bool(w, "mem64", id->bar_flags[i] & VFA_BAR_MEM64);
        jw_bool(w, "prefetchable", id->bar_flags[i] & VFA_BAR_PREFETCHABLE);
        jw_bool(w, "mappable", id->bar_flags[i] & VFA_BAR_MAPPABLE);
        jw_bool(w, "trapped_pages", id->bar_flags[i] & VFA_BAR_TRAPPED);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_u64(w, "rom_size", id->rom_size);
    jw_u64(w, "msi_vectors", id->msi_vectors);
    jw_u64(w, "msix_vectors", id->msix_vectors);
    jw_arr(w, "reset");
    if (id->flags & VFA_ID_FLR)
        jw_str(w, NULL, "flr");
    if (id->flags & VFA_ID_HOT_RESET)
        jw_str(w, NULL, "hot");
    jw_arr_end(w);
    jw_obj(w, "dma");
    jw_u64(w, "budget_bytes", id->dma_budget_bytes);
    jw_u64(w, "max_mappings", id->dma_max_mappings);
    jw_u64(w, "page_size", id->dma_page_size);
    jw_u64(w, "max_segments", id->dma_max_segments);
    jw_obj_end(w);
    jw_bool(w, "simulated", id->flags & VFA_ID_SIMULATED);
}

/* Session state as JSON members. */
void cli_session_json(struct jw *w, const struct cli_devinfo *d)
{
    jw_obj(w, "session");
    jw_bool(w, "open", d->session_open);
    if (d->owner_pid)
        jw_i64(w, "owner_pid", d->owner_pid);
    else
        jw_null(w, "owner_pid");
    jw_str(w, "owner_name", d->owner_name[0] ? d->owner_name : NULL);
    jw_obj_end(w);
}

static void list_members(struct jw *w, const struct cli_devinfo *d)
{
    cli_identity_json(w, d);
    cli_session_json(w, d);
}

void cli_list_json(FILE *f, const struct cli_devinfo *v, size_t n)
{
    cli_devices_json(f, v, n, list_members);
}
