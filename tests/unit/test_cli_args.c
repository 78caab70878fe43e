/* Unit tests of the vfio-apple command's option parsing (cli/opts.c, cli/run-opts.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../cli/opts.h"
#include "../../cli/run-opts.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

static void sizes(void **state)
{
    uint64_t v;

    assert_int_equal(cli_parse_size("512M", &v), 0);
    assert_int_equal(v, 512ull << 20);
    assert_int_equal(cli_parse_size("1G", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(cli_parse_size("1536MiB", &v), 0);
    assert_int_equal(v, 1536ull << 20);
    assert_int_equal(cli_parse_size("16k", &v), 0);
    assert_int_equal(v, 16384);
    assert_int_equal(cli_parse_size("2T", &v), 0);
    assert_int_equal(v, 2ull << 40);
    assert_int_equal(cli_parse_size("0x40000000", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(cli_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(cli_parse_size("1.5G", &v), -EINVAL);
    assert_int_equal(cli_parse_size("-1G", &v), -EINVAL);
    assert_int_equal(cli_parse_size("G", &v), -EINVAL);
    assert_int_equal(cli_parse_size("1Q", &v), -EINVAL);
    assert_int_equal(cli_parse_size("", &v), -EINVAL);
    assert_int_equal(cli_parse_size("99999999999T", &v), -EINVAL);     /* overflows */
    assert_int_equal(cli_parse_uint("12", 100, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(cli_parse_uint("101", 100, &v), -EINVAL);
    assert_int_equal(cli_parse_uint("1x", 100, &v), -EINVAL);
}

static void size_names(void **state)
{
    char b[32];

    assert_string_equal(cli_fmt_size(1536ull << 20, b, sizeof(b)), "1.50 GiB");
    assert_string_equal(cli_fmt_size(512ull << 20, b, sizeof(b)), "512 MiB");
    assert_string_equal(cli_fmt_size(16384, b, sizeof(b)), "16 KiB");
    assert_string_equal(cli_fmt_size(100, b, sizeof(b)), "100 bytes");
    assert_string_equal(cli_fmt_size(3ull << 40, b, sizeof(b)), "3 TiB");
    assert_string_equal(cli_fmt_size_arg(1536ull << 20, b, sizeof(b)), "1536M");
    assert_string_equal(cli_fmt_size_arg(1ull << 30, b, sizeof(b)), "1G");
    assert_string_equal(cli_fmt_size_arg(64ull << 20, b, sizeof(b)), "64M");
    assert_string_equal(cli_fmt_size_arg((64ull << 20) + 16384 + 5, b, sizeof(b)), "65552K");
}

enum { T_FLAG = 1, T_VAL };
static const struct cli_opt table[] = {
    { "flag", 'f', false, T_FLAG },
    { "val", 'v', true, T_VAL },
    { NULL, 0, false, 0 },
};

static void option_parser(void **state)
{
    char *av[] = { "cmd", "pos1", "--flag", "--val=a", "-v", "b", "--val", "c", "pos2", "--",
                   "--flag", "x", NULL };
    struct cli_opts s;
    const char *a;
    char err[256];
    int rest_n;
    char **rest;

    cli_opts_init(&s, 12, av, table, "cmd");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_POSITIONAL);
    assert_string_equal(a, "pos1");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), T_FLAG);
    assert_null(a);
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), T_VAL);
    assert_string_equal(a, "a");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), T_VAL);
    assert_string_equal(a, "b");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), T_VAL);
    assert_string_equal(a, "c");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_POSITIONAL);
    assert_string_equal(a, "pos2");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_END);
    rest = cli_opts_rest(&s, &rest_n);
    assert_int_equal(rest_n, 2);
    assert_string_equal(rest[0], "--flag");
    assert_string_equal(rest[1], "x");
}

static void option_errors(void **state)
{
    struct cli_opts s;
    const char *a;
    char err[256];

    cli_opts_init(&s, 2, ARGV("cmd", "--nope"), table, "cmd");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_ERROR);
    assert_non_null(strstr(err, "unknown option '--nope'"));
    cli_opts_init(&s, 2, ARGV("cmd", "--val"), table, "cmd");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_ERROR);
    assert_non_null(strstr(err, "'--val' needs a value"));
    cli_opts_init(&s, 2, ARGV("cmd", "--flag=1"), table, "cmd");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_ERROR);
    assert_non_null(strstr(err, "takes no value"));
    cli_opts_init(&s, 2, ARGV("cmd", "-fv"), table, "cmd");    /* no bundling */
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_ERROR);
    /* a lone "-" is an argument (stdin, by convention) */
    cli_opts_init(&s, 2, ARGV("cmd", "-"), table, "cmd");
    assert_int_equal(cli_opts_next(&s, &a, err, sizeof(err)), CLI_OPT_POSITIONAL);
}

