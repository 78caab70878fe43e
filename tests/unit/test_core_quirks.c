/*
 * Dext core: the built-in quirk table (dext/core/quirks.c) and its flags,
 * and the hooks the macOS shell needs: vfa_core_power_save/restore (its
 * SetPowerState: wake can leave config space at reset values),
 * vfa_core_probe_gone (its Stop cannot tell a pulled cable from a closed
 * client), and the MSI-X pages trapped whatever the platform reports (the
 * shell reports none of its own).  The fake platform reports one fixed identity, so the table is
 * exercised through a get_info wrapper that presents other functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_core_fake.h"
#include "vfio-apple/pci-cfg.h"

#define A 0x1111

/* ------------------------------------------- identity under test -- */

static struct {
    uint16_t vendor, device;
    uint32_t class_code;
    int (*get_info)(void *ctx, struct vfa_platform_info *in);
} as;

static int as_get_info(void *ctx, struct vfa_platform_info *in)
{
    int rc = as.get_info(ctx, in);

    in->vendor_id = as.vendor;
    in->device_id = as.device;
    in->class_code = as.class_code;
    return rc;
}

/* A core over the fake that presents vendor:device of class `cls`;
 * NULL with *err set if the core refuses it. */
static struct vfa_core *create_as(struct fake *f, uint16_t vendor, uint16_t device,
                                  uint32_t cls, struct vfa_platform_ops *ops, uint32_t *err)
{
    struct vfa_core_config cfg = { .quirks = f->quirks, .nquirks = f->nquirks };

    as.vendor = vendor;
    as.device = device;
    as.class_code = cls;
    as.get_info = f->ops.get_info;
    *ops = f->ops;
    ops->get_info = as_get_info;
    f->nwrites = 0;
    return vfa_core_create(ops, f, &cfg, err);
}

static int setup(void **state)
{
    *state = fake_new(0, 0, 0);
    return 0;
}

static int setup_open(void **state)
{
    *state = fake_new(0, 0, A);
    return 0;
}

static struct vfa_identity identity_of(struct vfa_core *c)
{
    struct vfa_identity id;
    uint64_t out[16];
    struct vfa_call call = {
        .selector = VFA_SEL_GET_IDENTITY, .nscalars_out = 16, .scalars_out = out,
        .struct_out = &id, .struct_out_len = sizeof(id),
    };

    assert_int_equal(vfa_core_dispatch(c, 7, &call), 0);
    return id;
}

/* --------------------------------------------------- built-in table -- */

/* A GPU's HD Audio function is refused, for either GPU vendor, before
 * anything is written to it. */
static void test_hdmi_audio_not_bound(void **state)
{
    struct fake *f = *state;
    struct vfa_platform_ops ops;
    uint32_t err = 0;
    const uint16_t vendors[] = { 0x10de, 0x1002 };

    for (unsigned i = 0; i < 2; i++) {
        assert_null(create_as(f, vendors[i], 0x22e8, 0x040300, &ops, &err));
        assert_int_equal(err, VFA_E_NOTSUP);
        assert_int_equal(f->nwrites, 0);
        /* Any prog-if of the HD Audio subclass. */
        assert_null(create_as(f, vendors[i], 0xaaf0, 0x040301, &ops, &err));
        assert_int_equal(err, VFA_E_NOTSUP);
    }
}

/* Everything else of those vendors, and HD Audio of other vendors, binds
 * with nothing taken away (FLR still offered). */
