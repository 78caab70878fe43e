/*
 * vfio-apple-pci: PCI device assignment through an Apple DriverKit
 * extension (the "dext"), or on Linux through vfio-apple-sim, which plays
 * the dext over a UNIX socket.
 *
 * A vfio-pci device whose VFIODeviceIOOps are calls into the dext client
 * (client/, the same library the tests use).  This file: the QOM type,
 * its properties, realize and release, and what happens when the dext
 * stops answering or goes away.  Every dext call is bounded by a timeout,
 * so a stuck dext never holds the BQL for long: the first call that times
 * out marks the device unresponsive, later accesses are answered without
 * the dext (reads all-ones, writes dropped) until its late replies arrive,
 * and a dext that stays silent for x-lost-timeout is declared lost.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qapi/qapi-visit-sockets.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "system/system.h"
#include "migration/blocker.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/vfio/vfio-device.h"
#include "hw/vfio/vfio-region.h"

#include "container.h"
#include "trace.h"

/* Calls made while setting the device up may take longer: no vCPU waits. */
#define VFIO_APPLE_SETUP_TIMEOUT_MS 30000
/* A reset waits for the device (PCIe: 100 ms after FLR) and the link. */
#define VFIO_APPLE_RESET_TIMEOUT_MS 2000

const char *vfio_apple_name(VFIOApplePCIDevice *a)
{
    return a->parent_obj.vbasedev.name ? a->parent_obj.vbasedev.name :
           "vfio-apple-pci";
}

/* ------------------------------------------------------- device lost -- */

static void vfio_apple_lost_bh(void *opaque)
{
    VFIOApplePCIDevice *a = opaque;
    VFIOPCIDevice *vdev = &a->parent_obj;
    Error *err = NULL;
    int i;

    if (a->lost_reported) {
        return;
    }
    a->lost_reported = true;
    error_report("vfio-apple-pci %s: device lost: %s", vfio_apple_name(a),
                 a->lost_why ? a->lost_why : "unknown reason");
    /* BAR accesses now go through region_read/write, which answer ~0. */
    for (i = 0; i < PCI_ROM_SLOT; i++) {
        vfio_region_mmaps_set_enabled(&vdev->bars[i].region, false);
    }
    /*
     * As a removed device would: reads return all-ones, writes are dropped.
     * In a hotplug slot, also ask the guest to let go of it, so its driver
     * fails the outstanding I/O now instead of at its timeout.
     */
    qdev_unplug(DEVICE(a), &err);
    if (err) {
        error_free(err);
        error_printf("The guest now sees a surprise-removed device (reads "
                     "return all-ones); remove it with device_del and plug "
                     "it again once the dext serves it.\n");
    } else {
        error_printf("Asked the guest to release it (hot-unplug); plug it "
                     "again with device_add once the dext serves it.\n");
    }
}

void vfio_apple_pci_lost(VFIOApplePCIDevice *a, const char *why)
{
    if (qatomic_xchg(&a->lost, true)) {
        return;
    }
    a->lost_why = g_strdup(why);
    trace_vfio_apple_lost(vfio_apple_name(a), why);
    if (a->lost_bh) {
        qemu_bh_schedule(a->lost_bh);
    }
}

/* ------------------------------------------- a dext that stops answering -- */

bool vfio_apple_reachable(VFIOApplePCIDevice *a)
{
    if (qatomic_read(&a->lost)) {
        return false;
    }
    if (qatomic_read(&a->stuck_since)) {
        qatomic_inc(&a->refused_stuck);
        return false;
    }
    return true;
}

int vfio_apple_failed(VFIOApplePCIDevice *a, int ret)
{
    if (ret == -ENODEV) {
        vfio_apple_pci_lost(a, vfa_client_errmsg(a->client));
    } else if (ret == -ETIMEDOUT) {
        int64_t now = MAX(qemu_clock_get_ms(QEMU_CLOCK_REALTIME), 1);

        if (!qatomic_cmpxchg(&a->stuck_since, 0, now)) {
            qatomic_inc(&a->stuck_episodes);
            trace_vfio_apple_stuck(vfio_apple_name(a));
            warn_report("vfio-apple-pci %s: %s", vfio_apple_name(a),
                        vfa_client_errmsg(a->client));
            error_printf("Until the dext answers, the device reads all-ones "
                         "and ignores writes; it is declared lost after %u "
                         "s of silence (x-lost-timeout).\n",
                         a->lost_timeout_ms / 1000);
            /* The notification thread now watches for the late replies. */
            if (a->irq_stop_ready) {
                event_notifier_set(&a->irq_kick);
            }
        }
    }
    return ret;
}

