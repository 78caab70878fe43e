/*
 * Unit tests of the IOKit transport's portable half (client/iokit-match.c,
 * client/iokit-callq.c): the code that decides which dext instance serves
 * a host location, which root port a function is below (over a fake
 * IORegistry), what an IOReturn means, how memory is mapped, and how a
 * call that never returns is given up on.  transport-iokit.c only glues
 * these to IOKit, so this is what the macOS transport's behaviour rests on.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../client/iokit-callq.h"
#include "../../client/iokit-match.h"

/* ------------------------------------------------------------ parsing -- */

static void test_parse_forms(void **state)
{
    struct vfa_host_loc l;
    char err[256];

    assert_int_equal(vfa_iokit_parse_location("0000:03:00.0", &l, err,
                                              sizeof(err)), 0);
    assert_int_equal(l.domain, 0);
    assert_int_equal(l.bus, 3);
    assert_int_equal(l.dev, 0);
    assert_int_equal(l.fn, 0);
    assert_string_equal(l.root_port, "");

    assert_int_equal(vfa_iokit_parse_location("a:1f.7", &l, err,
                                              sizeof(err)), 0);
    assert_int_equal(l.domain, 0);
    assert_int_equal(l.bus, 0xa);
    assert_int_equal(l.dev, 0x1f);
    assert_int_equal(l.fn, 7);

    assert_int_equal(vfa_iokit_parse_location("0001:C2:1e.3@pcic1-bridge",
                                              &l, err, sizeof(err)), 0);
    assert_int_equal(l.domain, 1);
    assert_int_equal(l.bus, 0xc2);
    assert_int_equal(l.dev, 0x1e);
    assert_int_equal(l.fn, 3);
    assert_string_equal(l.root_port, "pcic1-bridge");

    assert_int_equal(vfa_iokit_parse_location("1:00.0@regid:0x100000A2c",
                                              &l, err, sizeof(err)), 0);
    assert_string_equal(l.root_port, "regid:0x100000A2c");
}

static void test_parse_regid(void **state)
{
    uint64_t id = 7;

    assert_int_equal(vfa_iokit_parse_regid("regid:0x100000a2c", &id), 0);
    assert_true(id == 0x100000a2cull);
    assert_int_equal(vfa_iokit_parse_regid("regid:0xFFFFFFFFFFFFFFFF", &id),
                     0);
    assert_true(id == UINT64_MAX);
    id = 7;
    assert_int_equal(vfa_iokit_parse_regid("regid:0x1 ", &id), -EINVAL);
    assert_int_equal(vfa_iokit_parse_regid("pcic0-bridge", &id), -EINVAL);
    assert_int_equal(vfa_iokit_parse_regid(NULL, &id), -EINVAL);
    assert_true(id == 7);
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "", "03", "03:00", "03:00.", "03:20.0", "03:00.8", "100:00.0",
        "0000:100:00.0", "0000:03:00.0x", "0000:03:00.0@", ":03:00.0",
        "g:00.0", "0:0:0:00.0",
        "0000:03:00.0@0123456789012345678901234567890123456789012345678901"
        "234567890123",
        /* the registry-ID form: hex, 1 to 16 digits, never 0 */
        "0000:03:00.0@regid:", "0000:03:00.0@regid:0x",
        "0000:03:00.0@regid:1234", "0000:03:00.0@regid:0xzz",
        "0000:03:00.0@regid:0x12g", "0000:03:00.0@regid:0x0",
        "0000:03:00.0@regid:0x10000000000000000",
    };
    struct vfa_host_loc l;
    char err[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        if (vfa_iokit_parse_location(bad[i], &l, err, sizeof(err)) !=
            -EINVAL) {
            fail_msg("accepted '%s'", bad[i]);
        }
        assert_true(err[0] != 0);
    }
    assert_int_equal(vfa_iokit_parse_location(NULL, &l, err, sizeof(err)),
                     -EINVAL);
}

