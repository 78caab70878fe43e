#!/usr/bin/env python3
"""Hot-unplug and re-plug of vfio-apple-pci through QMP: device_del
releases the session and every mapping, device_add brings a working device."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB


def body(run):
    sim = pt.start_sim(run)
    args = pt.qemu_args(sim, MEM, bus="rp0")
    dev_opts = pt.device_opts(sim, bus="rp0")
    errors = []
    seen = {}

    def unplug():
        try:
            run.qmp("device_del", id="pt0")
        except Exception as e:
            errors.append(f"device_del: {e}")

    def replug():
        try:
            # The unplug completes when the guest has ejected the device.
            deadline = time.time() + 30
            while time.time() < deadline:
                if not any(d.get("qdev_id") == "pt0" for d in pci_devices(run)):
                    break
                time.sleep(0.2)
            seen["after-unplug"] = pt.sim_stats(sim)
            run.qmp("device_add", **dev_opts)
        except Exception as e:
            errors.append(f"device_add: {e}")

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC unplug"):
            threading.Thread(target=unplug, daemon=True).start()
        elif line.endswith("VFIOAPPLE-SYNC replug"):
            threading.Thread(target=replug, daemon=True).start()

    initrd = run.initramfs(["pt-device.sh", "pt-hotplug.sh"], modules=["nvme"])
    run.boot(initrd, mem=f"{MEM >> 20}M", qmp=True, on_line=on_line, timeout=600,
             qemu_args=["-device", "pcie-root-port,id=rp0,chassis=1,slot=1"] + args)
    run.check("qmp-commands-succeeded", not errors, "; ".join(errors))
    st = seen.get("after-unplug")
    if run.check("stats-after-unplug", st is not None, "no stats taken"):
        run.check("unplug-released-session", not st["session_open"], "session still open")
        run.check("unplug-released-mappings", st["core"]["dma_live_mappings"] == 0,
                  f"{st['core']['dma_live_mappings']} live mappings after device_del")
    pt.check_dart_clean(run, pt.sim_stats(sim))


def pci_devices(run):
    out = []
    for bus in run.qmp("query-pci"):
        stack = list(bus["devices"])
        while stack:
            d = stack.pop()
            out.append(d)
            stack += d.get("pci_bridge", {}).get("devices", [])
    return out


if __name__ == "__main__":
    harness.main("pt-hotplug", body)
