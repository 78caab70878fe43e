#!/usr/bin/env python3
"""Passthrough on every guest kernel: Debian's 6.1 (bookworm), 6.12
(trixie) and 6.12 with 16 KiB pages (trixie-16k).

Per kernel, one boot with the window as all of RAM (4 vCPUs on 16 KiB
pages, 2 elsewhere): the dext calls up to the first I/O (at most 50,
counted by the simulator), the DMA limits the kernel derived (max_hw_sectors_kb, NVMe commands per MiB counted by the
simulator), 1 MiB O_DIRECT I/O read back with equal checksums, and fio's
own verification (crc32c, libaio, O_DIRECT, iodepth 32, 4 jobs), which must
also fail on data it never wrote.  Per 6.12 kernel, one boot with RAM
larger than the window: swiotlb bounces and the I/O stays correct
(test_pt_bounce.py's boot, which runs 6.1).  Host side: zero DART faults, every transfer inside
the one window mapping.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_bounce  # noqa: E402

WINDOW_RAM = 512 * pt.MiB      # < the 1 GiB window: the window is all of RAM
IO_MB = 64
LIMITS_MB = 32
# Which kernels run which boot (VFIO_APPLE_KERNELS="trixie" narrows it).
KERNELS = os.environ.get("VFIO_APPLE_KERNELS", "bookworm trixie trixie-16k").split()
BOUNCE_KERNELS = [k for k in KERNELS if k != "bookworm"]


def prefixed(run, n0, prefix):
    """Prefix the names of the checks added since index n0."""
    run.checks[n0:] = [harness.Check(f"{prefix}/{c.name}", c.ok, c.reason, c.log)
                       for c in run.checks[n0:]]


def window_boot(run, kernel):
    # 4 vCPUs on the 16 KiB-page kernel: more queues, more probe calls
    smp = 4 if kernel.endswith("-16k") else 2
    sim = pt.start_sim(run, name=f"sim-{kernel}-window", disk_size="1G")
    samples = {}

    def on_line(run_, line):
        for tag in ("cmds-start", "cmds-written", "cmds-read"):
            if line.endswith(f"VFIOAPPLE-SYNC {tag}"):
                st = pt.sim_stats(sim)
                samples[tag] = st["device"]
                if tag == "cmds-start":
                    samples["probe-calls"] = pt.sim_dext_calls(st)

    run.notes = {}
    initrd = run.initramfs(["pt-device.sh", "zones.sh", "pt-dma-limits.sh", "nvme-io.sh",
                            "fio-verify.sh", "pt-msix.sh"], modules=["nvme"], kernel=kernel,
                           fio=True, params={"MB": IO_MB, "LIMITS_MB": LIMITS_MB})
    run.boot(initrd, mem=f"{WINDOW_RAM >> 20}M", timeout=600, on_line=on_line, smp=smp,
             tag=f"{kernel}-window", qemu_args=pt.qemu_args(sim, WINDOW_RAM, window="1G"),
             # 6.12 says so when the DMA layer calls the device addressing-limited
             append='dyndbg="file kernel/dma/mapping.c +p"')
    n = run.notes
    run.check("qemu-exited-cleanly", run.qemu_rc == 0, f"QEMU exit status {run.qemu_rc}")
    want_page = 16384 if kernel.endswith("-16k") else 4096
    run.check("guest-page-size", n.get("page_size") == str(want_page),
              f"guest reported page_size={n.get('page_size')!r}, {kernel} has {want_page}")
    st = pt.sim_stats(sim)
    d = st["dart"]
    pt.check_dart_clean(run, st)
    run.check("only-the-window-mapped",
              st["core"]["dma_maps"] == 1 and d["peak_live_mappings"] == 1 and
              d["peak_mapped_bytes"] == WINDOW_RAM and d["iova_hi"] - d["iova_lo"] <= WINDOW_RAM,
              f"dma_maps={st['core']['dma_maps']} peak_live={d['peak_live_mappings']} "
              f"peak_bytes={d['peak_mapped_bytes']} span={d['iova_hi'] - d['iova_lo']:#x}")

    # Dext calls from QEMU's start to the first I/O (the probe), as the
    # simulator counts them.
    calls, by = samples.get("probe-calls") or (None, {})
    run.check("probe-at-most-50-dext-calls", calls is not None and calls <= 50,
              f"{calls} dext calls up to the first I/O with {smp} vCPUs: {by}")
    print(f"{kernel}: {calls} dext calls up to the first I/O with {smp} vCPUs")

    # Commands per MiB of 1 MiB I/O, and whether they match the kernel's
    # max_sectors_kb (each 1 MiB request split into pieces of at most that).
    if not run.check("cmds-sampled",
                     all(t in samples for t in ("cmds-start", "cmds-written", "cmds-read")),
                     f"saw SYNC samples {sorted(samples)}"):
        return None
    w = samples["cmds-written"]["cmds_write"] - samples["cmds-start"]["cmds_write"]
    r = samples["cmds-read"]["cmds_read"] - samples["cmds-written"]["cmds_read"]
    max_kb = int(n.get("max_sectors_kb") or 0)
    want = math.ceil(1024 / max_kb) if max_kb else None
    run.check("cmds-per-mib-match-max-sectors",
              want is not None and w == want * LIMITS_MB and r == want * LIMITS_MB,
              f"{w} write and {r} read commands for {LIMITS_MB} MiB; max_sectors_kb={max_kb} "
              f"means {want} per MiB")
    # The window is all of RAM: QEMU's dma-ranges end on a power of two, so
    # no kernel may call the device addressing-limited (6.12 would cap it
    # at swiotlb's 252 KiB), and transfers reach the controller's 512 KiB.
    run.check("not-dma-addressing-limited",
              n.get("addressing_limited_lines") == "0" and n.get("max_hw_sectors_kb") == "512",
              f"'addressing limited' lines {n.get('addressing_limited_lines')}, "
              f"max_hw_sectors_kb {n.get('max_hw_sectors_kb')} (want 0 and 512)")
    res = dict(kernel=kernel, kver=harness.platform(kernel)["GUEST_KVER"],
               page=n.get("page_size"), max_hw_kb=n.get("max_hw_sectors_kb"),
               max_kb=max_kb, write_per_mib=w / LIMITS_MB, read_per_mib=r / LIMITS_MB,
               swiotlb=n.get("swiotlb_lines"), limited=n.get("addressing_limited_lines"),
               fio_ms=n.get("fio_ms"), probe_calls=calls, vcpus=smp)
    print(f"{kernel}: max_hw_sectors_kb={res['max_hw_kb']} max_sectors_kb={max_kb} "
          f"page_size={res['page']}: {res['write_per_mib']:g} write / {res['read_per_mib']:g} "
          f"read NVMe commands per MiB of 1 MiB I/O; swiotlb lines {res['swiotlb']}, "
          f"'addressing limited' lines {res['limited']}; fio {res['fio_ms']} ms")
    return res


def body(run):
    results = []
    for k in KERNELS:
        n0 = len(run.checks)
        r = window_boot(run, k)
        prefixed(run, n0, f"{k}/window")
        if r:
            results.append(r)
        if k in BOUNCE_KERNELS:
            n0 = len(run.checks)
            sim = pt.start_sim(run, name=f"sim-{k}-bounce")
            test_pt_bounce.bounced(run, sim, mb=IO_MB, kernel=k, tag=f"{k}-bounce", timeout=600)
            prefixed(run, n0, f"{k}/bounce")
    with open(os.path.join(run.logdir, "dma-limits.txt"), "w") as f:
        for r in results:
            f.write(" ".join(f"{k}={v}" for k, v in r.items()) + "\n")
    for label, kernel, secs in run.boot_times:
        print(f"  boot {label}: {secs:.1f} s")


if __name__ == "__main__":
    harness.main("pt-guest-kernels", body)
