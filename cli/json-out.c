/* vfio-apple CLI: JSON writer (see json-out.h). */
#include <inttypes.h>
#include <math.h>

#include "json-out.h"

void jw_init(struct jw *w, FILE *f, bool pretty)
{
    *w = (struct jw){ .f = f, .pretty = pretty };
}

void json_put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void indent(struct jw *w)
{
    if (!w->pretty)
        return;
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

/* Comma, indentation and "key": before a value. */
static void member(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        if (w->need_comma[w->depth])
            fputc(',', w->f);
        w->need_comma[w->depth] = true;
        indent(w);
    }
    if (key) {
        json_put_string(w->f, key);
        fputs(w->pretty ? ": " : ":", w->f);
    }
}

static void open(struct jw *w, const char *key, char c)
{
    member(w, key);
    fputc(c, w->f);
    if (w->depth + 1 < JW_MAX_DEPTH)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_(struct jw *w, char c)
{
    bool any = w->need_comma[w->depth];

    if (w->depth > 0)
        w->depth--;
    if (any)
        indent(w);
    fputc(c, w->f);
}

void jw_obj(struct jw *w, const char *key) { open(w, key, '{'); }
void jw_obj_end(struct jw *w) { close_(w, '}'); }
void jw_arr(struct jw *w, const char *key) { open(w, key, '['); }
void jw_arr_end(struct jw *w) { close_(w, ']'); }

void jw_str(struct jw *w, const char *key, const char *v)
{
    member(w, key);
    if (v)
        json_put_string(w->f, v);
    else
        fputs("null", w->f);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
    member(w, key);
    fprintf(w->f, "%" PRIu64, v);
}

void jw_i64(struct jw *w, const char *key, int64_t v)
{
    member(w, key);
    fprintf(w->f, "%" PRId64, v);
}

void jw_dbl(struct jw *w, const char *key, double v)
{
    member(w, key);
    if (isfinite(v))
        fprintf(w->f, "%.6g", v);
    else
        fputs("null", w->f);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
    member(w, key);
    fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
    member(w, key);
    fputs("null", w->f);
}

void jw_raw(struct jw *w, const char *key, const char *json)
{
    member(w, key);
    fputs(json, w->f);
}

void jw_done(struct jw *w)
{
    fputc('\n', w->f);
    fflush(w->f);
}
