/*
 * vfio-apple CLI: a small table-driven option parser, the same for every
 * subcommand.  Long options (--name VALUE, --name=VALUE), one-letter
 * aliases (-n VALUE), "--" ends the options; positional arguments may come
 * before, between or after options.  No global state, so the unit tests
 * can parse as often as they like.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_OPTS_H
#define VFA_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cli_opt {
    const char *name;           /* long name without the dashes */
    char letter;                /* one-letter alias, 0 for none */
    bool has_arg;
    int id;                     /* returned by cli_opts_next() */
};

struct cli_opts {
    int argc;
    char **argv;
    const struct cli_opt *table;
    const char *cmd;            /* for messages: "run", "list"... */
    int i;                      /* next argv index */
    bool ended;                 /* "--" seen */
    int dashdash;               /* index after "--", or -1 */
};

enum { CLI_OPT_END = -1, CLI_OPT_ERROR = -2, CLI_OPT_POSITIONAL = -3 };

/* argv[0] is the subcommand's own name (it is skipped). */
void cli_opts_init(struct cli_opts *s, int argc, char **argv,
                   const struct cli_opt *table, const char *cmd);
/*
 * The next option's id with *arg its value (NULL for flags), or
 * CLI_OPT_POSITIONAL with *arg the argument, or CLI_OPT_END at the end or
 * at "--" (then cli_opts_rest() gives what follows it), or CLI_OPT_ERROR
 * with a message in err.
 */
int cli_opts_next(struct cli_opts *s, const char **arg, char *err, size_t errlen);
/* After CLI_OPT_END: the arguments after "--" (none: *argc 0). */
char **cli_opts_rest(struct cli_opts *s, int *argc);

/* "512M", "1G", "1536M", "16K", "2T", plain bytes; optional "iB"/"B". */
int cli_parse_size(const char *s, uint64_t *out);
/* A decimal count 0..max. */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* "1.5 GiB", "512 MiB", "16 KiB", "100 bytes" (at most 3 significant digits). */
const char *cli_fmt_size(uint64_t bytes, char *buf, size_t len);

/* The largest size <= bytes that --mem takes exactly, as "1536M", "1G", "64K". */
const char *cli_fmt_size_arg(uint64_t bytes, char *buf, size_t len);

#endif
