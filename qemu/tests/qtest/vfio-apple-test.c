/*
 * QTest for vfio-apple-pci against vfio-apple-sim, which plays the Apple
 * dext on Linux: config space and its cache, the config policy, BARs and
 * the trapped MSI-X page, MSI-X delivery with masking and latching, reset,
 * hot-unplug, device loss, a dext that stops answering, the DMA window
 * and its refusals, its ACPI description (_DMA, IORT) read from fw_cfg,
 * machines without vfio-apple=on left as they were, and the apple-dma-pci
 * companion driven as a hostile guest would (ring entries that are not
 * RAM, overflow, name unknown handles; rings in MMIO; broken indexes; a
 * tight budget).
 *
 * Needs the simulator: VFIO_APPLE_SIM=/path/to/vfio-apple-sim (otherwise
 * every test is skipped).  The simulated device is an NVMe controller;
 * the tests drive it with admin commands so that it does DMA and raises
 * interrupts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "qemu/host-utils.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "hw/pci/pci_regs.h"
#include "vfio-apple/apple-dma-abi.h"

#define SIM_VENDOR          0x7a7a
#define SIM_DEVICE          0x0e01
#define RAM_BASE            0x40000000ull
#define RAM_SIZE            (512ull << 20)

/* NVMe registers (BAR0) and the guest memory the tests use. */
#define NVME_CAP            0x00
#define NVME_CC             0x14
#define NVME_CSTS           0x1c
#define NVME_AQA            0x24
#define NVME_ASQ            0x28
#define NVME_ACQ            0x30
#define NVME_DBS            0x1000
#define NVME_QSIZE          16
#define GPA_ASQ             (RAM_BASE + 0x100000)
#define GPA_ACQ             (RAM_BASE + 0x101000)
#define GPA_BUF             (RAM_BASE + 0x102000)
#define GPA_MSI             (RAM_BASE + 0x200000)   /* MSI-X target */
#define MSI_DATA            0x5a00

typedef struct Sim {
    char *dir;
    char *sock;
    GPid pid;
} Sim;

typedef struct Dev {
    QTestState *qts;
    QGenericPCIBus bus;
    QPCIDevice *pdev;
    QPCIBar bar0;
    uint64_t iova_base;         /* bus address of RAM_BASE */
    uint16_t sq_tail, cq_head, cid;
    bool phase;
} Dev;

static const char *sim_binary(void)
{
    return g_getenv("VFIO_APPLE_SIM");
}

/* ------------------------------------------------------------ the sim -- */

/* The simulator dies with the test, however the test ends. */
static void sim_child_setup(gpointer opaque)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void sim_start(Sim *s, const char *extra)
{
    g_autofree char *disk = NULL;
    g_autofree char *cmd = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) err = NULL;
    int i;

    s->dir = g_dir_make_tmp("vfio-apple-qtest-XXXXXX", &err);
    g_assert_no_error(err);
    s->sock = g_strdup_printf("%s/sim.sock", s->dir);
    disk = g_strdup_printf("%s/disk.img", s->dir);
    cmd = g_strdup_printf("%s --socket %s --device nvme,file=%s,size=64M "
                          "--log-level warn %s", sim_binary(), s->sock, disk,
                          extra ? extra : "");
    g_assert(g_shell_parse_argv(cmd, NULL, &argv, &err));
    g_assert(g_spawn_async(NULL, argv, NULL,
                           G_SPAWN_DO_NOT_REAP_CHILD |
                           G_SPAWN_STDOUT_TO_DEV_NULL,
                           sim_child_setup, NULL, &s->pid, &err));
    g_assert_no_error(err);
    for (i = 0; i < 500 && !g_file_test(s->sock, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10 * 1000);
    }
    g_assert(g_file_test(s->sock, G_FILE_TEST_EXISTS));
}

static void sim_stop(Sim *s)
{
    int status;

    if (s->pid) {
        kill(s->pid, SIGCONT);
        kill(s->pid, SIGTERM);
        waitpid(s->pid, &status, 0);
        g_spawn_close_pid(s->pid);
        s->pid = 0;
    }
    g_autofree char *disk = g_strdup_printf("%s/disk.img", s->dir);
    unlink(disk);
    unlink(s->sock);
    rmdir(s->dir);
    g_free(s->sock);
    g_free(s->dir);
}

/* The simulator's own counters, as JSON text. */
static char *sim_stats(Sim *s)
{
    g_autofree char *cmd = g_strdup_printf("%s stats --socket %s",
                                           sim_binary(), s->sock);
    g_autoptr(GError) err = NULL;
    char *out = NULL;
    int status;

    g_assert(g_spawn_command_line_sync(cmd, &out, NULL, &status, &err));
    g_assert_no_error(err);
    return out;
}

/* -------------------------------------------------------------- QEMU -- */

static char *device_json(Sim *s, const char *extra)
{
    return g_strdup_printf("'{\"driver\": \"vfio-apple-pci\", \"id\": "
                           "\"pt0\", \"socket\": {\"type\": \"unix\", "
                           "\"path\": \"%s\"}%s%s}'", s->sock,
                           extra ? ", " : "", extra ? extra : "");
}

static QTestState *qemu_start(Sim *s, const char *dev_extra,
                              const char *machine_extra)
{
    g_autofree char *dev = device_json(s, dev_extra);

    return qtest_initf("-M virt,vfio-apple=on -cpu max -m 512M -nodefaults "
                       "-object memory-backend-memfd,id=mem,size=512M,"
                       "share=on -machine memory-backend=mem %s "
                       "-device %s", machine_extra ? machine_extra : "", dev);
}

/*
 * Run QEMU to completion (it is expected to refuse to start): exit status
 * and what it printed.
 */
static int qemu_run(const char *args, char **err_out)
{
    g_autofree char *cmd = g_strdup_printf("%s -display none -nographic "
                                           "-monitor none -serial none -nodefaults "
                                           "-S %s",
                                           g_getenv("QTEST_QEMU_BINARY"),
                                           args);
    g_autoptr(GError) err = NULL;
    int status;

    g_assert(g_spawn_command_line_sync(cmd, NULL, err_out, &status, &err));
    g_assert_no_error(err);
    return status;
}

static QDict *query(QTestState *qts)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'x-query-vfio-apple'}");
    QList *list = qdict_get_qlist(resp, "return");
    QDict *info;

    g_assert(list && !qlist_empty(list));
    info = qobject_to(QDict, qlist_peek(list));
    qobject_ref(info);
    qobject_unref(resp);
    return info;
}

static uint64_t calls_of(QDict *info, const char *method)
{
    QList *l = qdict_get_qlist(info, "dext-calls-by-method");
    QListEntry *e;

    QLIST_FOREACH_ENTRY(l, e) {
        QDict *m = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(m, "method"), method)) {
            return qdict_get_int(m, "calls");
        }
    }
    return 0;
}

static uint64_t query_calls(QTestState *qts, const char *method)
{
    g_autoptr(QDict) info = query(qts);

    return method ? calls_of(info, method) : qdict_get_int(info, "dext-calls");
}

static void find_dev(QPCIDevice *pdev, int devfn, void *opaque)
{
    *(QPCIDevice **)opaque = pdev;
}

static void dev_open(Dev *d, Sim *s, const char *dev_extra)
{
    g_autoptr(QDict) info = NULL;
    QList *win;

    memset(d, 0, sizeof(*d));
    d->qts = qemu_start(s, dev_extra, NULL);
    qpci_init_generic(&d->bus, d->qts, NULL, false);
    qpci_device_foreach(&d->bus.bus, SIM_VENDOR, SIM_DEVICE, find_dev,
                        &d->pdev);
    g_assert(d->pdev);
    info = query(d->qts);
    win = qdict_get_qlist(info, "window");
    g_assert(win && !qlist_empty(win));
    g_assert_cmpuint(qdict_get_int(qobject_to(QDict, qlist_peek(win)), "gpa"),
                     ==, RAM_BASE);
    d->iova_base = qdict_get_int(qobject_to(QDict, qlist_peek(win)), "iova");
}

static void dev_close(Dev *d)
{
    g_free(d->pdev);
    qtest_quit(d->qts);
}