static void test_format_round_trip(void **state)
{
    struct vfa_host_loc l, m;
    char buf[96], err[256];

    assert_int_equal(vfa_iokit_parse_location("2:c0:1f.7@apcie0", &l, err,
                                              sizeof(err)), 0);
    vfa_iokit_format_location(&l, buf, sizeof(buf));
    assert_string_equal(buf, "0002:c0:1f.7@apcie0");
    assert_int_equal(vfa_iokit_parse_location(buf, &m, err, sizeof(err)), 0);
    assert_memory_equal(&l, &m, sizeof(l));
}

/* ----------------------------------------------------------- choosing -- */

static struct vfa_iokit_candidate cand(uint8_t bus, uint8_t dev, uint8_t fn,
                                       const char *root, uint16_t vendor)
{
    struct vfa_iokit_candidate c = { .vendor_id = vendor, .device_id = 0x1 };

    c.loc.bus = bus;
    c.loc.dev = dev;
    c.loc.fn = fn;
    snprintf(c.loc.root_port, sizeof(c.loc.root_port), "%s", root);
    return c;
}

/* A function at bus:00.0 that the registry knows as @regid. */
static struct vfa_iokit_candidate cand_id(uint8_t bus, const char *root,
                                          uint16_t vendor, uint64_t regid)
{
    struct vfa_iokit_candidate c = cand(bus, 0, 0, root, vendor);

    c.regid = regid;
    return c;
}

static struct vfa_host_loc want(uint8_t bus, uint8_t dev, uint8_t fn,
                                const char *root)
{
    struct vfa_host_loc l = { .bus = bus, .dev = dev, .fn = fn };

    snprintf(l.root_port, sizeof(l.root_port), "%s", root);
    return l;
}

static void test_choose_unique(void **state)
{
    struct vfa_iokit_candidate c[3] = {
        cand(1, 0, 0, "pcic0", 0x144d), cand(3, 0, 0, "pcic2", 0x1002),
        cand(3, 0, 1, "pcic2", 0x1002),
    };
    struct vfa_host_loc w = want(3, 0, 1, "");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 2);
    w = want(3, 0, 0, "pcic2");
    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 1);
}

/* Apple Silicon: bus 1 below two root ports.  Never guess. */
static void test_choose_ambiguous_lists_candidates(void **state)
{
    struct vfa_iokit_candidate c[3] = {
        cand(1, 0, 0, "pcic0-bridge", 0x144d),
        cand(1, 0, 0, "pcic2-bridge", 0x1002),
        cand(2, 0, 0, "pcic2-bridge", 0x10de),
    };
    struct vfa_host_loc w = want(1, 0, 0, "");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "ambiguous"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic0-bridge (144d:0001)"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic2-bridge (1002:0001)"));
    /* Only the candidates for that BDF. */
    assert_null(strstr(err, "0000:02:00.0"));

    /* The root port settles it. */
    w = want(1, 0, 0, "pcic2-bridge");
    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 1);
    w = want(1, 0, 0, "pcic0-bridge");
    assert_int_equal(vfa_iokit_choose(c, 3, &w, err, sizeof(err)), 0);
}

/* Two instances claiming the same BDF and root port: refused too. */
static void test_choose_duplicate_refused(void **state)
{
    struct vfa_iokit_candidate c[2] = {
        cand(4, 0, 0, "pcic1", 0x8086), cand(4, 0, 0, "pcic1", 0x8086),
    };
    struct vfa_host_loc w = want(4, 0, 0, "pcic1");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, sizeof(err)), -EEXIST);
}

/* vfa_iokit_choose for bus:00.0@root, its message into @err (512). */
static int choose_bus(const struct vfa_iokit_candidate *c, size_t n,
                      uint8_t bus, const char *root, char *err)
{
    struct vfa_host_loc w = want(bus, 0, 0, root);

    err[0] = 0;
    return vfa_iokit_choose(c, n, &w, err, 512);
}

