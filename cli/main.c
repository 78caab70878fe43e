/*
 * vfio-apple: the user's command for PCI passthrough on Apple Silicon
 * (on Linux, against vfio-apple-sim).  `vfio-apple help` lists the
 * subcommands; docs/vfio-apple.1 is the manual.
 */
#include <stdio.h>
#include <string.h>

#include "vfio-apple/dext-abi.h"
#include "commands.h"

#ifndef VFA_VERSION
#define VFA_VERSION "unknown"
#endif

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *what;
} cmds[] = {
    { "list", cli_cmd_list, "the devices the dext (or simulator) serves" },
    { "status", cli_cmd_status, "a device's session, DART usage, counters, QEMU's view" },
    { "run", cli_cmd_run, "boot a guest with the device passed through (or --print)" },
    { "selftest", cli_cmd_selftest, "drive the device through the dext, no VM" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vfio-apple COMMAND [options]   (vfio-apple COMMAND --help)\n\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].what);
    fprintf(f, "\n%s\nSee vfio-apple(1) (docs/vfio-apple.1).\n", cli_discovery_help);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    if (!cmd || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        usage(cmd ? stdout : stderr);
        return cmd ? 0 : 2;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("vfio-apple %s (dext ABI %u.%u)\n", VFA_VERSION, VFA_ABI_MAJOR, VFA_ABI_MINOR);
        return 0;
    }
    if (!strcmp(cmd, "help") && argc > 2) {
        char help[] = "--help", *av[] = { argv[2], help, NULL };

        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            if (!strcmp(cmds[i].name, argv[2]))
                return cmds[i].fn(2, av);
    } else if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(cmds[i].name, cmd))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vfio-apple: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
