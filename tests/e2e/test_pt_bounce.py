#!/usr/bin/env python3
"""Passthrough, guest RAM larger than the DMA window: buffers outside the
window are bounced through swiotlb, and the same workload stays correct."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 3 * pt.GiB        # RAM [1 GiB, 4 GiB); window [1 GiB, 2 GiB)
WINDOW_END = 2 * pt.GiB


def bounced(run, sim, mb=256, kernel=None, tag="", timeout=900, firmware=False):
    """Boot with RAM beyond the window, MB MiB of I/O, check the layout.
    (test_pt_guest_kernels.py runs this on the other kernels;
    test_pt_acpi.py with `firmware`: through UEFI, with ACPI.)"""
    initrd = run.initramfs((["acpi.sh"] if firmware else []) +
                           ["pt-device.sh", "zones.sh", "nvme-io.sh", "pt-msix.sh"],
                           modules=["nvme"], params={"MB": mb}, kernel=kernel)
    run.notes = {}
    run.boot(initrd, mem=f"{MEM >> 20}M", timeout=timeout, tag=tag, firmware=firmware,
             qemu_args=pt.qemu_args(sim, MEM, window="1G") +
             (pt.boot_disk_args(run) if firmware else []))
    # dma-ranges (or _DMA and the IORT) made the DMA zone exactly the window, and the rest of RAM
    # (where user pages come from first: the highest zone) lies beyond it,
    # so the guest had to bounce through swiotlb to stay correct.
    # (zone sizes are in pages of the guest kernel's size: 4 KiB on
    # bookworm, 16 KiB on trixie-16k)
    page = int(run.notes.get("page_size") or 0)
    if run.check("guest-page-size-known", page in (4096, 16384, 65536),
                 f"guest reported page_size={run.notes.get('page_size')!r}"):
        print(f"guest page size: {page} bytes")
        dma = int(run.notes.get("zone_dma_pages", 0)) * page
        dma_end = int(run.notes.get("zone_dma_start_pfn", 0)) * page + dma
        beyond = (int(run.notes.get("zone_dma32_pages", 0)) +
                  int(run.notes.get("zone_normal_pages", 0))) * page
        # It ends where the window does (under UEFI it starts below RAM, at
        # the firmware's regions, so its span alone says less).
        run.check("dma-zone-is-the-window", dma_end == WINDOW_END and dma >= pt.GiB,
                  f"zone DMA spans {dma:#x} bytes ({page}-byte pages) up to {dma_end:#x}; "
                  f"the window is 1 GiB up to {WINDOW_END:#x}")
        run.check("ram-beyond-window", beyond >= pt.GiB,
                  f"only {beyond:#x} bytes of RAM beyond the DMA zone")
    st = pt.sim_stats(sim)
    pt.check_dart_clean(run, st)
    d = st["dart"]
    # The window is the only mapping: [iova_lo, iova_hi) must fit in 1 GiB.
    run.check("sim-transfers-within-one-window", d["iova_hi"] - d["iova_lo"] <= pt.GiB,
              f"transfers span {d['iova_hi'] - d['iova_lo']:#x} bytes")


def body(run):
    bounced(run, pt.start_sim(run))


if __name__ == "__main__":
    harness.main("pt-bounce", body)
