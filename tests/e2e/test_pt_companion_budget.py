#!/usr/bin/env python3
"""Companion mode under a small DART budget (64 MiB, 512 mappings; a 24 MiB
window; chunks of 16 MiB, of which two fit beside the 8 MiB span reserve):
heavy verified I/O runs out of mappings; the guest logs and counts DMA
mapping errors and nvme retries them (no panic, no hang); the reserve
only spans use keeps every request mappable, so the whole job finishes,
verified; with the pressure gone, light I/O is correct again in the same
VM.  The host never maps beyond the budget (QEMU's and the simulator's
peaks) and refuses with NO_SPACE.

The simulated NVMe holds every completion LATENCY_US (its latency-us
option), as a real disk takes time: the driver then keeps requests, and
their mappings, in flight whatever the machine's load, so the budget runs
out in every run (without it, a loaded machine's slow guest kept so
little in flight that it never did).  Without the reserve
(span-reserve=0, 16 MiB window, 8 MiB chunks) this VM hung: a request
whose pages lay in more chunks than fit failed for ever."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_companion as comp  # noqa: E402

BUDGET = 64 * pt.MiB
MEM = 2 * pt.GiB
LATENCY_US = 50000      # 50 ms a request, a slow disk: requests overlap even in a slow guest


def body(run):
    kernel = "bookworm"
    sim = pt.start_sim(run, disk_size="1G", nvme_opts=f"latency-us={LATENCY_US}",
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
             qemu_args=comp.companion_args(sim, mem=MEM, window=24 * pt.MiB,
                                           companion={"chunk-size": 16 * pt.MiB}))
    n = run.notes
    print(f"pressure: fio exit {n.get('pressure_fio_rc')} in {n.get('pressure_fio_ms')} ms "
          f"({n.get('pressure_written')} written and verified), {n.get('pressure_no_space')} maps refused for the "
          f"budget, {n.get('pressure_map_errors')} DMA mapping errors, "
          f"{n.get('pressure_spans')} spans in the guest")
    info = got.get("qmp")
    c = info[0].get("companion") if info else None
    if run.check("pressure-stats-taken", c is not None, f"x-query-vfio-apple: {info}"):
        print(f"pressure: companion peak {c['peak-bytes'] >> 20} MiB in {c['peak-mappings']} "
              f"mappings, {c['errors-no-space']} NO_SPACE, {c['evictions']} evictions, "
              f"span reserve {c['span-reserve-bytes'] >> 20} MiB")
        run.check("pressure-host-refused-no-space", c["errors-no-space"] > 0,
                  "the budget never ran out: the test did not test it")
        # Evictions are not required: the chunks that fit can stay pinned
        # by the hot buffers the whole run (the starvation the reserve
        # prevents).  qtest /vfio-apple/companion/forward-progress and
        # /budget prove eviction of unpinned chunks.
        run.check("pressure-host-span-reserve", c["span-reserve-bytes"] == 8 * pt.MiB,
                  f"span reserve {c['span-reserve-bytes']:#x}, want 8 MiB (budget/8)")
        run.check("pressure-host-peak-in-budget", c["peak-bytes"] <= BUDGET,
                  f"peak {c['peak-bytes']:#x} > {BUDGET:#x}")
    st = pt.sim_stats(sim)
    dev = st["device"]
    print(f"pressure: the simulated NVMe held {dev['held']} completions {LATENCY_US} us each, "
          f"at most {dev['held_peak']} at once")
    # The latency did hold requests in flight together (how many is bounded
    # by the budget itself: a request whose map is refused never reaches
    # the device); that the budget ran out is pressure-host-refused-no-space.
    run.check("pressure-requests-in-flight", dev["held"] > 0 and dev["held_peak"] >= 4,
              f"{dev['held']} completions held, at most {dev['held_peak']} at once")
    pt.check_dart_clean(run, st)
    run.check("pressure-sim-peak-in-budget", st["dart"]["peak_mapped_bytes"] <= BUDGET,
              f"simulator peak {st['dart']['peak_mapped_bytes']:#x}")


if __name__ == "__main__":
    harness.main("pt-companion-budget", body)
