/*
 * vfio-apple CLI: a small JSON reader, for the simulator's counters and
 * QEMU's QMP replies.  Integers that fit are kept exactly as uint64_t/
 * int64_t (IOVAs and byte counts exceed a double's 53 bits).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_JSON_PARSE_H
#define VFA_CLI_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
    enum jtype type;
    char *key;                  /* member name inside an object */
    char *str;                  /* J_STR */
    bool b;                     /* J_BOOL */
    double num;                 /* J_NUM */
    bool is_int;                /* J_NUM: an integer that fits i */
    bool is_uint;               /* J_NUM: a non-negative integer that fits u */
    int64_t i;
    uint64_t u;
    struct jnode *child, *next; /* J_ARR / J_OBJ members in order */
    const char *start, *end;    /* the value's text in the parsed input */
    char *owned;                /* root only: input text kept for start/end */
};

/*
 * NULL on a syntax error (err says where).  Free with json_free().  The
 * nodes' start/end point into @text: keep it while using them, or parse a
 * copy with json_parse_copy(), whose root owns it.
 */
struct jnode *json_parse(const char *text, char *err, size_t errlen);
struct jnode *json_parse_copy(const char *text, char *err, size_t errlen);
void json_free(struct jnode *n);
const struct jnode *json_get(const struct jnode *obj, const char *key);
/* Dotted path of member names: "dart.faults". */
const struct jnode *json_path(const struct jnode *n, const char *path);
uint64_t json_u64(const struct jnode *n, uint64_t dflt);
const char *json_str(const struct jnode *n, const char *dflt);
bool json_bool(const struct jnode *n, bool dflt);
size_t json_len(const struct jnode *n);     /* members of an array/object */

#endif