static bool wait_for(QTestState *qts, uint64_t gpa, uint32_t mask,
                     uint32_t want, int ms)
{
    int i;

    for (i = 0; i < ms; i++) {
        if ((qtest_readl(qts, gpa) & mask) == want) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

/* ---------------------------------------------------- a tiny NVMe driver -- */

/* Memory space and bus mastering: there is no I/O space on the platform. */
static void dev_enable(Dev *d)
{
    qpci_config_writew(d->pdev, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_cmphex(qpci_config_readw(d->pdev, PCI_COMMAND) &
                    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), ==,
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static uint32_t bar_readl(Dev *d, uint64_t off)
{
    return qpci_io_readl(d->pdev, d->bar0, off);
}

static void bar_writel(Dev *d, uint64_t off, uint32_t v)
{
    qpci_io_writel(d->pdev, d->bar0, off, v);
}

static bool csts_rdy_is(Dev *d, bool rdy)
{
    int i;

    for (i = 0; i < 5000; i++) {
        if (!!(bar_readl(d, NVME_CSTS) & 1) == rdy) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

static void nvme_enable(Dev *d)
{
    d->bar0 = qpci_iomap(d->pdev, 0, NULL);
    dev_enable(d);
    bar_writel(d, NVME_CC, 0);
    g_assert(csts_rdy_is(d, false));
    qtest_memset(d->qts, GPA_ASQ, 0, 0x2000);
    bar_writel(d, NVME_AQA, (NVME_QSIZE - 1) | (NVME_QSIZE - 1) << 16);
    bar_writel(d, NVME_ASQ, (uint32_t)(GPA_ASQ - RAM_BASE + d->iova_base));
    bar_writel(d, NVME_ASQ + 4,
               (uint32_t)((GPA_ASQ - RAM_BASE + d->iova_base) >> 32));
    bar_writel(d, NVME_ACQ, (uint32_t)(GPA_ACQ - RAM_BASE + d->iova_base));
    bar_writel(d, NVME_ACQ + 4,
               (uint32_t)((GPA_ACQ - RAM_BASE + d->iova_base) >> 32));
    bar_writel(d, NVME_CC, 1 | 6 << 16 | 4 << 20);
    g_assert(csts_rdy_is(d, true));
    d->sq_tail = d->cq_head = 0;
    d->phase = true;
}

/* Submit Identify Controller into GPA_BUF; returns the command id. */
static uint16_t nvme_identify(Dev *d)
{
    uint32_t cmd[16] = { 0 };
    uint64_t prp = GPA_BUF - RAM_BASE + d->iova_base;
    uint32_t stride = 4 << ((bar_readl(d, NVME_CAP + 4) >> 0) & 0xf);

    d->cid++;
    cmd[0] = 0x06 | (uint32_t)d->cid << 16;
    cmd[6] = (uint32_t)prp;
    cmd[7] = (uint32_t)(prp >> 32);
    cmd[10] = 1;                                /* CNS: the controller */
    qtest_memwrite(d->qts, GPA_ASQ + d->sq_tail * 64, cmd, sizeof(cmd));
    d->sq_tail = (d->sq_tail + 1) % NVME_QSIZE;
    bar_writel(d, NVME_DBS, d->sq_tail);
    (void)stride;
    return d->cid;
}

/* Wait for the completion of @cid; consume it.  Returns its status. */
static int nvme_complete(Dev *d, uint16_t cid)
{
    uint64_t cqe = GPA_ACQ + d->cq_head * 16;
    uint32_t stride = 4 << (bar_readl(d, NVME_CAP + 4) & 0xf);
    uint32_t dw3;

    if (!wait_for(d->qts, cqe + 12, 1 << 16, d->phase ? 1 << 16 : 0, 5000)) {
        return -1;
    }
    dw3 = qtest_readl(d->qts, cqe + 12);
    g_assert_cmpuint(dw3 & 0xffff, ==, cid);
    d->cq_head = (d->cq_head + 1) % NVME_QSIZE;
    if (!d->cq_head) {
        d->phase = !d->phase;
    }
    bar_writel(d, NVME_DBS + stride, d->cq_head);
    return dw3 >> 17;
}

/* Program MSI-X vector 0 to write MSI_DATA to GPA_MSI; enable MSI-X. */
static uint8_t msix_setup(Dev *d)
{
    uint8_t cap = qpci_find_capability(d->pdev, PCI_CAP_ID_MSIX, 0);
    uint32_t table = qpci_config_readl(d->pdev, cap + PCI_MSIX_TABLE);
    uint16_t flags = qpci_config_readw(d->pdev, cap + PCI_MSIX_FLAGS);

    g_assert(cap);
    g_assert_cmpuint(table & PCI_MSIX_TABLE_BIR, ==, 0);
    table &= PCI_MSIX_TABLE_OFFSET;
    bar_writel(d, table + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)GPA_MSI);
    bar_writel(d, table + PCI_MSIX_ENTRY_UPPER_ADDR, GPA_MSI >> 32);
    bar_writel(d, table + PCI_MSIX_ENTRY_DATA, MSI_DATA);
    bar_writel(d, table + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    qpci_config_writew(d->pdev, cap + PCI_MSIX_FLAGS,
                       flags | PCI_MSIX_FLAGS_ENABLE);
    qtest_writel(d->qts, GPA_MSI, 0);
    return cap;
}

static void msix_mask(Dev *d, bool mask)
{
    uint8_t cap = qpci_find_capability(d->pdev, PCI_CAP_ID_MSIX, 0);
    uint32_t table = qpci_config_readl(d->pdev, cap + PCI_MSIX_TABLE) &
                     PCI_MSIX_TABLE_OFFSET;

    bar_writel(d, table + PCI_MSIX_ENTRY_VECTOR_CTRL,
               mask ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

/* -------------------------------------------------------------- tests -- */

/* PCIe Device Status: a register only the device knows. */
static uint8_t devsta(Dev *d)
{
    return qpci_find_capability(d->pdev, PCI_CAP_ID_EXP, 0) + PCI_EXP_DEVSTA;
}

/* Identity, cached bytes, a device register read through the dext. */
static void test_config_cache(void)
{
    Sim s;
    Dev d;
    uint64_t reads;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    reads = query_calls(d.qts, "CONFIG_READ");
    g_assert_cmphex(qpci_config_readw(d.pdev, PCI_VENDOR_ID), ==, SIM_VENDOR);
    g_assert_cmphex(qpci_config_readw(d.pdev, PCI_DEVICE_ID), ==, SIM_DEVICE);
    g_assert_cmphex(qpci_config_readl(d.pdev, PCI_CLASS_REVISION) >> 8, ==,
                    0x010802);
    /* Read-only bytes come from the cache: no dext call. */
    g_assert_cmpuint(query_calls(d.qts, "CONFIG_READ"), ==, reads);
    /* No INTx on the platform. */
    g_assert_cmpuint(qpci_config_readb(d.pdev, PCI_INTERRUPT_PIN), ==, 0);
    /* Status is the host's: as at realize, no call either. */
    g_assert_cmphex(qpci_config_readw(d.pdev, PCI_STATUS) &
                    PCI_STATUS_CAP_LIST, ==, PCI_STATUS_CAP_LIST);
    g_assert_cmpuint(query_calls(d.qts, "CONFIG_READ"), ==, reads);
    /* PCIe Device Status is the device's: read through the dext each time. */
    qpci_config_readw(d.pdev, devsta(&d));
    qpci_config_readw(d.pdev, devsta(&d));
    g_assert_cmpuint(query_calls(d.qts, "CONFIG_READ"), ==, reads + 2);
    /* Command is cached from the write's reply: no read-back call. */
    dev_enable(&d);
    reads = query_calls(d.qts, "CONFIG_READ");
    g_assert_cmphex(qpci_config_readw(d.pdev, PCI_COMMAND), ==,
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_cmpuint(query_calls(d.qts, "CONFIG_READ"), ==, reads);
    dev_close(&d);
    sim_stop(&s);
}

/*
 * Writes QEMU emulates (BAR sizing) cost no dext call; a write the dext's
 * policy drops (PCIe Device Control) does not change the device.
 */
static void test_config_policy(void)
{
    Sim s;
    Dev d;
    uint64_t writes, spared;
    uint8_t exp;
    uint16_t devctl;
    g_autoptr(QDict) before = NULL;
    g_autoptr(QDict) after = NULL;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    before = query(d.qts);
    writes = calls_of(before, "CONFIG_WRITE");
    spared = qdict_get_int(before, "config-writes-spared");
    qpci_config_writel(d.pdev, PCI_BASE_ADDRESS_0, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(d.pdev, PCI_BASE_ADDRESS_0) &
                    ~0xfu, ==, 0xffff8000);     /* a 32 KiB BAR */
    after = query(d.qts);
    g_assert_cmpuint(calls_of(after, "CONFIG_WRITE"), ==, writes);
    g_assert_cmpuint(qdict_get_int(after, "config-writes-spared"), >, spared);

    exp = qpci_find_capability(d.pdev, PCI_CAP_ID_EXP, 0);
    g_assert(exp);
    devctl = qpci_config_readw(d.pdev, exp + PCI_EXP_DEVCTL);
    /* Max payload 4096 bytes: never with live DART mappings. */
    qpci_config_writew(d.pdev, exp + PCI_EXP_DEVCTL,
                       (devctl & ~PCI_EXP_DEVCTL_PAYLOAD) | (5 << 5));
    g_assert_cmphex(qpci_config_readw(d.pdev, exp + PCI_EXP_DEVCTL), ==,
                    devctl);
    dev_close(&d);
    sim_stop(&s);
}

/*
 * The shared BAR page is plain memory: register reads make no dext call.
 * The trapped page holds the MSI-X table, which QEMU emulates.
 */
static void test_bar_mapping(void)
{
    Sim s;
    Dev d;
    uint64_t mmio;
    uint32_t vs;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    d.bar0 = qpci_iomap(d.pdev, 0, NULL);
    dev_enable(&d);
    mmio = query_calls(d.qts, "MMIO_READ") + query_calls(d.qts, "MMIO_WRITE");
    vs = bar_readl(&d, 0x08);
    g_assert_cmphex(vs, >=, 0x10000);           /* NVMe 1.0 or later */
    bar_readl(&d, NVME_CAP);
    bar_readl(&d, NVME_CSTS);
    msix_setup(&d);
    g_assert_cmpuint(query_calls(d.qts, "MMIO_READ") +
                     query_calls(d.qts, "MMIO_WRITE"), ==, mmio);
    dev_close(&d);
    sim_stop(&s);
}

/*
 * An admin command does DMA through the window and completes with an
 * MSI-X interrupt, written by QEMU's MSI-X emulation to the guest address
 * programmed in the table.  A masked vector's interrupt stays pending
 * and arrives on unmask.
 */
static void test_msix_delivery_and_masking(void)
{
    Sim s;
    Dev d;
    uint16_t cid;
    uint64_t irqs;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    nvme_enable(&d);
    msix_setup(&d);
    cid = nvme_identify(&d);
    g_assert_cmpint(nvme_complete(&d, cid), ==, 0);
    /* The controller's identity came through DMA: its vendor ID. */
    g_assert_cmphex(qtest_readw(d.qts, GPA_BUF), ==, SIM_VENDOR);
    g_assert(wait_for(d.qts, GPA_MSI, ~0u, MSI_DATA, 5000));
    irqs = qdict_get_int(query(d.qts), "interrupts");
    g_assert_cmpuint(irqs, >=, 1);

    msix_mask(&d, true);
    qtest_writel(d.qts, GPA_MSI, 0);
    cid = nvme_identify(&d);
    g_assert_cmpint(nvme_complete(&d, cid), ==, 0);
    g_usleep(200 * 1000);
    g_assert_cmphex(qtest_readl(d.qts, GPA_MSI), ==, 0);    /* masked */
    msix_mask(&d, false);
    g_assert(wait_for(d.qts, GPA_MSI, ~0u, MSI_DATA, 5000)); /* pending */
    dev_close(&d);
    sim_stop(&s);
}

/*
 * With MSI-X disabled, the dext's vectors are disabled but stay set up:
 * an interrupt then is latched in the dext and delivered when MSI-X is
 * enabled again, with no new IRQ_SETUP.
 */
static void test_msix_latching_across_disable(void)
{
    Sim s;
    Dev d;
    uint16_t cid, flags;
    uint8_t cap;
    uint64_t setups;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    nvme_enable(&d);
    cap = msix_setup(&d);
    cid = nvme_identify(&d);
    g_assert_cmpint(nvme_complete(&d, cid), ==, 0);
    g_assert(wait_for(d.qts, GPA_MSI, ~0u, MSI_DATA, 5000));
    setups = query_calls(d.qts, "IRQ_SETUP");

    flags = qpci_config_readw(d.pdev, cap + PCI_MSIX_FLAGS);
    qpci_config_writew(d.pdev, cap + PCI_MSIX_FLAGS,
                       flags & ~PCI_MSIX_FLAGS_ENABLE);
    qtest_writel(d.qts, GPA_MSI, 0);
    cid = nvme_identify(&d);
    g_assert_cmpint(nvme_complete(&d, cid), ==, 0);
    g_usleep(200 * 1000);
    g_assert_cmphex(qtest_readl(d.qts, GPA_MSI), ==, 0);
    qpci_config_writew(d.pdev, cap + PCI_MSIX_FLAGS, flags);
    g_assert(wait_for(d.qts, GPA_MSI, ~0u, MSI_DATA, 5000));
    g_assert_cmpuint(query_calls(d.qts, "IRQ_SETUP"), ==, setups);
    dev_close(&d);
    sim_stop(&s);
}

/* A guest FLR resets the function through the dext. */
static void test_flr(void)
{
    Sim s;
    Dev d;
    uint8_t exp;
    uint64_t resets;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    nvme_enable(&d);
    resets = query_calls(d.qts, "RESET");
    exp = qpci_find_capability(d.pdev, PCI_CAP_ID_EXP, 0);
    qpci_config_writew(d.pdev, exp + PCI_EXP_DEVCTL,
                       qpci_config_readw(d.pdev, exp + PCI_EXP_DEVCTL) |
                       PCI_EXP_DEVCTL_BCR_FLR);
    g_assert_cmpuint(query_calls(d.qts, "RESET"), ==, resets + 1);
    /* A reset controller: disabled, and BAR0 unassigned again. */
    d.bar0 = qpci_iomap(d.pdev, 0, NULL);
    dev_enable(&d);
    g_assert_cmphex(bar_readl(&d, NVME_CC), ==, 0);
    dev_close(&d);
    sim_stop(&s);
}

/*
 * The dext stops answering (SIGSTOP): the first access waits at most
 * x-msg-timeout, later ones not at all, the monitor keeps answering; when
 * the dext answers again the device does too.
 */
static void test_stuck_dext(void)
{
    Sim s;
    Dev d;
    gint64 t0, dt;
    int i;
    uint8_t sta;
    g_autoptr(QDict) info = NULL;

    sim_start(&s, NULL);
    dev_open(&d, &s, "\"x-msg-timeout\": 200");
    sta = devsta(&d);
    g_assert_cmphex(qpci_config_readw(d.pdev, sta), !=, 0xffff);
    kill(s.pid, SIGSTOP);

    t0 = g_get_monotonic_time();
    g_assert_cmphex(qpci_config_readw(d.pdev, sta), ==, 0xffff);
    dt = g_get_monotonic_time() - t0;
    g_assert_cmpint(dt, <, 1000 * 1000);
    /* Cached identity still answers; the rest without waiting. */
    g_assert_cmphex(qpci_config_readw(d.pdev, PCI_VENDOR_ID), ==, SIM_VENDOR);
    t0 = g_get_monotonic_time();
    for (i = 0; i < 10; i++) {
        g_assert_cmphex(qpci_config_readw(d.pdev, sta), ==, 0xffff);
    }
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 200 * 1000);
    t0 = g_get_monotonic_time();
    info = query(d.qts);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 200 * 1000);
    g_assert(qdict_get_bool(info, "unresponsive"));
    g_assert_cmpuint(qdict_get_int(info, "dext-timeouts"), ==, 1);

    kill(s.pid, SIGCONT);
    for (i = 0; i < 300; i++) {
        g_autoptr(QDict) now = query(d.qts);

        if (!qdict_get_bool(now, "unresponsive")) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(i, <, 300);
    g_assert_cmphex(qpci_config_readw(d.pdev, sta), !=, 0xffff);
    dev_close(&d);
    sim_stop(&s);
}

/* The dext dies: the device is lost and reads all-ones, QEMU carries on. */
static void test_device_lost(void)
{
    Sim s;
    Dev d;
    int i, status;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    kill(s.pid, SIGKILL);
    waitpid(s.pid, &status, 0);
    g_spawn_close_pid(s.pid);
    s.pid = 0;
    for (i = 0; i < 500; i++) {
        g_autoptr(QDict) info = query(d.qts);

        if (qdict_get_bool(info, "lost")) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(i, <, 500);
    g_assert_cmphex(qpci_config_readw(d.pdev, PCI_VENDOR_ID), ==, 0xffff);
    g_assert_cmphex(qpci_config_readw(d.pdev, PCI_STATUS), ==, 0xffff);
    dev_close(&d);
    sim_stop(&s);
}

/*
 * device_del in a hotplug slot, completed as a guest would (slot powered
 * off): the session and the window's mapping are released.
 */
static void test_hot_unplug(void)
{
    Sim s;
    QTestState *qts;
    QGenericPCIBus bus;
    QPCIDevice *rp = NULL;
    g_autofree char *dev = NULL;
    g_autofree char *st = NULL;
    uint8_t exp;
    uint16_t sltctl;
    QDict *resp;

    sim_start(&s, NULL);
    dev = device_json(&s, "\"bus\": \"rp0\"");
    qts = qtest_initf("-M virt,vfio-apple=on -cpu max -m 512M -nodefaults "
                      "-object memory-backend-memfd,id=mem,size=512M,"
                      "share=on -machine memory-backend=mem "
                      "-device pcie-root-port,id=rp0,chassis=1,slot=1 "
                      "-device %s", dev);
    qpci_init_generic(&bus, qts, NULL, false);
    qpci_device_foreach(&bus.bus, 0x1b36, 0x000c, find_dev, &rp);
    g_assert(rp);
    st = sim_stats(&s);
    g_assert(strstr(st, "\"session_open\": true") ||
             strstr(st, "\"session_open\":true"));

    qtest_qmp_device_del_send(qts, "pt0");
    exp = qpci_find_capability(rp, PCI_CAP_ID_EXP, 0);
    sltctl = qpci_config_readw(rp, exp + PCI_EXP_SLTCTL);
    sltctl &= ~PCI_EXP_SLTCTL_PIC;
    qpci_config_writew(rp, exp + PCI_EXP_SLTCTL,
                       sltctl | PCI_EXP_SLTCTL_PWR_IND_OFF |
                       PCI_EXP_SLTCTL_PCC);
    qtest_qmp_eventwait(qts, "DEVICE_DELETED");
    resp = qtest_qmp(qts, "{'execute': 'x-query-vfio-apple'}");
    g_assert(qlist_empty(qdict_get_qlist(resp, "return")));
    qobject_unref(resp);
    g_free(st);
    st = sim_stats(&s);
    g_assert(strstr(st, "\"session_open\": false") ||
             strstr(st, "\"session_open\":false"));
    g_assert(strstr(st, "\"live_mappings\": 0") ||
             strstr(st, "\"live_mappings\":0"));
    g_free(rp);
    qtest_quit(qts);
    sim_stop(&s);
}

/* ------------------------------------------ the apple-dma-pci companion -- */

#define ADMA_WINDOW         (64ull << 20)
#define ADMA_CHUNK          (2ull << 20)
#define GPA_RING            (RAM_BASE + 0x300000)
#define GPA_TT              (RAM_BASE + 0x310000)
#define ADMA_ENTRIES        16u
#define GPA_FREE            (RAM_BASE + (256ull << 20))  /* beyond the window */

typedef struct Comp {
    QTestState *qts;
    QGenericPCIBus bus;
    QPCIDevice *pdev;
    QPCIBar bar;
    uint32_t sq_tail, cq_head;
} Comp;

static void comp_open(Comp *c, Sim *s, const char *adma_extra)
{
    g_autofree char *dev = device_json(s, "\"dma-mode\": \"companion\", "
                                       "\"window-size\": 67108864");

    memset(c, 0, sizeof(*c));
    /* No vfio-apple=on: companion mode describes nothing to the guest. */
    /* JSON for both: QEMU creates JSON -device options after the rest. */
    c->qts = qtest_initf("-M virt -cpu max -m 512M -nodefaults "
                         "-object memory-backend-memfd,id=mem,size=512M,"
                         "share=on -machine memory-backend=mem "
                         "-device %s -device '{\"driver\": \"apple-dma-pci\", "
                         "\"id\": \"adma0\", \"device\": \"pt0\"%s%s}'", dev,
                         adma_extra ? ", " : "", adma_extra ? adma_extra : "");
    qpci_init_generic(&c->bus, c->qts, NULL, false);
    qpci_device_foreach(&c->bus.bus, ADMA_PCI_VENDOR_ID, ADMA_PCI_DEVICE_ID,
                        find_dev, &c->pdev);
    g_assert(c->pdev);
    qpci_device_enable(c->pdev);
    c->bar = qpci_iomap(c->pdev, ADMA_BAR, NULL);
}

static void comp_close(Comp *c)
{
    g_free(c->pdev);
    qtest_quit(c->qts);
}

static uint32_t comp_rd(Comp *c, uint32_t reg)
{
    return qpci_io_readl(c->pdev, c->bar, reg);
}

static uint64_t comp_rd64(Comp *c, uint32_t reg)
{
    return qpci_io_readq(c->pdev, c->bar, reg);
}

static void comp_wr(Comp *c, uint32_t reg, uint32_t v)
{
    qpci_io_writel(c->pdev, c->bar, reg, v);
}

static void comp_wr64(Comp *c, uint32_t reg, uint64_t v)
{
    qpci_io_writeq(c->pdev, c->bar, reg, v);
}

/* RESET, carried out by the companion's thread: wait for it. */
static void comp_reset(Comp *c)
{
    int i;

    comp_wr(c, ADMA_REG_CONTROL, ADMA_CTRL_RESET);
    for (i = 0; i < 2000 && (comp_rd(c, ADMA_REG_STATUS) &
                             (ADMA_STATUS_BUSY | ADMA_STATUS_ENABLED)); i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(comp_rd(c, ADMA_REG_STATUS) &
                     (ADMA_STATUS_BUSY | ADMA_STATUS_ENABLED |
                      ADMA_STATUS_FAILED), ==, 0);
}

/* What the guest driver does at probe; the STATUS the host answers. */
static uint32_t comp_enable(Comp *c, uint64_t ring_gpa, uint64_t tt_gpa)
{
    uint64_t ram = comp_rd64(c, ADMA_REG_RAM_SIZE);
    uint32_t shift = comp_rd(c, ADMA_REG_CHUNK_SHIFT), st = 0;
    int i;

    qtest_memset(c->qts, GPA_RING, 0, ADMA_RING_AREA_SIZE(ADMA_ENTRIES));
    comp_wr64(c, ADMA_REG_GUEST_FEATURES, ADMA_F_TT | ADMA_F_EVENT_IDX);
    comp_wr(c, ADMA_REG_RING_ENTRIES, ADMA_ENTRIES);
    comp_wr64(c, ADMA_REG_RING_GPA, ring_gpa);
    comp_wr64(c, ADMA_REG_TT_GPA, tt_gpa);
    comp_wr(c, ADMA_REG_TT_ENTRIES, ram >> shift);
    comp_wr(c, ADMA_REG_CONTROL, ADMA_CTRL_ENABLE);
    for (i = 0; i < 1000; i++) {
        st = comp_rd(c, ADMA_REG_STATUS);
        if (st & (ADMA_STATUS_ENABLED | ADMA_STATUS_FAILED)) {
            break;
        }
        g_usleep(1000);
    }
    c->sq_tail = c->cq_head = 0;
    return st;
}

/* Submit one entry, ring, wait for its completion (polling, as allowed). */
static struct adma_cqe comp_do(Comp *c, struct adma_sqe e)
{
    uint64_t ctl = GPA_RING;
    uint64_t sqe = GPA_RING + ADMA_RING_SQ_OFFSET +
                   (c->sq_tail % ADMA_ENTRIES) * sizeof(e);
    uint64_t cqe = GPA_RING + ADMA_RING_CQ_OFFSET(ADMA_ENTRIES) +
                   (c->cq_head % ADMA_ENTRIES) * sizeof(struct adma_cqe);
    struct adma_cqe r;
    int i;

    e.tag = c->sq_tail + 1000;
    qtest_memwrite(c->qts, sqe, &e, sizeof(e));
    qtest_writel(c->qts, ctl + offsetof(struct adma_ring_ctl, sq_tail),
                 ++c->sq_tail);
    comp_wr(c, ADMA_REG_DOORBELL, 1);
    for (i = 0; i < 5000; i++) {
        if (qtest_readl(c->qts, ctl + offsetof(struct adma_ring_ctl,
                                               cq_tail)) != c->cq_head) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmpuint(i, <, 5000);
    qtest_memread(c->qts, cqe, &r, sizeof(r));
    qtest_writel(c->qts, ctl + offsetof(struct adma_ring_ctl, cq_head),
                 ++c->cq_head);
    g_assert_cmpuint(r.tag, ==, e.tag);
    return r;
}

static struct adma_sqe comp_map(uint64_t gpa, uint64_t len)
{
    return (struct adma_sqe) { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                               .flags = ADMA_MAP_PIN, .addr = gpa,
                               .len = len };
}

static uint64_t comp_tt(Comp *c, uint64_t gpa)
{
    return qtest_readq(c->qts, GPA_TT + ((gpa - RAM_BASE) / ADMA_CHUNK) * 8);
}

static void comp_unpin(Comp *c, uint64_t gpa)
{
    uint64_t a = GPA_TT + ((gpa - RAM_BASE) / ADMA_CHUNK) * 8;

    qtest_writeq(c->qts, a, qtest_readq(c->qts, a) - ADMA_TT_PIN_ONE);
}

static QDict *comp_info(Comp *c)
{
    QDict *info = query(c->qts);
    QDict *ci = qdict_get_qdict(info, "companion");

    g_assert(ci);
    qobject_ref(ci);
    qobject_unref(info);
    return ci;
}

static uint64_t sim_stat(Sim *s, const char *key)
{
    g_autofree char *st = sim_stats(s);
    g_autofree char *pat = g_strdup_printf("\"%s\":", key);
    const char *p = strstr(st, pat);

    g_assert(p);
    return g_ascii_strtoull(p + strlen(pat), NULL, 10);
}

/*
 * The layout the guest reads, a map outside the window (a chunk mapped,
 * pinned, published in the table), one inside it (arithmetic), one across
 * chunks, and FLUSH once the guest dropped its pins.
 */
static void test_companion_map(void)
{
    Sim s;
    Comp c;
    struct adma_cqe r;
    uint64_t win_iova, w;
    g_autoptr(QDict) ci = NULL;
    g_autofree char *hmp = NULL;

    sim_start(&s, NULL);
    comp_open(&c, &s, NULL);
    g_assert_cmphex(comp_rd(&c, ADMA_REG_MAGIC), ==, ADMA_MAGIC);
    g_assert_cmpuint(comp_rd(&c, ADMA_REG_VERSION) >> 16, ==, ADMA_ABI_MAJOR);
    g_assert(comp_rd(&c, ADMA_REG_DEVICE0) & ADMA_DEVICE_VALID);
    g_assert_cmphex(comp_rd64(&c, ADMA_REG_WINDOW_GPA), ==, RAM_BASE);
    g_assert_cmphex(comp_rd64(&c, ADMA_REG_WINDOW_SIZE), ==, ADMA_WINDOW);
    g_assert_cmphex(comp_rd64(&c, ADMA_REG_RAM_SIZE), ==, RAM_SIZE);
    g_assert_cmpuint(comp_rd(&c, ADMA_REG_CHUNK_SHIFT), ==, 21);
    win_iova = comp_rd64(&c, ADMA_REG_WINDOW_IOVA);
    /* The window counts against the budget from the start. */
    g_assert_cmphex(comp_rd64(&c, ADMA_REG_USED_BYTES), ==, ADMA_WINDOW);
    g_assert_cmpuint(comp_rd(&c, ADMA_REG_USED_MAPS), ==, 1);

    g_assert(comp_enable(&c, GPA_RING, GPA_TT) & ADMA_STATUS_ENABLED);
    r = comp_do(&c, comp_map(GPA_FREE + 0x1234, 4096));
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);
    g_assert_cmpuint(r.handle, ==, ADMA_HANDLE_NONE);
    w = comp_tt(&c, GPA_FREE);
    g_assert(w & ADMA_TT_VALID);
    g_assert_cmpuint(ADMA_TT_PINS(w), ==, 1);
    g_assert_cmphex(ADMA_TT_IOVA(w) + 0x1234, ==, r.iova);
    /* The DART maps whole chunks: a real IOVA, never the GPA. */
    g_assert_cmphex(r.iova, !=, GPA_FREE + 0x1234);
    g_assert_cmpuint(sim_stat(&s, "live_mappings"), ==, 2);

    r = comp_do(&c, comp_map(RAM_BASE + 0x5000, 8192));
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);
    g_assert_cmphex(r.iova, ==, win_iova + 0x5000);

    /* Across two chunks: contiguous chunk IOVAs or a span, one range. */
    r = comp_do(&c, comp_map(GPA_FREE + 3 * ADMA_CHUNK - 4096, 8192));
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);

    ci = comp_info(&c);
    g_assert_cmpuint(qdict_get_int(ci, "entries"), ==, 3);
    g_assert_cmpuint(qdict_get_int(ci, "errors"), ==, 0);
    hmp = qtest_hmp(c.qts, "info vfio-apple");
    g_assert(strstr(hmp, "companion /machine/peripheral/adma0"));
    g_assert(strstr(hmp, "entries 3,"));
    g_assert_cmpuint(qdict_get_int(ci, "chunks-mapped") +
                     qdict_get_int(ci, "spans-mapped"), >=, 2);

    /* The guest drops its pins (no exit); FLUSH unmaps what nobody pins. */
    comp_unpin(&c, GPA_FREE);
    if (!r.handle) {
        comp_unpin(&c, GPA_FREE + 2 * ADMA_CHUNK);
        comp_unpin(&c, GPA_FREE + 3 * ADMA_CHUNK);
    } else {
        struct adma_sqe u = { .op = ADMA_OP_UNMAP, .addr = r.handle };

        g_assert_cmpuint(comp_do(&c, u).status, ==, ADMA_S_OK);
    }
    r = comp_do(&c, (struct adma_sqe) { .op = ADMA_OP_FLUSH });
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);
    g_assert_cmpuint(comp_tt(&c, GPA_FREE), ==, 0);
    g_assert_cmpuint(sim_stat(&s, "live_mappings"), ==, 1);   /* the window */
    comp_close(&c);
    sim_stop(&s);
}

/*
 * A hostile guest: each bad entry completes with its error, the next good
 * one still works, nothing outside guest RAM is ever mapped; rings in MMIO
 * and broken ring indexes stop the companion for that guest only.
 */
static void test_companion_malformed(void)
{
    static const struct {
        const char *what;
        struct adma_sqe e;
        uint32_t status;
    } bad[] = {
        { "below RAM", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                         .addr = 0x1000, .len = 4096 }, ADMA_S_NOT_RAM },
        { "the UART", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                        .addr = 0x09000000, .len = 4096 }, ADMA_S_NOT_RAM },
        { "a PCI BAR", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                         .addr = 0x10000000, .len = 4096 }, ADMA_S_NOT_RAM },
        { "beyond RAM", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                          .addr = RAM_BASE + RAM_SIZE, .len = 4096 },
          ADMA_S_NOT_RAM },
        { "RAM's end crossed", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                                 .addr = RAM_BASE + RAM_SIZE - 4096,
                                 .len = 8192 }, ADMA_S_NOT_RAM },
        { "overflowing", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                           .addr = UINT64_MAX - 4095, .len = 8192 },
          ADMA_S_NOT_RAM },
        { "huge length", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                           .addr = GPA_FREE, .len = UINT64_MAX },
          ADMA_S_INVAL },
        { "zero length", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                           .addr = GPA_FREE, .len = 0 }, ADMA_S_INVAL },
        { "bad direction", { .op = ADMA_OP_MAP, .dir = 7,
                             .addr = GPA_FREE, .len = 4096 }, ADMA_S_INVAL },
        { "unknown flags", { .op = ADMA_OP_MAP, .dir = ADMA_DIR_BIDI,
                             .flags = 0x8000, .addr = GPA_FREE, .len = 4096 },
          ADMA_S_INVAL },
        { "unknown opcode", { .op = 0x77 }, ADMA_S_INVAL },
        { "unknown handle", { .op = ADMA_OP_UNMAP, .addr = 0x12345 },
          ADMA_S_HANDLE },
        { "handle 0", { .op = ADMA_OP_UNMAP, .addr = 0 }, ADMA_S_HANDLE },
        { "stale generation", { .op = ADMA_OP_UNMAP,
                                .addr = (77ull << 32) | 1 }, ADMA_S_HANDLE },
    };
    Sim s;
    Comp c;
    struct adma_cqe r;
    g_autoptr(QDict) ci = NULL;
    uint64_t maps_before;
    unsigned i;

    sim_start(&s, NULL);
    comp_open(&c, &s, NULL);

    /* Rings and table must be guest RAM: MMIO, beyond RAM, unaligned. */
    g_assert(comp_enable(&c, 0x09000000, GPA_TT) & ADMA_STATUS_FAILED);
    g_assert_cmpuint(comp_rd(&c, ADMA_REG_SETUP_ERROR), ==, ADMA_S_RING);
    comp_reset(&c);
    g_assert(comp_enable(&c, GPA_RING, 0x08000000) & ADMA_STATUS_FAILED);
    comp_reset(&c);
    g_assert(comp_enable(&c, RAM_BASE + RAM_SIZE - 4096, GPA_TT) &
             ADMA_STATUS_FAILED);
    comp_reset(&c);
    g_assert(comp_enable(&c, GPA_RING + 8, GPA_TT) & ADMA_STATUS_FAILED);
    comp_reset(&c);

    g_assert(comp_enable(&c, GPA_RING, GPA_TT) & ADMA_STATUS_ENABLED);
    maps_before = sim_stat(&s, "maps");
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        r = comp_do(&c, bad[i].e);
        if (r.status != bad[i].status) {
            g_test_message("%s: status %u, expected %u", bad[i].what,
                           r.status, bad[i].status);
        }
        g_assert_cmpuint(r.status, ==, bad[i].status);
        g_assert_cmphex(r.iova, ==, 0);
    }
    /* Nothing was mapped for them, and a good entry still works. */
    g_assert_cmpuint(sim_stat(&s, "maps"), ==, maps_before);
    r = comp_do(&c, comp_map(GPA_FREE, 4096));
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);
    ci = comp_info(&c);
    g_assert_cmpuint(qdict_get_int(ci, "errors"), ==, G_N_ELEMENTS(bad));
    g_assert_cmpuint(qdict_get_int(ci, "errors-not-ram"), ==, 6);

    /* A tail far beyond the ring: the companion stops for this guest. */
    qtest_writel(c.qts, GPA_RING + offsetof(struct adma_ring_ctl, sq_tail),
                 c.sq_tail + 5 * ADMA_ENTRIES);
    comp_wr(&c, ADMA_REG_DOORBELL, 1);
    for (i = 0; i < 1000 && !(comp_rd(&c, ADMA_REG_STATUS) &
                              ADMA_STATUS_FAILED); i++) {
        g_usleep(1000);
    }
    g_assert(comp_rd(&c, ADMA_REG_STATUS) & ADMA_STATUS_FAILED);
    g_assert_cmpuint(comp_rd(&c, ADMA_REG_SETUP_ERROR), ==, ADMA_S_RING);
    /* QEMU and the simulator go on; RESET and a fresh start work. */
    comp_reset(&c);
    g_assert_cmpuint(sim_stat(&s, "live_mappings"), ==, 1);
    g_assert(comp_enable(&c, GPA_RING, GPA_TT) & ADMA_STATUS_ENABLED);
    g_assert_cmpuint(comp_do(&c, comp_map(GPA_FREE, 4096)).status, ==,
                     ADMA_S_OK);
    comp_close(&c);
    sim_stop(&s);
}