/*
 * While the dext was silent, guest writes were dropped: give the device
 * the guest's Command register back (memory space, bus master), and read
 * what may have changed afresh.
 */
static void vfio_apple_resync_bh(void *opaque)
{
    VFIOApplePCIDevice *a = opaque;
    PCIDevice *pdev = PCI_DEVICE(a);
    uint16_t cmd = pci_get_word(pdev->config + PCI_COMMAND);
    int ret;

    vfio_apple_cfg_invalidate(a);
    if (!vfio_apple_reachable(a)) {
        return;
    }
    ret = vfa_config_write(a->client, PCI_COMMAND, 2, cmd, NULL);
    if (ret) {
        vfio_apple_failed(a, ret);
    }
}

void vfio_apple_answering(VFIOApplePCIDevice *a)
{
    int64_t since = qatomic_xchg(&a->stuck_since, 0);
    int64_t ms;

    if (!since) {
        return;
    }
    ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - since;
    qatomic_add(&a->stuck_ms_total, ms);
    trace_vfio_apple_answering(vfio_apple_name(a), ms);
    info_report("vfio-apple-pci %s: the dext answers again after %" PRId64
                ".%03" PRId64 " s", vfio_apple_name(a), ms / 1000, ms % 1000);
    qemu_bh_schedule(a->resync_bh);
}

/* ------------------------------------------------------------- setup -- */

static bool vfio_apple_connect(VFIOApplePCIDevice *a, Error **errp)
{
    VFIOPCIDevice *vdev = &a->parent_obj;
    char err[256] = "";
    int ret;

    if (a->socket) {
        ret = vfa_client_connect_socket(a->socket->u.q_unix.path, &a->client,
                                        err, sizeof(err));
    } else {
        ret = vfa_client_connect_device(vdev->host.domain, vdev->host.bus,
                                        vdev->host.slot, vdev->host.function,
                                        a->host_root_port, &a->client, err,
                                        sizeof(err));
    }
    if (ret) {
        error_setg(errp, "cannot connect to the dext: %s", err);
        error_append_hint(errp, "Is the dext (on Linux: vfio-apple-sim "
                          "--socket PATH) running and serving this "
                          "device?\n");
        return false;
    }
    vfa_client_set_timeout(a->client, MAX(a->msg_timeout_ms,
                                          VFIO_APPLE_SETUP_TIMEOUT_MS));
    trace_vfio_apple_connect(vdev->vbasedev.name,
                             vfa_client_transport_name(a->client));
    return true;
}

/* Largest expansion ROM QEMU will read (vfio-pci reads it whole). */
#define VFIO_APPLE_MAX_ROM (16 * MiB)
/* Largest BAR: 1 TiB is more than any device QEMU can map. */
#define VFIO_APPLE_MAX_BAR (1ull << 40)

/*
 * The dext's identity of the device, checked before any of it is used:
 * its counts index arrays, its sizes become allocations and mappings.
 */