static void run_defaults_and_all(void **state)
{
    struct cli_run_opts o;
    char err[512];
    char *av[] = { "run", "--kernel", "Image", "nvme0", "-i", "initrd", "--disk", "d.img",
                     "--append", "quiet", "--mem", "512M", "--cpus", "4", "--mode", "window",
                     "--sim", "nvme,size=1G", "--sim-opt=--dart-budget=1G", "--sim-opt",
                     "--dart-fault-fatal", "--qemu", "/q", "--qmp", "/tmp/q.qmp", "-p",
                     "--", "-S", "-d", "guest_errors" };

    assert_int_equal(cli_run_parse(ARGC("run", "--kernel", "Image", "nvme0"),
                                   ARGV("run", "--kernel", "Image", "nvme0"), &o, err,
                                   sizeof(err)), 0);
    assert_string_equal(o.device, "nvme0");
    assert_string_equal(o.kernel, "Image");
    assert_int_equal(o.mem, 1ull << 30);
    assert_int_equal(o.cpus, 2);
    assert_int_equal(o.mode, CLI_MODE_AUTO);
    assert_false(o.print);
    assert_int_equal(o.extra_argc, 0);
    assert_null(o.sim);

    assert_int_equal(cli_run_parse((int)(sizeof(av) / sizeof(av[0])), av, &o, err, sizeof(err)), 0);
    assert_string_equal(o.initrd, "initrd");
    assert_string_equal(o.disk, "d.img");
    assert_string_equal(o.append, "quiet");
    assert_int_equal(o.mem, 512ull << 20);
    assert_int_equal(o.cpus, 4);
    assert_int_equal(o.mode, CLI_MODE_WINDOW);
    assert_string_equal(o.sim, "nvme,size=1G");
    assert_int_equal(o.nsim_opts, 2);
    assert_string_equal(o.sim_opts[0], "--dart-budget=1G");
    assert_string_equal(o.sim_opts[1], "--dart-fault-fatal");
    assert_string_equal(o.qemu, "/q");
    assert_string_equal(o.qmp, "/tmp/q.qmp");
    assert_true(o.print);
    assert_int_equal(o.extra_argc, 3);
    assert_string_equal(o.extra_argv[0], "-S");
    assert_string_equal(o.extra_argv[2], "guest_errors");
}

/* Each bad command line is refused with a message naming the problem. */
static void run_errors(void **state)
{
    const struct {
        int argc;
        char **argv;
        const char *msg;
    } cases[] = {
        { 2, ARGV("run", "nvme0"), "--kernel IMAGE is required" },
        { 3, ARGV("run", "--kernel", "I"), "which DEVICE?" },
        { 5, ARGV("run", "a", "b", "--kernel", "I"), "one DEVICE only" },
        { 6, ARGV("run", "a", "--kernel", "I", "--mem", "lots"), "--mem lots" },
        { 6, ARGV("run", "a", "--kernel", "I", "--mem", "0"), "--mem 0" },
        { 6, ARGV("run", "a", "--kernel", "I", "--cpus", "0"), "--cpus 0" },
        { 6, ARGV("run", "a", "--kernel", "I", "--mode", "gpu"), "--mode gpu" },
        { 6, ARGV("run", "/x/a.sock", "--kernel", "I", "--sim", "nvme"), "not a path" },
        { 6, ARGV("run", "a", "--kernel", "I", "--sim-opt", "-x"), "--sim-opt without --sim" },
        { 3, ARGV("run", "a", "--bogus"), "unknown option '--bogus'" },
    };
    struct cli_run_opts o;
    char err[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = 0;
        assert_int_equal(cli_run_parse(cases[i].argc, cases[i].argv, &o, err, sizeof(err)),
                         -EINVAL);
        if (!strstr(err, cases[i].msg))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].msg);
    }
    assert_int_equal(cli_run_parse(2, ARGV("run", "--help"), &o, err, sizeof(err)), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes),
        cmocka_unit_test(size_names),
        cmocka_unit_test(option_parser),
        cmocka_unit_test(option_errors),
        cmocka_unit_test(run_defaults_and_all),
        cmocka_unit_test(run_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
