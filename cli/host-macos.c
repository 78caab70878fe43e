/*
 * vfio-apple CLI, macOS host (host.h): the devices are the functions the
 * vfio-apple dext serves, found through IOKit (vfa_iokit_list: every dext
 * instance, asked GET_IDENTITY, its root port found in the IORegistry).
 * A device's name is its location, "domain:bus:dev.fn", with
 * "@root-port" added when two root ports have a function at the same BDF
 * (Apple Silicon numbers each root's buses from the same base), and
 * "@regid:0x<id>" in its place when those roots even share a name.  A
 * DEVICE argument is such a name, any location the client library
 * accepts ([domain:]bus:dev.fn[@root-port]), or, for a simulator during
 * development, a socket path or unix:PATH.
 *
 * Built on a Mac in place of host-linux.c (cli/cli.mk: CLI_HOST_SRCS),
 * linked with -framework IOKit -framework CoreFoundation; `make
 * macos-check` compiles it on Linux against macos/sdk.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "../client/iokit-match.h"

#define MAX_DEVICES 64

static const char *forced_socket;

const struct cli_host_profile *cli_host_profile(void)
{
    return &cli_profile_macos;
}

void cli_host_set_socket(const char *path)
{
    forced_socket = path;
}

/* No simulator on macOS: the dext serves real devices. */
int cli_host_socket_dir(char *buf, size_t len, bool create, char *err, size_t errlen)
{
    snprintf(err, errlen, "no simulator on macOS: the vfio-apple dext serves the devices "
             "(`vfio-apple list`)");
    return -ENOTSUP;
}

int cli_host_sim_ref(const char *name, struct cli_device_ref *ref, char *err, size_t errlen)
{
    return cli_host_socket_dir(NULL, 0, false, err, errlen);
}

/*
 * Where `run` puts QEMU's QMP socket: short (sun_path is 104 bytes on
 * macOS, and $TMPDIR is long), per user, one per device name.
 */
static void qmp_path(const char *name, char *buf, size_t len)
{
    char dir[64], clean[128];
    size_t i;

    snprintf(dir, sizeof(dir), "/tmp/vfio-apple-%u", (unsigned)geteuid());
    mkdir(dir, 0700);
    for (i = 0; name[i] && i < sizeof(clean) - 1; i++)
        clean[i] = (name[i] == ':' || name[i] == '@' || name[i] == '/') ? '-' : name[i];
    clean[i] = 0;
    snprintf(buf, len, "%s/%s.qmp", dir, clean);
}

static bool same_bdf(const struct vfa_host_loc *a, const struct vfa_host_loc *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev && a->fn == b->fn;
}

/*
 * Device @i of @c: its target always names the root port (in the form
 * that selects it alone), its name only where another device has its BDF.
 */
static void ref_from_candidate(const struct vfa_iokit_candidate *c, size_t n, size_t i,
                               struct cli_device_ref *ref)
{
    struct vfa_host_loc l, bare;
    bool shared = false;
    size_t j;

    for (j = 0; j < n; j++)
        shared |= j != i && same_bdf(&c[i].loc, &c[j].loc);
    vfa_iokit_unique_location(c, n, i, &l);
    bare = l;
    if (!shared)
        bare.root_port[0] = 0;
    memset(ref, 0, sizeof(*ref));
    vfa_iokit_format_location(&bare, ref->name, sizeof(ref->name));
    snprintf(ref->target, sizeof(ref->target), "pci:");
    vfa_iokit_format_location(&l, ref->target + 4, sizeof(ref->target) - 4);
    qmp_path(ref->name, ref->qmp, sizeof(ref->qmp));
}

static int ref_from_socket(const char *path, struct cli_device_ref *ref, char *err,
                           size_t errlen)
{
    const char *base = strrchr(path, '/');

    memset(ref, 0, sizeof(*ref));
    if (strlen(path) >= sizeof(ref->target) - 8) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    snprintf(ref->name, sizeof(ref->name), "%.*s", (int)sizeof(ref->name) - 1,
             base ? base + 1 : path);
    snprintf(ref->target, sizeof(ref->target), "%s", path);
    snprintf(ref->qmp, sizeof(ref->qmp), "%s.qmp", path);
    return 0;
}

