/*
 * The IOKit transport's portable decisions (iokit-match.h): parsing and
 * choosing a host location, finding the root port in the IORegistry,
 * reading IOReturns, choosing a cache mode.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <ctype.h>

#include "iokit-match.h"

/* The value of hex digit @c (isxdigit). */
static unsigned hex_digit(char c)
{
    return isdigit((unsigned char)c) ? (unsigned)(c - '0')
                                     : (unsigned)(tolower((unsigned char)c) -
                                                  'a' + 10);
}

/* A hex number of at most @max, its end in *end. */
static bool parse_hex(const char *s, uint32_t max, uint32_t *v,
                      const char **end)
{
    uint64_t x = 0;
    const char *p = s;

    while (isxdigit((unsigned char)*p)) {
        x = x * 16 + hex_digit(*p);
        if (x > max) {
            return false;
        }
        p++;
    }
    *v = (uint32_t)x;
    *end = p;
    return p != s;
}

static bool is_regid(const char *root_port)
{
    return !strncmp(root_port, VFA_IOKIT_REGID_PREFIX,
                    sizeof(VFA_IOKIT_REGID_PREFIX) - 1);
}

int vfa_iokit_parse_regid(const char *s, uint64_t *id)
{
    static const char pfx[] = VFA_IOKIT_REGID_PREFIX "0x";
    const char *p;
    uint64_t v = 0;
    size_t digits = 0;

    if (!s || strncmp(s, pfx, sizeof(pfx) - 1)) {
        return -EINVAL;
    }
    for (p = s + sizeof(pfx) - 1; isxdigit((unsigned char)*p); p++) {
        if (++digits > 16) {
            return -EINVAL;
        }
        v = v << 4 | hex_digit(*p);
    }
    /* IOKit numbers entries from above 2^32: 0 is nobody's. */
    if (!digits || *p || !v) {
        return -EINVAL;
    }
    *id = v;
    return 0;
}

int vfa_iokit_parse_location(const char *s, struct vfa_host_loc *out,
                             char *err, size_t errlen)
{
    uint32_t n[2] = { 0, 0 }, count = 0, dev = 0, fn = 0;
    const char *p = s, *at;
    uint64_t id;
    size_t rlen;

    memset(out, 0, sizeof(*out));
    if (!s || !*s) {
        snprintf(err, errlen, "no host location given");
        return -EINVAL;
    }
    at = strchr(s, '@');
    /* domain and bus, each followed by ':' */
    while (count < 2) {
        const char *e;

        if (!parse_hex(p, count ? 0xff : 0xffffffffu, &n[count], &e) ||
            *e != ':') {
            break;
        }
        count++;
        p = e + 1;
    }
    if (!count || !parse_hex(p, 0x1f, &dev, &p) || *p != '.' ||
        !parse_hex(p + 1, 7, &fn, &p) || (*p && *p != '@') ||
        (count == 1 && n[0] > 0xff)) {
        snprintf(err, errlen, "bad host location '%s' (want "
                 "[domain:]bus:device.function[@root-port], hex, e.g. "
                 "0000:03:00.0)", s);
        return -EINVAL;
    }
    out->domain = count == 2 ? n[0] : 0;
    out->bus = (uint8_t)n[count - 1];
    out->dev = (uint8_t)dev;
    out->fn = (uint8_t)fn;
    if (at) {
        rlen = strlen(at + 1);
        if (!rlen || rlen >= sizeof(out->root_port)) {
            snprintf(err, errlen, "bad root port in '%s' (1 to %zu "
                     "characters after '@')", s, sizeof(out->root_port) - 1);
            return -EINVAL;
        }
        memcpy(out->root_port, at + 1, rlen + 1);
        if (is_regid(out->root_port) &&
            vfa_iokit_parse_regid(out->root_port, &id)) {
            snprintf(err, errlen, "bad registry ID in '%s' (want "
                     "@regid:0x<hex>, as `vfio-apple list` prints it)", s);
            return -EINVAL;
        }
    }
    return 0;
}

void vfa_iokit_format_location(const struct vfa_host_loc *l, char *buf,
                               size_t len)
{
    snprintf(buf, len, "%04x:%02x:%02x.%x%s%s", l->domain, l->bus, l->dev,
             l->fn, l->root_port[0] ? "@" : "", l->root_port);
}

static bool same_bdf(const struct vfa_host_loc *a,
                     const struct vfa_host_loc *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev &&
           a->fn == b->fn;
}

void vfa_iokit_unique_location(const struct vfa_iokit_candidate *c, size_t n,
                               size_t i, struct vfa_host_loc *l)
{
    size_t j;

    *l = c[i].loc;
    for (j = 0; j < n; j++) {
        if (j != i && same_bdf(&c[j].loc, l) &&
            !strcmp(c[j].loc.root_port, l->root_port)) {
            break;
        }
    }
    /* Without a registry ID the name is the best there is. */
    if (j < n && c[i].regid) {
        snprintf(l->root_port, sizeof(l->root_port),
                 VFA_IOKIT_REGID_PREFIX "0x%llx",
                 (unsigned long long)c[i].regid);
    }
}