static bool vfio_apple_check_identity(VFIOApplePCIDevice *a, Error **errp)
{
    const struct vfa_identity *id = &a->id;
    int i;

    if (id->config_size != PCI_CONFIG_SPACE_SIZE &&
        id->config_size != PCIE_CONFIG_SPACE_SIZE) {
        error_setg(errp, "the dext reports a config space of %u bytes (want "
                   "256 or 4096)", id->config_size);
        return false;
    }
    /* MSI has 1..32 vectors, a power of two; MSI-X up to 2048. */
    if (id->msi_vectors > 32 ||
        (id->msi_vectors && !is_power_of_2(id->msi_vectors))) {
        error_setg(errp, "the dext reports %u MSI vectors (MSI allows a "
                   "power of two up to 32)", id->msi_vectors);
        return false;
    }
    if (id->msix_vectors > VFA_MAX_VECTORS) {
        error_setg(errp, "the dext reports %u MSI-X vectors (at most %u)",
                   id->msix_vectors, VFA_MAX_VECTORS);
        return false;
    }
    if (!id->msi_vectors && !id->msix_vectors) {
        error_setg(errp, "the device has neither MSI nor MSI-X, and the "
                   "platform has no INTx: it cannot interrupt the guest");
        return false;
    }
    if (id->rom_size > VFIO_APPLE_MAX_ROM) {
        error_setg(errp, "the dext reports a %" PRIu64 "-byte expansion ROM "
                   "(at most %" PRIu64 ")", id->rom_size,
                   (uint64_t)VFIO_APPLE_MAX_ROM);
        return false;
    }
    for (i = 0; i < PCI_ROM_SLOT; i++) {
        uint64_t size = id->bar_size[i];

        if (!(id->bar_flags[i] & VFA_BAR_PRESENT)) {
            continue;
        }
        if (!size || size > VFIO_APPLE_MAX_BAR || !is_power_of_2(size) ||
            ((id->bar_flags[i] & VFA_BAR_MEM64) && i == PCI_ROM_SLOT - 1)) {
            error_setg(errp, "the dext reports BAR %d of %" PRIu64 " bytes "
                       "(flags 0x%x): not a PCI BAR", i, size,
                       id->bar_flags[i]);
            return false;
        }
    }
    /* The DART's page: what the container maps in. */
    if (id->dma_page_size && (!is_power_of_2(id->dma_page_size) ||
                              id->dma_page_size < 4 * KiB ||
                              id->dma_page_size > 1 * GiB)) {
        error_setg(errp, "the dext reports a DMA page size of %u bytes",
                   id->dma_page_size);
        return false;
    }
    return true;
}

static bool vfio_apple_open(VFIOApplePCIDevice *a, Error **errp)
{
    struct vfa_identity *id = &a->id;
    uint32_t major = 0;
    int ret;

    ret = vfa_get_version(a->client, &major, NULL, NULL);
    if (ret) {
        error_setg_errno(errp, -ret, "%s", vfa_client_errmsg(a->client));
        return false;
    }
    if (major != VFA_ABI_MAJOR) {
        error_setg(errp, "the dext speaks ABI %u, this QEMU speaks %u",
                   major, VFA_ABI_MAJOR);
        error_append_hint(errp, "Install a dext and a QEMU of the same "
                          "vfio-apple release\n");
        return false;
    }
    ret = vfa_get_identity(a->client, id);
    if (ret) {
        error_setg_errno(errp, -ret, "%s", vfa_client_errmsg(a->client));
        return false;
    }
    trace_vfio_apple_identity(vfio_apple_name(a), id->vendor_id,
                              id->device_id, id->class_code, id->location,
                              id->config_size, id->msi_vectors,
                              id->msix_vectors);
    if (!vfio_apple_check_identity(a, errp)) {
        return false;
    }

    ret = vfa_session_open(a->client);
    if (ret) {
        error_setg_errno(errp, -ret, "%s", vfa_client_errmsg(a->client));
        if (ret == -EBUSY) {
            error_append_hint(errp, "Another QEMU (or tool) holds the device; "
                              "stop it first\n");
        }
        return false;
    }
    a->session = true;

    /* Config space in one go (4 KiB is one call). */
    a->cfg = g_malloc0(id->config_size);
    a->cfg_cached = g_malloc0(id->config_size);
    ret = vfa_config_read_block(a->client, 0, a->cfg, id->config_size);
    if (ret) {
        error_setg_errno(errp, -ret, "reading config space: %s",
                         vfa_client_errmsg(a->client));
        return false;
    }
    vfio_apple_cfg_setup(a);

    return vfio_apple_cfg_check(a, errp) && vfio_apple_bars_open(a, errp) &&
           vfio_apple_irq_start(a, errp);
}

/*
 * Give the device back: no more interrupts, DMA window unmapped, session
 * closed (the dext then disables bus mastering, resets the device and
 * frees what is left).  The client stays connected and the BAR mappings
 * stay until finalize, since RCU readers may still reach them.
 */