static void test_gpus_and_others_bound(void **state)
{
    struct fake *f = *state;
    struct vfa_platform_ops ops;
    uint32_t err = 0;
    const struct { uint16_t v, d; uint32_t cls; } ok[] = {
        { 0x10de, 0x2bb4, 0x030000 },   /* the Blackwell GPU itself */
        { 0x10de, 0x2b85, 0x030200 },   /* 3D controller */
        { 0x1002, 0x744c, 0x030000 },
        { 0x10de, 0x1ad8, 0x0c0330 },   /* a GPU's USB controller */
        { 0x10de, 0x22e8, 0x040100 },   /* multimedia audio, not HD Audio */
        { 0x8086, 0x2668, 0x040300 },   /* HD Audio of another vendor */
    };

    for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct vfa_core *c = create_as(f, ok[i].v, ok[i].d, ok[i].cls, &ops, &err);

        assert_non_null(c);
        assert_int_equal(err, 0);
        assert_true(identity_of(c).flags & VFA_ID_FLR);
        vfa_core_destroy(c);
    }
}

/* A creator's NO_BIND works like a built-in one; NO_FLR and NO_BIND on
 * the same function: not bound (the stronger one wins). */
static void test_creator_no_bind(void **state)
{
    struct fake *f = *state;
    struct vfa_platform_ops ops;
    uint32_t err = 0;
    struct vfa_quirk q[2] = {
        { .name = "no flr", .vendor_id = 0x1b36, .device_id = 0x0010, .flags = VFA_QUIRK_NO_FLR },
        { .name = "refuse", .vendor_id = 0x1b36, .device_id = 0x0011, .flags = VFA_QUIRK_NO_BIND },
    };

    f->quirks = q;
    f->nquirks = 2;
    struct vfa_core *c = create_as(f, 0x1b36, 0x0010, 0x010802, &ops, &err);
    assert_non_null(c);
    assert_false(identity_of(c).flags & VFA_ID_FLR);
    vfa_core_destroy(c);
    assert_null(create_as(f, 0x1b36, 0x0011, 0x010802, &ops, &err));
    assert_int_equal(err, VFA_E_NOTSUP);
    q[0].device_id = 0x0011;
    assert_null(create_as(f, 0x1b36, 0x0011, 0x010802, &ops, &err));
    f->quirks = NULL;
    f->nquirks = 0;
}

/* ------------------------------------------------------ sleep/wake -- */

static void cfg_call(struct fake *f, uint32_t sel, uint64_t off, uint64_t w, uint64_t v,
                     uint64_t *out)
{
    if (sel == VFA_SEL_CONFIG_WRITE)
        assert_int_equal(CALLN(f, A, sel, out, off, w, v), 0);
    else
        assert_int_equal(CALLN(f, A, sel, out, off, w), 0);
}

/* What a wake does to the function: config space back at reset values
 * (Command 0, cache line 0, MSI-X disabled). */
static void wake_resets(struct fake *f)
{
    f->cfg[VFA_PCI_COMMAND] = 0;
    f->cfg[VFA_PCI_COMMAND + 1] = 0;
    f->cfg[VFA_PCI_CACHE_LINE_SIZE] = 0;
    f->irq_type = VFA_IRQ_NONE;
    f->irq_setup_calls = 0;
    f->nwrites = 0;
}

static void test_wake_restores(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];
    void *h;
    uint64_t size;

    cfg_call(f, VFA_SEL_CONFIG_WRITE, VFA_PCI_COMMAND, 2,
             VFA_PCI_COMMAND_MEMORY | VFA_PCI_COMMAND_MASTER, out);
    cfg_call(f, VFA_SEL_CONFIG_WRITE, VFA_PCI_CACHE_LINE_SIZE, 1, 0x10, out);
    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_IRQ_SETUP, out, VFA_IRQ_MSIX, 4), 0);

    vfa_core_power_save(f->core);
    wake_resets(f);
    vfa_core_power_restore(f->core);

    assert_int_equal(f->cfg[VFA_PCI_COMMAND] & (VFA_PCI_COMMAND_MEMORY | VFA_PCI_COMMAND_MASTER),
                     VFA_PCI_COMMAND_MEMORY | VFA_PCI_COMMAND_MASTER);
    assert_int_equal(f->cfg[VFA_PCI_CACHE_LINE_SIZE], 0x10);
    assert_int_equal(f->irq_type, VFA_IRQ_MSIX);
    assert_int_equal(f->irq_count, 4);
    /* Nothing the guest cannot write was written: not the BARs, not the
     * MSI/MSI-X capabilities (irq_setup is the platform's business). */
    assert_false(fake_wrote(f, VFA_PCI_BASE_ADDRESS_0, 24));
    assert_false(fake_wrote(f, FAKE_MSI_CAP, 24));
    assert_false(fake_wrote(f, FAKE_MSIX_CAP, 12));
    /* The saved state is used once: a second restore writes nothing. */
    f->nwrites = 0;
    vfa_core_power_restore(f->core);
    assert_int_equal(f->nwrites, 0);
}

