/*
 * vfio-apple-sim: plays the dext on Linux.  Serves the dext ABI over a UNIX
 * socket from the same portable core the DriverKit extension runs, in
 * front of a DART model and a device model.
 *
 *   vfio-apple-sim [serve] --socket PATH --device nvme|virtio-net[,OPTS] [options]
 *   vfio-apple-sim stats --socket PATH
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <pthread.h>
#include <stdbool.h>

#include "vfio-apple/sim-wire.h"
#include "../client/vfio-apple-client.h"
#include "log.h"
#include "model-opts.h"
#include "platform.h"
#include "server.h"

static void usage(FILE *out)
{
    fprintf(out,
"usage: vfio-apple-sim [serve] --socket PATH --device MODEL[,OPTIONS] [options]\n"
"       vfio-apple-sim stats --socket PATH\n"
"\n"
"serve (default): play the dext for one simulated PCIe device.\n"
"  -s, --socket PATH            UNIX socket to listen on\n"
"  -d, --device MODEL[,OPTS]    device model and its options, e.g.\n"
"                               nvme,file=/tmp/disk.img,size=1G,queues=4,vectors=8\n"
"                               (latency-us=N holds each I/O completion N us)\n"
"                               virtio-net,mac=02:76:66:61:00:01,vectors=3\n"
"                               (a NIC that loops every frame it sends back)\n"
"      --dart-budget BYTES      DMA bytes mapped at once (default 1536M)\n"
"      --dart-max-mappings N    live DMA mappings (default 65536)\n"
"      --dart-fragment N        split each DMA map into up to N segments (max 32)\n"
"      --dart-iova-base ADDR    lowest IOVA the DART hands out, a multiple of 16K\n"
"                               (default 32G; any base, even one overlapping guest\n"
"                               RAM or MMIO; IOVA page 0 is never handed out)\n"
"      --dart-fault-fatal       any DART fault ends the simulator at once with\n"
"                               status 3 (some hosts panic on DART faults)\n"
"      --max-registered BYTES   client memory a session may register (default 64G)\n"
"      --fail-every-nth-map N   fault injection: every Nth DART map fails\n"
"      --fault-next-transfer    fault injection: the device's first transfer faults\n"
"                               (at run time: kill -USR2 <pid>)\n"
"      --log-level LEVEL        error, warn, info (default), debug\n"
"  Signals: SIGUSR1 simulates the device vanishing; SIGINT/SIGTERM stop.\n"
"\n"
"stats: print the running daemon's counters as JSON (works while another\n"
"client holds the device).\n");
}

/* Sizes and counts as the models' options take them (N, 0xN, K/M/G/T). */
static int parse_size(const char *s, uint64_t *out)
{
    return sim_opt_size(s, out);
}

static int cmd_stats(const char *path)
{
    struct vfa_client *c;
    char err[256];
    static char buf[VFA_SIM_STATS_MAX + 1];
    int r = vfa_client_connect(path, &c, err, sizeof(err));

    if (r) {
        fprintf(stderr, "vfio-apple-sim stats: %s\n", err);
        return 1;
    }
    r = vfa_sim_stats_json(c, buf, sizeof(buf));
    if (r) {
        fprintf(stderr, "vfio-apple-sim stats: %s\n", vfa_client_errmsg(c));
        vfa_client_disconnect(c);
        return 1;
    }
    printf("%s\n", buf);
    vfa_client_disconnect(c);
    return 0;
}