static void vfio_apple_release(VFIOApplePCIDevice *a)
{
    VFIODevice *vbasedev = &a->parent_obj.vbasedev;

    /* The companion's chunks are mappings of this device's session. */
    if (a->companion_release) {
        a->companion_release(a->companion);
    }
    vfio_apple_irq_stop(a);
    if (a->irq_fds) {
        vfio_apple_irq_teardown(a);
    }
    if (vbasedev->bcontainer) {
        vfio_apple_container_release(VFIO_IOMMU_APPLE(vbasedev->bcontainer));
    }
    if (a->session) {
        trace_vfio_apple_release(vfio_apple_name(a));
        if (!qatomic_read(&a->lost)) {
            vfa_session_close(a->client);
        }
        a->session = false;
    }
}

static void vfio_apple_disconnect(VFIOApplePCIDevice *a)
{
    vfio_apple_release(a);
    if (!a->client) {
        return;
    }
    vfio_apple_bars_close(a);
    if (a->irq_page) {
        vfa_unmap_memory(a->client, a->irq_page, a->irq_page_size);
        a->irq_page = NULL;
    }
    vfa_client_disconnect(a->client);
    a->client = NULL;
}

/* ------------------------------------------------------------ QOM glue -- */

static void vfio_apple_compute_needs_reset(VFIODevice *vbasedev)
{
    vbasedev->needs_reset = false;
}

static Object *vfio_apple_get_object(VFIODevice *vbasedev)
{
    return OBJECT(vfio_apple_from_vbasedev(vbasedev));
}

static VFIODeviceOps vfio_apple_pci_ops = {
    .vfio_compute_needs_reset = vfio_apple_compute_needs_reset,
    .vfio_eoi = vfio_pci_intx_eoi,
    .vfio_get_object = vfio_apple_get_object,
};

/*
 * QEMU is exiting (devices are not unrealized then): give the device back
 * to the dext properly rather than leaving it to clean up after a client
 * that vanished.
 */
static void vfio_apple_pci_exit_notify(Notifier *n, void *data)
{
    VFIOApplePCIDevice *a = container_of(n, VFIOApplePCIDevice,
                                         exit_notifier);

    vfio_apple_release(a);
}

static bool vfio_apple_check_properties(VFIOApplePCIDevice *a, Error **errp)
{
    VFIOPCIDevice *vdev = &a->parent_obj;
    bool host = vdev->host.domain != ~0U;

    if (!a->socket == !host) {
        error_setg(errp, "vfio-apple-pci: %s", host ?
                   "give either socket= or host=, not both" :
                   "no dext given (socket= or host=)");
        error_append_hint(errp, "On Linux, name vfio-apple-sim's socket: "
                          "-device '{\"driver\": \"vfio-apple-pci\", "
                          "\"socket\": {\"type\": \"unix\", \"path\": "
                          "\"/tmp/vfio-apple-sim.sock\"}}'; on macOS the "
                          "host device: host=0000:03:00.0 (and "
                          "host-root-port=NAME if the bus number is "
                          "ambiguous)\n");
        return false;
    }
    if (!a->msg_timeout_ms) {
        error_setg(errp, "vfio-apple-pci: x-msg-timeout must be at least "
                   "1 ms");
        return false;
    }
    return true;
}

