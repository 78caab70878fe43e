#!/usr/bin/env python3
"""The guest reads the passthrough device's expansion ROM through sysfs and
gets the simulator's image, served by the dext's ROM method."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB


def body(run):
    sim = pt.start_sim(run)
    initrd = run.initramfs(["pt-device.sh", "pt-rom.sh"], modules=["nvme"])
    run.boot(initrd, mem=f"{MEM >> 20}M", qemu_args=pt.qemu_args(sim, MEM), timeout=300)
    c = pt.sim_stats(sim)["core"]
    run.check("rom-read-through-dext", c["rom_reads"] > 0, "the dext served no ROM read")


if __name__ == "__main__":
    harness.main("pt-rom", body)
