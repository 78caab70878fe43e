/* Unit tests of the vfio-apple command's QEMU command lines (cli/cmdline.c, cli/strv.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cli/cmdline.h"
#include "../../cli/json-parse.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct cli_run_opts opts(void)
{
    return (struct cli_run_opts){ .device = "nvme0", .kernel = "/k/Image", .mem = 512 * MiB,
                                  .cpus = 2, .mode = CLI_MODE_AUTO };
}

static struct cli_dma_plan window(uint64_t size)
{
    return (struct cli_dma_plan){ .mode = CLI_MODE_WINDOW, .window_size = size,
                                  .budget = 1536 * MiB };
}

/* The value after @opt (the first occurrence from @from), or NULL. */
static const char *after(const struct strv *v, const char *opt, int nth)
{
    for (size_t i = 0; i + 1 < v->n; i++)
        if (!strcmp(v->v[i], opt) && nth-- == 0)
            return v->v[i + 1];
    return NULL;
}

static void build(const struct cli_run_opts *o, const struct cli_dma_plan *p,
                  const struct cli_target *t, const struct cli_host_profile *prof,
                  struct strv *v)
{
    char err[512] = "";

    strv_init(v);
    if (cli_build_qemu(o, p, t, prof, "/q/qemu-system-aarch64", "/run/x.qmp", v, err,
                       sizeof(err)))
        fail_msg("refused: %s", err);
    assert_false(v->oom);
    assert_null(v->v[v->n]);
}

/* Linux: memfd guest RAM shared with the simulator, the machine option, the device. */
static void linux_window(void **state)
{
    struct cli_run_opts o = opts();
    struct cli_dma_plan p = window(512 * MiB);
    struct cli_target t = { .socket = "/run/vfio-apple/nvme0.sock" };
    const struct jnode *sock;
    struct jnode *dev;
    struct strv v;
    char err[128];

    build(&o, &p, &t, &cli_profile_linux, &v);
    assert_string_equal(v.v[0], "/q/qemu-system-aarch64");
    assert_string_equal(after(&v, "-machine", 0), "virt,vfio-apple=on,memory-backend=vfa-ram");
    assert_string_equal(after(&v, "-object", 0),
                        "memory-backend-memfd,id=vfa-ram,size=536870912,share=on");
    assert_string_equal(after(&v, "-m", 0), "512M");
    assert_string_equal(after(&v, "-accel", 0), "tcg");
    assert_string_equal(after(&v, "-cpu", 0), "max");
    assert_string_equal(after(&v, "-smp", 0), "2");
    assert_string_equal(after(&v, "-qmp", 0), "unix:/run/x.qmp,server=on,wait=off");
    assert_string_equal(after(&v, "-nic", 0), "none");
    assert_string_equal(after(&v, "-kernel", 0), "/k/Image");
    assert_null(after(&v, "-initrd", 0));
    assert_null(after(&v, "-bios", 0));     /* no firmware: a DT boot */
    assert_string_equal(after(&v, "-append", 0), "console=ttyAMA0");
    /* the root port first, then the device on it */
    assert_string_equal(after(&v, "-device", 0), "pcie-root-port,id=vfa-rp0,chassis=1");
    dev = json_parse(after(&v, "-device", 1), err, sizeof(err));
    assert_non_null(dev);
    assert_string_equal(json_str(json_get(dev, "driver"), ""), "vfio-apple-pci");
    assert_string_equal(json_str(json_get(dev, "bus"), ""), "vfa-rp0");
    assert_string_equal(json_str(json_get(dev, "dma-mode"), ""), "window");
    assert_int_equal(json_u64(json_get(dev, "window-size"), 0), 512 * MiB);
    sock = json_get(dev, "socket");
    assert_string_equal(json_str(json_get(sock, "type"), ""), "unix");
    assert_string_equal(json_str(json_get(sock, "path"), ""), "/run/vfio-apple/nvme0.sock");
    assert_null(json_get(dev, "host"));
    json_free(dev);
    strv_free(&v);
}

/*
 * Through UEFI firmware: -bios, the kernel still from fw_cfg, and the disk
 * first in the boot order so that the firmware leaves the device alone.
 */
static void uefi_firmware(void **state)
{
    struct cli_run_opts o = opts();
    struct cli_dma_plan p = window(GiB);
    struct cli_target t = { .socket = "/s.sock" };
    struct strv v;

    o.firmware = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd";
    o.disk = "/d/boot.img";
    build(&o, &p, &t, &cli_profile_linux, &v);
    assert_string_equal(after(&v, "-bios", 0), o.firmware);
    assert_non_null(after(&v, "-kernel", 0));
    assert_string_equal(after(&v, "-device", 2), "virtio-blk-pci,drive=vfa-disk0,bootindex=0");
    strv_free(&v);
}

