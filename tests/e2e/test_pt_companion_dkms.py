#!/usr/bin/env python3
"""The DKMS package installed the way a user installs it, in a guest: a
stock Debian bookworm arm64 root (debootstrap: dkms, gcc and the guest
kernel's own linux-headers packages; scripts/guest-rootfs.sh) on a
virtio-blk disk, `dpkg -i apple-dma-dkms_*.deb` inside the 6.1 guest, DKMS
building apple_dma there with the guest's own compiler, the module loaded
from the package's modules-load.d entry, and the stock nvme driver doing
verified I/O through the companion.

Stage 2 of the root (debootstrap --second-stage, on arm64) runs in a guest
the first time only and is kept in the cache; the test boots the kept
image with snapshot=on, so nothing it installs stays."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_companion as comp  # noqa: E402

KERNEL = "bookworm"
MODULES = ["virtio_pci", "virtio_blk", "ext4", "nvme"]


def script_vars(name, *args):
    out = subprocess.run([os.path.join(harness.SCRIPTS, name), *args], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return dict(ln.split("=", 1) for ln in out.splitlines() if "=" in ln)


def disk_args(image, snapshot):
    return ["-drive", f"file={image},format=raw,if=none,id=root,cache=unsafe"
            + (",snapshot=on" if snapshot else ""),
            "-device", "virtio-blk-pci,drive=root"]


def rootfs(run):
    """The stage-2 image: made now (one guest boot) if not kept yet."""
    paths = script_vars("guest-rootfs.sh")
    final = paths["ROOTFS"]
    if os.path.exists(final):
        return final
    tmp = final + ".tmp"
    subprocess.run(["cp", "--sparse=always", paths["ROOTFS_STAGE1"], tmp], check=True)
    print("stage 2 of the guest root (debootstrap --second-stage under TCG; once)")
    run.notes = {}
    initrd = run.initramfs(["dkms-rootfs-stage2.sh"], modules=MODULES[:3],
                           kernel=KERNEL)
    run.boot(initrd, mem="2048M", timeout=2400, tag="stage2",
             qemu_args=disk_args(tmp, snapshot=False))
    if run.notes.get("rootfs_ready") != "1":
        os.replace(tmp, final + ".failed")     # kept to look into (debugfs)
        return None
    os.replace(tmp, final)
    return final


def body(run):
    image = rootfs(run)
    if not run.check("dkms-rootfs-ready", image is not None,
                     "stage 2 of the guest root failed (see the stage2 console log)"):
        return
    deb = subprocess.run([os.path.join(harness.SCRIPTS, "guest-apple-dma-deb.sh"),
                          os.path.join(run.workdir, "deb")], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    sim = pt.start_sim(run, name="sim-dkms")
    run.notes = {}
    # nvme binds at boot, before the module exists: QEMU holds its bus
    # mastering, its probe times out (5 s) and apple_dma re-binds it.
    initrd = run.initramfs(["companion-dkms.sh"], modules=MODULES,
                           modargs={"nvme_core": "admin_timeout=5"},
                           add=[f"{deb}:/root/apple-dma-dkms.deb"], kernel=KERNEL)
    run.boot(initrd, mem="1024M", qmp=False, timeout=1200, tag="dkms",
             qemu_args=comp.companion_args(sim, mem=pt.GiB, window=64 * pt.MiB)
             + disk_args(image, snapshot=True))
    ms = run.notes.get("dkms_install_ms")
    if ms:
        print(f"dkms: dpkg -i with the DKMS build in the guest took {int(ms) / 1000:.1f} s")
    pt.check_dart_clean(run, pt.sim_stats(sim))


if __name__ == "__main__":
    harness.main("pt-companion-dkms", body)
