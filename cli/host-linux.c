/*
 * vfio-apple CLI on Linux: the devices are vfio-apple-sim sockets (the
 * discovery rule is in host.h), DMA memory is a sealed memfd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

static const char *forced_socket;

const struct cli_host_profile *cli_host_profile(void)
{
    return &cli_profile_linux;
}

void cli_host_set_socket(const char *path)
{
    forced_socket = path;
}

int cli_host_socket_dir(char *buf, size_t len, bool create, char *err, size_t errlen)
{
    const char *d = getenv("VFIO_APPLE_SOCKET_DIR"), *x = getenv("XDG_RUNTIME_DIR");
    int n;

    if (d && *d)
        n = snprintf(buf, len, "%s", d);
    else if (geteuid() == 0)
        n = snprintf(buf, len, "/run/vfio-apple");
    else if (x && *x)
        n = snprintf(buf, len, "%s/vfio-apple", x);
    else
        n = snprintf(buf, len, "/tmp/vfio-apple-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "socket directory name too long");
        return -ENAMETOOLONG;
    }
    if (create && mkdir(buf, 0700) && errno != EEXIST) {
        int e = errno;

        snprintf(err, errlen, "cannot create the socket directory %s: %s (set "
                 "VFIO_APPLE_SOCKET_DIR to a directory you may write)", buf, strerror(e));
        return -e;
    }
    return 0;
}

/* A ref for the socket at @path. */
static int ref_from_path(const char *path, struct cli_device_ref *ref, char *err, size_t errlen)
{
    const char *base = strrchr(path, '/');
    size_t blen;

    memset(ref, 0, sizeof(*ref));
    base = base ? base + 1 : path;
    blen = strlen(base);
    if (blen > 5 && !strcmp(base + blen - 5, ".sock"))
        blen -= 5;
    if (strlen(path) >= sizeof(ref->target) - 8 || blen >= sizeof(ref->name)) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    memcpy(ref->name, base, blen);
    snprintf(ref->target, sizeof(ref->target), "%s", path);
    /* QMP beside the socket: DIR/NAME.sock -> DIR/NAME.qmp. */
    snprintf(ref->qmp, sizeof(ref->qmp), "%.*s.qmp",
             (int)(strlen(path) - (strlen(base) - blen)), path);
    return 0;
}

void cli_host_target(const struct cli_device_ref *ref, struct cli_target *t)
{
    *t = (struct cli_target){ .socket = ref->target };
}

static int add(struct cli_device_ref **v, size_t *n, const char *path, char *err, size_t errlen)
{
    struct cli_device_ref *nv = realloc(*v, (*n + 1) * sizeof(**v));
    int r;

    if (!nv) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *v = nv;
    r = ref_from_path(path, &nv[*n], err, errlen);
    if (r)
        return r;
    (*n)++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct cli_device_ref *)a)->name,
                  ((const struct cli_device_ref *)b)->name);
}

int cli_host_discover(struct cli_device_ref **out, size_t *n, char *err, size_t errlen)
{
    const char *env = getenv("VFIO_APPLE_SOCKET");
    char dir[PATH_MAX], path[PATH_MAX + 256];
    struct dirent *e;
    DIR *d;
    int r = 0;

    *out = NULL;
    *n = 0;
    if (forced_socket)
        return add(out, n, forced_socket, err, errlen);
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;

        if (!copy)
            return -ENOMEM;
        for (char *p = strtok_r(copy, ":", &save); p && !r; p = strtok_r(NULL, ":", &save))
            r = add(out, n, p, err, errlen);
        free(copy);
        return r;
    }
    r = cli_host_socket_dir(dir, sizeof(dir), false, err, errlen);
    if (r)
        return r;
    d = opendir(dir);
    if (!d)
        return 0;       /* no directory: no devices */
    while (!r && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        struct stat sb;

        if (len <= 5 || strcmp(e->d_name + len - 5, ".sock"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &sb) || !S_ISSOCK(sb.st_mode))
            continue;
        r = add(out, n, path, err, errlen);
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), by_name);
    return r;
}

int cli_host_resolve(const char *device, struct cli_device_ref *ref, char *err, size_t errlen)
{
    struct cli_device_ref *v;
    size_t n;
    int r;

    if (!strncmp(device, "unix:", 5))
        return ref_from_path(device + 5, ref, err, errlen);
    if (strchr(device, '/'))
        return ref_from_path(device, ref, err, errlen);
    r = cli_host_discover(&v, &n, err, errlen);
    if (r)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(v[i].name, device)) {
            *ref = v[i];
            free(v);
            return 0;
        }
    }
    free(v);
    {
        char dir[PATH_MAX];

        if (cli_host_socket_dir(dir, sizeof(dir), false, err, errlen))
            dir[0] = 0;
        snprintf(err, errlen, "no device named '%s': `vfio-apple list` shows the devices "
                 "(sockets NAME.sock in %s%s); name a socket path, or start a simulator "
                 "(`vfio-apple run %s --sim nvme,size=1G ...`)", device,
                 getenv("VFIO_APPLE_SOCKET") ? "$VFIO_APPLE_SOCKET" : dir,
                 forced_socket ? ", or --socket" : "", device);
    }
    return -ENOENT;
}

int cli_host_sim_ref(const char *name, struct cli_device_ref *ref, char *err, size_t errlen)
{
    char dir[PATH_MAX], path[PATH_MAX + 256];
    int r = cli_host_socket_dir(dir, sizeof(dir), true, err, errlen);

    if (r)
        return r;
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
            snprintf(err, errlen, "simulator name '%s': use letters, digits, '-', '_', '.'",
                     name);
            return -EINVAL;
        }
    }
    snprintf(path, sizeof(path), "%s/%s.sock", dir, name);
    return ref_from_path(path, ref, err, errlen);
}

void cli_host_helper(const char *prog, char *buf, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n > 0) {
        char *slash;

        self[n] = 0;
        slash = strrchr(self, '/');
        if (slash) {
            snprintf(buf, len, "%.*s/%s", (int)(slash - self), self, prog);
            if (!access(buf, X_OK))
                return;
        }
    }
    snprintf(buf, len, "%s", prog);     /* from PATH */
}

void cli_host_proc_name(pid_t pid, char *buf, size_t len)
{
    char path[64];
    FILE *f;

    buf[0] = 0;
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

void cli_host_child_setup(void)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
}

int cli_host_dma_alloc(uint64_t len, void **va, int *fd, char *err, size_t errlen)
{
    int f = memfd_create("vfio-apple-selftest", MFD_CLOEXEC | MFD_ALLOW_SEALING), e;
    void *p;

    if (f < 0) {
        e = errno;
        snprintf(err, errlen, "memfd_create: %s", strerror(e));
        return -e;
    }
    if (ftruncate(f, (off_t)len) || fcntl(f, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) {
        e = errno;
        snprintf(err, errlen, "memfd of %llu bytes: %s", (unsigned long long)len, strerror(e));
        close(f);
        return -e;
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    if (p == MAP_FAILED) {
        e = errno;
        snprintf(err, errlen, "mmap of %llu bytes: %s", (unsigned long long)len, strerror(e));
        close(f);
        return -e;
    }
    *va = p;
    *fd = f;
    return 0;
}

void cli_host_dma_free(void *va, uint64_t len, int fd)
{
    if (va)
        munmap(va, len);
    if (fd >= 0)
        close(fd);
}
