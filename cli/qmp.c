/* vfio-apple CLI: a minimal QMP client (see qmp.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"

#define QMP_MAX_REPLY   (16u << 20)

struct qmp {
    int fd;
    char *buf;
    size_t len, cap;
    long long deadline_ms;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next line QEMU sends (NUL-terminated in q->buf), consumed by the caller. */
static int read_line(struct qmp *q, char **line, char *err, size_t errlen)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        long long left = q->deadline_ms - now_ms();
        struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
        ssize_t n;

        if (nl) {
            *nl = 0;
            *line = q->buf;
            return (int)(nl - q->buf + 1);
        }
        if (q->len + 1 >= q->cap) {
            char *b = q->cap < QMP_MAX_REPLY ? realloc(q->buf, q->cap * 2) : NULL;

            if (!b) {
                snprintf(err, errlen, "QMP reply longer than %u bytes", QMP_MAX_REPLY);
                return -E2BIG;
            }
            q->buf = b;
            q->cap *= 2;
        }
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            snprintf(err, errlen, "QEMU did not answer on QMP in time");
            return -ETIMEDOUT;
        }
        n = read(q->fd, q->buf + q->len, q->cap - 1 - q->len);
        if (n <= 0) {
            snprintf(err, errlen, "QEMU closed the QMP connection");
            return -EPIPE;
        }
        q->len += (size_t)n;
    }
}

static void consume(struct qmp *q, int n)
{
    memmove(q->buf, q->buf + n, q->len - (size_t)n);
    q->len -= (size_t)n;
}

/* Sends @cmd and returns the parsed reply (events skipped). */
static struct jnode *exchange(struct qmp *q, const char *cmd, char *err, size_t errlen)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "{\"execute\":\"%s\"}\n", cmd);

    if (write(q->fd, msg, (size_t)n) != n) {
        snprintf(err, errlen, "writing to QMP: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        char *line, perr[128];
        int len = read_line(q, &line, err, errlen);
        struct jnode *j;

        if (len < 0)
            return NULL;
        j = json_parse_copy(line, perr, sizeof(perr));     /* outlives q->buf */
        consume(q, len);
        if (!j) {
            snprintf(err, errlen, "QMP: %s", perr);
            return NULL;
        }
        if (json_get(j, "return") || json_get(j, "error"))
            return j;
        json_free(j);       /* an event */
    }
}

const struct jnode *cli_qmp_command(const char *path, const char *command,
                                    unsigned timeout_ms, struct jnode **root,
                                    char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct qmp *q = calloc(1, sizeof(*q));
    const struct jnode *e;
    struct jnode *j = NULL;
    char *line;
    int n;

    *root = NULL;
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->deadline_ms = now_ms() + timeout_ms;
    q->cap = 64 * 1024;
    q->fd = -1;
    if (!(q->buf = malloc(q->cap))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "QMP socket path too long");
        goto out;
    }
    strcpy(sa.sun_path, path);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof(sa))) {
        snprintf(err, errlen, "no QEMU on %s: %s", path, strerror(errno));
        goto out;
    }
    if ((n = read_line(q, &line, err, errlen)) < 0)     /* the greeting */
        goto out;
    consume(q, n);
    j = exchange(q, "qmp_capabilities", err, errlen);
    if (!j)
        goto out;
    json_free(j);
    j = exchange(q, command, err, errlen);
    if (j && (e = json_get(j, "error"))) {
        snprintf(err, errlen, "QMP %s: %s", command, json_str(json_get(e, "desc"), "error"));
        json_free(j);
        j = NULL;
    }
out:
    if (q->fd >= 0)
        close(q->fd);
    free(q->buf);
    free(q);
    *root = j;
    return j ? json_get(j, "return") : NULL;
}
