/*
 * Sessions: one client at a time owns the device (PCIDriverKit's Open is
 * exclusive too), and whatever that client leaves behind is released when
 * it closes or dies, in the order that keeps the host safe:
 *   1. bus mastering off, so the device cannot DMA into memory about to be
 *      unmapped;
 *   2. every DMA mapping completed (the DART forgets them);
 *   3. device reset, so the next owner starts from power-on state;
 *   4. interrupt sources and the IRQ page freed.
 */
#include "core_internal.h"

uint32_t session_open(struct vfa_core *c, uint64_t client, const uint64_t *in, uint64_t *out)
{
    uint32_t rc;

    if (in[0] != VFA_ABI_MAJOR)
        return VFA_E_PROTO;
    if (c->owner == client)
        return VFA_E_ALREADY;
    if (c->owner) {
        c->st.sessions_refused_busy++;
        return VFA_E_BUSY;
    }
    if (c->ops->session_begin(c->ctx, client))
        return VFA_E_IO;
    rc = irq_session_init(c);
    if (rc) {
        c->ops->session_end(c->ctx, client);
        return rc;
    }
    c->owner = client;
    c->notify_registered = false;
    cfg_session_open(c);
    c->st.sessions_opened++;
    out[0] = VFA_ABI_MAJOR;
    out[1] = VFA_ABI_MINOR;
    return 0;
}

void session_cleanup(struct vfa_core *c)
{
    uint64_t owner = c->owner;
    uint32_t used;

    if (!owner)
        return;
    if (!core_gone(c)) {
        uint32_t cmd = 0;

        if (!c->ops->config_read(c->ctx, VFA_PCI_COMMAND, 2, &cmd) &&
            (cmd & VFA_PCI_COMMAND_MASTER))
            c->ops->config_write(c->ctx, VFA_PCI_COMMAND, 2,
                                 cmd & ~VFA_PCI_COMMAND_MASTER & 0xffff);
    }
    dma_unmap_all(c);
    if (!core_gone(c))
        dev_reset_any(c, VFA_RESET_FLR | VFA_RESET_HOT, &used);
    irq_session_fini(c);
    cfg_session_reset(c);
    /* The reset above cleared memory space.  A client that CLOSEd with a
     * BAR still mapped is told so in docs/config-policy.md: after CLOSE
     * its mappings may no longer be touched. */
    c->bars_mapped = 0;
    c->owner = 0;
    c->notify_registered = false;
    c->ops->session_end(c->ctx, owner);
}

uint32_t session_close(struct vfa_core *c, uint64_t client)
{
    if (c->owner != client)
        return VFA_E_PERM;
    session_cleanup(c);
    c->st.sessions_closed++;
    return 0;
}

void vfa_core_client_gone(struct vfa_core *c, uint64_t client)
{
    if (!client || c->owner != client)
        return;
    session_cleanup(c);
    c->st.sessions_client_died++;
}

void vfa_core_device_gone(struct vfa_core *c)
{
    if (core_gone(c))
        return;
    __atomic_store_n(&c->gone, 1, __ATOMIC_RELEASE);
    c->st.device_gone++;
    irq_post_event(c, VFA_EVENT_DEVICE_GONE);
}

void vfa_core_power_save(struct vfa_core *c)
{
    if (c->owner && !core_gone(c))
        cfg_power_save(c);
}

void vfa_core_power_restore(struct vfa_core *c)
{
    if (!c->owner || core_gone(c) || !c->pm_saved)
        return;
    c->pm_saved = false;
    if (cfg_power_restore(c))
        return;
    /* The vectors' host-owned programming is gone with the config space. */
    irq_rearm(c);
}

bool vfa_core_probe_gone(struct vfa_core *c)
{
    uint32_t v = 0;

    if (core_gone(c))
        return true;
    if (!c->ops->config_read(c->ctx, VFA_PCI_VENDOR_ID, 2, &v) && v != 0xffffu)
        return false;
    vfa_core_device_gone(c);
    return true;
}

void vfa_core_shutdown(struct vfa_core *c)
{
    if (!core_gone(c))
        irq_post_event(c, VFA_EVENT_DEVICE_GONE);
    if (c->owner) {
        session_cleanup(c);
        c->st.sessions_client_died++;
    }
    vfa_core_device_gone(c);
}

uint64_t vfa_core_session_owner(const struct vfa_core *c)
{
    return c->owner;
}
