/*
 * Unit tests of the vfio-apple command's reports (cli/list-report.c,
 * cli/status-report.c, cli/selftest-report.c) and what feeds them: the
 * JSON writer and reader, pci.ids names, latency summaries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../cli/devinfo.h"
#include "../../cli/json-out.h"
#include "../../cli/json-parse.h"
#include "../../cli/latency.h"
#include "../../cli/pciids.h"
#include "../../cli/progress.h"
#include "../../cli/selftest.h"

/* What a function printed, as a string (free it). */
#define CAPTURE(buf, call) do { \
        size_t len_; \
        FILE *f = open_memstream(&(buf), &len_); \
        call; \
        fclose(f); \
    } while (0)

static struct jnode *parse_ok(const char *s)
{
    char err[128];
    struct jnode *j = json_parse(s, err, sizeof(err));

    if (!j)
        fail_msg("not JSON (%s): %s", err, s);
    return j;
}

static void json_round_trip(void **state)
{
    char *out;
    struct jnode *j;

    CAPTURE(out, ({
        struct jw w;

        jw_init(&w, f, true);
        jw_obj(&w, NULL);
        jw_str(&w, "s", "a\"b\\c\n\x01");
        jw_u64(&w, "big", 0xfffffffffffff001ull);
        jw_i64(&w, "neg", -5);
        jw_bool(&w, "t", true);
        jw_null(&w, "n");
        jw_arr(&w, "empty");
        jw_arr_end(&w);
        jw_arr(&w, "a");
        jw_u64(&w, NULL, 1);
        jw_obj(&w, NULL);
        jw_str(&w, "k", NULL);
        jw_obj_end(&w);
        jw_arr_end(&w);
        jw_raw(&w, "raw", "{\"x\":[1,2]}");
        jw_obj_end(&w);
        jw_done(&w);
    }));
    j = parse_ok(out);
    assert_string_equal(json_str(json_get(j, "s"), ""), "a\"b\\c\n\x01");
    assert_int_equal(json_u64(json_get(j, "big"), 0), 0xfffffffffffff001ull);  /* exact */
    assert_int_equal(json_get(j, "neg")->i, -5);
    assert_true(json_bool(json_get(j, "t"), false));
    assert_int_equal(json_get(j, "n")->type, J_NULL);
    assert_int_equal(json_len(json_get(j, "empty")), 0);
    assert_int_equal(json_len(json_get(j, "a")), 2);
    assert_int_equal(json_get(j, "a")->child->next->child->type, J_NULL);
    assert_int_equal(json_len(json_path(j, "raw.x")), 2);
    json_free(j);
    free(out);
}

static void json_errors(void **state)
{
    static const char *const bad[] = { "", "{", "{\"a\"}", "{\"a\":1,}", "[1 2]", "tru",
                                       "\"abc", "{} x", "{\"a\":\"\\q\"}" };
    char err[128];

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jnode *j = json_parse(bad[i], err, sizeof(err));

        if (j)
            fail_msg("accepted bad JSON '%s'", bad[i]);
        assert_non_null(strstr(err, "JSON: "));
    }
}

static char ids_path[64];

