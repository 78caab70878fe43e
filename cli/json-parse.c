/* vfio-apple CLI: JSON reader (see json-parse.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-parse.h"

struct parser {
    const char *p, *base;
    char *err;
    size_t errlen;
    int depth;
    bool failed;
};

static void fail(struct parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->err, ps->errlen, "JSON: %s at offset %zu", what, (size_t)(ps->p - ps->base));
    ps->failed = true;
}

static void ws(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static char *string(struct parser *ps)
{
    size_t cap = 16, n = 0;
    char *s = malloc(cap);

    if (!s)
        return fail(ps, "out of memory"), NULL;
    ps->p++;    /* the opening quote */
    for (;;) {
        char c = *ps->p++;

        if (!c || (unsigned char)c < 0x20) {
            free(s);
            ps->p--;
            return fail(ps, "unterminated string"), NULL;
        }
        if (c == '"')
            break;
        if (c == '\\') {
            c = *ps->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '"': case '\\': case '/': break;
            case 'u': {
                unsigned v = 0;

                for (int i = 0; i < 4; i++) {
                    char h = *ps->p++;

                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else {
                        free(s);
                        return fail(ps, "bad \\u escape"), NULL;
                    }
                }
                c = v < 0x80 ? (char)v : '?';   /* what we read is ASCII */
                break;
            }
            default:
                free(s);
                return fail(ps, "bad escape"), NULL;
            }
        }
        if (n + 2 > cap) {
            char *t = realloc(s, cap *= 2);

            if (!t) {
                free(s);
                return fail(ps, "out of memory"), NULL;
            }
            s = t;
        }
        s[n++] = c;
    }
    s[n] = 0;
    return s;
}

static struct jnode *value(struct parser *ps);

static struct jnode *container(struct parser *ps, struct jnode *n, char close)
{
    struct jnode **tail = &n->child;

    ps->p++;
    ws(ps);
    if (*ps->p == close) {
        ps->p++;
        return n;
    }
    for (;;) {
        char *key = NULL;
        struct jnode *m;

        ws(ps);
        if (close == '}') {
            if (*ps->p != '"')
                return fail(ps, "expected a member name"), n;
            if (!(key = string(ps)))
                return n;
            ws(ps);
            if (*ps->p++ != ':') {
                free(key);
                ps->p--;
                return fail(ps, "expected ':'"), n;
            }
        }
        m = value(ps);
        if (!m) {
            free(key);
            return n;
        }
        m->key = key;
        *tail = m;
        tail = &m->next;
        ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return n;
        }
        return fail(ps, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'"), n;
    }
}

static struct jnode *value(struct parser *ps)
{
    struct jnode *n;

    ws(ps);
    if (++ps->depth > 64)
        return fail(ps, "nested too deeply"), NULL;
    n = calloc(1, sizeof(*n));
    if (!n)
        return fail(ps, "out of memory"), NULL;
    n->start = ps->p;
    switch (*ps->p) {
    case '{':
        n->type = J_OBJ;
        container(ps, n, '}');
        break;
    case '[':
        n->type = J_ARR;
        container(ps, n, ']');
        break;
    case '"':
        n->type = J_STR;
        n->str = string(ps);
        break;
    case 't': case 'f': case 'n':
        if (!strncmp(ps->p, "true", 4)) {
            n->type = J_BOOL, n->b = true, ps->p += 4;
        } else if (!strncmp(ps->p, "false", 5)) {
            n->type = J_BOOL, ps->p += 5;
        } else if (!strncmp(ps->p, "null", 4)) {
            n->type = J_NULL, ps->p += 4;
        } else {
            fail(ps, "unknown word");
        }
        break;
    default: {
        char *end;
        const char *s = ps->p;

        n->type = J_NUM;
        errno = 0;
        n->num = strtod(s, &end);
        if (end == s || errno == EINVAL) {
            fail(ps, "expected a value");
            break;
        }
        ps->p = end;
        if (!memchr(s, '.', (size_t)(end - s)) && !memchr(s, 'e', (size_t)(end - s)) &&
            !memchr(s, 'E', (size_t)(end - s))) {
            errno = 0;
            if (*s == '-') {
                long long v = strtoll(s, NULL, 10);

                n->is_int = !errno;
                n->i = v;
            } else {
                unsigned long long v = strtoull(s, NULL, 10);

                n->is_uint = !errno;
                n->is_int = !errno && v <= INT64_MAX;
                n->u = v;
                n->i = (int64_t)v;
            }
        }
    }
    }
    n->end = ps->p;
    ps->depth--;
    if (ps->failed) {
        json_free(n);
        return NULL;
    }
    return n;
}

struct jnode *json_parse(const char *text, char *err, size_t errlen)
{
    struct parser ps = { .p = text, .base = text, .err = err, .errlen = errlen };
    struct jnode *n = value(&ps);

    if (!n)
        return NULL;
    ws(&ps);
    if (*ps.p) {
        fail(&ps, "trailing text");
        json_free(n);
        return NULL;
    }
    return n;
}

struct jnode *json_parse_copy(const char *text, char *err, size_t errlen)
{
    char *copy = strdup(text);
    struct jnode *n;

    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n = json_parse(copy, err, errlen);
    if (n)
        n->owned = copy;
    else
        free(copy);
    return n;
}

void json_free(struct jnode *n)
{
    while (n) {
        struct jnode *next = n->next;

        json_free(n->child);
        free(n->owned);
        free(n->key);
        free(n->str);
        free(n);
        n = next;
    }
}

const struct jnode *json_get(const struct jnode *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ)
        return NULL;
    for (const struct jnode *m = obj->child; m; m = m->next)
        if (m->key && !strcmp(m->key, key))
            return m;
    return NULL;
}

const struct jnode *json_path(const struct jnode *n, const char *path)
{
    char part[128];

    while (n && *path) {
        size_t len = strcspn(path, ".");

        if (len >= sizeof(part))
            return NULL;
        memcpy(part, path, len);
        part[len] = 0;
        n = json_get(n, part);
        path += len + (path[len] == '.');
    }
    return n;
}

uint64_t json_u64(const struct jnode *n, uint64_t dflt)
{
    if (!n || n->type != J_NUM)
        return dflt;
    if (n->is_uint)
        return n->u;
    return n->num >= 0 ? (uint64_t)n->num : dflt;
}

const char *json_str(const struct jnode *n, const char *dflt)
{
    return n && n->type == J_STR ? n->str : dflt;
}

bool json_bool(const struct jnode *n, bool dflt)
{
    return n && n->type == J_BOOL ? n->b : dflt;
}

size_t json_len(const struct jnode *n)
{
    size_t k = 0;

    if (n && (n->type == J_ARR || n->type == J_OBJ))
        for (const struct jnode *m = n->child; m; m = m->next)
            k++;
    return k;
}
