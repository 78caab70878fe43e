#!/usr/bin/env python3
"""Faults during I/O.

1. The simulator (the dext) dies: QEMU survives and reports the device
   lost; the guest's I/O fails with errors instead of hanging.
2. QEMU dies: the simulator releases every mapping and resets the device.
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB
TIMEOUT = 10        # seconds, nvme_core's io_timeout and admin_timeout


def kill_later(proc, delay):
    def go():
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    threading.Thread(target=go, daemon=True).start()


def sim_dies(run):
    sim = pt.start_sim(run, name="sim-dies", disk_size="4G", fault_fatal=False)

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC io-start"):
            kill_later(sim, 3)

    # Short NVMe timeouts (default 30 s and 60 s), so the lost device's
    # I/O fails soon: one through the image, one on the kernel command line.
    initrd = run.initramfs(["pt-device.sh", "pt-kill-io.sh"], modules=["nvme"],
                           modargs={"nvme-core": f"io_timeout={TIMEOUT}"})
    rc = run.boot(initrd, mem=f"{MEM >> 20}M", qemu_args=pt.qemu_args(sim, MEM), timeout=600,
                  on_line=on_line, tag="sim-dies", append=f"nvme_core.admin_timeout={TIMEOUT}")
    n = run.notes
    run.check("nvme-timeouts-applied",
              n.get("nvme_io_timeout") == str(TIMEOUT) and n.get("nvme_admin_timeout") == str(TIMEOUT),
              f"guest nvme_core io_timeout={n.get('nvme_io_timeout')} "
              f"admin_timeout={n.get('nvme_admin_timeout')}, wanted {TIMEOUT}")
    run.check("qemu-survived-device-loss", run.qemu_rc == 0 and rc is not None,
              f"qemu exit {run.qemu_rc}, guest end {rc}")
    err = open(run.qemu_stderr).read()
    run.check("qemu-reported-device-lost", "lost" in err.lower(),
              f"qemu stderr: {err[-300:]!r}")


def qemu_dies(run):
    sim = pt.start_sim(run, name="sim-survives", disk_size="4G", fault_fatal=False)
    before = pt.sim_stats(sim)["core"]

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC io-start"):
            kill_later(run_.qemu, 3)

    initrd = run.initramfs(["pt-device.sh", "pt-kill-io.sh"], modules=["nvme"])
    run.boot(initrd, mem=f"{MEM >> 20}M", qemu_args=pt.qemu_args(sim, MEM), timeout=600,
             on_line=on_line, expect_end=False, tag="qemu-dies")
    run.check("qemu-was-killed", run.qemu_rc == -signal.SIGKILL, f"qemu exit {run.qemu_rc}")
    st = None
    for _ in range(50):           # the simulator notices the hang-up at once
        st = pt.sim_stats(sim)
        if not st["session_open"]:
            break
        time.sleep(0.1)
    c = st["core"]
    run.check("sim-session-released", not st["session_open"], "session still open")
    run.check("sim-zero-live-mappings", c["dma_live_mappings"] == 0 and st["dart"]["live_mappings"] == 0,
              f"core {c['dma_live_mappings']}, dart {st['dart']['live_mappings']} live mappings")
    run.check("sim-counted-client-death", c["sessions_client_died"] == before["sessions_client_died"] + 1,
              f"sessions_client_died {before['sessions_client_died']} -> {c['sessions_client_died']}")
    run.check("sim-reset-device-after-death",
              c["resets_flr"] + c["resets_hot"] > before["resets_flr"] + before["resets_hot"],
              "no reset after the client died")
    run.check("sim-still-serving", sim.poll() is None, "simulator exited")


def body(run):
    sim_dies(run)
    run.checks = [harness.Check("sim-dies/" + c.name, c.ok, c.reason, c.log) for c in run.checks]
    n = len(run.checks)
    qemu_dies(run)
    run.checks[n:] = [harness.Check("qemu-dies/" + c.name, c.ok, c.reason, c.log) for c in run.checks[n:]]


if __name__ == "__main__":
    harness.main("pt-faults", body)