/*
 * Two roots that share a name (two controllers each calling theirs
 * pcic0-bridge): the name cannot tell them apart, the registry ID can.
 */
static void test_choose_by_regid(void **state)
{
    struct vfa_iokit_candidate c[3] = {
        cand_id(1, "pcic0-bridge", 0x144d, 0x100000a01),
        cand_id(1, "pcic0-bridge", 0x1002, 0x100000b02),
        cand_id(1, "pcic2-bridge", 0x10de, 0x100000c03),
    };
    char e[512] = "";

    assert_int_equal(choose_bus(c, 3, 1, "pcic0-bridge", e), -EEXIST);
    /* Listed so that each line selects one: the shared name is no use. */
    assert_non_null(strstr(e, "0000:01:00.0@regid:0x100000a01 (144d:0001)"));
    assert_non_null(strstr(e, "0000:01:00.0@regid:0x100000b02 (1002:0001)"));
    assert_null(strstr(e, "@pcic0-bridge ("));
    /* The unique name stays a name. */
    assert_non_null(strstr(e, "0000:01:00.0@pcic2-bridge (10de:0001)"));

    assert_int_equal(choose_bus(c, 3, 1, "regid:0x100000b02", e), 1);
    assert_int_equal(choose_bus(c, 3, 1, "regid:0x100000C03", e), 2);
    /* The ID must be the function's, at that BDF. */
    assert_int_equal(choose_bus(c, 3, 1, "regid:0x100000d04", e), -ENOENT);
    assert_non_null(strstr(e, "with registry ID 'regid:0x100000d04'"));
    assert_int_equal(choose_bus(c, 3, 2, "regid:0x100000b02", e), -ENOENT);
    assert_int_equal(choose_bus(c, 3, 1, "regid:0xzz", e), -EINVAL);
    assert_non_null(strstr(e, "bad registry ID"));
    /* 0 is "ID unknown" in a candidate: never a registry ID to select. */
    c[1].regid = 0;
    assert_int_equal(choose_bus(c, 3, 1, "regid:0x0", e), -EINVAL);
}

static void test_unique_location(void **state)
{
    struct vfa_iokit_candidate c[3] = {
        cand_id(1, "pcic0-bridge", 1, 0x1000001f0),
        cand_id(1, "pcic0-bridge", 2, 0x1000002f0),
        cand_id(2, "pcic0-bridge", 3, 0x1000003f0),
    };
    struct vfa_host_loc l;
    char buf[96];

    vfa_iokit_unique_location(c, 3, 1, &l);
    vfa_iokit_format_location(&l, buf, sizeof(buf));
    assert_string_equal(buf, "0000:01:00.0@regid:0x1000002f0");
    vfa_iokit_unique_location(c, 3, 2, &l);
    vfa_iokit_format_location(&l, buf, sizeof(buf));
    assert_string_equal(buf, "0000:02:00.0@pcic0-bridge");
    /* No ID to fall back on: the name, as it was. */
    c[0].regid = 0;
    vfa_iokit_unique_location(c, 3, 0, &l);
    assert_string_equal(l.root_port, "pcic0-bridge");
}

static void test_choose_not_found(void **state)
{
    struct vfa_iokit_candidate c[2] = {
        cand(1, 0, 0, "pcic0", 0x144d), cand(5, 0, 0, "pcic3", 0x10de),
    };
    struct vfa_host_loc w = want(9, 0, 0, "");
    char err[512] = "";

    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "not served"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic0"));
    assert_non_null(strstr(err, "0000:05:00.0@pcic3"));

    /* Right BDF, wrong root port: says where it is. */
    w = want(5, 0, 0, "pcic0");
    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "below root port 'pcic0'"));
    assert_non_null(strstr(err, "0000:05:00.0@pcic3"));

    /* Nothing at all: points at the extension. */
    assert_int_equal(vfa_iokit_choose(c, 0, &w, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "systemextensionsctl"));
}

