/*
 * vfio-apple-pci: interrupts.
 *
 * MSI and MSI-X only (the platform has no INTx).  set_irqs keeps a dup of
 * each vector's notifier and sets the dext's vectors up once per type (all
 * of the device's MSI-X vectors, so enabling them one by one, or disabling
 * and enabling them again, never needs a new setup, which would drop
 * latched interrupts and cost dext calls).  A thread waits on the dext's
 * notification fd, takes the pending bits of enabled vectors from the IRQ
 * page (vfa_irq_take) and writes the notifiers: no dext call per
 * interrupt.  The same thread notices a dext that died (its connection
 * hangs up) and one that stopped answering and came back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include <poll.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/timer.h"

#include "pci.h"
#include "trace.h"

int vfio_apple_io_get_irq_info(VFIODevice *vbasedev,
                               struct vfio_irq_info *info)
{
    VFIOApplePCIDevice *a = vfio_apple_from_vbasedev(vbasedev);

    info->flags = 0;
    info->count = 0;
    switch (info->index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        return 0;                   /* no INTx on the platform */
    case VFIO_PCI_MSI_IRQ_INDEX:
        info->count = a->id.msi_vectors;
        break;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        info->count = a->id.msix_vectors;
        break;
    default:
        return -EINVAL;             /* no error/request notification */
    }
    info->flags = info->count ? VFIO_IRQ_INFO_EVENTFD : 0;
    return 0;
}

/* Forget the notifiers of vectors [first, first + count). */
static void vfio_apple_irq_drop_fds(VFIOApplePCIDevice *a, uint32_t first,
                                    uint32_t count)
{
    uint32_t v;

    qemu_mutex_lock(&a->irq_lock);
    for (v = first; v < first + count; v++) {
        if (a->irq_fds[v] >= 0) {
            close(a->irq_fds[v]);
            a->irq_fds[v] = -1;
        }
    }
    qemu_mutex_unlock(&a->irq_lock);
}

/* Tear down the dext's vectors and forget the notifiers. */
void vfio_apple_irq_teardown(VFIOApplePCIDevice *a)
{
    int ret;

    if (a->irq_type != VFA_IRQ_NONE && vfio_apple_reachable(a)) {
        ret = vfa_irq_setup(a->client, VFA_IRQ_NONE, 0);
        trace_vfio_apple_irq_setup(vfio_apple_name(a), VFA_IRQ_NONE, 0);
        if (ret) {
            vfio_apple_failed(a, ret);
        }
    }
    vfio_apple_irq_drop_fds(a, 0, VFA_MAX_VECTORS);
    qemu_mutex_lock(&a->irq_lock);
    a->irq_type = VFA_IRQ_NONE;
    a->irq_count = 0;
    qemu_mutex_unlock(&a->irq_lock);
    bitmap_zero(a->irq_enabled, VFA_MAX_VECTORS);
}

/* Tell the dext about vectors whose enable state changed, in runs. */
static int vfio_apple_irq_sync_enable(VFIOApplePCIDevice *a, uint32_t first,
                                      uint32_t count)
{
    uint32_t v = first, end = first + count;
    int ret;

    while (v < end) {
        bool en = a->irq_fds[v] >= 0;
        uint32_t run = v;

        if (en == test_bit(v, a->irq_enabled)) {
            v++;
            continue;
        }
        while (run < end && (a->irq_fds[run] >= 0) == en &&
               en != test_bit(run, a->irq_enabled)) {
            run++;
        }
        if (!vfio_apple_reachable(a)) {
            return -ENODEV;
        }
        ret = vfa_irq_enable(a->client, v, run - v, en);
        trace_vfio_apple_irq_enable(vfio_apple_name(a), v, run - v, en);
        if (ret) {
            return vfio_apple_failed(a, ret);
        }
        if (en) {
            bitmap_set(a->irq_enabled, v, run - v);
        } else {
            bitmap_clear(a->irq_enabled, v, run - v);
        }
        v = run;
    }
    return 0;
}

/* Loopback (DATA_BOOL): fire the vectors as the device would. */
static void vfio_apple_irq_fire(VFIOApplePCIDevice *a, uint32_t start,
                                uint32_t count, const uint8_t *fire)
{
    uint64_t one = 1;
    uint32_t i;

    qemu_mutex_lock(&a->irq_lock);
    for (i = 0; i < count; i++) {
        int fd = start + i < a->irq_count ? a->irq_fds[start + i] : -1;

        if (fire[i] && fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
            /* nothing to do: the notifier is full, it fires anyway */
        }
    }
    qemu_mutex_unlock(&a->irq_lock);
}