/*
 * A budget of 16 MiB of chunks beyond the window and no span reserve:
 * pinned chunks are never evicted, so the ninth fails with NO_SPACE; once
 * the guest drops pins, the same map succeeds by evicting (no restart).
 */
static void test_companion_budget(void)
{
    Sim s;
    Comp c;
    g_autoptr(QDict) ci = NULL;
    uint64_t budget = ADMA_WINDOW + 8 * ADMA_CHUNK;
    g_autofree char *extra = g_strdup_printf("--dart-budget %" PRIu64,
                                             budget);
    unsigned i;

    sim_start(&s, extra);
    comp_open(&c, &s, "\"span-reserve\": 0");
    g_assert_cmphex(comp_rd64(&c, ADMA_REG_BUDGET_BYTES), ==, budget);
    g_assert(comp_enable(&c, GPA_RING, GPA_TT) & ADMA_STATUS_ENABLED);
    for (i = 0; i < 8; i++) {
        g_assert_cmpuint(comp_do(&c, comp_map(GPA_FREE + i * ADMA_CHUNK,
                                              4096)).status, ==, ADMA_S_OK);
    }
    g_assert_cmpuint(comp_do(&c, comp_map(GPA_FREE + 8 * ADMA_CHUNK,
                                          4096)).status, ==, ADMA_S_NO_SPACE);
    g_assert_cmphex(comp_rd64(&c, ADMA_REG_USED_BYTES), <=, budget);
    comp_unpin(&c, GPA_FREE);
    comp_unpin(&c, GPA_FREE + ADMA_CHUNK);
    g_assert_cmpuint(comp_do(&c, comp_map(GPA_FREE + 8 * ADMA_CHUNK,
                                          4096)).status, ==, ADMA_S_OK);
    /* A pinned chunk was not touched; an unpinned one made the room. */
    g_assert(comp_tt(&c, GPA_FREE + 2 * ADMA_CHUNK) & ADMA_TT_VALID);
    ci = comp_info(&c);
    g_assert_cmpuint(qdict_get_int(ci, "evictions"), >=, 1);
    g_assert_cmpuint(qdict_get_int(ci, "errors-no-space"), ==, 1);
    g_assert_cmpuint(qdict_get_int(ci, "peak-bytes"), <=, budget);
    g_assert_cmpuint(sim_stat(&s, "peak_mapped_bytes"), <=, budget);
    comp_close(&c);
    sim_stop(&s);
}