/* A guest that cleared memory space while a BAR is mapped keeps its view;
 * the device decodes after the wake, as it did before. */
static void test_wake_keeps_virtual_decode(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];
    void *h;
    uint64_t size;

    assert_int_equal(vfa_core_map_memory(f->core, A, VFA_MEM_BAR(0), &h, &size), 0);
    cfg_call(f, VFA_SEL_CONFIG_WRITE, VFA_PCI_COMMAND, 2, VFA_PCI_COMMAND_MASTER, out);
    vfa_core_power_save(f->core);
    wake_resets(f);
    vfa_core_power_restore(f->core);
    assert_true(f->cfg[VFA_PCI_COMMAND] & VFA_PCI_COMMAND_MEMORY);
    assert_true(f->cfg[VFA_PCI_COMMAND] & VFA_PCI_COMMAND_MASTER);
    cfg_call(f, VFA_SEL_CONFIG_READ, VFA_PCI_COMMAND, 2, 0, out);
    assert_int_equal(out[0] & (VFA_PCI_COMMAND_MEMORY | VFA_PCI_COMMAND_MASTER),
                     VFA_PCI_COMMAND_MASTER);
    /* MMIO reaches the device again (it decodes). */
    f->nmmio = 0;
    assert_int_equal(CALLN(f, A, VFA_SEL_MMIO_READ, out, 0, 0, 4), 0);
    assert_true(fake_mmio_hit(f, 0, 0, 4, false));
}

/* Without a session, or without a save, or once the device is gone, the
 * hooks touch nothing. */
static void test_power_noops(void **state)
{
    struct fake *f = *state;

    f->nwrites = 0;
    vfa_core_power_save(f->core);
    vfa_core_power_restore(f->core);
    assert_int_equal(f->nwrites, 0);

    uint64_t out[16];
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    f->nwrites = 0;
    vfa_core_power_restore(f->core);            /* no save yet */
    assert_int_equal(f->nwrites, 0);
    vfa_core_power_save(f->core);
    vfa_core_device_gone(f->core);
    vfa_core_power_restore(f->core);
    assert_int_equal(f->nwrites, 0);
    vfa_core_client_gone(f->core, A);
}

/* A session that ended between save and restore leaves nothing to
 * restore into the next one. */
static void test_power_save_dropped_with_session(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    vfa_core_power_save(f->core);
    vfa_core_client_gone(f->core, A);
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    f->nwrites = 0;
    vfa_core_power_restore(f->core);
    assert_int_equal(f->nwrites, 0);
}

/* ---------------------------------------------------- shell hooks -- */

static int no_traps_get_info(void *ctx, struct vfa_platform_info *in)
{
    int rc = as.get_info(ctx, in);

    for (unsigned i = 0; i < VFA_NUM_BARS; i++)
        in->bar_trapped_pages[i] = 0;
    return rc;
}

/* A platform that traps nothing still gets the MSI-X table and PBA page
 * (BAR0 page 1 in the fake) trapped, in BAR_INFO and the identity. */