/* The dext's vectors of @type, at least @want of them. */
static int vfio_apple_irq_ensure(VFIOApplePCIDevice *a, uint32_t type,
                                 uint32_t want)
{
    int ret;

    if (a->irq_type == type && a->irq_count >= want) {
        return 0;
    }
    vfio_apple_irq_teardown(a);
    if (!vfio_apple_reachable(a)) {
        return -ENODEV;
    }
    ret = vfa_irq_setup(a->client, type, want);
    trace_vfio_apple_irq_setup(vfio_apple_name(a), type, want);
    if (ret) {
        error_report("vfio-apple-pci %s: setting up %u %s vectors: %s",
                     vfio_apple_name(a), want,
                     type == VFA_IRQ_MSIX ? "MSI-X" : "MSI",
                     vfa_client_errmsg(a->client));
        return vfio_apple_failed(a, ret);
    }
    qemu_mutex_lock(&a->irq_lock);
    a->irq_type = type;
    a->irq_count = want;
    qemu_mutex_unlock(&a->irq_lock);
    return 0;
}

static int vfio_apple_set_irqs(VFIOApplePCIDevice *a, struct vfio_irq_set *irq)
{
    uint32_t action = irq->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    uint32_t data = irq->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    uint32_t type, max, i;
    int32_t *fds = (int32_t *)&irq->data;
    int ret;

    switch (irq->index) {
    case VFIO_PCI_MSI_IRQ_INDEX:
        type = VFA_IRQ_MSI;
        max = a->id.msi_vectors;
        break;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        type = VFA_IRQ_MSIX;
        max = a->id.msix_vectors;
        break;
    default:
        return -EINVAL;
    }
    if (action != VFIO_IRQ_SET_ACTION_TRIGGER) {
        return -EINVAL;
    }

    if (data == VFIO_IRQ_SET_DATA_NONE && !irq->count) {
        /*
         * The guest disabled MSI/MSI-X: disable the vectors, keep the
         * dext's setup for the next enable (latched interrupts survive).
         */
        if (a->irq_type != type) {
            return 0;
        }
        vfio_apple_irq_drop_fds(a, 0, a->irq_count);
        return vfio_apple_irq_sync_enable(a, 0, a->irq_count);
    }
    if (irq->start >= max || irq->count > max - irq->start) {
        return -EINVAL;
    }
    if (data == VFIO_IRQ_SET_DATA_BOOL) {
        vfio_apple_irq_fire(a, irq->start, irq->count, (uint8_t *)&irq->data);
        return 0;
    }
    if (data != VFIO_IRQ_SET_DATA_EVENTFD) {
        return -EINVAL;
    }
    if (qatomic_read(&a->lost)) {
        return 0;           /* nothing will fire; don't fail the guest */
    }

    /*
     * Set the dext up for all the vectors the device has (MSI: the power
     * of two covering those asked for), so that vectors enabled one by one
     * never need a new setup, which would drop latched interrupts.
     */
    ret = vfio_apple_irq_ensure(a, type, type == VFA_IRQ_MSIX ? max :
                                pow2ceil(irq->start + irq->count));
    if (ret) {
        return ret;
    }

    /* Notifiers first, so an interrupt latched while disabled finds one. */
    qemu_mutex_lock(&a->irq_lock);
    for (i = 0; i < irq->count; i++) {
        uint32_t v = irq->start + i;
        int fd = fds[i] >= 0 ? dup(fds[i]) : -1;

        if (fds[i] >= 0 && fd < 0) {
            ret = -errno;
            qemu_mutex_unlock(&a->irq_lock);
            return ret;
        }
        if (a->irq_fds[v] >= 0) {
            close(a->irq_fds[v]);
        }
        a->irq_fds[v] = fd;
        trace_vfio_apple_irq_fd(vfio_apple_name(a), v, fd);
    }
    qemu_mutex_unlock(&a->irq_lock);

    return vfio_apple_irq_sync_enable(a, irq->start, irq->count);
}

int vfio_apple_io_set_irqs(VFIODevice *vbasedev, struct vfio_irq_set *irq)
{
    int ret = vfio_apple_set_irqs(vfio_apple_from_vbasedev(vbasedev), irq);

    /* vfio-pci reports failures with %m. */
    errno = -ret;
    return ret;
}

/* ------------------------------------------------ notification thread -- */

static void vfio_apple_irq_scan(VFIOApplePCIDevice *a)
{
    struct vfa_irq_page *page = a->irq_page;
    uint64_t one = 1, events;
    unsigned w, nwords;
    uint32_t n;

    qemu_mutex_lock(&a->irq_lock);
    /* The page is shared with the dext: bound its count by ours. */
    n = MIN(qatomic_read(&page->nvectors), a->irq_count);
    nwords = DIV_ROUND_UP(n, 64);
    for (w = 0; w < nwords; w++) {
        uint64_t bits = vfa_irq_take(page, w);

        while (bits) {
            uint32_t v = w * 64 + ctz64(bits);

            bits &= bits - 1;
            if (v < n && a->irq_fds[v] >= 0) {
                if (write(a->irq_fds[v], &one, sizeof(one)) < 0 &&
                    errno != EAGAIN) {
                    /* cannot happen with a live notifier; nothing to do */
                }
                qatomic_inc(&a->interrupts);
            }
        }
    }
    qemu_mutex_unlock(&a->irq_lock);

    events = vfa_irq_take_events(page);
    if (events & VFA_EVENT_DEVICE_GONE) {
        vfio_apple_pci_lost(a, "the dext reports the device gone "
                            "(unplugged or failed)");
    }
}

