#!/usr/bin/env python3
"""Issue 4, e2e test 1: passthrough NVMe through vfio-apple-pci, DMA window.

Guest RAM (512 MiB) is smaller than the window (1 GiB), so the window is
all of RAM and nothing bounces.  The simulator serves an NVMe controller;
the guest's stock nvme driver binds to vfio-apple-pci, writes 256 MiB with
O_DIRECT and reads it back (equal checksums), using more than one MSI-X
vector.  Host side: the simulator reports zero DART faults, the only DART
mapping is the window QEMU mapped at start, and every transfer went through
it; QEMU reports the dext calls of the probe and per I/O.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SIM = os.path.join(harness.TOP, "build", "vfio-apple-sim")
RAM = "512M"
DISK = 512 << 20
MB = 256


def sim_stats(sock):
    out = subprocess.run([SIM, "stats", "--socket", sock], check=True,
                         stdout=subprocess.PIPE, text=True, timeout=30).stdout
    return json.loads(out)


def wait_socket(run, proc, sock, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(sock):
            return True
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    return run.check("simulator-started", False,
                     f"no socket {sock} (see {proc.log_path})")


def body(run):
    if not os.access(SIM, os.X_OK):
        subprocess.run(["make", "-C", harness.TOP, "-s", os.path.relpath(SIM, harness.TOP)],
                       check=True)
    disk = os.path.join(run.workdir, "nvme.img")
    with open(disk, "wb") as f:
        f.truncate(DISK)
    sock = os.path.join(run.workdir, "sim.sock")
    sim = run.spawn("vfio-apple-sim", [SIM, "--socket", sock, "--device",
                                       f"nvme,file={disk},size={DISK}"])
    if not wait_socket(run, sim, sock):
        return

    samples = {}

    def on_line(r, line):
        # The guest's driver probe is over: sample QEMU's dext call count.
        if "VFIOAPPLE-NOTE probe_done=1" in line and "probe" not in samples:
            try:
                samples["probe"] = r.qmp("x-query-vfio-apple")[0]
            except Exception as e:     # reported below as a missing sample
                samples["probe-error"] = str(e)

    initrd = run.initramfs(["passthrough-nvme.sh"], modules=["nvme"])
    run.boot(initrd, mem=RAM, qmp=True, timeout=900, on_line=on_line, qemu_args=[
        "-object", f"memory-backend-memfd,id=mem,size={RAM},share=on",
        "-machine", "memory-backend=mem",
        "-device", f"vfio-apple-pci,host={sock},id=pt0",
        # e.g. VFIO_APPLE_QEMU_ARGS="-trace vfio_apple_config_*" to debug
        *os.environ.get("VFIO_APPLE_QEMU_ARGS", "").split()])
    run.check("qemu-exited-cleanly", run.qemu_rc == 0, f"QEMU exit status {run.qemu_rc}")

    st = sim_stats(sock)
    with open(os.path.join(run.logdir, "sim-stats.json"), "w") as f:
        json.dump(st, f, indent=1)
    core, dart = st["core"], st["dart"]
    run.check("dart-zero-faults", dart["faults"] == 0,
              f"{dart['faults']} DART fault(s): {dart.get('fault_log')}")
    # Transfers inside the window: the window was the only DART mapping
    # ever made (one DMA_MAP, one segment list, peak = the window), and the
    # device faulted on nothing, so every byte it moved went through it.
    window = 512 << 20
    run.check("only-the-window-mapped",
              core["dma_maps"] == 1 and dart["peak_live_mappings"] == 1 and
              dart["peak_mapped_bytes"] == window,
              f"dma_maps={core['dma_maps']} peak_live={dart['peak_live_mappings']} "
              f"peak_bytes={dart['peak_mapped_bytes']} (window {window})")
    moved = dart["bytes_read"] + dart["bytes_written"]
    run.check("transfers-through-the-window", moved >= 2 * MB << 20,
              f"the device moved only {moved} bytes through the DART")
    run.check("no-live-mappings-after-exit", dart["live_mappings"] == 0,
              f"{dart['live_mappings']} DART mapping(s) left after QEMU exited")

    probe = samples.get("probe")
    if not run.check("probe-sampled", probe is not None,
                     samples.get("probe-error", "guest never reached probe_done")):
        return
    calls = probe["dext-calls"]
    run.check("probe-few-dext-calls", calls <= 80,
              f"{calls} dext calls for realize + guest probe")
    ios = (2 * MB << 20) // (128 << 10)    # nvme splits 1 MiB into 128 KiB I/Os
    by = {m["method"]: m["calls"] for m in probe["dext-calls-by-method"]}
    print(f"probe: {calls} dext calls ({probe['dext-calls-realize']} in QEMU setup) {by}")
    notes = run.notes
    if "write_ms" in notes:
        w, r = int(notes["write_ms"]), int(notes["read_ms"])
        print(f"verified workload: write {MB * 1000 / max(w, 1):.1f} MiB/s, "
              f"read {MB * 1000 / max(r, 1):.1f} MiB/s (with the guest's "
              f"urandom and sha256 under TCG)")
    if "raw_write_ms" in notes:
        w, r = int(notes["raw_write_ms"]), int(notes["raw_read_ms"])
        print(f"device path: write {MB * 1000 / max(w, 1):.1f} MiB/s, "
              f"read {MB * 1000 / max(r, 1):.1f} MiB/s (O_DIRECT 1 MiB, TCG guest)")
    print(f"I/O: about {ios} NVMe commands; sim stats: "
          f"{core['calls_total']} dext calls in all, irq_received {core['irq_received']}")


if __name__ == "__main__":
    harness.main("passthrough-nvme", body)
