/*
 * vfio-apple CLI: a growable, NULL-terminated vector of strings (a command
 * line being built), and its shell-quoted form for --print.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_STRV_H
#define VFA_CLI_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
    char **v;                   /* v[n] == NULL once anything was added */
    size_t n, cap;
    bool oom;                   /* an allocation failed: the vector is short */
};

void strv_init(struct strv *s);
void strv_add(struct strv *s, const char *str);
void strv_addf(struct strv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);
/* Index of the first element equal to str, or -1. */
int strv_find(const struct strv *s, const char *str);
/*
 * The words joined by spaces, each quoted for a POSIX shell where it
 * needs it ('...' with '\'' for quotes).  malloc'd; NULL when out of memory.
 */
char *strv_shell_join(const struct strv *s);

#endif