static int write_ids(void **state)
{
    int fd;
    FILE *f;

    strcpy(ids_path, "/tmp/test-cli-pci.ids.XXXXXX");
    fd = mkstemp(ids_path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("# pci.ids excerpt\n"
          "1b36  Red Hat, Inc.\n"
          "\t0010  QEMU NVM Express Controller\n"
          "\t\t1af4 1100  QEMU Virtual Machine\n"
          "7a79  Not Us\n"
          "\t0e01  Wrong Device\n"
          "C 00  Unclassified device\n"
          "\t01  VGA compatible unclassified device\n"
          "C 01  Mass storage controller\n"
          "\t06  SATA controller\n"
          "\t\t01  AHCI 1.0\n"
          "\t08  Non-Volatile memory controller\n"
          "\t\t01  NVMHCI\n"
          "\t\t02  NVM Express\n"
          "C 02  Network controller\n", f);
    fclose(f);
    return 0;
}

static int remove_ids(void **state)
{
    unlink(ids_path);
    return 0;
}

static void pci_names(void **state)
{
    struct cli_pci_names n;

    assert_int_equal(cli_pciids_lookup(ids_path, 0x1b36, 0x0010, 0x010802, &n), 0);
    assert_string_equal(n.vendor, "Red Hat, Inc.");
    assert_string_equal(n.device, "QEMU NVM Express Controller");
    assert_string_equal(n.cls, "Mass storage controller");
    assert_string_equal(n.subclass, "Non-Volatile memory controller");
    assert_string_equal(n.progif, "NVM Express");
    /* unknown IDs: empty names, the class still found */
    assert_int_equal(cli_pciids_lookup(ids_path, 0x7a7a, 0x0e01, 0x010601, &n), 0);
    assert_string_equal(n.vendor, "");
    assert_string_equal(n.device, "");
    assert_string_equal(n.subclass, "SATA controller");
    assert_string_equal(n.progif, "AHCI 1.0");
    /* a prog-if of another subclass is not taken */
    assert_int_equal(cli_pciids_lookup(ids_path, 0, 0, 0x010902, &n), 0);
    assert_string_equal(n.subclass, "");
    assert_string_equal(n.progif, "");
    assert_int_equal(cli_pciids_lookup("/nonexistent/pci.ids", 1, 2, 3, &n), -ENOENT);
    assert_string_equal(n.cls, "");
}

static void latency_summary(void **state)
{
    uint64_t v[200];
    struct cli_lat l;

    for (unsigned i = 0; i < 200; i++)
        v[i] = (uint64_t)(200 - i) * 1000;  /* 1000..200000, shuffled by reversal */
    cli_lat_summarise(v, 200, &l);
    assert_int_equal(l.n, 200);
    assert_int_equal(l.min_ns, 1000);
    assert_int_equal(l.max_ns, 200000);
    assert_int_equal(l.median_ns, 100500);  /* between the 100th and the 101st */
    assert_int_equal(l.p99_ns, 198000);     /* rank ceil(0.99 * 200) = 198 */
    v[0] = 7;
    cli_lat_summarise(v, 1, &l);
    assert_int_equal(l.median_ns, 7);
    assert_int_equal(l.p99_ns, 7);
    cli_lat_summarise(v, 0, &l);
    assert_int_equal(l.n, 0);
}

static void fake_device(struct cli_devinfo *d)
{
    memset(d, 0, sizeof(*d));
    strcpy(d->ref.name, "nvme0");
    strcpy(d->ref.target, "/run/vfio-apple/nvme0.sock");
    strcpy(d->ref.qmp, "/run/vfio-apple/nvme0.qmp");
    d->transport = "vfio-apple-sim";
    d->abi_major = 1;
    d->abi_minor = 1;
    d->id = (struct vfa_identity){
        .vendor_id = 0x7a7a, .device_id = 0x0e01, .class_code = 0x010802, .flags = VFA_ID_FLR,
        .bus = 1, .config_size = 4096, .num_bars = 1,
        .bar_flags = { VFA_BAR_PRESENT | VFA_BAR_MEM64 | VFA_BAR_MAPPABLE | VFA_BAR_TRAPPED },
        .bar_size = { 32768 }, .rom_size = 65536, .msix_vectors = 8,
        .dma_budget_bytes = 1536ull << 20, .dma_max_mappings = 65536,
        .dma_page_size = 16384, .dma_max_segments = 32,
    };
    strcpy(d->id.location, "sim:nvme");
    strcpy(d->names.cls, "Mass storage controller");
    strcpy(d->names.progif, "NVM Express");
    d->st.nselectors = VFA_SEL_COUNT;
    d->st.calls[VFA_SEL_DMA_MAP] = 3;
    d->st.errors[VFA_SEL_DMA_MAP] = 1;
    d->st.sessions_opened = 2;
    d->st.sessions_closed = 1;
    d->st.dma_mapped_bytes = 512ull << 20;
    d->st.dma_live_mappings = 1;
    d->st.dma_peak_mapped_bytes = 512ull << 20;
    d->st.dma_peak_live_mappings = 1;
    d->st.irq_received = 1500;
    d->st.notifications = 1400;
    d->session_open = cli_stats_session_open(&d->st);
    cli_devinfo_sim_json(d, "{\"model\":\"nvme\",\"session_owner_pid\":4242,"
                            "\"core\":{\"calls_total\":77},\"dart\":{\"faults\":3}}");
    strcpy(d->owner_name, "qemu-system-aar");
}

static void session_counting(void **state)
{
    struct vfa_stats s = { .sessions_opened = 3, .sessions_closed = 1,
                           .sessions_client_died = 2 };

    assert_false(cli_stats_session_open(&s));
    s.sessions_opened = 4;
    assert_true(cli_stats_session_open(&s));
}

static void list_report(void **state)
{
    struct cli_devinfo d[2];
    struct jnode *j;
    const struct jnode *dev;
    char *out;

    fake_device(&d[0]);
    memset(&d[1], 0, sizeof(d[1]));
    strcpy(d[1].ref.name, "gone");
    strcpy(d[1].ref.target, "/run/vfio-apple/gone.sock");
    d[1].err = -ECONNREFUSED;
    strcpy(d[1].errmsg, "connect: Connection refused");
    assert_true(d[0].session_open);
    assert_int_equal(d[0].owner_pid, 4242);
    assert_int_equal(d[0].dart_faults, 3);

    CAPTURE(out, cli_list_print(f, d, 2));
    assert_non_null(strstr(out, "nvme0  /run/vfio-apple/nvme0.sock\n"));
    assert_non_null(strstr(out, "7a7a:0e01 (vendor not in pci.ids)"));
    assert_non_null(strstr(out, "class        010802 (Mass storage controller, NVM Express)"));
    assert_non_null(strstr(out, "BAR0         32 KiB, mem64 mappable trapped-pages"));
    assert_non_null(strstr(out, "MSI 0, MSI-X 8"));
    assert_non_null(strstr(out, "reset        FLR\n"));
    assert_non_null(strstr(out, "DMA budget   1.50 GiB, 65536 mappings"));
    assert_non_null(strstr(out, "session      open (pid 4242 qemu-system-aar)"));
    assert_non_null(strstr(out, "gone  /run/vfio-apple/gone.sock\n  error        connect: "
                                "Connection refused"));
    free(out);

    CAPTURE(out, cli_list_json(f, d, 2));
    j = parse_ok(out);
    assert_int_equal(json_len(json_get(j, "devices")), 2);
    dev = json_get(j, "devices")->child;
    assert_string_equal(json_str(json_get(dev, "name"), ""), "nvme0");
    assert_int_equal(json_u64(json_get(dev, "vendor_id"), 0), 0x7a7a);
    assert_int_equal(json_u64(json_get(dev, "class_code"), 0), 0x010802);
    assert_int_equal(json_get(dev, "vendor_name")->type, J_NULL);
    assert_string_equal(json_str(json_get(dev, "progif_name"), ""), "NVM Express");
    assert_int_equal(json_len(json_get(dev, "bars")), 1);
    assert_int_equal(json_u64(json_get(json_get(dev, "bars")->child, "size"), 0), 32768);
    assert_int_equal(json_u64(json_path(dev, "dma.budget_bytes"), 0), 1536ull << 20);
    assert_int_equal(json_u64(json_path(dev, "msix_vectors"), 0), 8);
    assert_int_equal(json_len(json_get(dev, "reset")), 1);
    assert_true(json_bool(json_path(dev, "session.open"), false));
    assert_int_equal(json_u64(json_path(dev, "session.owner_pid"), 0), 4242);
    assert_string_equal(json_str(json_get(dev->next, "error"), ""),
                        "connect: Connection refused");
    json_free(j);
    free(out);
}

static void status_report(void **state)
{
    struct cli_devinfo d;
    const struct jnode *dev;
    struct jnode *j;
    char *out, err[64];

    fake_device(&d);
    strcpy(d.qmp_note, "no VM (no QMP socket at /run/vfio-apple/nvme0.qmp)");
    CAPTURE(out, cli_status_print(f, &d, 1));
    assert_non_null(strstr(out, "session      open, owner pid 4242 (qemu-system-aar)"));
    assert_non_null(strstr(out, "DART         512 MiB in 1 mapping(s) now; peak 512 MiB in 1; "
                                "budget 1.50 GiB, 65536 mappings"));
    assert_non_null(strstr(out, "interrupts   1500 from the device"));
    assert_non_null(strstr(out, "faults       3 DART faults"));
    assert_non_null(strstr(out, "dext calls   3 (1 failed): DMA_MAP=3\n"));
    assert_non_null(strstr(out, "QEMU         no VM (no QMP socket"));
    free(out);

    /* with QEMU's view */
    d.qmp_root = parse_ok("[{\"id\":\"vfa0\",\"dext\":\"/run/vfio-apple/nvme0.sock\","
                          "\"dext-calls\":35,\"dext-calls-realize\":13,\"dext-timeouts\":0,"
                          "\"dext-wait-max-ns\":250000,\"lost\":false,\"unresponsive\":false,"
                          "\"dma-mode\":\"window\",\"interrupts\":1400,\"notifications\":1390,"
                          "\"config-cache-hits\":40,\"window\":[{\"gpa\":1073741824,"
                          "\"iova\":34359738368,\"size\":536870912}]}]");
    d.qemu = d.qmp_root->child;
    CAPTURE(out, cli_status_print(f, &d, 1));
    assert_non_null(strstr(out, "QEMU         device vfa0 (/run/vfio-apple/nvme0.qmp): 35 dext "
                                "calls (13 setting up), 0 timed out, longest wait 250 us\n"));
    assert_non_null(strstr(out, "window mode, 1400 interrupts delivered"));
    assert_non_null(strstr(out, "window GPA 0x40000000 -> IOVA 0x800000000 (512 MiB)"));
    free(out);
    CAPTURE(out, cli_status_json(f, &d, 1));
    j = parse_ok(out);
    dev = json_get(j, "devices")->child;
    assert_int_equal(json_u64(json_path(dev, "dart.mapped_bytes"), 0), 512ull << 20);
    assert_int_equal(json_u64(json_path(dev, "dart.faults"), 9), 3);
    assert_int_equal(json_u64(json_path(dev, "interrupts.received"), 0), 1500);
    assert_int_equal(json_u64(json_path(dev, "counters.sessions_opened"), 0), 2);
    assert_int_equal(json_u64(json_path(dev, "counters.calls.DMA_MAP"), 0), 3);
    assert_int_equal(json_u64(json_path(dev, "counters.errors.DMA_MAP"), 0), 1);
    assert_int_equal(json_u64(json_path(dev, "qemu.device.dext-calls"), 0), 35);
    assert_int_equal(json_u64(json_get(json_path(dev, "qemu.device.window")->child, "iova"), 0),
                     34359738368ull);
    json_free(j);
    free(out);
    cli_devinfo_free(&d);
    (void)err;
}

static void selftest_report(void **state)
{
    static struct cli_selftest r;
    const struct jnode *s;
    struct jnode *j;
    uint64_t lat[3] = { 9000, 7000, 120000 };
    char *out;

    memset(&r, 0, sizeof(r));
    strcpy(r.name, "nvme0");
    strcpy(r.target, "/s/nvme0.sock");
    r.transport = "vfio-apple-sim";
    r.id.vendor_id = 0x7a7a;
    r.id.dma_budget_bytes = 64ull << 20;
    r.id.dma_max_mappings = 1000;
    cli_step_set(cli_step_begin(&r, "identity"), CLI_STEP_PASS, "ok");
    cli_step_set(cli_step_begin(&r, "loopback"), CLI_STEP_SKIP, "no loopback known");
    cli_step_set(cli_step_begin(&r, "dma-budget"), CLI_STEP_FAIL, "found 32 MiB");
    r.failed = 1;
    r.budget_probed = true;
    r.budget_bytes = 32ull << 20;
    r.budget_bytes_exact = true;
    r.budget_mappings = 1000;
    r.budget_mappings_exact = false;
    cli_lat_summarise(lat, 3, &r.lat_config);
    r.wall_ns = 1500000000ull;
    CAPTURE(out, cli_selftest_print(f, &r));
    assert_non_null(strstr(out, "vfio-apple selftest: nvme0 (/s/nvme0.sock)\n"));
    assert_non_null(strstr(out, "  pass identity    ok\n"));
    assert_non_null(strstr(out, "  skip loopback    no loopback known\n"));
    assert_non_null(strstr(out, "  FAIL dma-budget  found 32 MiB\n"));
    assert_non_null(strstr(out, "DMA budget found: 32 MiB (33554432 bytes; reported 64 MiB), "
                                "at least 1000 mappings (reported 1000)"));
    assert_non_null(strstr(out, "config read        min     7.0  median     9.0  p99   120.0"));
    assert_non_null(strstr(out, "Result: FAILED (1 step(s) failed) in 1.5 s"));
    free(out);
    CAPTURE(out, cli_selftest_json(f, &r));
    j = parse_ok(out);
    assert_false(json_bool(json_get(j, "passed"), true));
    assert_int_equal(json_len(json_get(j, "steps")), 3);
    s = json_get(j, "steps")->child->next->next;
    assert_string_equal(json_str(json_get(s, "result"), ""), "fail");
    assert_int_equal(json_u64(json_path(j, "dma_budget.bytes"), 0), 32ull << 20);
    assert_true(json_bool(json_path(j, "dma_budget.bytes_exact"), false));
    assert_false(json_bool(json_path(j, "dma_budget.mappings_exact"), true));
    assert_int_equal(json_u64(json_path(j, "latency.config_read.p99_ns"), 0), 120000);
    assert_int_equal(json_u64(json_path(j, "latency.config_read.median_ns"), 0), 9000);
    json_free(j);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_round_trip),
        cmocka_unit_test(json_errors),
        cmocka_unit_test_setup_teardown(pci_names, write_ids, remove_ids),
        cmocka_unit_test(latency_summary),
        cmocka_unit_test(session_counting),
        cmocka_unit_test(list_report),
        cmocka_unit_test(status_report),
        cmocka_unit_test(selftest_report),
    };
    cli_progress_quiet(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