static void test_msix_pages_trapped(void **state)
{
    struct fake *f = *state;
    struct vfa_platform_ops ops = f->ops;
    uint64_t out[16];
    uint32_t err;

    as.get_info = f->ops.get_info;
    ops.get_info = no_traps_get_info;
    struct vfa_core *c = vfa_core_create(&ops, f, NULL, &err);
    assert_non_null(c);
    struct vfa_call open = { .selector = VFA_SEL_OPEN, .nscalars_in = 2,
                             .scalars_in = (uint64_t[]){ VFA_ABI_MAJOR, 0 },
                             .nscalars_out = 16, .scalars_out = out };
    assert_int_equal(vfa_core_dispatch(c, A, &open), 0);
    struct vfa_call bi = { .selector = VFA_SEL_BAR_INFO, .nscalars_in = 1,
                           .scalars_in = (uint64_t[]){ 0 }, .nscalars_out = 16,
                           .scalars_out = out };
    assert_int_equal(vfa_core_dispatch(c, A, &bi), 0);
    assert_int_equal(out[3], 1u << (FAKE_MSIX_TABLE / VFA_PAGE_SIZE));
    assert_true(out[0] & VFA_BAR_TRAPPED);
    assert_true(out[0] & VFA_BAR_MAPPABLE);
    assert_true(identity_of(c).bar_flags[0] & VFA_BAR_TRAPPED);
    /* BAR2 holds neither: nothing trapped there. */
    bi.scalars_in = (uint64_t[]){ 2 };
    bi.nscalars_out = 16;
    assert_int_equal(vfa_core_dispatch(c, A, &bi), 0);
    assert_int_equal(out[3], 0);
    vfa_core_destroy(c);
}

static int upper_half_get_info(void *ctx, struct vfa_platform_info *in)
{
    int rc = as.get_info(ctx, in);

    /* BAR0 is 64-bit: a platform that also reports its upper half as a
     * BAR, and a 64-bit BAR 5 with no register after it. */
    in->bar_flags[1] = VFA_BAR_PRESENT | VFA_BAR_MAPPABLE;
    in->bar_size[1] = 16384;
    in->bar_flags[5] = VFA_BAR_PRESENT | VFA_BAR_MEM64 | VFA_BAR_MAPPABLE;
    in->bar_size[5] = 16384;
    return rc;
}

static void test_bar_upper_half_dropped(void **state)
{
    struct fake *f = *state;
    struct vfa_platform_ops ops = f->ops;
    uint32_t err;

    as.get_info = f->ops.get_info;
    ops.get_info = upper_half_get_info;
    struct vfa_core *c = vfa_core_create(&ops, f, NULL, &err);
    assert_non_null(c);
    struct vfa_identity id = identity_of(c);
    assert_true(id.bar_flags[0] & VFA_BAR_MEM64);
    assert_int_equal(id.bar_flags[1], 0);
    assert_int_equal(id.bar_size[1], 0);
    assert_int_equal(id.bar_flags[5], 0);
    assert_true(id.bar_flags[2] & VFA_BAR_PRESENT);     /* untouched */
    assert_int_equal(id.num_bars, 2);
    vfa_core_destroy(c);
}

/* The vendor ID answering all-ones is a device gone: marked, the IRQ page
 * told, and the cleanup that follows writes nothing to it. */
static void test_probe_gone(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    assert_false(vfa_core_probe_gone(f->core));
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 0, 2), 0);
    struct vfa_irq_page *p = f->irq_page;
    f->cfg[0] = f->cfg[1] = 0xff;
    assert_true(vfa_core_probe_gone(f->core));
    assert_true(p->events & VFA_EVENT_DEVICE_GONE);
    assert_int_equal(CALLN(f, A, VFA_SEL_CONFIG_READ, out, 0, 2), VFA_E_NODEV);
    f->nwrites = 0;
    f->flr_count = f->hot_count = 0;
    vfa_core_client_gone(f->core, A);
    assert_int_equal(f->nwrites, 0);
    assert_int_equal(f->flr_count + f->hot_count, 0);
    assert_true(vfa_core_probe_gone(f->core));  /* stays gone */
    f->cfg[0] = 0x36;
    f->cfg[1] = 0x1b;
}

