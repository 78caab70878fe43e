/*
 * vfio-apple CLI: a JSON writer for --json output (commas, nesting and
 * string escapes kept right by the writer, not by each caller).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_JSON_OUT_H
#define VFA_CLI_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct jw {
    FILE *f;
    bool pretty;
    int depth;
    bool need_comma[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, FILE *f, bool pretty);
/* key: the member's name inside an object, NULL inside an array/at top. */
void jw_obj(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *v);   /* NULL: null */
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_dbl(struct jw *w, const char *key, double v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* Already-formed JSON text (e.g. a value taken from QEMU). */
void jw_raw(struct jw *w, const char *key, const char *json);
/* Ends the top-level value with a newline. */
void jw_done(struct jw *w);

/* A JSON string literal of s, quotes included. */
void json_put_string(FILE *f, const char *s);

#endif
