#!/usr/bin/env python3
"""A device-tree boot whose window cannot be mapped (DART budget below the
window) fails at start, saying why and what to change."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 2 * pt.GiB


def body(run):
    sim = pt.start_sim(run, extra=["--dart-budget", "512M"])
    initrd = run.initramfs(["pt-device.sh"], modules=["nvme"])
    run.boot(initrd, mem=f"{MEM >> 20}M", qemu_args=pt.qemu_args(sim, MEM, window="1G"),
             timeout=120, expect_end=False)
    err = open(run.qemu_stderr).read()
    run.check("qemu-refused-to-start", run.qemu_rc not in (0, None) and
              "VFIOAPPLE-CHECK" not in open(run.console_log).read(),
              f"qemu exit {run.qemu_rc}")
    low = err.lower()
    run.check("error-says-why", "budget" in low, f"stderr: {err.strip()[-400:]!r}")
    run.check("error-says-what-to-change", "window-size" in low, f"stderr: {err.strip()[-400:]!r}")
    st = pt.sim_stats(sim)
    run.check("no-mapping-left-behind", st["core"]["dma_live_mappings"] == 0 and not st["session_open"],
              f"{st['core']['dma_live_mappings']} live mappings, session open {st['session_open']}")


if __name__ == "__main__":
    harness.main("pt-window-negative", body)
