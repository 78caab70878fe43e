/*
 * Per-device quirks: the data-driven exceptions to the config policy and
 * to reset (docs/config-policy.md, "Quirks").
 *
 * An entry names a device by vendor, optionally device and class, and
 * carries flags (VFA_QUIRK_NO_FLR) and ranges of capability registers the
 * guest may write although the policy drops them by default (a vendor's
 * own VSEC a driver needs, say).  The core applies entries while it is
 * created; config_policy.c turns allow ranges into byte classes and
 * dispatch.c applies the flags.
 */
#include "core_internal.h"

/*
 * Built-in entries.  Each one needs the report that justifies it next to
 * it (device, symptom, source): a quirk widens what a guest can do to the
 * host's hardware, or changes how the host resets it.  None are known yet
 * with IDs we can cite; the macOS hardware work adds them (no-FLR parts,
 * functions that must not be bound).
 */
static const struct vfa_quirk builtin_quirks[] = {
    { .name = NULL },           /* end */
};

static bool quirk_applies(const struct vfa_quirk *q, const struct vfa_platform_info *in)
{
    if (q->vendor_id != in->vendor_id)
        return false;
    if (q->device_id != VFA_QUIRK_ANY_DEVICE && q->device_id != in->device_id)
        return false;
    return (in->class_code & q->class_mask) == (q->class_code & q->class_mask);
}

unsigned quirks_for_each(struct vfa_core *c,
                         void (*fn)(struct vfa_core *c, const struct vfa_quirk *q, void *arg),
                         void *arg)
{
    unsigned n = 0;

    for (const struct vfa_quirk *q = builtin_quirks; q->name; q++) {
        if (quirk_applies(q, &c->info)) {
            fn(c, q, arg);
            n++;
        }
    }
    /* The creator's table is a pointer and a count from outside the
     * core: the count is cut to VFA_MAX_QUIRKS, so a corrupted one cannot
     * send the loop through unbounded memory. */
    uint32_t extra = c->cfg.nquirks;
    if (!c->cfg.quirks || extra > VFA_MAX_QUIRKS)
        extra = c->cfg.quirks ? VFA_MAX_QUIRKS : 0;
    for (uint32_t i = 0; i < extra; i++) {
        if (quirk_applies(&c->cfg.quirks[i], &c->info)) {
            fn(c, &c->cfg.quirks[i], arg);
            n++;
        }
    }
    return n;
}