/* A tiny error buffer is cut, never overrun. */
static void test_choose_small_buffer(void **state)
{
    struct vfa_iokit_candidate c[2] = {
        cand(1, 0, 0, "pcic0", 1), cand(1, 0, 0, "pcic1", 2),
    };
    struct vfa_host_loc w = want(1, 0, 0, "");
    char err[24];

    memset(err, 'x', sizeof(err));
    assert_int_equal(vfa_iokit_choose(c, 2, &w, err, 16), -EEXIST);
    assert_int_equal(strlen(err), 15);
    assert_int_equal(err[16], 'x');
}

/* ----------------------------------------------------- root-port walk -- */

/*
 * A fake IOService plane: node h (1...) with its parent (0: none), whether
 * it is an IOPCIDevice, its registry name and ID.  It counts references:
 * every one parent() hands out must come back through release().
 */
struct fake_node {
    uintptr_t parent;
    bool pci;
    const char *name;
    uint64_t regid;
};

static struct {
    struct fake_node node[64];
    uintptr_t n;
    int refs;
    unsigned parent_calls;
} reg;

static uintptr_t node(uintptr_t parent, bool pci, const char *name,
                      uint64_t regid)
{
    assert_true(reg.n + 1 < sizeof(reg.node) / sizeof(reg.node[0]));
    reg.node[++reg.n] = (struct fake_node){ parent, pci, name, regid };
    return reg.n;
}

static struct fake_node *node_of(uintptr_t h)
{
    assert_true(h >= 1 && h <= reg.n);
    return &reg.node[h];
}

static uintptr_t f_parent(void *ctx, uintptr_t h)
{
    uintptr_t p = node_of(h)->parent;

    reg.parent_calls++;
    reg.refs += p != 0;
    return p;
}

static bool f_pci(void *ctx, uintptr_t h)
{
    return node_of(h)->pci;
}

/* As IORegistryEntryGetName fills an io_name_t. */
static int f_name(void *ctx, uintptr_t h, char *buf, size_t len)
{
    assert_int_equal(len, VFA_IOKIT_NAME_MAX);
    snprintf(buf, len, "%s", node_of(h)->name);
    return 0;
}

static int f_id(void *ctx, uintptr_t h, uint64_t *id)
{
    *id = node_of(h)->regid;
    return 0;
}

static void f_release(void *ctx, uintptr_t h)
{
    node_of(h);
    assert_true(reg.refs > 0);
    reg.refs--;
}

static const struct vfa_iokit_registry_ops fake_ops = {
    .parent = f_parent, .is_pci_device = f_pci, .name = f_name,
    .registry_id = f_id, .release = f_release,
};

static int reg_reset(void **state)
{
    memset(&reg, 0, sizeof(reg));
    return 0;
}

/*
 * Apple Silicon's chain, ioreg -p IOService: arm-io > apcie (platform
 * device) > the PCIe controller's driver > the root port (IOPCIDevice) >
 * IOPP (IOPCI2PCIBridge) > [a Thunderbolt switch's upstream and downstream
 * ports, each an IOPCIDevice with its IOPP] x @switches > the endpoint
 * (IOPCIDevice, @regid) > the dext's service.  Returns the service.
 */
static uintptr_t chain(const char *root, unsigned switches, uint64_t regid)
{
    uintptr_t h = node(0, false, "arm-io", 0x100000010);

    h = node(h, false, "apcie", 0x100000020);
    h = node(h, false, "AppleT8103PCIe", 0x100000030);
    h = node(h, true, root, 0x100000040);
    h = node(h, false, "IOPP", 0x100000050);
    while (switches--) {
        h = node(h, true, "pci-bridge@0", 0x100000060 + switches);
        h = node(h, false, "IOPP", 0x100000070 + switches);
        h = node(h, true, "pci-bridge@1", 0x100000080 + switches);
        h = node(h, false, "IOPP", 0x100000090 + switches);
    }
    h = node(h, true, "pci144d,a80a", regid);
    return node(h, false, "VFIOAppleDriver", 0x1000000f0);
}

