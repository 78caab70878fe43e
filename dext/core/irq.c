/*
 * Interrupts: the IRQ page shared with the client (layout and protocol in
 * dext-abi.h).
 *
 * The enable mask lives here, not in the device: the device's vectors stay
 * unmasked and the guest's masking is applied as interrupts arrive.  An
 * interrupt on a disabled vector is latched in `pending` (as a masked
 * MSI-X vector's Pending Bit would be) and delivered when the vector is
 * enabled.  A notification is sent only when a vector's pending bit goes
 * from clear to set while enabled; further interrupts before the client
 * consumes the bit are coalesced into it, so an interrupt storm costs one
 * wake-up per client pass, not one per interrupt.
 *
 * vfa_core_irq() runs on the platform's interrupt threads concurrently with
 * the dispatcher; it touches only the page (atomics) and atomic counters.
 * The page pointer and vector count it reads are published before the
 * platform's sources exist and withdrawn only after they are destroyed.
 */
#include <string.h>

#include "core_internal.h"

static void send_notify(struct vfa_core *c, struct vfa_irq_page *p)
{
    __atomic_fetch_add(&p->notifications, 1, __ATOMIC_RELAXED);
    STAT_ADD_ATOMIC(c, notifications, 1);
    c->ops->notify(c->ctx);
}

uint32_t irq_session_init(struct vfa_core *c)
{
    struct vfa_irq_page *p = c->ops->irq_page_alloc(c->ctx);

    if (!p)
        return VFA_E_NOMEM;
    memset(p, 0, sizeof(*p));
    p->magic = VFA_IRQ_PAGE_MAGIC;
    p->version = VFA_ABI_MAJOR << 16 | VFA_ABI_MINOR;
    c->irq_type = VFA_IRQ_NONE;
    c->irq_count = 0;
    __atomic_store_n(&c->irq_page, p, __ATOMIC_RELEASE);
    return 0;
}

void irq_teardown(struct vfa_core *c)
{
    struct vfa_irq_page *p = c->irq_page;

    if (c->irq_type == VFA_IRQ_NONE)
        return;
    if (p)
        __atomic_store_n(&p->nvectors, 0, __ATOMIC_RELEASE);
    c->ops->irq_setup(c->ctx, VFA_IRQ_NONE, 0);
    c->irq_type = VFA_IRQ_NONE;
    c->irq_count = 0;
    if (p)
        p->irq_type = VFA_IRQ_NONE;
}

void irq_session_fini(struct vfa_core *c)
{
    struct vfa_irq_page *p = c->irq_page;

    irq_teardown(c);
    __atomic_store_n(&c->irq_page, NULL, __ATOMIC_RELEASE);
    if (p)
        c->ops->irq_page_free(c->ctx, p);
}

uint32_t irq_setup(struct vfa_core *c, uint64_t type, uint64_t count, uint64_t *out)
{
    struct vfa_irq_page *p = c->irq_page;
    uint64_t max;

    switch (type) {
    case VFA_IRQ_NONE:
        if (count)
            return VFA_E_INVAL;
        irq_teardown(c);
        *out = 0;
        return 0;
    case VFA_IRQ_MSI:
        max = c->info.msi_vectors;
        /* Multiple-message MSI allocates powers of two, at most 32. */
        if (count & (count - 1))
            return VFA_E_INVAL;
        break;
    case VFA_IRQ_MSIX:
        max = c->info.msix_vectors;
        break;
    default:
        return VFA_E_INVAL;
    }
    if (!max)
        return VFA_E_NOTSUP;
    if (count == 0)
        return VFA_E_INVAL;
    if (count > max || count > VFA_MAX_VECTORS)
        return VFA_E_RANGE;

    irq_teardown(c);
    /* Fresh state for the new vectors, published before any can fire. */
    for (unsigned w = 0; w < VFA_IRQ_BITMAP_WORDS; w++) {
        __atomic_store_n(&p->pending[w], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&p->enabled[w], 0, __ATOMIC_RELAXED);
    }
    memset(p->count, 0, sizeof(p->count));
    p->irq_type = (uint32_t)type;
    __atomic_store_n(&p->nvectors, (uint32_t)count, __ATOMIC_RELEASE);

    if (c->ops->irq_setup(c->ctx, (uint32_t)type, (uint32_t)count)) {
        __atomic_store_n(&p->nvectors, 0, __ATOMIC_RELEASE);
        p->irq_type = VFA_IRQ_NONE;
        return VFA_E_IO;
    }
    c->irq_type = (uint32_t)type;
    c->irq_count = (uint32_t)count;
    c->st.irq_setups++;
    *out = count;
    return 0;
}

uint32_t irq_enable(struct vfa_core *c, uint64_t first, uint64_t count, uint64_t enable)
{
    struct vfa_irq_page *p = c->irq_page;
    bool wake = false;

    if (c->irq_type == VFA_IRQ_NONE)
        return VFA_E_INVAL;
    if (enable > 1 || count == 0)
        return VFA_E_INVAL;
    if (first >= c->irq_count || count > c->irq_count - first)
        return VFA_E_RANGE;

    for (uint64_t v = first; v < first + count; v++) {
        uint64_t bit = 1ull << (v % 64);
        unsigned w = (unsigned)(v / 64);

        if (!enable) {
            __atomic_fetch_and(&p->enabled[w], ~bit, __ATOMIC_SEQ_CST);
            continue;
        }
        uint64_t old = __atomic_fetch_or(&p->enabled[w], bit, __ATOMIC_SEQ_CST);
        /* Set-then-check, mirrored in vfa_core_irq: whichever side runs
         * second sees both bits, so a latched interrupt is never lost. */
        if (!(old & bit) && (__atomic_load_n(&p->pending[w], __ATOMIC_SEQ_CST) & bit))
            wake = true;
    }
    if (wake)
        send_notify(c, p);
    return 0;
}

void irq_rearm(struct vfa_core *c)
{
    if (c->irq_type == VFA_IRQ_NONE)
        return;
    c->ops->irq_setup(c->ctx, VFA_IRQ_NONE, 0);
    if (c->ops->irq_setup(c->ctx, c->irq_type, c->irq_count))
        irq_teardown(c);
}

void irq_post_event(struct vfa_core *c, uint64_t events)
{
    struct vfa_irq_page *p = __atomic_load_n(&c->irq_page, __ATOMIC_ACQUIRE);

    if (!p)
        return;
    __atomic_fetch_or(&p->events, events, __ATOMIC_SEQ_CST);
    send_notify(c, p);
}

void vfa_core_irq(struct vfa_core *c, unsigned vector)
{
    struct vfa_irq_page *p = __atomic_load_n(&c->irq_page, __ATOMIC_ACQUIRE);

    if (!p || vector >= __atomic_load_n(&p->nvectors, __ATOMIC_ACQUIRE))
        return;
    uint64_t bit = 1ull << (vector % 64);
    unsigned w = vector / 64;

    STAT_ADD_ATOMIC(c, irq_received, 1);
    __atomic_fetch_add(&p->count[vector], 1, __ATOMIC_RELAXED);
    uint64_t old = __atomic_fetch_or(&p->pending[w], bit, __ATOMIC_SEQ_CST);
    if (!(__atomic_load_n(&p->enabled[w], __ATOMIC_SEQ_CST) & bit)) {
        STAT_ADD_ATOMIC(c, irq_latched, 1);
        return;
    }
    if (old & bit) {
        STAT_ADD_ATOMIC(c, irq_coalesced, 1);
        return;
    }
    send_notify(c, p);
}
