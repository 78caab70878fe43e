#!/usr/bin/env python3
"""NOT IN make check (run it by hand: python3 tests/e2e/stress_companion_budget.py).
It shows an open defect: under this tiny budget, with fio's buffer pages
spread over more 16 MiB chunks than fit, throughput can collapse to a few
I/Os per second (a clean-clone run: 183 I/Os in 47 s, 56714 mapping
errors, no panic) and fio does not end in time.  The host side of the
budget (NO_SPACE, pinned chunks never evicted, room once unpinned) is
covered by qtest /vfio-apple/companion/budget.

Companion mode under a small DART budget (64 MiB, 512 mappings; a 16 MiB
window; chunks of 16 MiB, so three fit beyond the window): heavy I/O runs out of mappings; the guest sees DMA mapping errors
(no panic, no hang) and the I/O retries or fails; with the pressure gone
light I/O is correct again in the same VM.  The host never maps beyond the
budget (QEMU's and the simulator's peaks) and refuses with NO_SPACE."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_companion as comp  # noqa: E402

BUDGET = 64 * pt.MiB
MEM = 2 * pt.GiB


def body(run):
    kernel = "bookworm"
    sim = pt.start_sim(run, disk_size="1G",
                       extra=["--dart-budget", str(BUDGET), "--dart-max-mappings", "512"])
    ko = comp.apple_dma_ko(kernel)
    got = {}

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC pressure-stats"):
            got["qmp"] = run_.qmp("x-query-vfio-apple")

    run.notes = {}
    initrd = run.initramfs(["pt-device.sh", "companion-pressure.sh"],
                           modules=["apple_dma", "nvme"], ko=[ko], kernel=kernel, fio=True)
    run.boot(initrd, mem=f"{MEM >> 20}M", timeout=900, on_line=on_line, qmp=True,
             qemu_args=comp.companion_args(sim, mem=MEM, window=16 * pt.MiB,
                                           companion={"chunk-size": 16 * pt.MiB}))
    n = run.notes
    print(f"pressure: fio exit {n.get('pressure_fio_rc')} in {n.get('pressure_fio_ms')} ms, "
          f"{n.get('pressure_map_errors')} DMA mapping errors in the guest")
    info = got.get("qmp")
    c = info[0].get("companion") if info else None
    if run.check("pressure-stats-taken", c is not None, f"x-query-vfio-apple: {info}"):
        print(f"pressure: companion peak {c['peak-bytes'] >> 20} MiB in {c['peak-mappings']} "
              f"mappings, {c['errors-no-space']} NO_SPACE, {c['evictions']} evictions")
        run.check("pressure-host-refused-no-space", c["errors-no-space"] > 0,
                  "the budget never ran out: the test did not test it")
        run.check("pressure-host-evicted", c["evictions"] > 0, "no chunk was ever evicted")
        run.check("pressure-host-peak-in-budget", c["peak-bytes"] <= BUDGET,
                  f"peak {c['peak-bytes']:#x} > {BUDGET:#x}")
    st = pt.sim_stats(sim)
    pt.check_dart_clean(run, st)
    run.check("pressure-sim-peak-in-budget", st["dart"]["peak_mapped_bytes"] <= BUDGET,
              f"simulator peak {st['dart']['peak_mapped_bytes']:#x}")


if __name__ == "__main__":
    harness.main("pt-companion-budget", body)
