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
 * host's hardware, or changes how the host resets it.
 *
 * Not here, for want of a citable ID: the Blackwell part whose FLR hangs
 * (DESIGN.md section 3; the report names no device ID).  Whoever meets it
 * adds { vendor 0x10de, its device ID, VFA_QUIRK_NO_FLR } with the report.
 */

/* PCI class of an HD Audio function (base 0x04 multimedia, sub 0x03). */
#define CLASS_HDA       0x040300u
#define CLASS_HDA_MASK  0xffff00u

static const struct vfa_quirk builtin_quirks[] = {
    /*
     * A discrete GPU's HDMI/DP audio function "has triggered DART
     * assertions" on Apple Silicon when driven through a dext, and the
     * forks that run GPUs there skip it by default (field reports
     * gathered in DESIGN.md section 3).  Such a function sits next to the
     * GPU in every Thunderbolt-attached card (e.g. 10de:22e8 beside an
     * RTX PRO 6000 Blackwell, 10de:2bb4, in tinygrad issue 15638).  The
     * reports do not say which vendor's, so both GPU vendors Apple signs
     * PCI dexts for are covered; nothing else of either vendor is.
     */
    { .name = "nvidia-hdmi-audio", .vendor_id = 0x10de, .device_id = VFA_QUIRK_ANY_DEVICE,
      .class_code = CLASS_HDA, .class_mask = CLASS_HDA_MASK, .flags = VFA_QUIRK_NO_BIND },
    { .name = "amd-hdmi-audio", .vendor_id = 0x1002, .device_id = VFA_QUIRK_ANY_DEVICE,
      .class_code = CLASS_HDA, .class_mask = CLASS_HDA_MASK, .flags = VFA_QUIRK_NO_BIND },
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
