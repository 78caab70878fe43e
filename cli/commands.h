/*
 * vfio-apple CLI: the subcommands.  Each takes its own argv (argv[0] is
 * the subcommand's name) and returns the process exit status:
 * 0 success, 1 failure (said on stderr), 2 bad usage.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_COMMANDS_H
#define VFA_CLI_COMMANDS_H

int cli_cmd_list(int argc, char **argv);
int cli_cmd_status(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_selftest(int argc, char **argv);

/* Where devices are looked for, for the --help texts. */
extern const char cli_discovery_help[];

#endif
