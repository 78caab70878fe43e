/* vfio-apple CLI: `run` option parsing (see run-opts.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "run-opts.h"

const char cli_run_usage[] =
"usage: vfio-apple run DEVICE --kernel IMAGE [options] [-- QEMU-ARGS...]\n"
"\n"
"Boot an arm64 Linux guest under QEMU with DEVICE passed through\n"
"(vfio-apple-pci behind a PCIe root port).  DEVICE is a name from\n"
"`vfio-apple list`, or a socket path; with --sim, the name of the\n"
"simulator this command starts.\n"
"\n"
"  -k, --kernel IMAGE       guest kernel (required)\n"
"  -i, --initrd FILE        initramfs\n"
"  -d, --disk FILE          a raw disk image as virtio-blk (emulated, same bus)\n"
"  -a, --append ARGS        more kernel command line (after console=ttyAMA0)\n"
"  -f, --firmware FILE      boot through UEFI firmware (e.g. Debian's\n"
"                           /usr/share/qemu-efi-aarch64/QEMU_EFI.fd): it\n"
"                           loads the kernel and hands the guest ACPI\n"
"                           tables (the window in _DMA); --disk then gets\n"
"                           bootindex=0, so the firmware leaves DEVICE alone\n"
"  -m, --mem SIZE           guest RAM, e.g. 512M, 1G (default 1G)\n"
"  -c, --cpus N             vCPUs (default 2)\n"
"      --mode MODE          auto (default), window or companion:\n"
"                           auto: window when guest RAM fits the DMA budget,\n"
"                           else companion; window with RAM over the budget:\n"
"                           a window ending on a power of two, the rest bounces;\n"
"                           companion: apple-dma-pci and the guest's apple_dma\n"
"                           module map on demand (docs/companion.md)\n"
"      --sim MODEL[,OPTS]   start vfio-apple-sim first (Linux), e.g.\n"
"                           nvme,size=1G; stopped when QEMU exits\n"
"      --sim-opt ARG        one more simulator argument, e.g.\n"
"                           --sim-opt=--dart-budget=1G (repeatable)\n"
"      --qemu PATH          qemu-system-aarch64 with vfio-apple-pci\n"
"                           (default: $VFIO_APPLE_QEMU, else from PATH)\n"
"      --qmp PATH           QEMU's QMP socket (default: DEVICE's socket\n"
"                           with .qmp, where `vfio-apple status` looks)\n"
"  -p, --print              print the command line(s) instead of running\n"
"  -h, --help               this text\n"
"\n"
"Companion mode (guest RAM larger than the budget, or GPUs) is not\n"
"available yet: give the guest at most the budget of RAM instead.\n";

enum { O_KERNEL = 1, O_INITRD, O_DISK, O_APPEND, O_FIRMWARE, O_MEM, O_CPUS, O_MODE, O_SIM,
       O_SIMOPT, O_QEMU, O_QMP, O_PRINT, O_HELP };

static const struct cli_opt run_table[] = {
    { "kernel", 'k', true, O_KERNEL },
    { "initrd", 'i', true, O_INITRD },
    { "disk", 'd', true, O_DISK },
    { "append", 'a', true, O_APPEND },
    { "firmware", 'f', true, O_FIRMWARE },
    { "mem", 'm', true, O_MEM },
    { "cpus", 'c', true, O_CPUS },
    { "mode", 0, true, O_MODE },
    { "sim", 0, true, O_SIM },
    { "sim-opt", 0, true, O_SIMOPT },
    { "qemu", 0, true, O_QEMU },
    { "qmp", 0, true, O_QMP },
    { "print", 'p', false, O_PRINT },
    { "help", 'h', false, O_HELP },
    { NULL, 0, false, 0 },
};

int cli_run_parse(int argc, char **argv, struct cli_run_opts *o,
                  char *err, size_t errlen)
{
    struct cli_opts st;
    const char *a;
    uint64_t v;
    int id;

    *o = (struct cli_run_opts){ .mem = CLI_RUN_DEFAULT_MEM, .cpus = CLI_RUN_DEFAULT_CPUS,
                                .mode = CLI_MODE_AUTO };
    cli_opts_init(&st, argc, argv, run_table, "run");
    while ((id = cli_opts_next(&st, &a, err, errlen)) != CLI_OPT_END) {
        switch (id) {
        case CLI_OPT_ERROR:
            return -EINVAL;
        case CLI_OPT_POSITIONAL:
            if (o->device) {
                snprintf(err, errlen, "run: one DEVICE only ('%s' and '%s'); QEMU arguments "
                         "go after '--'", o->device, a);
                return -EINVAL;
            }
            o->device = a;
            break;
        case O_KERNEL: o->kernel = a; break;
        case O_INITRD: o->initrd = a; break;
        case O_DISK: o->disk = a; break;
        case O_APPEND: o->append = a; break;
        case O_FIRMWARE: o->firmware = a; break;
        case O_MEM:
            if (cli_parse_size(a, &v) || !v) {
                snprintf(err, errlen, "run: --mem %s: want a size such as 512M or 1G", a);
                return -EINVAL;
            }
            o->mem = v;
            break;
        case O_CPUS:
            if (cli_parse_uint(a, 512, &v) || !v) {
                snprintf(err, errlen, "run: --cpus %s: want 1..512", a);
                return -EINVAL;
            }
            o->cpus = (unsigned)v;
            break;
        case O_MODE:
            if (cli_mode_parse(a, &o->mode)) {
                snprintf(err, errlen, "run: --mode %s: want auto, window or companion", a);
                return -EINVAL;
            }
            break;
        case O_SIM: o->sim = a; break;
        case O_SIMOPT:
            if (o->nsim_opts == CLI_RUN_MAX_SIM_OPTS) {
                snprintf(err, errlen, "run: at most %u --sim-opt", CLI_RUN_MAX_SIM_OPTS);
                return -EINVAL;
            }
            o->sim_opts[o->nsim_opts++] = a;
            break;
        case O_QEMU: o->qemu = a; break;
        case O_QMP: o->qmp = a; break;
        case O_PRINT: o->print = true; break;
        case O_HELP: o->help = true; return 1;
        }
    }
    o->extra_argv = cli_opts_rest(&st, &o->extra_argc);
    if (!o->device) {
        snprintf(err, errlen, "run: which DEVICE? (a name from `vfio-apple list`, or with "
                 "--sim the name to give the simulator, e.g. `vfio-apple run nvme0 --sim "
                 "nvme,size=1G --kernel Image`)");
        return -EINVAL;
    }
    if (!o->kernel) {
        snprintf(err, errlen, "run: --kernel IMAGE is required (an arm64 Linux Image)");
        return -EINVAL;
    }
    if (o->nsim_opts && !o->sim) {
        snprintf(err, errlen, "run: --sim-opt without --sim");
        return -EINVAL;
    }
    if (o->sim && (strchr(o->device, '/') || !strncmp(o->device, "unix:", 5))) {
        snprintf(err, errlen, "run: with --sim, DEVICE is the name of the new simulator "
                 "(letters, digits, '-', '_'), not a path: '%s'", o->device);
        return -EINVAL;
    }
    return 0;
}
