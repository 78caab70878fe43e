/* vfio-apple CLI: option parsing and sizes (see opts.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

void cli_opts_init(struct cli_opts *s, int argc, char **argv,
                   const struct cli_opt *table, const char *cmd)
{
    *s = (struct cli_opts){ .argc = argc, .argv = argv, .table = table,
                            .cmd = cmd, .i = 1, .dashdash = -1 };
}

static const struct cli_opt *find_long(const struct cli_opt *t, const char *name, size_t len)
{
    for (; t->name; t++)
        if (strlen(t->name) == len && !strncmp(t->name, name, len))
            return t;
    return NULL;
}

static const struct cli_opt *find_letter(const struct cli_opt *t, char c)
{
    for (; t->name; t++)
        if (t->letter && t->letter == c)
            return t;
    return NULL;
}

int cli_opts_next(struct cli_opts *s, const char **arg, char *err, size_t errlen)
{
    const struct cli_opt *o;
    const char *a, *eq;

    *arg = NULL;
    if (s->ended || s->i >= s->argc)
        return CLI_OPT_END;
    a = s->argv[s->i++];
    if (!strcmp(a, "--")) {
        s->ended = true;
        s->dashdash = s->i;
        return CLI_OPT_END;
    }
    if (a[0] != '-' || !a[1]) {
        *arg = a;
        return CLI_OPT_POSITIONAL;
    }
    if (a[1] == '-') {
        eq = strchr(a + 2, '=');
        o = find_long(s->table, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        if (!o) {
            snprintf(err, errlen, "%s: unknown option '%s' (see vfio-apple %s --help)",
                     s->cmd, a, s->cmd);
            return CLI_OPT_ERROR;
        }
        if (!o->has_arg) {
            if (eq) {
                snprintf(err, errlen, "%s: option '--%s' takes no value", s->cmd, o->name);
                return CLI_OPT_ERROR;
            }
            return o->id;
        }
        if (eq) {
            *arg = eq + 1;
            return o->id;
        }
    } else {
        o = a[2] ? NULL : find_letter(s->table, a[1]);
        if (!o) {
            snprintf(err, errlen, "%s: unknown option '%s' (see vfio-apple %s --help)",
                     s->cmd, a, s->cmd);
            return CLI_OPT_ERROR;
        }
        if (!o->has_arg)
            return o->id;
    }
    if (s->i >= s->argc) {
        snprintf(err, errlen, "%s: option '--%s' needs a value", s->cmd, o->name);
        return CLI_OPT_ERROR;
    }
    *arg = s->argv[s->i++];
    return o->id;
}

char **cli_opts_rest(struct cli_opts *s, int *argc)
{
    if (s->dashdash < 0) {
        *argc = 0;
        return s->argv + s->argc;
    }
    *argc = s->argc - s->dashdash;
    return s->argv + s->dashdash;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned shift = 0;
    unsigned long long v;

    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -EINVAL;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    }
    if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
        end += strlen(end);
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

int cli_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

const char *cli_fmt_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    unsigned u = 0;
    uint64_t scale = 1024;

    if (bytes < 1024) {
        snprintf(buf, len, "%" PRIu64 " bytes", bytes);
        return buf;
    }
    while (u + 1 < sizeof(unit) / sizeof(unit[0]) && bytes >= scale * 1024) {
        scale *= 1024;
        u++;
    }
    if (bytes % scale == 0)
        snprintf(buf, len, "%" PRIu64 " %s", bytes / scale, unit[u]);
    else if (bytes / scale >= 100)
        snprintf(buf, len, "%.0f %s", (double)bytes / (double)scale, unit[u]);
    else if (bytes / scale >= 10)
        snprintf(buf, len, "%.1f %s", (double)bytes / (double)scale, unit[u]);
    else
        snprintf(buf, len, "%.2f %s", (double)bytes / (double)scale, unit[u]);
    return buf;
}

const char *cli_fmt_size_arg(uint64_t bytes, char *buf, size_t len)
{
    static const char unit[] = "KMGT";
    int u = 3;

    bytes &= ~(uint64_t)(16384 - 1);        /* whole 16 KiB pages */
    while (u > 0 && bytes % (1ull << (10 * (u + 1))))
        u--;
    snprintf(buf, len, "%" PRIu64 "%c", bytes >> (10 * (u + 1)), unit[u]);
    return buf;
}