/*
 * Append "0000:03:00.0@root (1002:73bf)" for each candidate (of @want's
 * BDF only, with @bdf_only), each in the form that selects it alone.
 */
static void list_candidates(const struct vfa_iokit_candidate *c, size_t n,
                            const struct vfa_host_loc *want, bool bdf_only,
                            char *err, size_t errlen)
{
    size_t i, used = strlen(err);

    for (i = 0; i < n && used < errlen; i++) {
        struct vfa_host_loc u;
        char loc[96];

        if (bdf_only && !same_bdf(&c[i].loc, want)) {
            continue;
        }
        vfa_iokit_unique_location(c, n, i, &u);
        vfa_iokit_format_location(&u, loc, sizeof(loc));
        used += snprintf(err + used, errlen - used, "%s%s (%04x:%04x)",
                         used && err[used - 1] != ' ' ? ", " : "", loc,
                         c[i].vendor_id, c[i].device_id);
    }
}

int vfa_iokit_choose(const struct vfa_iokit_candidate *c, size_t n,
                     const struct vfa_host_loc *want, char *err,
                     size_t errlen)
{
    bool by_id = is_regid(want->root_port);
    size_t i, bdf_matches = 0;
    uint64_t id = 0;
    int found = -1;
    char w[96];

    vfa_iokit_format_location(want, w, sizeof(w));
    if (by_id && vfa_iokit_parse_regid(want->root_port, &id)) {
        snprintf(err, errlen, "host device %s: bad registry ID (want "
                 "regid:0x<hex>, as `vfio-apple list` prints it)", w);
        return -EINVAL;
    }
    for (i = 0; i < n; i++) {
        if (!same_bdf(&c[i].loc, want)) {
            continue;
        }
        bdf_matches++;
        if (by_id ? c[i].regid != id :
            want->root_port[0] && strcmp(c[i].loc.root_port,
                                         want->root_port)) {
            continue;
        }
        if (found >= 0) {
            /* Two instances for one location: never guess which. */
            snprintf(err, errlen, "host device %s is ambiguous: the dext "
                     "serves it below several root ports; name one with "
                     "host-root-port= (as [domain:]bus:dev.fn@root-port): ",
                     w);
            list_candidates(c, n, want, true, err, errlen);
            return -EEXIST;
        }
        found = (int)i;
    }
    if (found >= 0) {
        return found;
    }
    if (!n) {
        snprintf(err, errlen, "no device is served by the vfio-apple dext "
                 "(is the extension activated and matched to the device? "
                 "see `systemextensionsctl list` and `vfio-apple list`)");
    } else if (bdf_matches) {
        snprintf(err, errlen, "host device %s: no such function %s '%s'; "
                 "the dext serves it at: ", w,
                 by_id ? "with registry ID" : "below root port",
                 want->root_port);
        list_candidates(c, n, want, true, err, errlen);
    } else {
        snprintf(err, errlen, "host device %s is not served by the "
                 "vfio-apple dext; it serves: ", w);
        list_candidates(c, n, want, false, err, errlen);
    }
    return -ENOENT;
}

/* The root port's name into @root, once the walk has found it. */
static int root_name(const struct vfa_iokit_registry_ops *ops, void *ctx,
                     uintptr_t port, char *root, size_t rootlen, char *err,
                     size_t errlen)
{
    char name[VFA_IOKIT_NAME_MAX];
    size_t len;

    memset(name, 0, sizeof(name));
    if (ops->name(ctx, port, name, sizeof(name))) {
        snprintf(err, errlen, "cannot read the root port's registry name");
        return -ENODEV;
    }
    name[sizeof(name) - 1] = 0;
    len = strlen(name);
    if (!len) {
        snprintf(err, errlen, "the root port has an empty registry name");
        return -ENODEV;
    }
    if (len >= rootlen) {
        snprintf(err, errlen, "root port name '%s' is longer than %zu "
                 "characters", name, rootlen - 1);
        return -ENAMETOOLONG;
    }
    memcpy(root, name, len + 1);
    return 0;
}