/* Stop with the device still there: the client hears DEVICE_GONE, the
 * session goes with bus mastering cleared before any unmap, the device is
 * reset, and device methods fail from then on. */
static void test_shutdown_present(void **state)
{
    struct fake *f = *state;
    uint64_t out[16];

    cfg_call(f, VFA_SEL_CONFIG_WRITE, VFA_PCI_COMMAND, 2,
             VFA_PCI_COMMAND_MEMORY | VFA_PCI_COMMAND_MASTER, out);
    struct vfa_irq_page *p = f->irq_page;
    unsigned notified = f->notifies;
    f->flr_count = f->hot_count = 0;
    vfa_core_shutdown(f->core);
    assert_true(p->events & VFA_EVENT_DEVICE_GONE);
    assert_true(f->notifies > notified);
    assert_false(f->cfg[VFA_PCI_COMMAND] & VFA_PCI_COMMAND_MASTER);
    assert_int_equal(f->flr_count + f->hot_count, 1);
    assert_int_equal(vfa_core_session_owner(f->core), 0);
    assert_int_equal(CALLN(f, A, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), VFA_E_NODEV);
}

static uint32_t fake_rd(void *opaque, uint32_t off, unsigned width)
{
    struct fake *f = opaque;
    uint32_t v = 0;

    if (off + width > f->config_size)
        return width == 4 ? ~0u : (1u << (width * 8)) - 1;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)f->cfg[off + i] << (8 * i);
    return v;
}

/* The fake's config space: 1b36:0010, NVMe class, PCIe with FLR. */
static void test_info_from_config(void **state)
{
    struct fake *f = *state;
    struct vfa_platform_info in;

    uint32_t devcap = FAKE_PCIE_CAP + VFA_PCI_EXP_DEVCAP;

    f->cfg[devcap + 3] |= (uint8_t)(VFA_PCI_EXP_DEVCAP_FLR >> 24);
    memset(&in, 0, sizeof(in));
    in.reset_methods = VFA_RESET_HOT;
    vfa_platform_info_from_config(&in, fake_rd, f);
    assert_int_equal(in.vendor_id, 0x1b36);
    assert_int_equal(in.device_id, 0x0010);
    assert_int_equal(in.class_code, 0x010802);
    assert_int_equal(in.revision, 0x02);
    assert_int_equal(in.subsys_vendor_id, f->cfg[0x2c] | f->cfg[0x2d] << 8);
    assert_int_equal(in.config_size, 4096);
    assert_int_equal(in.reset_methods, VFA_RESET_HOT | VFA_RESET_FLR);
    /* Without the FLR bit: no FLR, hot reset kept. */
    f->cfg[devcap + 3] &= (uint8_t)~(VFA_PCI_EXP_DEVCAP_FLR >> 24);
    vfa_platform_info_from_config(&in, fake_rd, f);
    assert_int_equal(in.reset_methods, VFA_RESET_HOT);
    /* Without a PCIe capability (MSI-X's next pointer ends the list):
     * 256 bytes of config space. */
    f->cfg[FAKE_MSIX_CAP + 1] = 0;
    vfa_platform_info_from_config(&in, fake_rd, f);
    assert_int_equal(in.config_size, 256);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fake_teardown)
#define TO(fn) cmocka_unit_test_setup_teardown(fn, setup_open, fake_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hdmi_audio_not_bound),
        T(test_gpus_and_others_bound),
        T(test_creator_no_bind),
        TO(test_wake_restores),
        TO(test_wake_keeps_virtual_decode),
        T(test_power_noops),
        TO(test_power_save_dropped_with_session),
        T(test_msix_pages_trapped),
        TO(test_probe_gone),
        TO(test_shutdown_present),
        T(test_info_from_config),
        T(test_bar_upper_half_dropped),
    };
    return cmocka_run_group_tests_name("dext core quirks and shell hooks", tests, NULL, NULL);
}
