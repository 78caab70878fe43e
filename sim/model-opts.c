/* Option strings of the device models: see model-opts.h. */
#include "model-opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_opt_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    }
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int sim_opt_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;
    if (sim_opt_size(s, &v) || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int sim_opts_each(const char *args, int (*fn)(void *ctx, const char *key, const char *val,
                                              char *err, size_t errlen),
                  void *ctx, char *err, size_t errlen)
{
    if (!args || !*args)
        return 0;
    char *copy = strdup(args), *save = NULL;
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int ret = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "option '%s': expected key=value", tok);
            ret = -1;
            break;
        }
        *eq = 0;
        ret = fn(ctx, tok, eq + 1, err, errlen);
    }
    free(copy);
    return ret;
}