static int walk(uintptr_t svc, uint64_t regid, char *root, char *err,
                size_t errlen)
{
    int r = vfa_iokit_root_port(&fake_ops, NULL, svc, regid, root, 64, err,
                                errlen);

    /* Whatever the outcome, every reference came back. */
    assert_int_equal(reg.refs, 0);
    assert_true(reg.parent_calls <= VFA_IOKIT_WALK_MAX);
    return r;
}

static void test_root_port_plain(void **state)
{
    uintptr_t svc = chain("pcic0-bridge", 0, 0x100000a2c);
    char root[64] = "", err[256] = "";

    assert_int_equal(walk(svc, 0x100000a2c, root, err, sizeof(err)), 0);
    assert_string_equal(root, "pcic0-bridge");
}

/* Behind an enclosure's switches: the root port, not a switch port. */
static void test_root_port_thunderbolt(void **state)
{
    uintptr_t svc = chain("pcic2-bridge", 2, 0x100000b3d);
    char root[64] = "", err[256] = "";

    assert_int_equal(walk(svc, 0x100000b3d, root, err, sizeof(err)), 0);
    assert_string_equal(root, "pcic2-bridge");
}

/* The dext says it serves another function than it is attached to. */
static void test_root_port_regid_mismatch(void **state)
{
    uintptr_t svc = chain("pcic0-bridge", 1, 0x100000a2c);
    char root[64] = "untouched", err[256] = "";

    assert_int_equal(walk(svc, 0x100000a2d, root, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "regid:0x100000a2d"));
    assert_non_null(strstr(err, "regid:0x100000a2c"));
    assert_non_null(strstr(err, "refused"));
    assert_string_equal(root, "untouched");
}

/* A registry that never leaves the PCI tree: bounded, refused. */
static void test_root_port_bounded(void **state)
{
    uintptr_t a, b, svc;
    char root[64] = "untouched", err[256] = "";
    unsigned i;

    /* a loop of two IOPCIDevices */
    a = node(0, true, "pci-a", 0x100000a00);
    b = node(a, true, "pci-b", 0x100000b00);
    reg.node[a].parent = b;
    svc = node(b, false, "VFIOAppleDriver", 0x100000c00);
    assert_int_equal(walk(svc, 0x100000b00, root, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "within 32 registry levels"));
    assert_string_equal(root, "untouched");

    /* a chain of bridges deeper than the bound */
    reg_reset(NULL);
    a = node(0, false, "AppleT8103PCIe", 0x100000010);
    for (i = 0; i < 20; i++) {
        a = node(a, true, "pci-bridge", 0x100000100 + i);
        a = node(a, false, "IOPP", 0x100000200 + i);
    }
    a = node(a, true, "pci144d,a80a", 0x100000a2c);
    svc = node(a, false, "VFIOAppleDriver", 0x1000000f0);
    assert_int_equal(walk(svc, 0x100000a2c, root, err, sizeof(err)), -ENODEV);
    assert_string_equal(root, "untouched");
}

static void test_root_port_name_too_long(void **state)
{
    static const char n63[] = "012345678901234567890123456789012345678901234"
                              "567890123456789012";
    static const char n64[] = "012345678901234567890123456789012345678901234"
                              "5678901234567890123";
    uintptr_t svc = chain(n64, 0, 0x100000a2c);
    char root[64] = "untouched", err[256] = "";

    assert_int_equal(sizeof(n63), 64);
    assert_int_equal(walk(svc, 0x100000a2c, root, err, sizeof(err)),
                     -ENAMETOOLONG);
    assert_non_null(strstr(err, "longer than 63"));
    assert_string_equal(root, "untouched");
    reg_reset(NULL);
    svc = chain(n63, 0, 0x100000a2c);
    assert_int_equal(walk(svc, 0x100000a2c, root, err, sizeof(err)), 0);
    assert_string_equal(root, n63);
}

