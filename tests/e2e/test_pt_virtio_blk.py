#!/usr/bin/env python3
"""An emulated virtio-blk-pci disk on the same bus as vfio-apple-pci keeps
working in window mode: known data reads back, guest writes land."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB
VBLK_MB = 32


def body(run):
    sim = pt.start_sim(run)
    disk = os.path.join(run.workdir, "vblk.img")
    data = os.urandom(VBLK_MB << 20)
    with open(disk, "wb") as f:
        f.write(data)
    initrd = run.initramfs(["pt-device.sh", "virtio-blk.sh", "nvme-io.sh"],
                           modules=["nvme", "virtio_blk", "virtio_pci"],
                           params={"MB": 32, "VBLK_MB": VBLK_MB,
                                   "VBLK_SHA": hashlib.sha256(data).hexdigest()})
    run.boot(initrd, mem=f"{MEM >> 20}M", timeout=600, qemu_args=pt.qemu_args(sim, MEM) + [
        "-drive", f"if=none,id=vb0,file={disk},format=raw",
        "-device", "virtio-blk-pci,drive=vb0"])
    with open(disk, "rb") as f:
        head = f.read(8 << 20)
    want = run.notes.get("vblk_written_sha")
    run.check("virtio-blk-guest-write-landed", want and hashlib.sha256(head).hexdigest() == want,
              f"host sees sha256 {hashlib.sha256(head).hexdigest()}, guest wrote {want}")
    pt.check_dart_clean(run, pt.sim_stats(sim))


if __name__ == "__main__":
    harness.main("pt-virtio-blk", body)
