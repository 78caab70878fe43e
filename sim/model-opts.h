/*
 * Option strings of the device models ("key=value,key=value", as the
 * command line's --device MODEL,OPTIONS gives them): the iteration and the
 * number syntax every model shares.
 */
#ifndef VFIO_APPLE_SIM_MODEL_OPTS_H
#define VFIO_APPLE_SIM_MODEL_OPTS_H

#include <stddef.h>
#include <stdint.h>

/* "N", "0xN", with an optional K, M, G or T suffix.  0, or -1 if malformed or too large. */
int sim_opt_size(const char *s, uint64_t *out);
/* sim_opt_size() within [lo, hi]. */
int sim_opt_uint(const char *s, unsigned lo, unsigned hi, unsigned *out);

/*
 * Calls fn for every key=value of args (NULL or "" has none) until one
 * fails.  fn returns 0, or -1 having written a message into err.  A token
 * without '=' is an error here.  Returns 0 or -1.
 */
int sim_opts_each(const char *args, int (*fn)(void *ctx, const char *key, const char *val,
                                              char *err, size_t errlen),
                  void *ctx, char *err, size_t errlen);

#endif