static void vfio_apple_pci_realize(PCIDevice *pdev, Error **errp)
{
    ERRP_GUARD();
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(pdev);
    VFIOPCIDevice *vdev = VFIO_PCI_DEVICE(pdev);
    VFIODevice *vbasedev = &vdev->vbasedev;
    DeviceState *dev = DEVICE(pdev);
    struct vfa_client_stats st;

    if (!vfio_apple_check_properties(a, errp)) {
        return;
    }
    vbasedev->name = dev->id ? g_strdup_printf("vfio-apple:%s", dev->id) :
                     a->socket ?
                     g_strdup_printf("vfio-apple:%s",
                                     a->socket->u.q_unix.path) :
                     g_strdup_printf("vfio-apple:%04x:%02x:%02x.%x",
                                     vdev->host.domain, vdev->host.bus,
                                     vdev->host.slot, vdev->host.function);
    if (a->dma_mode == VFIO_APPLE_DMA_MODE_WINDOW ?
        !vfio_apple_window_check_plug(pdev, errp) :
        !vfio_apple_companion_check_plug(pdev, errp)) {
        goto error;
    }
    a->lost_bh = aio_bh_new_guarded(qemu_get_aio_context(),
                                    vfio_apple_lost_bh, a,
                                    &dev->mem_reentrancy_guard);
    a->resync_bh = aio_bh_new_guarded(qemu_get_aio_context(),
                                      vfio_apple_resync_bh, a,
                                      &dev->mem_reentrancy_guard);
    a->irq_fds = g_new(int, VFA_MAX_VECTORS);
    memset(a->irq_fds, -1, VFA_MAX_VECTORS * sizeof(int));
    a->irq_enabled = bitmap_new(VFA_MAX_VECTORS);

    if (!vfio_apple_connect(a, errp) || !vfio_apple_open(a, errp)) {
        goto error;
    }

    /* Guest RAM reaches the device through container-apple's window. */
    vbasedev->mdev = true;
    if (!vfio_device_attach_by_iommu_type(TYPE_VFIO_IOMMU_APPLE,
                                          vbasedev->name, vbasedev,
                                          pci_device_iommu_address_space(pdev),
                                          errp)) {
        goto error;
    }

    if (!vfio_pci_populate_device(vdev, errp) ||
        !vfio_pci_config_setup(vdev, errp)) {
        goto error;
    }
    /* No INTx on the platform: the pin is QEMU's, and it says none. */
    pdev->config[PCI_INTERRUPT_PIN] = 0;
    vdev->emulated_config_bits[PCI_INTERRUPT_PIN] = 0xff;
    if (!vfio_pci_add_capabilities(vdev, errp) ||
        !vfio_pci_interrupt_setup(vdev, errp)) {
        goto out_teardown;
    }

    error_setg(&a->migration_blocker, "vfio-apple-pci %s cannot be migrated: "
               "the device and its DMA window live in the host (the dext "
               "and the DART), which cannot move with the VM",
               vbasedev->name);
    if (migrate_add_blocker(&a->migration_blocker, errp) < 0) {
        goto out_teardown;
    }

    vfio_apple_monitor_add(a);
    a->exit_notifier.notify = vfio_apple_pci_exit_notify;
    qemu_add_exit_notifier(&a->exit_notifier);
    vfa_client_get_stats(a->client, &st);
    a->calls_realize = st.round_trips;
    /* From now on a vCPU may be waiting: the run-time bound. */
    vfa_client_set_timeout(a->client, a->msg_timeout_ms);
    return;

out_teardown:
    vfio_pci_teardown_msi(vdev);
    vfio_pci_bars_exit(vdev);
error:
    error_prepend(errp, VFIO_MSG_PREFIX, vbasedev->name);
    vfio_apple_release(a);
}

static void vfio_apple_pci_exit(PCIDevice *pdev)
{
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(pdev);

    VFIO_APPLE_PCI_GET_CLASS(a)->parent_exit(pdev);
    migrate_del_blocker(&a->migration_blocker);
    qemu_remove_exit_notifier(&a->exit_notifier);
    vfio_apple_monitor_del(a);
    vfio_apple_release(a);
}

/*
 * A guest function-level reset (Initiate FLR in PCIe Device Control) never
 * reaches the device: the dext's policy drops Device Control writes.  Do
 * what the hardware would: reset the function (through the dext) and
 * QEMU's emulated state of it.
 */
static void vfio_apple_pci_write_config(PCIDevice *pdev, uint32_t addr,
                                        uint32_t val, int len)
{
    VFIOPCIDevice *vdev = VFIO_PCI_DEVICE(pdev);
    uint32_t flr_byte = pdev->exp.exp_cap + PCI_EXP_DEVCTL + 1;

    vfio_pci_write_config(pdev, addr, val, len);

    if (pdev->exp.exp_cap && vdev->has_flr &&
        range_covers_byte(addr, len, flr_byte) &&
        ((val >> ((flr_byte - addr) * 8)) & (PCI_EXP_DEVCTL_BCR_FLR >> 8))) {
        trace_vfio_apple_flr(vdev->vbasedev.name);
        pci_device_reset(pdev);
    }
}

