/*
 * Unit tests of the vfio-apple command's macOS host (cli/host-macos.c),
 * built on Linux with vfa_iokit_list() faked: device names (a root port
 * added only where a BDF repeats, the registry ID where a root port name
 * repeats too), how DEVICE arguments resolve (ambiguous
 * and unknown locations refused with the candidates), and what QEMU is
 * given (host= and host-root-port=).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cli/host.h"
#include "../../client/iokit-match.h"

/* What the fake dext serves. */
static struct vfa_iokit_candidate fake[4];
static size_t nfake;

/* A function at bus:00.0 below @root; its registry ID from its vendor. */
static void serve(uint8_t bus, const char *root, uint16_t vendor)
{
    struct vfa_iokit_candidate *c = &fake[nfake++];

    memset(c, 0, sizeof(*c));
    c->loc.bus = bus;
    snprintf(c->loc.root_port, sizeof(c->loc.root_port), "%s", root);
    c->regid = 0x100000000ull | vendor;
    c->vendor_id = vendor;
}

int vfa_iokit_list(struct vfa_iokit_candidate *out, size_t max, size_t *n,
                   char *err, size_t errlen)
{
    *n = nfake < max ? nfake : max;
    memcpy(out, fake, *n * sizeof(*out));
    return 0;
}

static int setup(void **state)
{
    nfake = 0;
    cli_host_set_socket(NULL);
    return 0;
}

/* Serve three functions, bus @b[i] below @root[i], and discover them. */
static struct cli_device_ref *discover3(const uint8_t b[3], const char *const root[3])
{
    struct cli_device_ref *v;
    size_t i, n;
    char err[256];

    for (i = 0; i < 3; i++)
        serve(b[i], root[i], i == 0 ? 0x144d : i == 1 ? 0x1002 : 0x10de);
    assert_int_equal(cli_host_discover(&v, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    return v;
}

static void test_names(void **state)
{
    struct cli_device_ref *v = discover3((const uint8_t[3]){ 1, 1, 3 },
                                         (const char *const[3]){ "pcic0-bridge",
                                                                 "pcic2-bridge",
                                                                 "pcic2-bridge" });

    /* The repeated BDF carries its root port; the unique one does not. */
    assert_string_equal(v[0].name, "0000:01:00.0@pcic0-bridge");
    assert_string_equal(v[1].name, "0000:01:00.0@pcic2-bridge");
    assert_string_equal(v[2].name, "0000:03:00.0");
    /* The target always names the root port: it is what the dext said. */
    assert_string_equal(v[2].target, "pci:0000:03:00.0@pcic2-bridge");
    assert_non_null(strstr(v[0].qmp, "0000-01-00.0-pcic0-bridge.qmp"));
    free(v);
}

static void test_resolve(void **state)
{
    struct cli_device_ref ref;
    struct cli_target t;
    char err[512];

    serve(1, "pcic0-bridge", 0x144d);
    serve(1, "pcic2-bridge", 0x1002);
    serve(3, "pcic2-bridge", 0x10de);

    assert_int_equal(cli_host_resolve("3:00.0", &ref, err, sizeof(err)), 0);
    assert_string_equal(ref.name, "0000:03:00.0");
    cli_host_target(&ref, &t);
    assert_null(t.socket);
    assert_string_equal(t.host, "0000:03:00.0");
    assert_string_equal(t.root_port, "pcic2-bridge");

    assert_int_equal(cli_host_resolve("0000:01:00.0", &ref, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "ambiguous"));
    assert_non_null(strstr(err, "@pcic0-bridge"));
    assert_non_null(strstr(err, "@pcic2-bridge"));

    assert_int_equal(cli_host_resolve("pci:0000:01:00.0@pcic2-bridge", &ref, err,
                                      sizeof(err)), 0);
    assert_string_equal(ref.name, "0000:01:00.0@pcic2-bridge");

    assert_int_equal(cli_host_resolve("0000:09:00.0", &ref, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "not served"));
    assert_int_equal(cli_host_resolve("nvme0", &ref, err, sizeof(err)), -EINVAL);
}

/* Two roots of one name: the registry ID names each device. */
static void test_same_root_name(void **state)
{
    struct cli_device_ref *v = discover3((const uint8_t[3]){ 1, 1, 1 },
                                         (const char *const[3]){ "pcic0-bridge",
                                                                 "pcic0-bridge",
                                                                 "pcic2-bridge" });
    struct cli_device_ref ref;
    struct cli_target t;
    char err[512];

    assert_string_equal(v[0].name, "0000:01:00.0@regid:0x10000144d");
    assert_string_equal(v[1].name, "0000:01:00.0@regid:0x100001002");
    assert_string_equal(v[2].name, "0000:01:00.0@pcic2-bridge");
    assert_string_equal(v[1].target, "pci:0000:01:00.0@regid:0x100001002");
    free(v);

    /* The name given back selects that device, and QEMU is told the ID. */
    assert_int_equal(cli_host_resolve("0000:01:00.0@regid:0x100001002", &ref, err,
                                      sizeof(err)), 0);
    assert_string_equal(ref.name, "0000:01:00.0@regid:0x100001002");
    cli_host_target(&ref, &t);
    assert_string_equal(t.host, "0000:01:00.0");
    assert_string_equal(t.root_port, "regid:0x100001002");
    /* The shared name selects neither; both are listed by ID. */
    assert_int_equal(cli_host_resolve("0000:01:00.0@pcic0-bridge", &ref, err, sizeof(err)),
                     -EEXIST);
    assert_non_null(strstr(err, "@regid:0x10000144d (144d:0000)"));
    assert_non_null(strstr(err, "@regid:0x100001002 (1002:0000)"));
}

/* A simulator's socket still works (development on a Mac). */
static void test_socket(void **state)
{
    struct cli_device_ref ref;
    struct cli_target t;
    char err[256];

    assert_int_equal(cli_host_resolve("/tmp/x/nvme0.sock", &ref, err, sizeof(err)), 0);
    cli_host_target(&ref, &t);
    assert_string_equal(t.socket, "/tmp/x/nvme0.sock");
    assert_int_equal(cli_host_sim_ref("nvme0", &ref, err, sizeof(err)), -ENOTSUP);
    assert_string_equal(cli_host_profile()->accel, "hvf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_names, setup),
        cmocka_unit_test_setup(test_resolve, setup),
        cmocka_unit_test_setup(test_same_root_name, setup),
        cmocka_unit_test_setup(test_socket, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
