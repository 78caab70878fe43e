/* vfio-apple list: the devices the dext (or simulator) serves. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "devinfo.h"
#include "opts.h"

static const char usage[] =
"usage: vfio-apple list [--json] [--socket PATH]\n"
"\n"
"The devices the dext (on Linux: vfio-apple-sim) serves: host location,\n"
"vendor/device IDs with names from pci.ids when it is installed, class,\n"
"BAR sizes, MSI/MSI-X vectors, reset kinds, the DMA budget, and whether a\n"
"session (a VM) holds the device.  No session is opened.\n"
"\n"
"  -j, --json           one JSON object {\"devices\": [...]}\n"
"  -s, --socket PATH    only the simulator on this socket\n"
"  -h, --help           this text\n"
"\n"
"Exit status 1 when a device found does not answer.\n";

const char cli_discovery_help[] =
"Devices (Linux): --socket PATH; else the sockets listed in\n"
"$VFIO_APPLE_SOCKET (':'-separated); else every NAME.sock in\n"
"$VFIO_APPLE_SOCKET_DIR (default /run/vfio-apple as root, else\n"
"$XDG_RUNTIME_DIR/vfio-apple or /tmp/vfio-apple-UID).  NAME names the device.\n";

enum { O_JSON = 1, O_SOCKET, O_HELP };
static const struct cli_opt table[] = {
    { "json", 'j', false, O_JSON },
    { "socket", 's', true, O_SOCKET },
    { "help", 'h', false, O_HELP },
    { NULL, 0, false, 0 },
};

int cli_cmd_list(int argc, char **argv)
{
    struct cli_device_ref *refs;
    struct cli_devinfo *info;
    struct cli_opts st;
    const char *a;
    bool json = false;
    char err[512];
    size_t n;
    int id, bad = 0;

    cli_opts_init(&st, argc, argv, table, "list");
    while ((id = cli_opts_next(&st, &a, err, sizeof(err))) != CLI_OPT_END) {
        switch (id) {
        case O_JSON: json = true; break;
        case O_SOCKET: cli_host_set_socket(a); break;
        case O_HELP: fputs(usage, stdout); fputs(cli_discovery_help, stdout); return 0;
        case CLI_OPT_POSITIONAL:
            snprintf(err, sizeof(err), "list: unexpected argument '%s'", a);
            /* fall through */
        default:
            fprintf(stderr, "vfio-apple %s\n", err);
            return 2;
        }
    }
    if (cli_host_discover(&refs, &n, err, sizeof(err))) {
        fprintf(stderr, "vfio-apple list: %s\n", err);
        return 1;
    }
    info = calloc(n ? n : 1, sizeof(*info));
    if (!info) {
        free(refs);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        cli_devinfo_gather(&refs[i], &info[i]);
        bad |= info[i].err != 0;
    }
    if (json)
        cli_list_json(stdout, info, n);
    else
        cli_list_print(stdout, info, n);
    for (size_t i = 0; i < n; i++)
        cli_devinfo_free(&info[i]);
    free(info);
    free(refs);
    return bad;
}
