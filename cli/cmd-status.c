/* vfio-apple status: a device's session, DART usage, counters, QEMU's view. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "devinfo.h"
#include "opts.h"
#include "qmp.h"

static const char usage[] =
"usage: vfio-apple status [DEVICE] [--json] [--watch [--interval S] [--count N]]\n"
"                         [--qmp PATH] [--socket PATH]\n"
"\n"
"Per device (all devices without DEVICE): who holds the session, DART usage\n"
"(bytes and mappings now and at peak, the budget), interrupts, DART faults\n"
"(the simulator counts them), the dext's counters; and with a VM started by\n"
"`vfio-apple run`, QEMU's view of the device through QMP\n"
"(x-query-vfio-apple: dext calls, timeouts, the window).\n"
"\n"
"  -j, --json           one JSON object {\"devices\": [...]}\n"
"  -w, --watch          refresh until interrupted\n"
"      --interval S     seconds between refreshes (default 1)\n"
"      --count N        stop after N reports (with --watch)\n"
"      --qmp PATH       QEMU's QMP socket (default: DEVICE's socket with .qmp)\n"
"  -s, --socket PATH    only the simulator on this socket\n"
"  -h, --help           this text\n";

enum { O_JSON = 1, O_WATCH, O_INTERVAL, O_COUNT, O_QMP, O_SOCKET, O_HELP };
static const struct cli_opt table[] = {
    { "json", 'j', false, O_JSON },
    { "watch", 'w', false, O_WATCH },
    { "interval", 0, true, O_INTERVAL },
    { "count", 0, true, O_COUNT },
    { "qmp", 0, true, O_QMP },
    { "socket", 's', true, O_SOCKET },
    { "help", 'h', false, O_HELP },
    { NULL, 0, false, 0 },
};

/* QEMU's entry for the device, from the QMP socket beside it. */
static void qemu_view(struct cli_devinfo *d, const char *qmp)
{
    const struct jnode *list, *pick = NULL;
    char err[256];

    if (qmp)
        snprintf(d->ref.qmp, sizeof(d->ref.qmp), "%s", qmp);
    if (access(d->ref.qmp, F_OK)) {
        snprintf(d->qmp_note, sizeof(d->qmp_note), "no VM (no QMP socket at %s)", d->ref.qmp);
        return;
    }
    list = cli_qmp_command(d->ref.qmp, "x-query-vfio-apple", 3000, &d->qmp_root, err,
                           sizeof(err));
    if (!list) {
        snprintf(d->qmp_note, sizeof(d->qmp_note), "no answer from QEMU: %s", err);
        return;
    }
    for (const struct jnode *e = list->child; e; e = e->next)
        if (!strcmp(json_str(json_get(e, "dext"), ""), d->ref.target))
            pick = e;
    if (!pick && json_len(list) == 1)
        pick = list->child;
    d->qemu = pick;
    if (!pick)
        snprintf(d->qmp_note, sizeof(d->qmp_note), "the QEMU on %s has no vfio-apple-pci "
                 "device for %s", d->ref.qmp, d->ref.target);
}

int cli_cmd_status(int argc, char **argv)
{
    struct cli_device_ref *refs = NULL;
    const char *a, *device = NULL, *qmp = NULL;
    bool json = false, watch = false;
    uint64_t interval = 1, count = 0, v;
    struct cli_opts st;
    char err[512];
    size_t n;
    int id, bad = 0;

    cli_opts_init(&st, argc, argv, table, "status");
    while ((id = cli_opts_next(&st, &a, err, sizeof(err))) != CLI_OPT_END) {
        switch (id) {
        case O_JSON: json = true; break;
        case O_WATCH: watch = true; break;
        case O_INTERVAL:
            if (cli_parse_uint(a, 3600, &v) || !v) {
                fprintf(stderr, "vfio-apple status: --interval %s: want 1..3600 seconds\n", a);
                return 2;
            }
            interval = v;
            break;
        case O_COUNT:
            if (cli_parse_uint(a, UINT32_MAX, &v) || !v) {
                fprintf(stderr, "vfio-apple status: --count %s: want a positive number\n", a);
                return 2;
            }
            count = v;
            break;
        case O_QMP: qmp = a; break;
        case O_SOCKET: cli_host_set_socket(a); break;
        case O_HELP: fputs(usage, stdout); fputs(cli_discovery_help, stdout); return 0;
        case CLI_OPT_POSITIONAL:
            if (!device) {
                device = a;
                break;
            }
            snprintf(err, sizeof(err), "status: one DEVICE at most ('%s' and '%s')", device, a);
            /* fall through */
        default:
            fprintf(stderr, "vfio-apple %s\n", err);
            return 2;
        }
    }
    if (device) {
        refs = calloc(1, sizeof(*refs));
        n = 1;
        if (!refs || cli_host_resolve(device, refs, err, sizeof(err))) {
            fprintf(stderr, "vfio-apple status: %s\n", refs ? err : "out of memory");
            free(refs);
            return 1;
        }
    } else if (cli_host_discover(&refs, &n, err, sizeof(err))) {
        fprintf(stderr, "vfio-apple status: %s\n", err);
        return 1;
    }
    if (count == 0 && !watch)
        count = 1;
    for (uint64_t round = 0; !count || round < count; round++) {
        struct cli_devinfo *info = calloc(n ? n : 1, sizeof(*info));

        if (!info)
            break;
        bad = 0;
        for (size_t i = 0; i < n; i++) {
            cli_devinfo_gather(&refs[i], &info[i]);
            bad |= info[i].err != 0;
            if (!info[i].err)
                qemu_view(&info[i], qmp);
        }
        if (watch && !json && isatty(STDOUT_FILENO))
            fputs("\033[H\033[2J", stdout);
        if (json)
            cli_status_json(stdout, info, n);
        else
            cli_status_print(stdout, info, n);
        if (watch && !json)
            putchar('\n');
        fflush(stdout);
        for (size_t i = 0; i < n; i++)
            cli_devinfo_free(&info[i]);
        free(info);
        if (count && round + 1 >= count)
            break;
        poll(NULL, 0, (int)(interval * 1000));
    }
    free(refs);
    return bad;
}