/*
 * Forward progress under a budget the guest's pins fill: with every chunk
 * that fits pinned, a map in another chunk still gets a span from the
 * reserve chunks may not use; spans run out only when the reserve does,
 * and the room comes back with each UNMAP (a chunk stuck pinned by a
 * stream of requests can no longer starve the others).
 */
static void test_companion_forward_progress(void)
{
    Sim s;
    Comp c;
    struct adma_cqe r;
    g_autoptr(QDict) ci = NULL;
    const uint64_t reserve = 2 * ADMA_CHUNK;
    uint64_t budget = ADMA_WINDOW + 8 * ADMA_CHUNK;
    uint64_t spans = reserve / ADMA_PAGE_SIZE, first_span = 0;
    uint64_t span_gpa = GPA_FREE + 16 * ADMA_CHUNK;
    g_autofree char *extra = g_strdup_printf("--dart-budget %" PRIu64,
                                             budget);
    g_autofree char *prop = g_strdup_printf("\"span-reserve\": %" PRIu64,
                                            reserve);
    unsigned i;

    sim_start(&s, extra);
    comp_open(&c, &s, prop);
    g_assert(comp_enable(&c, GPA_RING, GPA_TT) & ADMA_STATUS_ENABLED);
    /* Chunks fill the budget up to the reserve: six of eight. */
    for (i = 0; i < 6; i++) {
        r = comp_do(&c, comp_map(GPA_FREE + i * ADMA_CHUNK, 4096));
        g_assert_cmpuint(r.status, ==, ADMA_S_OK);
        g_assert_cmpuint(r.handle, ==, ADMA_HANDLE_NONE);
    }
    /* Pages in chunks that do not fit: one span each, exactly the page. */
    for (i = 0; i < spans; i++) {
        r = comp_do(&c, comp_map(span_gpa + i * ADMA_PAGE_SIZE, 4096));
        g_assert_cmpuint(r.status, ==, ADMA_S_OK);
        g_assert_cmpuint(r.handle, !=, ADMA_HANDLE_NONE);
        first_span = first_span ? first_span : r.handle;
    }
    g_assert_cmpuint(comp_tt(&c, span_gpa), ==, 0);
    ci = comp_info(&c);
    g_assert_cmpuint(qdict_get_int(ci, "span-reserve-bytes"), ==, reserve);
    g_assert_cmpuint(qdict_get_int(ci, "spans-mapped"), ==, spans);
    g_assert_cmpuint(qdict_get_int(ci, "span-bytes"), ==, reserve);
    g_assert_cmpuint(qdict_get_int(ci, "chunks-mapped"), ==, 6);
    qobject_unref(ci);
    /* The reserve is used up: the next one waits for an UNMAP. */
    r = comp_do(&c, comp_map(span_gpa + spans * ADMA_PAGE_SIZE, 4096));
    g_assert_cmpuint(r.status, ==, ADMA_S_NO_SPACE);
    g_assert_cmpuint(comp_do(&c, (struct adma_sqe) {
        .op = ADMA_OP_UNMAP, .addr = first_span }).status, ==, ADMA_S_OK);
    r = comp_do(&c, comp_map(span_gpa + spans * ADMA_PAGE_SIZE, 4096));
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);
    g_assert_cmpuint(r.handle, !=, ADMA_HANDLE_NONE);
    /* An unpinned chunk makes room for a chunk, never a pinned one. */
    comp_unpin(&c, GPA_FREE);
    r = comp_do(&c, comp_map(GPA_FREE + 40 * ADMA_CHUNK, 4096));
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);
    g_assert_cmpuint(r.handle, ==, ADMA_HANDLE_NONE);
    g_assert_cmpuint(comp_tt(&c, GPA_FREE), ==, 0);
    g_assert(comp_tt(&c, GPA_FREE + ADMA_CHUNK) & ADMA_TT_VALID);
    ci = comp_info(&c);
    g_assert_cmpuint(qdict_get_int(ci, "evictions"), ==, 1);
    g_assert_cmpuint(qdict_get_int(ci, "errors-no-space"), ==, 1);
    g_assert_cmpuint(qdict_get_int(ci, "peak-bytes"), <=, budget);
    g_assert_cmpuint(sim_stat(&s, "peak_mapped_bytes"), <=, budget);
    comp_close(&c);
    sim_stop(&s);
}