int vfa_iokit_root_port(const struct vfa_iokit_registry_ops *ops, void *ctx,
                        uintptr_t service, uint64_t regid, char *root,
                        size_t rootlen, char *err, size_t errlen)
{
    uintptr_t top, cur = 0, up;     /* both ours to release; cur: not PCI */
    unsigned steps = 1, gap = 0;
    uint64_t id = 0;
    int r = -ENODEV;

    /* The dext's provider is the function it serves. */
    top = ops->parent(ctx, service);
    if (!top || !ops->is_pci_device(ctx, top)) {
        snprintf(err, errlen, "the dext's service %s", top ?
                 "is not attached to an IOPCIDevice" :
                 "has no provider (detached?)");
        goto out;
    }
    /* Never name a function other than the one the dext says it serves. */
    if (ops->registry_id(ctx, top, &id) || id != regid) {
        snprintf(err, errlen, "the dext reports regid:0x%llx but its "
                 "IOPCIDevice is regid:0x%llx: refused",
                 (unsigned long long)regid, (unsigned long long)id);
        r = -EPERM;
        goto out;
    }
    /*
     * Up through the bridges.  Below the root port every IOPCIDevice hangs
     * off an IOPCI2PCIBridge (a switch port's driver: one level that is no
     * IOPCIDevice); the root port hangs off the PCIe controller's driver,
     * and that off a platform device, no IOPCIDevice either.  Two such
     * levels in a row: the chain has left the PCI tree, and the topmost
     * IOPCIDevice is the root port.
     */
    while (gap < 2) {
        if (++steps > VFA_IOKIT_WALK_MAX) {
            snprintf(err, errlen, "no end to the PCI tree within %u "
                     "registry levels above the function",
                     VFA_IOKIT_WALK_MAX);
            goto out;
        }
        up = ops->parent(ctx, cur ? cur : top);
        if (cur) {
            ops->release(ctx, cur);
            cur = 0;
        }
        if (!up) {
            snprintf(err, errlen, "an entry above the function has no "
                     "parent (detached?)");
            goto out;
        }
        if (ops->is_pci_device(ctx, up)) {
            ops->release(ctx, top);
            top = up;
            gap = 0;
        } else {
            cur = up;
            gap++;
        }
    }
    r = root_name(ops, ctx, top, root, rootlen, err, errlen);
out:
    if (cur) {
        ops->release(ctx, cur);
    }
    if (top) {
        ops->release(ctx, top);
    }
    return r;
}

int vfa_iokit_result(uint32_t ior, uint32_t *status)
{
    uint32_t code = ior & ~VFA_IORETURN_BASE;

    *status = VFA_OK;
    /* The dext's own answer: VFA_IORETURN(enum vfa_err). */
    if ((ior & 0xffff8000u) == VFA_IORETURN_BASE && code) {
        *status = code;
        return 0;
    }
    switch (ior) {
    case VFA_KIO_RETURN_SUCCESS:
        return 0;
    /* The connection or the service is gone: nothing more gets through. */
    case VFA_KIO_RETURN_NOT_ATTACHED:
    case VFA_KIO_RETURN_NO_DEVICE:
    case VFA_KIO_RETURN_OFFLINE:
    case VFA_KIO_RETURN_IPC_ERROR:
    case VFA_KIO_RETURN_ABORTED:
    case VFA_MACH_SEND_INVALID_DEST:
    case VFA_MACH_RCV_PORT_DIED:
        return -ENODEV;
    /*
     * IOKit's refusals before the dext's code ran, e.g. the method
     * dispatch's argument-count check: the ABI's own words for them.
     */
    case VFA_KIO_RETURN_BAD_ARGUMENT:
        *status = VFA_E_PROTO;
        return 0;
    case VFA_KIO_RETURN_UNSUPPORTED:
        *status = VFA_E_NOSYS;
        return 0;
    case VFA_KIO_RETURN_NOT_PRIVILEGED:
    case VFA_KIO_RETURN_NOT_PERMITTED:
        *status = VFA_E_PERM;
        return 0;
    case VFA_KIO_RETURN_EXCLUSIVE_ACCESS:
    case VFA_KIO_RETURN_BUSY:
        *status = VFA_E_BUSY;
        return 0;
    case VFA_KIO_RETURN_NO_MEMORY:
    case VFA_KIO_RETURN_NO_RESOURCES:
        *status = VFA_E_NOMEM;
        return 0;
    default:
        *status = VFA_E_IO;
        return 0;
    }
}

uint32_t vfa_iokit_out_room(uint32_t sel)
{
#define VFA_OUT_ROOM(name, s, imin, imax, omin, omax, ...) \
    case s: return omax;
    switch (sel) {
    VFA_METHODS(VFA_OUT_ROOM)
    }
#undef VFA_OUT_ROOM
    return VFA_MAX_SCALARS;
}

int vfa_iokit_map_cache(uint32_t type, uint32_t bar_flags)
{
    if (type == VFA_MEM_IRQ_PAGE) {
        return VFA_IOKIT_CACHE_DEFAULT;
    }
    if (type >= VFA_MEM_BAR0 + VFA_NUM_BARS) {
        return -EINVAL;
    }
    if (!(bar_flags & VFA_BAR_PRESENT) || !(bar_flags & VFA_BAR_MAPPABLE)) {
        return -ENOENT;
    }
    /*
     * Write-combining lets a guest's stream of BAR writes (a GPU's
     * command buffers) leave the CPU in bursts; only prefetchable BARs
     * promise that merged writes are harmless.
     */
    return bar_flags & VFA_BAR_PREFETCHABLE ? VFA_IOKIT_CACHE_WRITE_COMBINE
                                            : VFA_IOKIT_CACHE_DEFAULT;
}