static void test_root_port_missing_parent(void **state)
{
    uintptr_t svc, pcidev, iopp;
    char root[64] = "untouched", err[256] = "";

    /* the service detached: no provider at all */
    svc = node(0, false, "VFIOAppleDriver", 0x1000000f0);
    assert_int_equal(walk(svc, 0x100000a2c, root, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "no provider"));

    /* a provider that is no IOPCIDevice */
    reg_reset(NULL);
    svc = node(node(0, false, "IOResources", 0x100000a2c), false,
               "VFIOAppleDriver", 0x1000000f0);
    assert_int_equal(walk(svc, 0x100000a2c, root, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "not attached to an IOPCIDevice"));

    /* torn down mid-walk: a bridge with no parent (an unplug) */
    reg_reset(NULL);
    iopp = node(0, false, "IOPP", 0x100000050);
    pcidev = node(iopp, true, "pci144d,a80a", 0x100000a2c);
    svc = node(pcidev, false, "VFIOAppleDriver", 0x1000000f0);
    assert_int_equal(walk(svc, 0x100000a2c, root, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "no parent"));
    assert_string_equal(root, "untouched");
}

/* ----------------------------------------------------------- IOReturn -- */

static void test_result_dext_codes(void **state)
{
    uint32_t st = 99;

    assert_int_equal(vfa_iokit_result(0, &st), 0);
    assert_int_equal(st, VFA_OK);
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_BUSY), &st), 0);
    assert_int_equal(st, VFA_E_BUSY);
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_NOSPC), &st), 0);
    assert_int_equal(st, VFA_E_NOSPC);
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_ALREADY), &st), 0);
    assert_int_equal(st, VFA_E_ALREADY);
    /* A method's NODEV is its answer, not a lost connection. */
    assert_int_equal(vfa_iokit_result(VFA_IORETURN(VFA_E_NODEV), &st), 0);
    assert_int_equal(st, VFA_E_NODEV);
}

static void test_result_gone(void **state)
{
    static const uint32_t gone[] = {
        VFA_KIO_RETURN_NOT_ATTACHED, VFA_KIO_RETURN_NO_DEVICE,
        VFA_KIO_RETURN_OFFLINE, VFA_KIO_RETURN_IPC_ERROR,
        VFA_KIO_RETURN_ABORTED, VFA_MACH_SEND_INVALID_DEST,
        VFA_MACH_RCV_PORT_DIED,
    };
    uint32_t st;
    size_t i;

    for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        assert_int_equal(vfa_iokit_result(gone[i], &st), -ENODEV);
    }
}

static void test_result_iokit_refusals(void **state)
{
    uint32_t st;

    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_BAD_ARGUMENT, &st), 0);
    assert_int_equal(st, VFA_E_PROTO);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_UNSUPPORTED, &st), 0);
    assert_int_equal(st, VFA_E_NOSYS);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_NOT_PRIVILEGED, &st), 0);
    assert_int_equal(st, VFA_E_PERM);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_EXCLUSIVE_ACCESS, &st),
                     0);
    assert_int_equal(st, VFA_E_BUSY);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_NO_MEMORY, &st), 0);
    assert_int_equal(st, VFA_E_NOMEM);
    /* Anything else: the operation failed, the connection stands. */
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_ERROR, &st), 0);
    assert_int_equal(st, VFA_E_IO);
    assert_int_equal(vfa_iokit_result(VFA_KIO_RETURN_TIMEOUT, &st), 0);
    assert_int_equal(st, VFA_E_IO);
    /* The vendor base with code 0 is not a dext code. */
    assert_int_equal(vfa_iokit_result(VFA_IORETURN_BASE, &st), 0);
    assert_int_equal(st, VFA_E_IO);
}

/* -------------------------------------------------------- cache modes -- */