/* sync-baseline: each doorbell handles one entry, as the RFC's did. */
static void test_companion_sync_baseline(void)
{
    Sim s;
    Comp c;
    struct adma_cqe r;
    g_autoptr(QDict) ci = NULL;

    sim_start(&s, NULL);
    comp_open(&c, &s, "\"sync-baseline\": true");
    g_assert(comp_rd(&c, ADMA_REG_STATUS) & ADMA_STATUS_SYNC);
    g_assert_cmpuint(comp_rd64(&c, ADMA_REG_FEATURES) & ADMA_F_TT, ==, 0);
    g_assert_cmpuint(comp_rd64(&c, ADMA_REG_WINDOW_SIZE), ==, 0);
    g_assert(comp_enable(&c, GPA_RING, GPA_TT) & ADMA_STATUS_ENABLED);
    r = comp_do(&c, comp_map(GPA_FREE, 4096));
    g_assert_cmpuint(r.status, ==, ADMA_S_OK);
    g_assert_cmpuint(r.handle, !=, ADMA_HANDLE_NONE);     /* its own map */
    g_assert_cmpuint(comp_do(&c, (struct adma_sqe) {
        .op = ADMA_OP_UNMAP, .addr = r.handle }).status, ==, ADMA_S_OK);
    ci = comp_info(&c);
    g_assert(qdict_get_bool(ci, "sync-baseline"));
    g_assert_cmpuint(qdict_get_int(ci, "doorbells"), ==, 2);
    g_assert_cmpuint(qdict_get_int(ci, "entries"), ==, 2);
    g_assert_cmpuint(qdict_get_int(ci, "dart-maps"), ==, 1);
    comp_close(&c);
    sim_stop(&s);
}

