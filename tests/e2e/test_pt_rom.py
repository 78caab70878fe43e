#!/usr/bin/env python3
"""The guest reads the passthrough device's expansion ROM through sysfs and
gets the simulator's image, served by the dext's ROM method.  While the
guest runs, the monitor side: migration is refused with a clear message and
HMP `info vfio-apple` reports the device."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB


def body(run):
    sim = pt.start_sim(run)
    seen = {}

    def on_line(run_, line):
        if not line.endswith("VFIOAPPLE-SYNC monitor"):
            return
        try:
            run_.qmp("migrate", uri="exec:cat >/dev/null")
            seen["migrate"] = "migration started"
        except RuntimeError as e:
            seen["migrate"] = str(e)
        seen["info"] = run_.qmp("human-monitor-command", **{"command-line": "info vfio-apple"})

    initrd = run.initramfs(["pt-device.sh", "pt-rom.sh"], modules=["nvme"])
    run.boot(initrd, mem=f"{MEM >> 20}M", qemu_args=pt.qemu_args(sim, MEM), timeout=300,
             qmp=True, on_line=on_line)
    run.check("migration-blocked", "cannot be migrated" in seen.get("migrate", ""),
              f"migrate said: {seen.get('migrate')!r}")
    info = seen.get("info", "")
    run.check("hmp-info-vfio-apple", "pt0" in info and "dext" in info.lower(),
              f"info vfio-apple said: {info[:300]!r}")
    c = pt.sim_stats(sim)["core"]
    run.check("rom-read-through-dext", c["rom_reads"] > 0, "the dext served no ROM read")


if __name__ == "__main__":
    harness.main("pt-rom", body)
