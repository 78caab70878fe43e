#!/usr/bin/env python3
"""Issue 4, e2e test 1: passthrough NVMe through vfio-apple-pci, DMA window.

Guest RAM (512 MiB) is smaller than the window (1 GiB), so the window is
all of RAM and nothing bounces.  The simulator serves an NVMe controller;
the guest's stock nvme driver binds to vfio-apple-pci, writes 256 MiB with
O_DIRECT and reads it back (equal checksums), using more than one MSI-X
vector.  Host side: zero DART faults, every transfer inside the window
QEMU mapped at start (the only DART mapping), everything released when
QEMU exits; QEMU's dext call counts for the probe and per I/O.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

RAM = 512 * pt.MiB
MB = 256


def body(run):
    sim = pt.start_sim(run, disk_size=f"{2 * MB}M")
    samples = {}

    def on_line(r, line):
        for tag in ("probed", "io-done"):
            if f"VFIOAPPLE-SYNC {tag}" in line and tag not in samples:
                try:
                    samples[tag] = r.qmp("x-query-vfio-apple")[0]
                    samples[tag + "-sim"] = pt.sim_stats(sim)
                except Exception as e:  # reported below as a missing sample
                    samples[tag + "-error"] = str(e)

    initrd = run.initramfs(["pt-device.sh", "passthrough-nvme.sh", "pt-msix.sh"],
                           modules=["nvme"], params={"MB": MB})
    run.boot(initrd, mem=f"{RAM // pt.MiB}M", qmp=True, timeout=900, on_line=on_line,
             qemu_args=pt.qemu_args(sim, RAM, window="1G") +
             # e.g. VFIO_APPLE_QEMU_ARGS="-trace vfio_apple_config_*"
             os.environ.get("VFIO_APPLE_QEMU_ARGS", "").split())
    run.check("qemu-exited-cleanly", run.qemu_rc == 0, f"QEMU exit status {run.qemu_rc}")

    probe, done = samples.get("probed"), samples.get("io-done")
    st = pt.sim_stats(sim)
    with open(os.path.join(run.logdir, "sim-stats.json"), "w") as f:
        json.dump({"sim": st, "qemu-probe": probe, "qemu-io-done": done}, f, indent=1)
    if not run.check("qemu-sampled", probe and done,
                     samples.get("probed-error") or samples.get("io-done-error") or
                     "the guest never reached the SYNC lines"):
        return

    # The window: all of guest RAM, one DART mapping, every transfer in it.
    win = probe["window"]
    run.check("window-is-all-ram", probe["window-size"] == RAM and
              sum(s["size"] for s in win) == RAM,
              f"window {probe['window-size']:#x} segments {win}")
    iova_lo = min(s["iova"] for s in win)
    iova_hi = max(s["iova"] + s["size"] for s in win)
    pt.check_dart_clean(run, st, iova_lo, iova_hi - iova_lo)
    core, dart = st["core"], st["dart"]
    run.check("only-the-window-mapped",
              core["dma_maps"] == 1 and dart["peak_live_mappings"] == 1 and
              dart["peak_mapped_bytes"] == RAM,
              f"dma_maps={core['dma_maps']} peak_live={dart['peak_live_mappings']} "
              f"peak_bytes={dart['peak_mapped_bytes']}")
    run.check("released-at-exit", dart["live_mappings"] == 0 and
              core["sessions_closed"] == 1 and core["sessions_client_died"] == 0,
              f"live mappings {dart['live_mappings']}, sessions closed "
              f"{core['sessions_closed']}, died {core['sessions_client_died']}")

    # Dext calls: a probe costs a few dozen (the simulator counts them, by
    # selector); the I/O costs none.
    calls = probe["dext-calls"]
    by = {m["method"]: m["calls"] for m in probe["dext-calls-by-method"]}
    sim_calls, sim_by = pt.sim_dext_calls(samples["probed-sim"])
    run.check("probe-at-most-50-dext-calls", sim_calls <= 50,
              f"the simulator served {sim_calls} requests for QEMU's setup and the "
              f"guest's probe: {sim_by}")
    run.check("qemu-and-sim-count-the-same", sim_calls == calls,
              f"QEMU counted {calls} ({by}), the simulator {sim_calls} ({sim_by})")
    io_calls = done["dext-calls"] - calls
    dev = st["device"]
    ios = dev["cmds_read"] + dev["cmds_write"]      # NVMe I/O commands
    run.check("no-dext-calls-per-io", io_calls <= 4,
              f"{io_calls} dext calls during {ios} I/O commands")
    run.check("interrupts-delivered", done["interrupts"] > ios // 8,
              f"{done['interrupts']} interrupts for {ios} commands")

    n = run.notes
    print(f"probe: {sim_calls} dext calls counted by the simulator "
          f"({probe['dext-calls-realize']} in QEMU's setup) {sim_by}")
    print(f"I/O: {io_calls} dext calls for {ios} NVMe I/O commands "
          f"({io_calls / ios:.4f} per I/O); {done['interrupts']} interrupts in "
          f"{done['notifications']} notifications")
    if "write_ms" in n:
        print(f"device path (TCG guest, O_DIRECT 1 MiB, {MB} MiB verified): "
              f"write {MB * 1000 / max(int(n['write_ms']), 1):.1f} MiB/s, "
              f"read {MB * 1000 / max(int(n['read_ms']), 1):.1f} MiB/s")

if __name__ == "__main__":
    harness.main("passthrough-nvme", body)