/* The window: all of RAM, one segment, its overlaps reported. */
static void test_window_layout(void)
{
    Sim s;
    Dev d;
    g_autoptr(QDict) info = NULL;
    QList *win;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    info = query(d.qts);
    g_assert_cmpuint(qdict_get_int(info, "window-gpa"), ==, RAM_BASE);
    g_assert_cmpuint(qdict_get_int(info, "window-size"), ==, RAM_SIZE);
    g_assert_cmpuint(qdict_get_int(info, "dma-mappings"), ==, 1);
    win = qdict_get_qlist(info, "window");
    g_assert_cmpuint(qlist_size(win), ==, 1);
    g_assert_cmpuint(d.iova_base, !=, RAM_BASE);  /* the DART chose it */
    dev_close(&d);
    sim_stop(&s);
}

/*
 * Low IOVAs overlapping the GIC's MSI doorbell: the doorbell stays above
 * the window for emulated devices, the RAM behind it is reserved.
 */
static void test_window_overlaps_doorbell(void)
{
    Sim s;
    Dev d;
    g_autoptr(QDict) info = NULL;
    QList *ov;
    QListEntry *e;
    bool doorbell = false;

    sim_start(&s, "--dart-iova-base 0x4000");
    dev_open(&d, &s, NULL);
    info = query(d.qts);
    ov = qdict_get_qlist(info, "window-overlaps");
    QLIST_FOREACH_ENTRY(ov, e) {
        QDict *o = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(o, "kind"), "msi-doorbell")) {
            doorbell = true;
            g_assert(qdict_haskey(o, "reserved-gpa"));
        }
    }
    g_assert(doorbell);
    dev_close(&d);
    sim_stop(&s);
}