static void options_and_extra(void **state)
{
    char *extra[] = { "-S", "-d", "guest_errors" };
    struct cli_run_opts o = opts();
    struct cli_dma_plan p = window(GiB);
    struct cli_target t = { .socket = "/s \"q\".sock" };
    struct strv v;
    struct jnode *dev;
    char err[128];

    o.initrd = "/k/initrd";
    o.append = "panic=-1 quiet";
    o.disk = "/d/a,b.img";
    o.mem = 3 * GiB + 16384;
    o.cpus = 8;
    o.extra_argc = 3;
    o.extra_argv = extra;
    build(&o, &p, &t, &cli_profile_linux, &v);
    assert_string_equal(after(&v, "-initrd", 0), "/k/initrd");
    assert_string_equal(after(&v, "-append", 0), "console=ttyAMA0 panic=-1 quiet");
    assert_string_equal(after(&v, "-smp", 0), "8");
    assert_string_equal(after(&v, "-m", 0), "3145744K");
    assert_string_equal(after(&v, "-drive", 0), "file=/d/a,,b.img,if=none,id=vfa-disk0,format=raw");
    assert_string_equal(after(&v, "-device", 2), "virtio-blk-pci,drive=vfa-disk0");
    /* the user's arguments come last, as given */
    assert_string_equal(v.v[v.n - 3], "-S");
    assert_string_equal(v.v[v.n - 1], "guest_errors");
    /* a socket path with quotes survives the JSON */
    dev = json_parse(after(&v, "-device", 1), err, sizeof(err));
    assert_non_null(dev);
    assert_string_equal(json_str(json_path(dev, "socket.path"), ""), "/s \"q\".sock");
    assert_int_equal(json_u64(json_get(dev, "window-size"), 0), GiB);
    json_free(dev);
    strv_free(&v);
}

/* macOS: HVF, the host function named, no memfd (IOKit wraps QEMU's RAM). */
static void macos_host(void **state)
{
    struct cli_run_opts o = opts();
    struct cli_dma_plan p = window(512 * MiB);
    struct cli_target t = { .host = "0000:03:00.0", .root_port = "pcie-tb@1" };
    struct jnode *dev;
    struct strv v;
    char err[128];

    build(&o, &p, &t, &cli_profile_macos, &v);
    assert_string_equal(after(&v, "-accel", 0), "hvf");
    assert_string_equal(after(&v, "-cpu", 0), "host");
    assert_string_equal(after(&v, "-machine", 0), "virt,vfio-apple=on");
    assert_int_equal(strv_find(&v, "-object"), -1);
    dev = json_parse(after(&v, "-device", 1), err, sizeof(err));
    assert_non_null(dev);
    assert_string_equal(json_str(json_get(dev, "host"), ""), "0000:03:00.0");
    assert_string_equal(json_str(json_get(dev, "host-root-port"), ""), "pcie-tb@1");
    assert_null(json_get(dev, "socket"));
    json_free(dev);
    strv_free(&v);
}

/*
 * Companion mode: the device at function 1 in companion mode, the
 * apple-dma-pci at function 0 naming it, no vfio-apple=on (nothing is
 * described to the guest).
 */
static void companion_command_line(void **state)
{
    struct cli_run_opts o = opts();
    struct cli_dma_plan p = { .mode = CLI_MODE_COMPANION, .budget = 1536 * MiB,
                              .window_size = 256 * MiB };
    struct cli_target t = { .socket = "/s" };
    struct jnode *dev, *adma;
    struct strv v;
    char err[256];

    o.mem = 8 * GiB;
    build(&o, &p, &t, &cli_profile_linux, &v);
    assert_string_equal(after(&v, "-machine", 0), "virt,memory-backend=vfa-ram");
    dev = json_parse(after(&v, "-device", 1), err, sizeof(err));
    adma = json_parse(after(&v, "-device", 2), err, sizeof(err));
    assert_non_null(dev);
    assert_non_null(adma);
    assert_string_equal(json_str(json_get(dev, "dma-mode"), ""), "companion");
    assert_string_equal(json_str(json_get(dev, "addr"), ""), "0.1");
    assert_int_equal(json_u64(json_get(dev, "window-size"), 0), 256 * MiB);
    assert_string_equal(json_str(json_get(adma, "driver"), ""), "apple-dma-pci");
    assert_string_equal(json_str(json_get(adma, "device"), ""),
                        json_str(json_get(dev, "id"), "?"));
    assert_string_equal(json_str(json_get(adma, "bus"), ""),
                        json_str(json_get(dev, "bus"), "?"));
    assert_string_equal(json_str(json_get(adma, "addr"), ""), "0.0");
    json_free(dev);
    json_free(adma);
    strv_free(&v);
    /* No window: refused, saying why. */
    p.window_size = 0;
    strv_init(&v);
    assert_int_equal(cli_build_qemu(&o, &p, &t, &cli_profile_linux, "q", NULL, &v, err,
                                    sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "companion mode needs a window"));
    strv_free(&v);
}

static void shell_quoting(void **state)
{
    struct strv v;
    char *s;

    strv_init(&v);
    strv_add(&v, "qemu");
    strv_add(&v, "-device");
    strv_add(&v, "{\"a\": \"b\"}");
    strv_add(&v, "it's");
    strv_add(&v, "");
    strv_addf(&v, "size=%d,share=on", 5);
    s = strv_shell_join(&v);
    assert_string_equal(s, "qemu -device '{\"a\": \"b\"}' 'it'\\''s' '' size=5,share=on");
    free(s);
    strv_free(&v);
}

static void sim_command(void **state)
{
    struct cli_run_opts o = opts();
    struct strv v;

    o.sim = "nvme,size=1G";
    o.sim_opts[0] = "--dart-budget=1G";
    o.nsim_opts = 1;
    strv_init(&v);
    cli_build_sim("/b/vfio-apple-sim", "/run/vfio-apple/nvme0.sock", &o, &v);
    assert_int_equal(v.n, 6);
    assert_string_equal(v.v[2], "/run/vfio-apple/nvme0.sock");
    assert_string_equal(v.v[4], "nvme,size=1G");
    assert_string_equal(v.v[5], "--dart-budget=1G");
    strv_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_window),
        cmocka_unit_test(options_and_extra),
        cmocka_unit_test(uefi_firmware),
        cmocka_unit_test(macos_host),
        cmocka_unit_test(companion_command_line),
        cmocka_unit_test(shell_quoting),
        cmocka_unit_test(sim_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
