#!/usr/bin/env python3
"""Smoke: the arm64 guest boots under TCG and drives QEMU's emulated NVMe."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def body(run):
    hello = subprocess.run([os.path.join(harness.SCRIPTS, "guest-modules.sh"),
                            os.path.join(harness.TOP, "tests", "modules", "hello")],
                           check=True, stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, **harness.platform())).stdout.split()
    disk = os.path.join(run.workdir, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(128 << 20)
    initrd = run.initramfs(["hello-module.sh", "nvme-io.sh"], modules=["nvme"], ko=hello)
    run.boot(initrd, qemu_args=[
        "-drive", f"if=none,id=d0,file={disk},format=raw",
        "-device", "nvme,drive=d0,serial=smoke0"], timeout=300)


if __name__ == "__main__":
    harness.main("smoke-nvme", body)