/* ------------------------------------------------------------ ACPI -- */

/*
 * The virt machine's fw_cfg (data at +0, a big-endian selector at +8;
 * libqos's mm_fw_cfg has another layout).
 */
#define VIRT_FW_CFG         0x09020000
#define FW_CFG_FILE_DIR     0x19

static void fw_cfg_select(QTestState *qts, uint16_t key)
{
    /* A 16-bit write the device takes big-endian, on a little-endian CPU. */
    qtest_writew(qts, VIRT_FW_CFG + 8, bswap16(key));
}

/* The next @len bytes of the selected item. */
static void fw_cfg_data(QTestState *qts, void *buf, size_t len)
{
    guint8 *p = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        p[i] = qtest_readb(qts, VIRT_FW_CFG);
    }
}

typedef struct FwCfgFile {
    uint32_t size;              /* big-endian, as fw_cfg has them */
    uint16_t select;
    uint16_t reserved;
    char name[56];
} FwCfgFile;

/* The ACPI tables as the firmware would load them from fw_cfg. */
static guint8 *acpi_tables(QTestState *qts, size_t *len)
{
    g_autofree FwCfgFile *dir = NULL;
    uint32_t n, i;
    guint8 *t;

    fw_cfg_select(qts, FW_CFG_FILE_DIR);
    fw_cfg_data(qts, &n, 4);
    n = be32_to_cpu(n);
    g_assert_cmpuint(n, <, 256);
    dir = g_new(FwCfgFile, n);
    fw_cfg_data(qts, dir, n * sizeof(*dir));
    for (i = 0; i < n; i++) {
        if (!strcmp(dir[i].name, "etc/acpi/tables")) {
            *len = be32_to_cpu(dir[i].size);
            t = g_malloc(*len);
            fw_cfg_select(qts, be16_to_cpu(dir[i].select));
            fw_cfg_data(qts, t, *len);
            return t;
        }
    }
    g_assert_not_reached();
}

static const guint8 *acpi_table(const guint8 *t, size_t len, const char *sig,
                                uint32_t *tlen)
{
    size_t off = 0;

    /* The blob is the tables back to back, each with its length at 4. */
    while (off + 36 <= len) {
        uint32_t l = ldl_le_p(t + off + 4);

        g_assert_cmpuint(l, >=, 36);
        g_assert_cmpuint(off + l, <=, len);
        if (!memcmp(t + off, sig, 4)) {
            *tlen = l;
            return t + off;
        }
        off += l;
    }
    return NULL;
}

/* The IORT root complex node's memory address size limit (bits). */
static unsigned iort_rc_limit(const guint8 *t, size_t len)
{
    uint32_t tlen, n, off, i;
    const guint8 *iort = acpi_table(t, len, "IORT", &tlen);

    g_assert(iort);
    n = ldl_le_p(iort + 36);
    off = ldl_le_p(iort + 40);
    for (i = 0; i < n; i++) {
        g_assert_cmpuint(off + 33, <=, tlen);
        if (iort[off] == 2) {       /* root complex */
            return iort[off + 32];
        }
        off += lduw_le_p(iort + off + 1);
    }
    g_assert_not_reached();
}

/*
 * The QWord address space descriptors (tag 0x8a) of the DSDT's _DMA:
 * fills min[], trans[], size[]; returns how many (0: no _DMA).
 */
static unsigned dsdt_dma(const guint8 *t, size_t len, uint64_t *min,
                         uint64_t *trans, uint64_t *size, unsigned max)
{
    uint32_t tlen;
    const guint8 *dsdt = acpi_table(t, len, "DSDT", &tlen);
    const guint8 *p = dsdt ? memmem(dsdt, tlen, "_DMA", 4) : NULL;
    unsigned n = 0;

    g_assert(dsdt);
    if (!p) {
        return 0;
    }
    /* Name(_DMA, Buffer(...) {descriptors, end tag 0x79}) */
    p = memchr(p, 0x8a, dsdt + tlen - p);
    while (p && p + 46 <= dsdt + tlen && p[0] == 0x8a && n < max) {
        g_assert_cmpuint(lduw_le_p(p + 1), ==, 43);
        g_assert_cmpuint(p[3], ==, 0);          /* memory */
        g_assert_cmpuint(p[4] & 1, ==, 0);      /* producer: translates */
        min[n] = ldq_le_p(p + 14);
        g_assert_cmpuint(ldq_le_p(p + 22), ==, min[n] + ldq_le_p(p + 38) - 1);
        trans[n] = ldq_le_p(p + 30);
        size[n] = ldq_le_p(p + 38);
        n++;
        p += 46;
    }
    return n;
}

/*
 * Without a window the tables are upstream's: no _DMA, a 64-bit IORT
 * limit, byte for byte the same as without vfio-apple=on.
 */
static void test_acpi_no_window_unchanged(void)
{
    QTestState *a = qtest_init("-M virt -cpu max -nodefaults");
    QTestState *b = qtest_init("-M virt,vfio-apple=on -cpu max -nodefaults");
    size_t la, lb;
    g_autofree guint8 *ta = acpi_tables(a, &la);
    g_autofree guint8 *tb = acpi_tables(b, &lb);
    uint64_t min[4], trans[4], size[4];

    g_assert_cmpuint(la, ==, lb);
    g_assert(!memcmp(ta, tb, la));
    g_assert_cmpuint(dsdt_dma(tb, lb, min, trans, size, 4), ==, 0);
    g_assert_cmpuint(iort_rc_limit(tb, lb), ==, 64);
    qtest_quit(a);
    qtest_quit(b);
}

/*
 * With a window: _DMA says what QEMU told the guest (bus-ranges, which
 * the device tree's dma-ranges say too), the IORT limit is the bits of
 * the window's highest guest-physical address.
 */