void cli_host_target(const struct cli_device_ref *ref, struct cli_target *t)
{
    /* The caller uses @t while @ref lives; one device per command. */
    static char host[32], root[64];
    struct vfa_host_loc l;
    char e[8];

    if (strncmp(ref->target, "pci:", 4) ||
        vfa_iokit_parse_location(ref->target + 4, &l, e, sizeof(e))) {
        *t = (struct cli_target){ .socket = ref->target };
        return;
    }
    snprintf(host, sizeof(host), "%04x:%02x:%02x.%x", l.domain, l.bus, l.dev, l.fn);
    snprintf(root, sizeof(root), "%s", l.root_port);
    *t = (struct cli_target){ .host = host, .root_port = root[0] ? root : NULL };
}

/*
 * What the dext serves, into @c (*n filled).  An instance left out
 * because its identity did not check out is said on stderr: the device
 * would otherwise just be missing from the list.
 */
static int list_served(struct vfa_iokit_candidate *c, size_t *n, char *err, size_t errlen)
{
    int r;

    err[0] = 0;
    r = vfa_iokit_list(c, MAX_DEVICES, n, err, errlen);
    if (!r && err[0])
        fprintf(stderr, "vfio-apple: left out %s\n", err);
    return r;
}

int cli_host_discover(struct cli_device_ref **out, size_t *n, char *err, size_t errlen)
{
    struct vfa_iokit_candidate c[MAX_DEVICES];
    size_t found, i;
    int r;

    *out = NULL;
    *n = 0;
    if (forced_socket) {
        *out = calloc(1, sizeof(**out));
        if (!*out)
            return -ENOMEM;
        r = ref_from_socket(forced_socket, *out, err, errlen);
        if (!r)
            *n = 1;
        return r;
    }
    r = list_served(c, &found, err, errlen);
    if (r || !found)
        return r;
    *out = calloc(found, sizeof(**out));
    if (!*out)
        return -ENOMEM;
    for (i = 0; i < found; i++)
        ref_from_candidate(c, found, i, &(*out)[i]);
    *n = found;
    return 0;
}

int cli_host_resolve(const char *device, struct cli_device_ref *ref, char *err, size_t errlen)
{
    struct vfa_iokit_candidate c[MAX_DEVICES];
    struct vfa_host_loc want;
    size_t found;
    int r;

    if (!strncmp(device, "unix:", 5))
        return ref_from_socket(device + 5, ref, err, errlen);
    if (strchr(device, '/'))
        return ref_from_socket(device, ref, err, errlen);
    r = vfa_iokit_parse_location(!strncmp(device, "pci:", 4) ? device + 4 : device, &want,
                                 err, errlen);
    if (r)
        return r;
    r = list_served(c, &found, err, errlen);
    if (r)
        return r;
    /* Ambiguity and absence are refused here, with the candidates listed. */
    r = vfa_iokit_choose(c, found, &want, err, errlen);
    if (r < 0)
        return r;
    ref_from_candidate(c, found, (size_t)r, ref);
    return 0;
}

void cli_host_helper(const char *prog, char *buf, size_t len)
{
    snprintf(buf, len, "%s", prog);     /* from PATH */
}

/* Unknown: status shows the pid alone (proc_name() would need libproc). */
void cli_host_proc_name(pid_t pid, char *buf, size_t len)
{
    if (len)
        buf[0] = 0;
}

/*
 * macOS has no parent-death signal: `run` stops QEMU itself when it is
 * interrupted, and QEMU's session dies with QEMU.
 */
void cli_host_child_setup(void)
{
}

/*
 * The dext wraps the range itself (CreateMemoryDescriptorFromClient): any
 * page-aligned anonymous memory will do, no fd.  Pages are 16 KiB here,
 * so mmap's alignment is the DART's.
 */
int cli_host_dma_alloc(uint64_t len, void **va, int *fd, char *err, size_t errlen)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int e;

    if (p == MAP_FAILED) {
        e = errno;
        snprintf(err, errlen, "mmap of %llu bytes: %s", (unsigned long long)len, strerror(e));
        return -e;
    }
    *va = p;
    *fd = -1;
    return 0;
}

void cli_host_dma_free(void *va, uint64_t len, int fd)
{
    if (va)
        munmap(va, len);
}