int main(int argc, char **argv)
{
    enum { O_BUDGET = 256, O_MAXMAPS, O_FRAG, O_FAILNTH, O_FAULTNEXT, O_LOG, O_IOVABASE,
           O_FAULTFATAL, O_MAXREG };
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "device", required_argument, NULL, 'd' },
        { "dart-budget", required_argument, NULL, O_BUDGET },
        { "dart-max-mappings", required_argument, NULL, O_MAXMAPS },
        { "dart-fragment", required_argument, NULL, O_FRAG },
        { "fail-every-nth-map", required_argument, NULL, O_FAILNTH },
        { "fault-next-transfer", no_argument, NULL, O_FAULTNEXT },
        { "log-level", required_argument, NULL, O_LOG },
        { "dart-iova-base", required_argument, NULL, O_IOVABASE },
        { "dart-fault-fatal", no_argument, NULL, O_FAULTFATAL },
        { "max-registered", required_argument, NULL, O_MAXREG },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *sock = NULL, *device = NULL, *cmd = "serve";
    struct dart_config dc = { 0 };
    struct vfa_core_config cc = { 0 };
    struct sim_options so = { 0 };
    bool fault_next = false;
    uint64_t v;
    int o;

    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        argv++;
        argc--;
    }
    while ((o = getopt_long(argc, argv, "s:d:h", opts, NULL)) != -1) {
        switch (o) {
        case 's': sock = optarg; break;
        case 'd': device = optarg; break;
        case O_BUDGET:
            if (parse_size(optarg, &v) || v < VFA_PAGE_SIZE) {
                fprintf(stderr, "--dart-budget %s: want bytes >= 16K, e.g. 1536M\n", optarg);
                return 2;
            }
            dc.budget_bytes = cc.dma_budget_bytes = v;
            break;
        case O_MAXMAPS:
            if (parse_size(optarg, &v) || !v || v > UINT32_MAX) {
                fprintf(stderr, "--dart-max-mappings %s: want 1..%u\n", optarg, UINT32_MAX);
                return 2;
            }
            dc.max_mappings = cc.dma_max_mappings = (uint32_t)v;
            break;
        case O_FRAG:
            if (parse_size(optarg, &v) || !v || v > DART_MAX_SEGMENTS) {
                fprintf(stderr, "--dart-fragment %s: want 1..%u\n", optarg, DART_MAX_SEGMENTS);
                return 2;
            }
            dc.fragment = (uint32_t)v;
            break;
        case O_FAILNTH:
            if (parse_size(optarg, &v) || !v || v > UINT32_MAX) {
                fprintf(stderr, "--fail-every-nth-map %s: want a positive count\n", optarg);
                return 2;
            }
            dc.fail_every_nth_map = (uint32_t)v;
            break;
        case O_FAULTNEXT: fault_next = true; break;
        case O_IOVABASE:
            /* The IOVA space ends about 2 * budget + 33 pages per mapping
             * above the base: 2^63 keeps every sane budget below 2^64
             * (dart_create() refuses the rest). */
            if (parse_size(optarg, &v) || v % VFA_PAGE_SIZE || v > (1ull << 63)) {
                fprintf(stderr, "--dart-iova-base %s: want a multiple of 16K up to 2^63, "
                        "e.g. 0, 0x40000000 or 32G\n", optarg);
                return 2;
            }
            dc.iova_base = v;
            dc.iova_base_set = 1;
            break;
        case O_FAULTFATAL: so.dart_fault_fatal = true; break;
        case O_MAXREG:
            if (parse_size(optarg, &v) || v < VFA_PAGE_SIZE) {
                fprintf(stderr, "--max-registered %s: want bytes >= 16K, e.g. 64G\n", optarg);
                return 2;
            }
            so.max_registered = v;
            break;
        case O_LOG:
            if ((sim_log_level = sim_log_parse(optarg)) < 0) {
                fprintf(stderr, "--log-level %s: want error, warn, info or debug\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !sock) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(cmd, "stats"))
        return cmd_stats(sock);
    if (strcmp(cmd, "serve")) {
        fprintf(stderr, "vfio-apple-sim: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    if (!device) {
        fprintf(stderr, "vfio-apple-sim: --device is required (e.g. --device nvme,size=1G)\n");
        return 2;
    }

    /* Signals go through a signalfd into the server loop, so handling
     * them never races a request in progress. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);     /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) {
        perror("signalfd");
        return 1;
    }

    static struct sim_platform p;
    char err[512];
    int r = sim_platform_create(&p, device, &dc, &cc, &so, err, sizeof(err));
    if (r) {
        fprintf(stderr, "vfio-apple-sim: %s\n", err);
        sim_platform_destroy(&p);
        return 1;
    }
    if (fault_next)
        dart_fault_next_transfer(p.dart);
    r = sim_server_run(&p, sock, sigfd);
    if (r)
        fprintf(stderr, "vfio-apple-sim: cannot serve on %s: %s\n", sock, strerror(-r));
    sim_platform_destroy(&p);
    close(sigfd);
    return r ? 1 : 0;
}
