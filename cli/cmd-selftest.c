/* vfio-apple selftest: drive the device through the dext, no VM. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "opts.h"
#include "progress.h"
#include "selftest.h"

static const char usage[] =
"usage: vfio-apple selftest DEVICE [--json] [--samples N] [--no-budget]\n"
"                           [--max-mappings N] [--quiet] [--socket PATH]\n"
"\n"
"Drives DEVICE through the dext with no VM and reports each step:\n"
"  identity    version, identity, the session opens (the device must be free)\n"
"  config      the config block: IDs and class as identified, capabilities\n"
"  bars        each BAR's info; mappable BARs mapped; offset 0 read through\n"
"              the mapping and by MMIO call, which must agree\n"
"  interrupts  MSI-X (else MSI) vectors set up and enabled, the IRQ page\n"
"  loopback    one interrupt on purpose where the device allows it (NVMe:\n"
"              Identify Controller; its DMA goes through the DART both ways)\n"
"  dma-budget  the same memory mapped until the dext refuses: the byte\n"
"              budget (to one 16 KiB page) and the mapping limit; then all\n"
"              unmapped and the dext's gauges checked back at zero\n"
"  latency     round trips: config read, DMA map, DMA unmap (min, median,\n"
"              p99, max)\n"
"\n"
"  -j, --json            the report as JSON on stdout\n"
"  -n, --samples N       latency samples per kind (default 1000)\n"
"      --no-budget       skip the budget probe (it maps up to the whole budget)\n"
"      --max-mappings N  stop the mapping-limit probe at N live mappings\n"
"  -q, --quiet           no progress on stderr\n"
"  -s, --socket PATH     the simulator on this socket\n"
"  -h, --help            this text\n"
"\n"
"Exit status 0 when no step failed, 1 otherwise.\n";

enum { O_JSON = 1, O_SAMPLES, O_NOBUDGET, O_MAXMAPS, O_QUIET, O_SOCKET, O_HELP };
static const struct cli_opt table[] = {
    { "json", 'j', false, O_JSON },
    { "samples", 'n', true, O_SAMPLES },
    { "no-budget", 0, false, O_NOBUDGET },
    { "max-mappings", 0, true, O_MAXMAPS },
    { "quiet", 'q', false, O_QUIET },
    { "socket", 's', true, O_SOCKET },
    { "help", 'h', false, O_HELP },
    { NULL, 0, false, 0 },
};

int cli_cmd_selftest(int argc, char **argv)
{
    static struct cli_selftest r;
    struct cli_selftest_opts o = { .samples = 1000 };
    struct cli_device_ref ref;
    const char *a, *device = NULL, *socket = NULL;
    struct cli_opts st;
    bool json = false;
    char err[512];
    uint64_t v;
    int id;

    cli_opts_init(&st, argc, argv, table, "selftest");
    while ((id = cli_opts_next(&st, &a, err, sizeof(err))) != CLI_OPT_END) {
        switch (id) {
        case O_JSON: json = true; break;
        case O_SAMPLES:
            if (cli_parse_uint(a, 1000000, &v) || !v) {
                fprintf(stderr, "vfio-apple selftest: --samples %s: want 1..1000000\n", a);
                return 2;
            }
            o.samples = (unsigned)v;
            break;
        case O_NOBUDGET: o.skip_budget = true; break;
        case O_MAXMAPS:
            if (cli_parse_uint(a, UINT32_MAX, &v) || !v) {
                fprintf(stderr, "vfio-apple selftest: --max-mappings %s: want a positive "
                        "number\n", a);
                return 2;
            }
            o.max_mappings_probe = v;
            break;
        case O_QUIET: cli_progress_quiet(1); break;
        case O_SOCKET: socket = a; cli_host_set_socket(a); break;
        case O_HELP: fputs(usage, stdout); fputs(cli_discovery_help, stdout); return 0;
        case CLI_OPT_POSITIONAL:
            if (!device) {
                device = a;
                break;
            }
            snprintf(err, sizeof(err), "selftest: one DEVICE ('%s' and '%s')", device, a);
            /* fall through */
        default:
            fprintf(stderr, "vfio-apple %s\n", err);
            return 2;
        }
    }
    if (!device)
        device = socket;
    if (!device) {
        fprintf(stderr, "vfio-apple selftest: which DEVICE? (`vfio-apple list` shows them)\n");
        return 2;
    }
    if (cli_host_resolve(device, &ref, err, sizeof(err))) {
        fprintf(stderr, "vfio-apple selftest: %s\n", err);
        return 1;
    }
    cli_selftest_run(&ref, &o, &r);
    if (json)
        cli_selftest_json(stdout, &r);
    else
        cli_selftest_print(stdout, &r);
    return r.failed ? 1 : 0;
}
