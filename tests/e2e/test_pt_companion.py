#!/usr/bin/env python3
"""Companion DMA mode: a guest whose RAM (4 GiB) is far larger than its
window (256 MiB).  vfio-apple-pci dma-mode=companion plus apple-dma-pci; the
guest's apple_dma module (cross-built for the kernel) is the passthrough
NVMe's DMA API; the stock nvme driver then does 1 GiB of fio-verified
O_DIRECT I/O (sequential and random, QD32, 4 jobs) on Debian's 6.1 and
6.12, and on the newest Linux in trixie-backports (7.x: the module's
map_phys path, which replaced map_page in 6.19).

Checked: the guest's own verification, no swiotlb, no mapping errors; in
the simulator (every DART fault fatal: any IOVA the device touched that was
not mapped at that moment ends the run) zero faults and a peak under the
budget; QEMU's companion counters (x-query-vfio-apple): entries processed,
a small fraction of a doorbell per map, no errors, peak within the budget.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 4 * pt.GiB
WINDOW = 256 * pt.MiB
COMP_MB = 128           # per job and pattern: 4 jobs x 2 patterns x 128 MiB = 1 GiB
BUDGET = 1536 * pt.MiB  # the simulator's default DART budget
KERNELS = os.environ.get("VFIO_APPLE_KERNELS", "bookworm trixie trixie-backports").split()


def apple_dma_ko(kernel, src=None):
    """Cross-build apple_dma, or the module folder `src` that speaks the
    companion ABI, for `kernel` (scripts/guest-apple-dma.sh)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUEST_")}
    env.update(harness.platform(kernel))
    env["GUEST_KERNEL"] = kernel
    argv = [os.path.join(harness.SCRIPTS, "guest-apple-dma.sh")] + (["", src] if src else [])
    out = subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def companion_args(sim, mem=MEM, window=WINDOW, companion=None, dev=None):
    """Guest RAM as a shared memfd, the device in companion mode and its
    companion; no -machine vfio-apple=on: nothing is described to the guest."""
    return ["-object", f"memory-backend-memfd,id=mem,size={mem},share=on",
            "-machine", "memory-backend=mem",
            "-device", pt.json.dumps(pt.device_opts(sim, window=window, props=dict(
                {"dma-mode": "companion"}, **(dev or {})))),
            "-device", pt.json.dumps(dict({"driver": "apple-dma-pci", "id": "adma0",
                                           "device": "pt0"}, **(companion or {})))]


def companion_boot(run, kernel, tag):
    sim = pt.start_sim(run, name=f"sim-{tag}", disk_size="2G")
    ko = apple_dma_ko(kernel)
    got = {}

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC companion-stats"):
            got["qmp"] = run_.qmp("x-query-vfio-apple")
            got["sim"] = pt.sim_stats(sim)

    run.notes = {}
    initrd = run.initramfs(["pt-device.sh", "companion.sh"], modules=["apple_dma", "nvme"],
                           ko=[ko], kernel=kernel, fio=True, params={"COMP_MB": COMP_MB})
    run.boot(initrd, mem=f"{MEM >> 20}M", timeout=1500, on_line=on_line, qmp=True,
             tag=tag, qemu_args=companion_args(sim))
    n = run.notes
    if "companion_fio_ms" in n:
        ms = max(int(n["companion_fio_ms"]), 1)
        print(f"{tag}: {int(n['companion_fio_bytes']) >> 20} MiB written and verified "
              f"in {ms / 1000:.1f} s; guest maps {n.get('adma_maps')}, table hits "
              f"{n.get('adma_table_hits')}, window hits {n.get('adma_window_hits')}, "
              f"misses {n.get('adma_misses')}, spans {n.get('adma_spans')}, doorbells "
              f"{n.get('adma_doorbells')} for {n.get('adma_entries')} entries")
    if not run.check(f"{tag}-stats-taken", "qmp" in got, "no stats at the end marker"):
        return
    info = [d for d in got["qmp"] if d.get("id") == "pt0"]
    c = info[0].get("companion") if info else None
    if not run.check(f"{tag}-qmp-companion", c is not None, f"x-query-vfio-apple: {got['qmp']}"):
        return
    print(f"{tag}: companion: entries {c['entries']}, doorbells {c['doorbells']}, DART maps "
          f"{c['dart-maps']} unmaps {c['dart-unmaps']}, pins {c['pins']}, evictions "
          f"{c['evictions']}, chunks {c['chunks-mapped']}, spans {c['spans-mapped']}, peak "
          f"{c['peak-bytes'] >> 20} MiB in {c['peak-mappings']} mappings, guest hits "
          f"{c['guest-hits']} misses {c['guest-misses']}")
    run.check(f"{tag}-companion-enabled", c["enabled"], "the guest never enabled the rings")
    run.check(f"{tag}-companion-did-work", c["entries"] > 0 and c["dart-maps"] > 0,
              f"entries {c['entries']} DART maps {c['dart-maps']}")
    run.check(f"{tag}-companion-no-errors", c["errors"] == 0, f"{c['errors']} entries failed")
    run.check(f"{tag}-companion-peak-in-budget", c["peak-bytes"] <= BUDGET,
              f"peak {c['peak-bytes']:#x} > budget {BUDGET:#x}")
    # The bound: at most 0.1 doorbells (VM exits) per map; the
    # guest counts its maps, QEMU the doorbells.
    maps = int(n.get("adma_maps") or 0)
    run.check(f"{tag}-companion-few-doorbells", maps > 0 and c["doorbells"] * 10 <= maps,
              f"{c['doorbells']} doorbells for {maps} maps")
    st = got["sim"]
    pt.check_dart_clean(run, st)
    d = st["dart"]
    run.check(f"{tag}-sim-peak-in-budget", d["peak_mapped_bytes"] <= BUDGET,
              f"peak {d['peak_mapped_bytes']:#x} > {BUDGET:#x}")
    run.check(f"{tag}-sim-maps-beyond-window", d["maps"] > 1,
              f"the simulator saw {d['maps']} DART maps (only the window?)")


def body(run):
    for kernel in KERNELS:
        companion_boot(run, kernel, f"companion-{kernel}")


if __name__ == "__main__":
    harness.main("pt-companion", body)
