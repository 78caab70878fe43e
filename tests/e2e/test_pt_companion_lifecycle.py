#!/usr/bin/env python3
"""Companion mode through the device's life (6.1): unbind and rebind the
nvme driver, a function reset, apple_dma removed and loaded again, the pair
hot-unplugged and plugged back.  After each release no chunk is left
mapped (the guest says so through the companion's counters; the simulator
after the unplug), and I/O is verified after each step.

The pair shares one slot behind a root port, the companion at function 0
and the NVMe at function 1, so that a hot-plugged pair is enumerated
companion first: apple_dma is ready before nvme binds.  Bus mastering of
the NVMe is held by QEMU until the companion is enabled, so a driver that
binds first cannot DMA with guest-physical addresses (fault-fatal
simulator: any such DMA would end the run).  A second boot loads apple_dma
only after nvme has bound: QEMU holds bus mastering meanwhile (counted),
and the module re-binds nvme with its ops."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_companion as comp  # noqa: E402
import test_pt_hotplug  # noqa: E402

MEM = 2 * pt.GiB


def pair_opts(sim):
    dev = pt.device_opts(sim, window=64 * pt.MiB, bus="rp0",
                         props={"dma-mode": "companion", "addr": "0.1"})
    adma = {"driver": "apple-dma-pci", "id": "adma0", "device": "pt0", "bus": "rp0",
            "addr": "0.0", "multifunction": True}
    return dev, adma


def body(run):
    kernel = "bookworm"
    sim = pt.start_sim(run)
    ko = comp.apple_dma_ko(kernel)
    dev, adma = pair_opts(sim)
    errors, seen = [], {}

    def unplug():
        try:
            run.qmp("device_del", id="adma0")     # function 0: the whole slot
        except Exception as e:
            errors.append(f"device_del: {e}")

    def replug():
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                if not any(d.get("qdev_id") in ("pt0", "adma0")
                           for d in test_pt_hotplug.pci_devices(run)):
                    break
                time.sleep(0.2)
            seen["after-unplug"] = pt.sim_stats(sim)
            run.qmp("device_add", **dev)          # function 1 first...
            run.qmp("device_add", **adma)         # ...function 0 announces the slot
        except Exception as e:
            errors.append(f"device_add: {e}")

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC unplug"):
            threading.Thread(target=unplug, daemon=True).start()
        elif line.endswith("VFIOAPPLE-SYNC replug"):
            threading.Thread(target=replug, daemon=True).start()

    initrd = run.initramfs(["pt-device.sh", "companion-lifecycle.sh"],
                           modules=["apple_dma", "nvme"], ko=[ko], kernel=kernel)
    run.boot(initrd, mem=f"{MEM >> 20}M", qmp=True, on_line=on_line, timeout=900,
             qemu_args=["-object", f"memory-backend-memfd,id=mem,size={MEM},share=on",
                        "-machine", "memory-backend=mem",
                        "-device", "pcie-root-port,id=rp0,chassis=1,slot=1",
                        "-device", json.dumps(dev), "-device", json.dumps(adma)])
    run.check("qmp-commands-succeeded", not errors, "; ".join(errors))
    st = seen.get("after-unplug")
    if run.check("stats-after-unplug", st is not None, "no stats taken"):
        run.check("unplug-released-session", not st["session_open"], "session still open")
        run.check("unplug-released-every-mapping", st["core"]["dma_live_mappings"] == 0,
                  f"{st['core']['dma_live_mappings']} live mappings after device_del")
    pt.check_dart_clean(run, pt.sim_stats(sim))


def late_module(run):
    """nvme first, apple_dma later: the device must not DMA in between."""
    sim = pt.start_sim(run, name="sim-late")
    ko = comp.apple_dma_ko("bookworm")
    seen = {}

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC before-module"):
            seen["qmp"] = run_.qmp("x-query-vfio-apple")

    run.notes = {}
    # nvme's probe cannot complete without DMA: its admin command times out
    # (5 s here, not 60) and it gives the device up, as it should.
    initrd = run.initramfs(["companion-late.sh"], modules=["nvme"],
                           modargs={"nvme_core": "admin_timeout=5"},
                           add=[f"{ko}:/root/apple_dma.ko"], kernel="bookworm")
    run.boot(initrd, mem="1024M", qmp=True, on_line=on_line, timeout=600, tag="late",
             qemu_args=comp.companion_args(sim, mem=pt.GiB, window=64 * pt.MiB))
    info = seen.get("qmp")
    c = info[0].get("companion") if info else None
    if run.check("late-stats-taken", c is not None, f"x-query-vfio-apple: {info}"):
        run.check("late-bus-master-held", c["bus-master-held"] > 0 and not c["enabled"],
                  f"held {c['bus-master-held']} times, companion enabled {c['enabled']}")
    pt.check_dart_clean(run, pt.sim_stats(sim))


def both(run):
    body(run)
    late_module(run)


if __name__ == "__main__":
    harness.main("pt-companion-lifecycle", both)
