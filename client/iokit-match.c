/*
 * The IOKit transport's portable decisions (iokit-match.h): parsing and
 * choosing a host location, reading IOReturns, choosing a cache mode.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <ctype.h>

#include "iokit-match.h"

/* A hex number of at most @max, its end in *end. */
static bool parse_hex(const char *s, uint32_t max, uint32_t *v,
                      const char **end)
{
    uint64_t x = 0;
    const char *p = s;

    while (isxdigit((unsigned char)*p)) {
        x = x * 16 + (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' :
                                (tolower((unsigned char)*p) - 'a' + 10));
        if (x > max) {
            return false;
        }
        p++;
    }
    *v = (uint32_t)x;
    *end = p;
    return p != s;
}

int vfa_iokit_parse_location(const char *s, struct vfa_host_loc *out,
                             char *err, size_t errlen)
{
    uint32_t n[2] = { 0, 0 }, count = 0, dev = 0, fn = 0;
    const char *p = s, *at;
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

/*
 * Append "0000:03:00.0@root (1002:73bf)" for each candidate (of @want's
 * BDF only, with @bdf_only).
 */
static void list_candidates(const struct vfa_iokit_candidate *c, size_t n,
                            const struct vfa_host_loc *want, bool bdf_only,
                            char *err, size_t errlen)
{
    size_t i, used = strlen(err);

    for (i = 0; i < n && used < errlen; i++) {
        char loc[96];

        if (bdf_only && !same_bdf(&c[i].loc, want)) {
            continue;
        }
        vfa_iokit_format_location(&c[i].loc, loc, sizeof(loc));
        used += snprintf(err + used, errlen - used, "%s%s (%04x:%04x)",
                         used && err[used - 1] != ' ' ? ", " : "", loc,
                         c[i].vendor_id, c[i].device_id);
    }
}

int vfa_iokit_choose(const struct vfa_iokit_candidate *c, size_t n,
                     const struct vfa_host_loc *want, char *err,
                     size_t errlen)
{
    size_t i, bdf_matches = 0;
    int found = -1;
    char w[96];

    vfa_iokit_format_location(want, w, sizeof(w));
    for (i = 0; i < n; i++) {
        if (!same_bdf(&c[i].loc, want)) {
            continue;
        }
        bdf_matches++;
        if (want->root_port[0] &&
            strcmp(c[i].loc.root_port, want->root_port)) {
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
        snprintf(err, errlen, "host device %s: no such function below root "
                 "port '%s'; the dext serves it at: ", w, want->root_port);
        list_candidates(c, n, want, true, err, errlen);
    } else {
        snprintf(err, errlen, "host device %s is not served by the "
                 "vfio-apple dext; it serves: ", w);
        list_candidates(c, n, want, false, err, errlen);
    }
    return -ENOENT;
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