int vfio_apple_pci_do_reset(VFIOApplePCIDevice *a, uint32_t allowed)
{
    const char *kind = allowed == VFA_RESET_HOT ? "hot" : "device";
    uint32_t used = 0;
    int ret;

    if (!a->session || !vfio_apple_reachable(a)) {
        return -ENODEV;
    }
    if (allowed == VFA_RESET_HOT && !(a->id.flags & VFA_ID_HOT_RESET)) {
        return -ENOTSUP;
    }
    vfa_client_set_timeout(a->client, MAX(a->msg_timeout_ms,
                                          VFIO_APPLE_RESET_TIMEOUT_MS));
    ret = vfa_reset(a->client, allowed, &used);
    vfa_client_set_timeout(a->client, DEVICE(a)->realized ?
                           a->msg_timeout_ms :
                           MAX(a->msg_timeout_ms,
                               VFIO_APPLE_SETUP_TIMEOUT_MS));
    trace_vfio_apple_reset(vfio_apple_name(a), kind, ret, used);
    if (ret) {
        warn_report("vfio-apple-pci %s: %s reset: %s", vfio_apple_name(a),
                    kind, vfa_client_errmsg(a->client));
        return vfio_apple_failed(a, ret);
    }
    vfio_apple_cfg_invalidate(a);
    return 0;
}

static void vfio_apple_pci_init(Object *obj)
{
    PCIDevice *pci_dev = PCI_DEVICE(obj);
    VFIOPCIDevice *vdev = VFIO_PCI_DEVICE(obj);
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(obj);
    VFIODevice *vbasedev = &vdev->vbasedev;

    device_add_bootindex_property(obj, &vdev->bootindex, "bootindex", NULL,
                                  &pci_dev->qdev);
    vdev->host.domain = ~0U;
    vdev->host.bus = ~0U;
    vdev->host.slot = ~0U;
    vdev->host.function = ~0U;

    vfio_device_init(vbasedev, VFIO_DEVICE_TYPE_PCI, &vfio_apple_pci_ops,
                     DEVICE(vdev), false);
    vbasedev->io_ops = &vfio_apple_io_ops;

    vdev->nv_gpudirect_clique = 0xFF;
    vdev->display = ON_OFF_AUTO_OFF;
    pci_dev->cap_present |= QEMU_PCI_CAP_EXPRESS;

    qemu_mutex_init(&a->irq_lock);
}

static void vfio_apple_pci_finalize(Object *obj)
{
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(obj);

    vfio_pci_put_device(&a->parent_obj);
    vfio_apple_disconnect(a);
    if (a->lost_bh) {
        qemu_bh_delete(a->lost_bh);
    }
    if (a->resync_bh) {
        qemu_bh_delete(a->resync_bh);
    }
    qapi_free_SocketAddress(a->socket);
    g_free(a->lost_why);
    g_free(a->cfg);
    g_free(a->cfg_cached);
    g_free(a->irq_fds);
    g_free(a->irq_enabled);
    qemu_mutex_destroy(&a->irq_lock);
}

static void vfio_apple_pci_set_socket(Object *obj, Visitor *v,
                                      const char *name, void *opaque,
                                      Error **errp)
{
    VFIOApplePCIDevice *a = VFIO_APPLE_PCI(obj);
    SocketAddress *addr = NULL;

    if (DEVICE(obj)->realized) {
        error_setg(errp, "socket cannot change once the device is realized");
        return;
    }
    if (!visit_type_SocketAddress(v, name, &addr, errp)) {
        return;
    }
    /* vfio-apple-sim listens on a UNIX SOCK_SEQPACKET socket only. */
    if (addr->type != SOCKET_ADDRESS_TYPE_UNIX) {
        error_setg(errp, "socket: type %s is not supported (want unix)",
                   SocketAddressType_str(addr->type));
        qapi_free_SocketAddress(addr);
        return;
    }
    qapi_free_SocketAddress(a->socket);
    a->socket = addr;
}

static int vfio_apple_pci_get_dma_mode(Object *obj, Error **errp)
{
    return VFIO_APPLE_PCI(obj)->dma_mode;
}