/*
 * The dext stopped answering: take its late replies as they come; once
 * none is owed it answers again.  Silent past x-lost-timeout: lost.
 */
static void vfio_apple_watch_stuck(VFIOApplePCIDevice *a)
{
    int64_t since = qatomic_read(&a->stuck_since);
    int r;

    if (!since || qatomic_read(&a->lost)) {
        return;
    }
    r = vfa_client_resync(a->client, 0);
    if (!r) {
        vfio_apple_answering(a);
    } else if (r == -ENODEV) {
        vfio_apple_pci_lost(a, "the connection to the dext was lost while "
                            "it did not answer");
    } else if (qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - since >=
               a->lost_timeout_ms) {
        g_autofree char *why = g_strdup_printf("the dext has not answered "
                                               "for %u ms (x-lost-timeout)",
                                               a->lost_timeout_ms);

        vfio_apple_pci_lost(a, why);
    }
}

/* How often a silent dext is looked at (its replies wake us earlier). */
#define VFIO_APPLE_STUCK_POLL_MS 100

static void *vfio_apple_irq_thread(void *opaque)
{
    VFIOApplePCIDevice *a = opaque;
    int nfd = vfa_notify_fd(a->client);
    /* The connection itself: a dext that dies sends no notification. */
    int cfd = vfa_client_conn_fd(a->client);

    for (;;) {
        bool stuck = qatomic_read(&a->stuck_since) != 0;
        bool lost = qatomic_read(&a->lost);
        struct pollfd pfd[4] = {
            { .fd = nfd, .events = POLLIN },
            { .fd = event_notifier_get_fd(&a->irq_stop), .events = POLLIN },
            { .fd = event_notifier_get_fd(&a->irq_kick), .events = POLLIN },
            /* Late replies make the connection readable. */
            { .fd = lost ? -1 : cfd, .events = stuck ? POLLIN : 0 },
        };

        if (poll(pfd, 4, stuck && !lost ? VFIO_APPLE_STUCK_POLL_MS : -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (pfd[1].revents) {
            break;
        }
        if (pfd[2].revents) {
            event_notifier_test_and_clear(&a->irq_kick);
        }
        if (pfd[3].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            vfio_apple_pci_lost(a, "the connection to the dext was lost "
                                "(it exited or crashed)");
        }
        if (pfd[0].revents & (POLLERR | POLLNVAL)) {
            vfio_apple_pci_lost(a, "the dext's notification channel failed");
            break;
        }
        if (pfd[0].revents & POLLIN) {
            if (vfa_notify_ack(a->client)) {
                /* Not an eventfd's behaviour: it would keep us spinning. */
                vfio_apple_pci_lost(a, "the dext's notification channel "
                                    "misbehaves");
                break;
            }
            qatomic_inc(&a->notifications);
            vfio_apple_irq_scan(a);
        }
        vfio_apple_watch_stuck(a);
    }
    return NULL;
}

bool vfio_apple_irq_start(VFIOApplePCIDevice *a, Error **errp)
{
    void *page;
    uint64_t size;
    int ret;

    ret = vfa_map_memory(a->client, VFA_MEM_IRQ_PAGE, &page, &size, NULL);
    if (ret) {
        error_setg_errno(errp, -ret, "cannot map the dext's IRQ page: %s",
                         vfa_client_errmsg(a->client));
        return false;
    }
    a->irq_page = page;
    a->irq_page_size = size;
    if (size < sizeof(struct vfa_irq_page) ||
        a->irq_page->magic != VFA_IRQ_PAGE_MAGIC) {
        error_setg(errp, "the dext's IRQ page is malformed (size %" PRIu64
                   ", magic 0x%x)", size,
                   size >= sizeof(uint32_t) ? a->irq_page->magic : 0);
        return false;
    }

    ret = vfa_notify_fd(a->client);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "cannot register for the dext's "
                         "notifications: %s", vfa_client_errmsg(a->client));
        return false;
    }
    ret = event_notifier_init(&a->irq_stop, false);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "cannot create an event notifier");
        return false;
    }
    ret = event_notifier_init(&a->irq_kick, false);
    if (ret < 0) {
        event_notifier_cleanup(&a->irq_stop);
        error_setg_errno(errp, -ret, "cannot create an event notifier");
        return false;
    }
    a->irq_stop_ready = true;
    qemu_thread_create(&a->irq_thread, "vfio-apple-irq", vfio_apple_irq_thread,
                       a, QEMU_THREAD_JOINABLE);
    a->irq_thread_running = true;
    return true;
}

void vfio_apple_irq_stop(VFIOApplePCIDevice *a)
{
    if (a->irq_thread_running) {
        event_notifier_set(&a->irq_stop);
        qemu_thread_join(&a->irq_thread);
        a->irq_thread_running = false;
    }
    if (a->irq_stop_ready) {
        a->irq_stop_ready = false;
        event_notifier_cleanup(&a->irq_kick);
        event_notifier_cleanup(&a->irq_stop);
    }
}
