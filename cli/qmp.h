/*
 * vfio-apple CLI: one QMP command to a running QEMU over its UNIX socket
 * (greeting, qmp_capabilities, the command), with a deadline.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_QMP_H
#define VFA_CLI_QMP_H

#include <stddef.h>

#include "json-parse.h"

/*
 * Runs @command; *root gets the parsed reply (free with json_free) and the
 * return value is its "return" member, or NULL with err saying why (no
 * such socket, no answer within @timeout_ms, an error reply).
 */
const struct jnode *cli_qmp_command(const char *path, const char *command,
                                    unsigned timeout_ms, struct jnode **root,
                                    char *err, size_t errlen);

#endif
