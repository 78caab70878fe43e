/* vfio-apple CLI: string vectors (see strv.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

void strv_init(struct strv *s)
{
    *s = (struct strv){ 0 };
}

static void push(struct strv *s, char *str)
{
    if (!str) {
        s->oom = true;
        return;
    }
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **v = realloc(s->v, cap * sizeof(*v));

        if (!v) {
            free(str);
            s->oom = true;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
}

void strv_add(struct strv *s, const char *str)
{
    push(s, strdup(str));
}

void strv_addf(struct strv *s, const char *fmt, ...)
{
    va_list ap;
    char *str;

    va_start(ap, fmt);
    if (vasprintf(&str, fmt, ap) < 0)
        str = NULL;
    va_end(ap);
    push(s, str);
}

void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    strv_init(s);
}

int strv_find(const struct strv *s, const char *str)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], str))
            return (int)i;
    return -1;
}

static bool needs_quotes(const char *w)
{
    if (!*w)
        return true;
    for (; *w; w++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789-_./=:,+@%^", *w))
            return true;
    return false;
}

char *strv_shell_join(const struct strv *s)
{
    size_t len = 1;
    char *out, *p;

    for (size_t i = 0; i < s->n; i++)
        len += 3 + 4 * strlen(s->v[i]);
    out = p = malloc(len);
    if (!out)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        const char *w = s->v[i];

        if (i)
            *p++ = ' ';
        if (!needs_quotes(w)) {
            p = stpcpy(p, w);
            continue;
        }
        *p++ = '\'';
        for (; *w; w++) {
            if (*w == '\'')
                p = stpcpy(p, "'\\''");
            else
                *p++ = *w;
        }
        *p++ = '\'';
    }
    *p = 0;
    return out;
}