static void test_map_cache(void **state)
{
    const uint32_t m = VFA_BAR_PRESENT | VFA_BAR_MAPPABLE;

    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_IRQ_PAGE, 0),
                     VFA_IOKIT_CACHE_DEFAULT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(0), m),
                     VFA_IOKIT_CACHE_DEFAULT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(2),
                                         m | VFA_BAR_PREFETCHABLE |
                                         VFA_BAR_MEM64),
                     VFA_IOKIT_CACHE_WRITE_COMBINE);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(5),
                                         VFA_BAR_PRESENT |
                                         VFA_BAR_PREFETCHABLE), -ENOENT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(1), 0), -ENOENT);
    assert_int_equal(vfa_iokit_map_cache(VFA_MEM_BAR(6), m), -EINVAL);
    assert_int_equal(vfa_iokit_map_cache(17, m), -EINVAL);
}

/* What the dext's dispatch table checks the output count against. */
static void test_out_room(void **state)
{
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_GET_VERSION), 3);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_CONFIG_WRITE), 2);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_BAR_INFO), 4);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_DMA_MAP), 0);
    assert_int_equal(vfa_iokit_out_room(VFA_SEL_COUNT + 5), VFA_MAX_SCALARS);
}

/* --------------------------------------------------------- call queue -- */

/* A fake IOConnectCallMethod: blocks while @hold, counts its runs. */
struct fake_call {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool hold;
    int runs;
    int lates;
    int freed;
    uint64_t stale;
    struct vfa_callq q;
};

static void fake_run(void *opaque)
{
    struct fake_call *f = opaque;

    pthread_mutex_lock(&f->lock);
    while (f->hold) {
        pthread_cond_wait(&f->cond, &f->lock);
    }
    f->runs++;
    pthread_mutex_unlock(&f->lock);
}

static void fake_late(void *opaque)
{
    struct fake_call *f = opaque;

    pthread_mutex_lock(&f->lock);
    f->lates++;
    pthread_mutex_unlock(&f->lock);
}

static void fake_free(void *opaque)
{
    struct fake_call *f = opaque;

    __atomic_store_n(&f->freed, 1, __ATOMIC_SEQ_CST);
}