static void vfio_apple_pci_set_dma_mode(Object *obj, int value, Error **errp)
{
    VFIO_APPLE_PCI(obj)->dma_mode = value;
}

static const Property vfio_apple_pci_properties[] = {
    DEFINE_PROP_PCI_HOST_DEVADDR("host", VFIOPCIDevice, host),
    DEFINE_PROP_STRING("host-root-port", VFIOApplePCIDevice, host_root_port),
    DEFINE_PROP_SIZE("window-size", VFIOApplePCIDevice, window_size, 1 * GiB),
    DEFINE_PROP_UINT32("x-msg-timeout", VFIOApplePCIDevice, msg_timeout_ms,
                       500),
    DEFINE_PROP_UINT32("x-lost-timeout", VFIOApplePCIDevice, lost_timeout_ms,
                       60000),
    DEFINE_PROP_BOOL("x-no-mmap", VFIOPCIDevice, vbasedev.no_mmap, false),
    DEFINE_PROP_UINT32("x-pci-vendor-id", VFIOPCIDevice,
                       vendor_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-device-id", VFIOPCIDevice,
                       device_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-sub-vendor-id", VFIOPCIDevice,
                       sub_vendor_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-sub-device-id", VFIOPCIDevice,
                       sub_device_id, PCI_ANY_ID),
    DEFINE_PROP_UINT32("x-pci-class-code", VFIOPCIDevice,
                       class_code, PCI_ANY_ID),
};

static void vfio_apple_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pdc = PCI_DEVICE_CLASS(klass);
    VFIOApplePCIClass *ac = VFIO_APPLE_PCI_CLASS(klass);

    device_class_set_legacy_reset(dc, vfio_pci_reset);
    device_class_set_props(dc, vfio_apple_pci_properties);
    object_class_property_add(klass, "socket", "SocketAddress", NULL,
                              vfio_apple_pci_set_socket, NULL, NULL);
    object_class_property_set_description(klass, "socket",
        "vfio-apple-sim's socket (a UNIX SocketAddress), on Linux");
    object_class_property_set_description(klass, "host",
        "the host PCI function the dext serves (macOS): "
        "[domain:]bus:device.function");
    object_class_property_set_description(klass, "host-root-port",
        "the host root port of host= (macOS reuses bus numbers across root "
        "ports), as the IORegistry names it");
    object_class_property_add_enum(klass, "dma-mode", "VfioAppleDmaMode",
                                   &VfioAppleDmaMode_lookup,
                                   vfio_apple_pci_get_dma_mode,
                                   vfio_apple_pci_set_dma_mode);
    object_class_property_set_description(klass, "dma-mode",
        "how the device reaches guest RAM: window (default)");
    object_class_property_set_description(klass, "window-size",
        "size of the DMA window at the start of guest RAM (default 1G); "
        "must end on a power-of-two address if smaller than guest RAM");
    object_class_property_set_description(klass, "x-msg-timeout",
        "how long a dext call may take while the VM runs, in ms (default "
        "500); a vCPU waits that long at most, holding the BQL");
    object_class_property_set_description(klass, "x-lost-timeout",
        "how long the dext may stay silent before the device is declared "
        "lost, in ms (default 60000)");
    dc->desc = "PCI device assignment through an Apple dext (or "
               "vfio-apple-sim)";
    dc->hotpluggable = true;
    pdc->realize = vfio_apple_pci_realize;
    ac->parent_exit = pdc->exit;
    pdc->exit = vfio_apple_pci_exit;
    pdc->config_write = vfio_apple_pci_write_config;
}

static const TypeInfo vfio_apple_pci_info = {
    .name = TYPE_VFIO_APPLE_PCI,
    .parent = TYPE_VFIO_PCI_DEVICE,
    .instance_size = sizeof(VFIOApplePCIDevice),
    .class_size = sizeof(VFIOApplePCIClass),
    .class_init = vfio_apple_pci_class_init,
    .instance_init = vfio_apple_pci_init,
    .instance_finalize = vfio_apple_pci_finalize,
};

static void vfio_apple_register_types(void)
{
    type_register_static(&vfio_apple_pci_info);
}

type_init(vfio_apple_register_types)
