#!/usr/bin/env python3
"""An emulated virtio-blk-pci disk on the same bus as vfio-apple-pci keeps
working in window mode: known data reads back, guest writes land.

The DART here hands out low IOVAs (from 16 KiB), as the real one does: the
window's bus addresses overlap the GIC ITS (the MSI doorbell) and the PCIe
MMIO window.  QEMU must keep the doorbell above the window, or virtio-blk's
MSIs land in guest RAM and its I/O hangs; the passthrough NVMe's I/O must
stay correct with bus addresses below guest RAM."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB
VBLK_MB = 32


def body(run, firmware=False, kernel=None):
    """`firmware`: through UEFI with ACPI (test_pt_acpi.py), where the RAM
    behind the doorbell's IOVAs cannot be reserved (docs/boot-modes.md)."""
    sim = pt.start_sim(run, name="sim-vblk", extra=["--dart-iova-base", "0x4000"])
    disk = os.path.join(run.workdir, "vblk.img")
    data = os.urandom(VBLK_MB << 20)
    with open(disk, "wb") as f:
        f.write(data)
    initrd = run.initramfs((["acpi.sh"] if firmware else []) +
                           ["pt-device.sh", "virtio-blk.sh", "nvme-io.sh"],
                           modules=["nvme", "virtio_blk", "virtio_pci"], kernel=kernel,
                           params={"MB": 32, "VBLK_MB": VBLK_MB,
                                   "VBLK_SHA": hashlib.sha256(data).hexdigest()})
    seen = {}

    def on_line(r, line):
        if "VFIOAPPLE-CHECK" in line and "info" not in seen:
            seen["info"] = r.qmp("x-query-vfio-apple")[0]

    run.boot(initrd, mem=f"{MEM >> 20}M", timeout=600, qmp=True, on_line=on_line,
             firmware=firmware, tag="virtio-blk" if firmware else "",
             qemu_args=pt.qemu_args(sim, MEM) + [
        "-drive", f"if=none,id=vb0,file={disk},format=raw",
        # the boot disk of a UEFI guest (see passthrough.boot_disk_args)
        "-device", "virtio-blk-pci,drive=vb0" + (",bootindex=0" if firmware else "")])
    with open(disk, "rb") as f:
        head = f.read(8 << 20)
    want = run.notes.get("vblk_written_sha")
    run.check("virtio-blk-guest-write-landed", want and hashlib.sha256(head).hexdigest() == want,
              f"host sees sha256 {hashlib.sha256(head).hexdigest()}, guest wrote {want}")
    st = pt.sim_stats(sim)
    pt.check_dart_clean(run, st)
    run.check("window-iovas-low", st["dart"]["iova_lo"] < 0x08080000,
              f"lowest IOVA the device used {st['dart']['iova_lo']:#x}")
    kinds = {o["kind"] for o in seen.get("info", {}).get("window-overlaps", [])}
    run.check("window-overlaps-msi-doorbell", "msi-doorbell" in kinds,
              f"overlaps QEMU reported: {seen.get('info', {}).get('window-overlaps')}")
    return seen.get("info")


if __name__ == "__main__":
    harness.main("pt-virtio-blk", body)
