/* vfio-apple CLI: progress lines (see progress.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "latency.h"
#include "progress.h"

static int quiet;
static bool open_line;
static uint64_t last_ns;

void cli_progress_quiet(int q)
{
    quiet = q;
}

static void emit(bool step, const char *fmt, va_list ap)
{
    bool tty = isatty(STDERR_FILENO);
    uint64_t now = cli_now_ns();

    if (quiet)
        return;
    if (!step && !tty && now - last_ns < 2000000000ull)
        return;
    last_ns = now;
    if (tty)
        fputs(open_line ? "\r\033[K" : "", stderr);
    fputs("vfio-apple: ", stderr);
    vfprintf(stderr, fmt, ap);
    if (tty) {
        open_line = true;
    } else {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

void cli_progress_step(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(true, fmt, ap);
    va_end(ap);
}

void cli_progress(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(false, fmt, ap);
    va_end(ap);
}

void cli_progress_done(void)
{
    if (open_line && !quiet) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    open_line = false;
}
