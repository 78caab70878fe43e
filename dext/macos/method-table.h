/*
 * The user client's IOUserClientMethodDispatch table, derived from the
 * ABI's method table (VFA_METHODS in include/vfio-apple/dext-abi.h) and
 * nothing else: no selector, count or size is written here.  The
 * static_asserts make a change of the ABI that this shell cannot follow
 * a compile error (make macos-check), not a runtime surprise.
 *
 * What the dispatch entry checks, and what it leaves to the core:
 *   - struct input size: exact (the ABI's methods take none);
 *   - struct output: exact 0 where a method has none; otherwise variable,
 *     because an older client may offer less room (the growth rule in
 *     dext-abi.h: the dext fills min(its size, the caller's));
 *   - scalar counts: variable, because a client may pass more inputs
 *     than this dext knows (zero: their old meaning) and offer more
 *     output room; the minimums are checked in the user client before
 *     the core runs (kMin* below), and again by the core;
 *   - a completion: required for NOTIFY_REGISTER, the one asynchronous
 *     method (IOConnectCallAsyncScalarMethod).
 */
#ifndef VFA_DEXT_MACOS_METHOD_TABLE_H
#define VFA_DEXT_MACOS_METHOD_TABLE_H

#include <DriverKit/IOUserClient.h>

extern "C" {
#include "vfio-apple/dext-abi.h"
}

namespace vfa_table {

/* What IOUserClientMethodDispatch cannot express: the minimum counts. */
struct Shape {
    uint32_t selector;
    uint32_t scalars_in_min, scalars_in_max, scalars_out_min;
    uint32_t struct_in, struct_out;
};

#define VFA_DK_SHAPE(name, sel, sin_min, sin_max, so_min, so_max, si, so, fl) \
    { (sel), (sin_min), (sin_max), (so_min), (uint32_t)(si), (uint32_t)(so) },
static constexpr Shape kShapes[] = { VFA_METHODS(VFA_DK_SHAPE) };
#undef VFA_DK_SHAPE

static constexpr uint32_t kCount = sizeof(kShapes) / sizeof(kShapes[0]);

static constexpr bool selectors_dense()
{
    for (uint32_t i = 0; i < kCount; i++)
        if (kShapes[i].selector != i)
            return false;
    return true;
}

static constexpr bool shapes_fit_iokit()
{
    for (uint32_t i = 0; i < kCount; i++) {
        const Shape &s = kShapes[i];
        if (s.scalars_in_max > 16 || s.scalars_in_min > s.scalars_in_max)
            return false;
        if (s.struct_in > VFA_MAX_STRUCT)
            return false;
        if (s.struct_out > VFA_MAX_STRUCT && s.struct_out != VFA_STRUCT_OUT_VARIABLE)
            return false;
    }
    return true;
}

/* One entry per selector, indexed by selector, and nothing left over. */
static_assert(kCount == VFA_SEL_COUNT, "dext-abi.h VFA_METHODS and enum vfa_selector disagree");
static_assert(selectors_dense(), "VFA_METHODS rows must be in selector order 0..COUNT-1");
/* IOConnectCallMethod's limits: 16 scalars each way, and struct
 * arguments over 4096 bytes arrive as memory descriptors, which this
 * shell refuses. */
static_assert(VFA_MAX_SCALARS == 16, "IOKit passes at most 16 scalars");
static_assert(VFA_MAX_STRUCT <= 4096, "struct arguments over 4096 bytes need descriptors");
static_assert(shapes_fit_iokit(), "a method's shape does not fit IOConnectCallMethod");
static_assert(kShapes[VFA_SEL_NOTIFY_REGISTER].scalars_out_min == 0,
              "the async method returns its results through the completion only");
/* VFA_IORETURN is IOKit's vendor-specific error space:
 * iokit_vendor_specific_err(0) = err_system(0x38) | err_sub(-2). */
static_assert(VFA_IORETURN_BASE == (0xe0000000u | (0xffeu << 14)),
              "VFA_IORETURN_BASE is not iokit_vendor_specific_err(0)");
/* Memory types: BARs 0..5, then the IRQ page, none overlapping. */
static_assert(VFA_MEM_IRQ_PAGE >= VFA_MEM_BAR(VFA_NUM_BARS), "memory types overlap");
static_assert(VFA_IRQ_PAGE_SIZE % VFA_PAGE_SIZE == 0, "IRQ page is not whole host pages");

static constexpr uint32_t var = kIOUserClientVariableStructureSize;

/* The entry for selector i (function filled in by the user client). */
static constexpr IOUserClientMethodDispatch entry(IOUserClientMethodFunction fn, uint32_t i)
{
    return IOUserClientMethodDispatch{
        fn,
        i == VFA_SEL_NOTIFY_REGISTER ? 1u : 0u,
        var,
        kShapes[i].struct_in,
        var,
        kShapes[i].struct_out ? var : 0u,
    };
}

} /* namespace vfa_table */

#endif
