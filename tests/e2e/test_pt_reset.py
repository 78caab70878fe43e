#!/usr/bin/env python3
"""Passthrough reset: the guest's sysfs reset reaches the dext's reset
method, and I/O works after it and after a driver unbind/rebind."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB


def body(run):
    sim = pt.start_sim(run)
    snaps = {}

    def on_line(run_, line):
        # Snapshot the dext's reset counters at the guest's sync points.
        for phase in ("before-reset", "after-reset"):
            if line.endswith(f"VFIOAPPLE-SYNC {phase}"):
                snaps[phase] = pt.sim_stats(sim)["core"]

    initrd = run.initramfs(["pt-device.sh", "pt-reset.sh"], modules=["nvme"])
    run.boot(initrd, mem=f"{MEM >> 20}M", qemu_args=pt.qemu_args(sim, MEM), timeout=600,
             on_line=on_line)
    if run.check("sync-points-seen", len(snaps) == 2, f"saw {sorted(snaps)}"):
        before, after = snaps["before-reset"], snaps["after-reset"]
        n = (after["resets_flr"] + after["resets_hot"]) - (before["resets_flr"] + before["resets_hot"])
        run.check("sysfs-reset-reached-dext", n >= 1,
                  f"dext resets during the guest's sysfs reset: {n}")
        run.check("reset-did-not-fail", after["reset_failures"] == before["reset_failures"],
                  f"reset failures {before['reset_failures']} -> {after['reset_failures']}")
    pt.check_dart_clean(run, pt.sim_stats(sim))


if __name__ == "__main__":
    harness.main("pt-reset", body)