static void test_acpi_window(void)
{
    Sim s;
    Dev d;
    g_autoptr(QDict) info = NULL;
    g_autofree guint8 *t = NULL;
    uint64_t min[8], trans[8], size[8], top = 0;
    size_t len;
    unsigned n, i = 0;
    QList *ranges;
    QListEntry *e;

    sim_start(&s, NULL);
    dev_open(&d, &s, NULL);
    info = query(d.qts);
    ranges = qdict_get_qlist(info, "bus-ranges");
    t = acpi_tables(d.qts, &len);
    n = dsdt_dma(t, len, min, trans, size, 8);
    g_assert_cmpuint(n, ==, qlist_size(ranges));
    g_assert_cmpuint(n, >, 0);
    QLIST_FOREACH_ENTRY(ranges, e) {
        QDict *r = qobject_to(QDict, qlist_entry_obj(e));
        uint64_t gpa = qdict_get_int(r, "gpa"), iova = qdict_get_int(r, "iova");

        g_assert_cmphex(min[i], ==, iova);
        g_assert_cmphex(trans[i], ==, gpa - iova);
        g_assert_cmphex(size[i], ==, qdict_get_int(r, "size"));
        top = MAX(top, gpa + size[i] - 1);
        i++;
    }
    g_assert_cmphex(min[0], ==, d.iova_base);
    g_assert_cmpuint(iort_rc_limit(t, len), ==, 64 - clz64(top));
    dev_close(&d);
    sim_stop(&s);
}

/*
 * Low IOVAs overlapping the MSI doorbell: _DMA stays one whole range (the
 * passthrough device reaches the RAM behind the doorbell's IOVAs through
 * the DART; a hole would fail its mappings there without swiotlb).
 */
static void test_acpi_low_iovas(void)
{
    Sim s;
    Dev d;
    g_autoptr(QDict) info = NULL;
    g_autofree guint8 *t = NULL;
    uint64_t min[8], trans[8], size[8];
    size_t len;
    unsigned doorbells = 0;
    QListEntry *e;

    sim_start(&s, "--dart-iova-base 0x4000");
    dev_open(&d, &s, NULL);
    info = query(d.qts);
    t = acpi_tables(d.qts, &len);
    g_assert_cmpuint(dsdt_dma(t, len, min, trans, size, 8), ==, 1);
    g_assert_cmphex(min[0], ==, d.iova_base);
    g_assert_cmphex(trans[0], ==, RAM_BASE - d.iova_base);
    QLIST_FOREACH_ENTRY(qdict_get_qlist(info, "window-overlaps"), e) {
        QDict *o = qobject_to(QDict, qlist_entry_obj(e));
        uint64_t lo = qdict_get_int(o, "iova");

        if (!strcmp(qdict_get_str(o, "kind"), "msi-doorbell")) {
            doorbells++;
            g_assert(min[0] <= lo && lo < min[0] + size[0]);
        }
    }
    g_assert_cmpuint(doorbells, >, 0);
    dev_close(&d);
    sim_stop(&s);
}

static void expect_refusal(const char *args, const char *says)
{
    g_autofree char *err = NULL;
    int status = qemu_run(args, &err);

    g_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    if (!strstr(err, says)) {
        g_test_message("QEMU said: %s", err);
    }
    g_assert(strstr(err, says));
}

/* Configurations the window cannot serve are refused, saying why. */
static void test_window_refusals(void)
{
    Sim s;
    g_autofree char *dev = NULL;
    g_autofree char *a1 = NULL, *a2 = NULL, *a3 = NULL;

    sim_start(&s, NULL);
    dev = device_json(&s, NULL);
    a1 = g_strdup_printf("-M virt -cpu max -m 512M -object "
                         "memory-backend-memfd,id=mem,size=512M,share=on "
                         "-machine memory-backend=mem -device %s", dev);
    expect_refusal(a1, "vfio-apple=on");
    a2 = g_strdup_printf("-M virt,vfio-apple=on -cpu max -m 2G -object "
                         "memory-backend-memfd,id=mem,size=2G,share=on "
                         "-machine memory-backend=mem -device %s", dev);
    /* 1 GiB window at 1 GiB ends at 2 GiB: fine; 768M would not be. */
    g_free(dev);
    dev = device_json(&s, "\"window-size\": 805306368");
    g_free(a2);
    a2 = g_strdup_printf("-M virt,vfio-apple=on -cpu max -m 2G -object "
                         "memory-backend-memfd,id=mem,size=2G,share=on "
                         "-machine memory-backend=mem -device %s", dev);
    expect_refusal(a2, "power-of-two");
    a3 = g_strdup_printf("-M virt,vfio-apple=on,iommu=smmuv3 -cpu max "
                         "-m 512M");
    expect_refusal(a3, "virtual IOMMU");
    sim_stop(&s);
}

/*
 * Without vfio-apple=on the machine is exactly what it was: no address
 * space of ours, the PCI devices' bus-master address space is system
 * memory (so nothing believes a vIOMMU is there), the same device tree.
 */
/* `info mtree` with the pci-testdev's bus mastering on. */
static char *mtree_of(const char *machine)
{
    QTestState *qts = qtest_initf("-M %s -cpu max -nodefaults "
                                  "-device pci-testdev", machine);
    QGenericPCIBus bus;
    QPCIDevice *dev = NULL;
    char *mtree;

    qpci_init_generic(&bus, qts, NULL, false);
    qpci_device_foreach(&bus.bus, 0x1b36, 0x0005, find_dev, &dev);
    g_assert(dev);
    qpci_device_enable(dev);
    mtree = qtest_hmp(qts, "info mtree");
    g_free(dev);
    qtest_quit(qts);
    return mtree;
}

static void test_no_window_machine_unchanged(void)
{
    g_autofree char *mtree = NULL;
    g_autofree char *dir = g_dir_make_tmp("vfio-apple-dtb-XXXXXX", NULL);
    g_autofree char *a = g_strdup_printf("%s/plain.dtb", dir);
    g_autofree char *b = g_strdup_printf("%s/on.dtb", dir);
    g_autofree char *args = NULL;
    g_autofree char *da = NULL, *db = NULL, *err = NULL;
    gsize la, lb;

    mtree = mtree_of("virt");
    g_assert(!strstr(mtree, "vfio-apple"));
    g_assert(strstr(mtree, "alias bus master @system"));
    g_free(mtree);
    mtree = mtree_of("virt,vfio-apple=on");
    g_assert(strstr(mtree, "alias bus master @vfio-apple-dma"));

    /* No window, no dma-ranges: the device trees are byte for byte equal. */
    args = g_strdup_printf("-M virt,dtb-randomness=off,dumpdtb=%s -cpu max", a);
    qemu_run(args, &err);
    g_free(args);
    g_free(err);
    args = g_strdup_printf("-M virt,vfio-apple=on,dtb-randomness=off,dumpdtb=%s "
                           "-cpu max", b);
    qemu_run(args, &err);
    g_assert(g_file_get_contents(a, &da, &la, NULL));
    g_assert(g_file_get_contents(b, &db, &lb, NULL));
    g_assert_cmpuint(la, ==, lb);
    g_assert(!memcmp(da, db, la));
    g_assert(!g_strstr_len(da, la, "dma-ranges"));
    unlink(a);
    unlink(b);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    /* The machine-level check needs no simulator. */
    qtest_add_func("/vfio-apple/machine/no-window-unchanged",
                   test_no_window_machine_unchanged);
    qtest_add_func("/vfio-apple/acpi/no-window-unchanged",
                   test_acpi_no_window_unchanged);
    if (!sim_binary()) {
        g_test_message("VFIO_APPLE_SIM is not set: skipping the device "
                       "tests");
        return g_test_run();
    }
    qtest_add_func("/vfio-apple/config/cache", test_config_cache);
    qtest_add_func("/vfio-apple/config/policy", test_config_policy);
    qtest_add_func("/vfio-apple/bar/mapping", test_bar_mapping);
    qtest_add_func("/vfio-apple/msix/delivery-and-masking",
                   test_msix_delivery_and_masking);
    qtest_add_func("/vfio-apple/msix/latching-across-disable",
                   test_msix_latching_across_disable);
    qtest_add_func("/vfio-apple/reset/flr", test_flr);
    qtest_add_func("/vfio-apple/dext/stuck", test_stuck_dext);
    qtest_add_func("/vfio-apple/dext/lost", test_device_lost);
    qtest_add_func("/vfio-apple/hotplug/unplug", test_hot_unplug);
    qtest_add_func("/vfio-apple/window/layout", test_window_layout);
    qtest_add_func("/vfio-apple/window/overlaps-doorbell",
                   test_window_overlaps_doorbell);
    qtest_add_func("/vfio-apple/window/refusals", test_window_refusals);
    qtest_add_func("/vfio-apple/acpi/window", test_acpi_window);
    qtest_add_func("/vfio-apple/acpi/low-iovas", test_acpi_low_iovas);
    qtest_add_func("/vfio-apple/companion/map", test_companion_map);
    qtest_add_func("/vfio-apple/companion/malformed",
                   test_companion_malformed);
    qtest_add_func("/vfio-apple/companion/budget", test_companion_budget);
    qtest_add_func("/vfio-apple/companion/forward-progress",
                   test_companion_forward_progress);
    qtest_add_func("/vfio-apple/companion/sync-baseline",
                   test_companion_sync_baseline);
    return g_test_run();
}
