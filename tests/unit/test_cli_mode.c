/* Unit tests of the vfio-apple command's DMA mode choice (cli/mode.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../cli/mode.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define BUDGET (1536 * MiB)

static void plan_ok(enum cli_mode want, uint64_t ram, uint64_t budget, struct cli_dma_plan *p)
{
    char err[512] = "";

    if (cli_plan_dma(want, ram, CLI_VIRT_RAM_BASE, budget, p, err, sizeof(err)))
        fail_msg("plan refused: %s", err);
}

/* RAM within the budget: the window is all of RAM, in auto and window mode. */
static void ram_fits(void **state)
{
    static const uint64_t rams[] = { 16384, 512 * MiB, GiB, BUDGET };
    struct cli_dma_plan p;

    for (unsigned i = 0; i < 4; i++) {
        for (int m = CLI_MODE_AUTO; m <= CLI_MODE_WINDOW; m++) {
            plan_ok(m, rams[i], BUDGET, &p);
            assert_int_equal(p.mode, CLI_MODE_WINDOW);
            assert_int_equal(p.window_size, rams[i]);
            assert_true(p.window_is_all_ram);
            assert_false(p.bounces);
            assert_non_null(strstr(p.why, "fits the DMA budget"));
        }
    }
}

/* RAM over the budget: auto picks the companion and says why. */
static void auto_over_budget(void **state)
{
    struct cli_dma_plan p;

    plan_ok(CLI_MODE_AUTO, BUDGET + 16384, BUDGET, &p);
    assert_int_equal(p.mode, CLI_MODE_COMPANION);
    /* The companion's window: a quarter of the budget, at most 256 MiB. */
    assert_int_equal(p.window_size, 256 * MiB);
    assert_int_equal(p.alt_window, GiB);
    assert_int_equal(p.budget, BUDGET);
    assert_non_null(strstr(p.why, "larger than the DMA budget"));
    assert_non_null(strstr(p.why, "companion"));
    plan_ok(CLI_MODE_AUTO, 4 * GiB, 512 * MiB, &p);
    assert_int_equal(p.mode, CLI_MODE_COMPANION);
    assert_int_equal(p.window_size, 128 * MiB);
    assert_int_equal(p.alt_window, 0);      /* no power-of-two window fits 512 MiB */
}

/*
 * Window mode with RAM over the budget: the largest window that ends on a
 * power of two (RAM at 1 GiB: 1, 3, 7, 15 GiB...) and fits the budget.
 */
static void window_bounces(void **state)
{
    static const struct { uint64_t ram, budget, window; } cases[] = {
        { 3 * GiB, BUDGET, 1 * GiB },       /* [1G, 2G) */
        { 2 * GiB, BUDGET, 1 * GiB },
        { 8 * GiB, 4 * GiB, 3 * GiB },      /* [1G, 4G) */
        { 20 * GiB, 7 * GiB, 7 * GiB },     /* [1G, 8G): the budget exactly */
        { 20 * GiB, 7 * GiB - 16384, 3 * GiB },
        { 64 * GiB, 40 * GiB, 31 * GiB },
    };
    struct cli_dma_plan p;

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plan_ok(CLI_MODE_WINDOW, cases[i].ram, cases[i].budget, &p);
        assert_int_equal(p.mode, CLI_MODE_WINDOW);
        if (p.window_size != cases[i].window)
            fail_msg("case %u: window %#llx, want %#llx", i, (unsigned long long)p.window_size,
                     (unsigned long long)cases[i].window);
        assert_true(p.bounces);
        assert_false(p.window_is_all_ram);
        /* the window's end is a power of two */
        uint64_t end = CLI_VIRT_RAM_BASE + p.window_size;
        assert_int_equal(end & (end - 1), 0);
        assert_non_null(strstr(p.why, "bounces through swiotlb"));
    }
}

static void refusals(void **state)
{
    struct cli_dma_plan p;
    char err[512];

    /* budget below the smallest power-of-two window (1 GiB) */
    assert_int_equal(cli_plan_dma(CLI_MODE_WINDOW, 2 * GiB, CLI_VIRT_RAM_BASE, 512 * MiB, &p,
                                  err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "at most 512 MiB (--mem)"));
    /* RAM not in 16 KiB pages */
    assert_int_equal(cli_plan_dma(CLI_MODE_AUTO, 512 * MiB + 4096, CLI_VIRT_RAM_BASE, BUDGET,
                                  &p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "16 KiB pages"));
    assert_int_equal(cli_plan_dma(CLI_MODE_AUTO, 0, CLI_VIRT_RAM_BASE, BUDGET, &p, err,
                                  sizeof(err)), -EINVAL);
}

/* Asked for, the companion is planned (the command line refuses it for now). */
static void companion_asked(void **state)
{
    struct cli_dma_plan p;
    enum cli_mode m;

    plan_ok(CLI_MODE_COMPANION, 512 * MiB, BUDGET, &p);
    assert_int_equal(p.mode, CLI_MODE_COMPANION);
    assert_int_equal(cli_mode_parse("companion", &m), 0);
    assert_int_equal(m, CLI_MODE_COMPANION);
    assert_int_equal(cli_mode_parse("auto", &m), 0);
    assert_int_equal(m, CLI_MODE_AUTO);
    assert_int_equal(cli_mode_parse("bounce", &m), -EINVAL);
    assert_string_equal(cli_mode_name(CLI_MODE_WINDOW), "window");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ram_fits),
        cmocka_unit_test(auto_over_budget),
        cmocka_unit_test(window_bounces),
        cmocka_unit_test(refusals),
        cmocka_unit_test(companion_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
