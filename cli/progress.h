/*
 * vfio-apple CLI: progress of long steps on stderr.  On a terminal one
 * line is rewritten in place; otherwise a line at most every 2 seconds
 * (and each new step), so logs stay readable.  cli_progress_quiet()
 * silences it (--json to a pipe does not need it).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFA_CLI_PROGRESS_H
#define VFA_CLI_PROGRESS_H

void cli_progress_quiet(int quiet);
/* A new step: always shown. */
void cli_progress_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Within the step: shown when due. */
void cli_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the current line on a terminal. */
void cli_progress_done(void);

#endif
