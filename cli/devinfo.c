/* vfio-apple CLI: gathering a device's facts (see devinfo.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/vfio-apple-client.h"
#include "vfio-apple/sim-wire.h"
#include "devinfo.h"
#include "json-out.h"

bool cli_stats_session_open(const struct vfa_stats *st)
{
    return st->sessions_opened > st->sessions_closed + st->sessions_client_died;
}

void cli_bar_flags_str(uint32_t flags, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s", flags & VFA_BAR_MEM64 ? "mem64" : "mem32",
             flags & VFA_BAR_PREFETCHABLE ? " prefetchable" : "",
             flags & VFA_BAR_MAPPABLE ? " mappable" : " not-mappable",
             flags & VFA_BAR_TRAPPED ? " trapped-pages" : "");
}

void cli_reset_kinds_str(uint16_t id_flags, char *buf, size_t len)
{
    bool flr = id_flags & VFA_ID_FLR, hot = id_flags & VFA_ID_HOT_RESET;

    snprintf(buf, len, "%s%s%s", flr ? "FLR" : "", flr && hot ? ", " : "",
             hot ? "hot reset" : "");
    if (!flr && !hot)
        snprintf(buf, len, "none");
}

void cli_devinfo_sim_json(struct cli_devinfo *di, const char *json)
{
    char err[128];
    struct jnode *j = json_parse(json, err, sizeof(err));

    if (!j)
        return;
    di->have_sim = true;
    snprintf(di->model, sizeof(di->model), "%s", json_str(json_get(j, "model"), "?"));
    di->owner_pid = (int)json_u64(json_get(j, "session_owner_pid"), 0);
    di->dart_faults = json_u64(json_path(j, "dart.faults"), 0);
    di->sim_requests = json_u64(json_path(j, "core.calls_total"), 0);
    json_free(j);
}

void cli_devinfo_gather(const struct cli_device_ref *ref, struct cli_devinfo *di)
{
    struct vfa_client *c;
    int r;

    memset(di, 0, sizeof(*di));
    di->ref = *ref;
    r = vfa_client_connect(ref->target, &c, di->errmsg, sizeof(di->errmsg));
    if (r) {
        di->err = r;
        return;
    }
    di->transport = vfa_client_transport(c) == VFA_TRANSPORT_SOCKET ? "vfio-apple-sim" : "dext";
    if ((r = vfa_get_version(c, &di->abi_major, &di->abi_minor, &di->features)) ||
        (r = vfa_get_identity(c, &di->id)) || (r = vfa_get_stats(c, &di->st))) {
        di->err = r;
        snprintf(di->errmsg, sizeof(di->errmsg), "%s", vfa_client_errmsg(c));
        vfa_client_disconnect(c);
        return;
    }
    di->id.location[sizeof(di->id.location) - 1] = 0;   /* never trust the dext */
    di->session_open = cli_stats_session_open(&di->st);
    if (vfa_client_transport(c) == VFA_TRANSPORT_SOCKET) {
        char *buf = malloc(VFA_SIM_STATS_MAX + 1);

        if (buf && !vfa_sim_stats_json(c, buf, VFA_SIM_STATS_MAX + 1))
            cli_devinfo_sim_json(di, buf);
        free(buf);
        if (di->owner_pid)
            cli_host_proc_name(di->owner_pid, di->owner_name, sizeof(di->owner_name));
    }
    cli_pciids_lookup(NULL, di->id.vendor_id, di->id.device_id, di->id.class_code, &di->names);
    vfa_client_disconnect(c);
}

void cli_devinfo_free(struct cli_devinfo *di)
{
    json_free(di->qmp_root);
    di->qmp_root = NULL;
    di->qemu = NULL;
}

void cli_devices_print(FILE *f, const struct cli_devinfo *v, size_t n,
                       void (*one)(FILE *f, const struct cli_devinfo *d))
{
    if (!n)
        fprintf(f, "no devices (see `vfio-apple list --help` for where they are looked for)\n");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc('\n', f);
        fprintf(f, "%s  %s\n", v[i].ref.name, v[i].ref.target);
        if (v[i].err)
            fprintf(f, "  error        %s\n", v[i].errmsg);
        else
            one(f, &v[i]);
    }
}

void cli_devices_json(FILE *f, const struct cli_devinfo *v, size_t n,
                      void (*members)(struct jw *w, const struct cli_devinfo *d))
{
    struct jw w;

    jw_init(&w, f, true);
    jw_obj(&w, NULL);
    jw_arr(&w, "devices");
    for (size_t i = 0; i < n; i++) {
        jw_obj(&w, NULL);
        jw_str(&w, "name", v[i].ref.name);
        jw_str(&w, "target", v[i].ref.target);
        if (v[i].err)
            jw_str(&w, "error", v[i].errmsg);
        else
            members(&w, &v[i]);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_done(&w);
}
