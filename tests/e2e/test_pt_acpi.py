#!/usr/bin/env python3
"""Window mode for guests that boot through UEFI firmware with ACPI.

Debian's edk2 for QEMU (qemu-efi-aarch64) loads the same kernel and
initramfs from fw_cfg and hands the guest ACPI tables, never the device
tree: the guest learns the window only from the PCIe host bridge's _DMA
and the IORT.  acpi.sh checks inside the guest that it booted with ACPI
(the IORT is there, no device tree), so no check here can pass on a DT
boot.  Per kernel (6.1 and 6.12):

  1. the window as all of RAM: 256 MiB O_DIRECT written and read back
     with equal checksums by the stock nvme driver, zero DART faults,
     every transfer inside the window; the _DMA and IORT the guest got,
     disassembled with iasl, say what QEMU says it told the guest;
  2. RAM larger than the window: the DMA zone is the window, swiotlb
     bounces the rest, data verified (test_pt_bounce.py's boot).

Once, no guest kernel: 0. firmware that boots from its own devices, with
no boot order, drives the device itself and the DART faults (QEMU warns);
every boot above gives a boot disk bootindex=0, as libvirt and UTM do.
And once (6.1): 3. a virtio-blk disk on the same bridge reads and writes
known data, with the DART handing out low IOVAs that overlap the MSI
doorbell (test_pt_virtio_blk.py's boot): the doorbell stays reachable for
virtio-blk's MSIs, though ACPI cannot reserve the RAM behind it.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acpi_tables  # noqa: E402
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_bounce  # noqa: E402
import test_pt_virtio_blk  # noqa: E402

WINDOW_RAM = 512 * pt.MiB      # < the 1 GiB window: the window is all of RAM
IO_MB = 256
KERNELS = os.environ.get("VFIO_APPLE_KERNELS", "bookworm trixie").split()


def prefixed(run, n0, prefix):
    run.checks[n0:] = [harness.Check(f"{prefix}/{c.name}", c.ok, c.reason, c.log)
                       for c in run.checks[n0:]]


def check_tables(run, info, tag):
    """The guest's _DMA and IORT, disassembled, against QEMU's bus ranges."""
    n = run.notes
    if not run.check("acpi-tables-dumped", n.get("acpi_dsdt") and n.get("acpi_iort"),
                     "the guest printed no DSDT/IORT"):
        return
    dsdt = acpi_tables.disassemble(run, f"dsdt-{tag}", n["acpi_dsdt"])
    iort = acpi_tables.disassemble(run, f"iort-{tag}", n["acpi_iort"])
    got = acpi_tables.dma_ranges(dsdt)
    told = info.get("bus-ranges", []) if info else []
    want = [dict(bus=r["iova"], max=r["iova"] + r["size"] - 1,
                 translation=(r["gpa"] - r["iova"]) % (1 << 64), size=r["size"], producer=True)
            for r in told]
    print(f"{tag}: _DMA as the guest got it (iasl -d):\n{acpi_tables.dma_snippet(dsdt)}")
    run.check("acpi-dma-is-the-window", told and got == want,
              f"_DMA {got}, QEMU told the guest {told}")
    top = max((r["gpa"] + r["size"] - 1 for r in told), default=0)
    limit = acpi_tables.iort_rc_address_limit(iort)
    print(f"{tag}: IORT root complex memory address size limit {limit} bits "
          f"(highest window address {top:#x})")
    run.check("acpi-iort-limit-is-the-window", told and limit == top.bit_length(),
              f"IORT says {limit} bits, the window reaches {top:#x}")


def window_boot(run, kernel):
    sim = pt.start_sim(run, name=f"sim-{kernel}-window", disk_size="1G")
    seen = {}

    def on_line(r, line):
        if "VFIOAPPLE-CHECK" in line and "info" not in seen:
            seen["info"] = r.qmp("x-query-vfio-apple")[0]

    run.notes = {}
    initrd = run.initramfs(["acpi.sh", "pt-device.sh", "nvme-io.sh", "pt-msix.sh"],
                           modules=["nvme"], kernel=kernel, params={"MB": IO_MB})
    run.boot(initrd, mem=f"{WINDOW_RAM >> 20}M", timeout=900, qmp=True, on_line=on_line,
             tag=f"{kernel}-window", firmware=True,
             qemu_args=pt.qemu_args(sim, WINDOW_RAM, window="1G") + pt.boot_disk_args(run))
    run.check("qemu-exited-cleanly", run.qemu_rc == 0, f"QEMU exit status {run.qemu_rc}")
    info = seen.get("info")
    st = pt.sim_stats(sim)
    win = info["window"] if info else []
    pt.check_dart_clean(run, st, window_iova=win[0]["iova"] if win else None,
                        window_size=sum(s["size"] for s in win) if win else None)
    check_tables(run, info, kernel)


def firmware_without_boot_order(run):
    """The hazard the boot disk's bootindex avoids: firmware that boots from
    its own devices, with no boot order, drives every PCI device, the
    passthrough NVMe too, with guest-physical addresses the DART faults
    (QEMU warns).  No kernel: the firmware runs until its shell."""
    sim = pt.start_sim(run, name="sim-no-boot-order", fault_fatal=False)
    argv = [harness.platform()["QEMU"], "-M", "virt", "-cpu", "max", "-m", f"{WINDOW_RAM >> 20}M",
            "-display", "none", "-nic", "none", "-monitor", "none", "-no-reboot",
            "-serial", "file:" + os.path.join(run.logdir, "console-no-boot-order.log"),
            "-bios", harness.UEFI_FIRMWARE] + pt.qemu_args(sim, WINDOW_RAM, window="1G")
    q = run.spawn("qemu-no-boot-order", argv)
    faults = 0
    for _ in range(240):          # the shell comes up in ~20 s under TCG
        faults = pt.sim_stats(sim)["dart"]["faults"]
        if faults or q.poll() is not None:
            break
        time.sleep(0.5)
    q.terminate()
    q.wait(timeout=30)
    with open(q.log_path) as f:
        err = f.read()
    run.check("qemu-warned-firmware-dma", "the firmware will drive the device" in err,
              f"QEMU said: {err[-300:]!r}")
    print(f"no boot order, no -kernel: {faults} DART fault(s) from the firmware")
    run.check("firmware-dma-faulted", faults > 0,
              f"{faults} DART faults with the firmware left to drive the device")


def body(run):
    n0 = len(run.checks)
    firmware_without_boot_order(run)
    prefixed(run, n0, "no-boot-order")
    for k in KERNELS:
        n0 = len(run.checks)
        window_boot(run, k)
        prefixed(run, n0, f"{k}/window")
        n0 = len(run.checks)
        sim = pt.start_sim(run, name=f"sim-{k}-bounce")
        test_pt_bounce.bounced(run, sim, mb=IO_MB, kernel=k, tag=f"{k}-bounce",
                               timeout=900, firmware=True)
        prefixed(run, n0, f"{k}/bounce")
    n0 = len(run.checks)
    test_pt_virtio_blk.body(run, firmware=True, kernel=KERNELS[0])
    prefixed(run, n0, f"{KERNELS[0]}/virtio-blk")
    for label, kernel, secs in run.boot_times:
        print(f"  boot {label}: {secs:.1f} s")


if __name__ == "__main__":
    harness.main("pt-acpi", body)