static void fake_release(struct fake_call *f)
{
    pthread_mutex_lock(&f->lock);
    f->hold = false;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static struct fake_call *fake_new(void)
{
    struct fake_call *f = calloc(1, sizeof(*f));

    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    assert_int_equal(vfa_callq_init(&f->q, fake_run, fake_late, fake_free,
                                    f, &f->stale), 0);
    return f;
}

static int64_t ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_callq_in_step(void **state)
{
    struct fake_call *f = fake_new();
    int i;

    for (i = 0; i < 100; i++) {
        assert_int_equal(vfa_callq_call(&f->q, i % 2 ? 1000 : 0), 0);
    }
    assert_int_equal(f->runs, 100);
    assert_false(vfa_callq_behind(&f->q));
    assert_int_equal(vfa_callq_resync(&f->q, 0), 0);
    assert_int_equal(f->stale, 0);
    assert_int_equal(f->lates, 0);
    assert_true(vfa_callq_destroy(&f->q));
    free(f);
}

/*
 * The transport.h contract: a call that times out leaves us behind; while
 * behind, calls fail at once without reaching the worker; the late result
 * is dropped (stale), never taken for a later call's; then all is well.
 */
static void test_callq_timeout_behind_resync(void **state)
{
    struct fake_call *f = fake_new();
    int64_t t0;

    f->hold = true;
    t0 = ms_now();
    assert_int_equal(vfa_callq_call(&f->q, 50), -ETIMEDOUT);
    assert_true(ms_now() - t0 >= 50);
    assert_true(vfa_callq_behind(&f->q));

    /* Fast failure: no wait, nothing posted. */
    t0 = ms_now();
    assert_int_equal(vfa_callq_call(&f->q, 5000), -ETIMEDOUT);
    assert_true(ms_now() - t0 < 1000);
    assert_int_equal(vfa_callq_resync(&f->q, 20), -ETIMEDOUT);
    assert_int_equal(f->runs, 0);

    fake_release(f);
    assert_int_equal(vfa_callq_resync(&f->q, 5000), 0);
    assert_false(vfa_callq_behind(&f->q));
    assert_int_equal(f->runs, 1);
    assert_int_equal(f->stale, 1);
    /*
     * The late hook ran (on the worker, once), and before the call could
     * be settled: a poller woken by it always finds the result there.
     */
    assert_int_equal(f->lates, 1);

    /* In step again: the next call is its own. */
    assert_int_equal(vfa_callq_call(&f->q, 1000), 0);
    assert_int_equal(f->runs, 2);
    assert_int_equal(f->stale, 1);
    assert_true(vfa_callq_destroy(&f->q));
    free(f);
}

/* A call that comes after the late one finished settles it itself. */
static void test_callq_next_call_settles(void **state)
{
    struct fake_call *f = fake_new();

    f->hold = true;
    assert_int_equal(vfa_callq_call(&f->q, 10), -ETIMEDOUT);
    fake_release(f);
    while (__atomic_load_n(&f->runs, __ATOMIC_SEQ_CST) < 1) {
        usleep(1000);
    }
    usleep(10000);
    assert_int_equal(vfa_callq_call(&f->q, 1000), 0);
    assert_int_equal(f->runs, 2);
    assert_int_equal(f->stale, 1);
    assert_false(vfa_callq_behind(&f->q));
    assert_true(vfa_callq_destroy(&f->q));
    free(f);
}

/*
 * Destroy while the worker is stuck in the dext: destroy returns at once,
 * and the worker frees the transport when its call returns.
 */
static void test_callq_destroy_stuck_orphans(void **state)
{
    struct fake_call *f = fake_new();
    int64_t t0;

    f->hold = true;
    assert_int_equal(vfa_callq_call(&f->q, 10), -ETIMEDOUT);
    t0 = ms_now();
    assert_false(vfa_callq_destroy(&f->q));
    assert_true(ms_now() - t0 < 1000);
    assert_int_equal(__atomic_load_n(&f->freed, __ATOMIC_SEQ_CST), 0);
    fake_release(f);
    for (t0 = ms_now(); ms_now() - t0 < 5000 &&
         !__atomic_load_n(&f->freed, __ATOMIC_SEQ_CST);) {
        usleep(1000);
    }
    assert_int_equal(f->freed, 1);
    /* The orphaned call's late hook is not run: nobody listens. */
    assert_int_equal(f->lates, 0);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_regid),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_choose_unique),
        cmocka_unit_test(test_choose_ambiguous_lists_candidates),
        cmocka_unit_test(test_choose_duplicate_refused),
        cmocka_unit_test(test_choose_by_regid),
        cmocka_unit_test(test_unique_location),
        cmocka_unit_test(test_choose_not_found),
        cmocka_unit_test(test_choose_small_buffer),
        cmocka_unit_test_setup(test_root_port_plain, reg_reset),
        cmocka_unit_test_setup(test_root_port_thunderbolt, reg_reset),
        cmocka_unit_test_setup(test_root_port_regid_mismatch, reg_reset),
        cmocka_unit_test_setup(test_root_port_bounded, reg_reset),
        cmocka_unit_test_setup(test_root_port_name_too_long, reg_reset),
        cmocka_unit_test_setup(test_root_port_missing_parent, reg_reset),
        cmocka_unit_test(test_result_dext_codes),
        cmocka_unit_test(test_result_gone),
        cmocka_unit_test(test_result_iokit_refusals),
        cmocka_unit_test(test_map_cache),
        cmocka_unit_test(test_out_room),
        cmocka_unit_test(test_callq_in_step),
        cmocka_unit_test(test_callq_timeout_behind_resync),
        cmocka_unit_test(test_callq_next_call_settles),
        cmocka_unit_test(test_callq_destroy_stuck_orphans),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
