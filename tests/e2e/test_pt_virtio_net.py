#!/usr/bin/env python3
"""Issue 8, test 5 (window mode): a second stock driver with another DMA
pattern.  The simulator serves a virtio-net NIC (modern virtio 1.x PCI,
1af4:1041) whose wire loops every frame back; the guest's own virtio_pci
and virtio_net drive it through vfio-apple-pci.

NVMe maps a few large buffers per request.  virtio_net keeps a ring of
long-lived receive buffers mapped and refills them one by one, and maps
every transmitted frame on its own, small, unmapped on completion: many
small streaming maps.  The device offers VIRTIO_F_ACCESS_PLATFORM, so the
driver puts DMA addresses (IOVAs) in its rings, never guest-physical ones;
the simulator refuses a driver that does not accept it.

A guest tool (tests/e2e/guest/vnet-loop.c, built here as a static aarch64
binary) sends VNET_FRAMES frames of 60..1514 bytes on an AF_PACKET socket,
in bursts of 1..32 and, every 50th, of 400 (more than the driver's rings
hold), and checks every one comes back intact and in order.
Host side: zero DART faults (the simulator exits on one), every transfer
inside the window, and the model's counters agree with the tool's and with
the guest interface's own.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB
FRAMES = int(os.environ.get("VNET_FRAMES", "10000"))
REBIND_FRAMES = 1000        # after unbinding and rebinding virtio_net
MAC = "02:76:66:61:00:2a"
TOOL_SRC = os.path.join(harness.GUEST_DIR, "vnet-loop.c")
CROSS_CC = os.environ.get("CROSS_COMPILE", "aarch64-linux-gnu-") + "gcc"


def build_tool(run):
    """The guest tool, static, for the aarch64 guest's busybox userland."""
    out = os.path.join(run.workdir, "vnet-loop")
    subprocess.run([CROSS_CC, "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", out,
                    TOOL_SRC], check=True)
    return out


def body(run, kernel=None, tag="", props=None, mem=MEM, window="1G", companion=None):
    """`props`: more vfio-apple-pci properties.  `companion(sim)`: QEMU's
    arguments for companion mode (test_pt_virtio_net_companion.py), with
    the apple_dma module given as companion.ko, loaded first."""
    tool = build_tool(run)
    sim = pt.start_sim(run, name=f"sim-vnet{tag}", device=f"virtio-net,mac={MAC},vectors=3")
    mods, kos = ["virtio_net", "virtio_pci"], []
    if companion:
        mods, kos = ["apple_dma"] + mods, [companion.ko]
    initrd = run.initramfs(["virtio-net.sh"], modules=mods, ko=kos,
                           add=[f"{tool}:/bin/vnet-loop"], kernel=kernel,
                           params={"VNET_FRAMES": FRAMES, "VNET_MAC": MAC,
                                   "VNET_FRAMES_REBIND": REBIND_FRAMES})
    seen = {}

    def on_line(r, line):
        if "VFIOAPPLE-NOTE vnet_if=" in line and "info" not in seen:
            seen["info"] = r.qmp("x-query-vfio-apple")[0]
        elif line.endswith("VFIOAPPLE-SYNC vnet-done"):
            seen["end"] = r.qmp("x-query-vfio-apple")[0]

    run.boot(initrd, mem=f"{mem >> 20}M", timeout=900, qmp=True, on_line=on_line, tag=tag,
             kernel=kernel, qemu_args=companion(sim) if companion else
             pt.qemu_args(sim, mem, window=window, props=props))
    run.check("qemu-exited-cleanly", run.qemu_rc == 0, f"QEMU exit status {run.qemu_rc}")
    st = pt.sim_stats(sim)
    with open(os.path.join(run.logdir, f"sim-stats{tag}.json"), "w") as f:
        json.dump({"sim": st, "qemu": seen.get("info")}, f, indent=1)

    info = seen.get("info")
    if companion:
        # Mapped on demand: the DART saw more than the window, no fault.
        pt.check_dart_clean(run, st)
        run.check("companion-mapped-beyond-window", st["dart"]["maps"] > 1,
                  f"DART maps {st['dart']['maps']}")
        companion.check(run, seen.get("end"))
    elif info:
        win = info["window"]
        lo = min(s["iova"] for s in win)
        hi = max(s["iova"] + s["size"] for s in win)
        pt.check_dart_clean(run, st, lo, hi - lo)
    else:
        run.check("qemu-sampled", False, "the guest never reached the interface note")
        pt.check_dart_clean(run, st)

    dev, n = st["device"], run.notes
    run.check("sim-model-is-virtio-net", dev.get("model") == "virtio-net", f"device {dev}")
    run.check("sim-no-frame-errors",
              all(dev.get(k) == 0 for k in ("tx_errors", "rx_errors", "rx_dropped", "dma_faults",
                                            "ring_errors", "features_refused")),
              f"device counters {dev}")

    def num(k):
        return int(n.get(k, "-1"))

    def both(k):
        """A guest interface counter over the two probes (it restarts at 0)."""
        return num(k) + num("rebind_" + k)
    sent = num("loop_sent") + num("rebind_loop_sent")
    nbytes = num("loop_bytes") + num("rebind_loop_bytes")
    run.check("tool-sent-all-frames", num("loop_sent") == FRAMES and num("loop_intact") == FRAMES,
              f"tool: sent {n.get('loop_sent')} intact {n.get('loop_intact')} of {FRAMES}")
    run.check("tool-sent-all-frames-after-rebind",
              num("rebind_loop_intact") == REBIND_FRAMES,
              f"tool after rebind: intact {n.get('rebind_loop_intact')} of {REBIND_FRAMES}")
    # The wire carried exactly what the guest's interface counted, both ways.
    run.check("sim-frames-match-guest-interface",
              dev["frames_tx"] == both("guest_tx_packets") and
              dev["frames_rx"] == both("guest_rx_packets") and
              dev["frames_tx"] == dev["frames_rx"],
              f"sim tx {dev['frames_tx']} rx {dev['frames_rx']}, guest interface tx "
              f"{both('guest_tx_packets')} rx {both('guest_rx_packets')}")
    run.check("sim-bytes-match-guest-interface",
              dev["bytes_tx"] == both("guest_tx_bytes") and
              dev["bytes_rx"] == both("guest_rx_bytes") and dev["bytes_tx"] >= nbytes > 0,
              f"sim tx {dev['bytes_tx']} rx {dev['bytes_rx']} bytes, guest interface tx "
              f"{both('guest_tx_bytes')} rx {both('guest_rx_bytes')}, tool {nbytes}")
    # virtio_pci resets the device when it registers it, virtio_net's
    # removal again (the rebind's probe starts from that reset).
    run.check("sim-device-reset-by-the-driver", dev["device_resets"] >= 2,
              f"device resets {dev['device_resets']}")
    run.check("sim-carried-the-tools-frames", dev["frames_tx"] >= sent,
              f"sim carried {dev['frames_tx']} frames, the tool sent {sent}")
    run.check("sim-descriptors-walked", dev["tx_descs"] >= dev["frames_tx"] and
              dev["rx_descs"] >= dev["frames_rx"],
              f"tx_descs {dev['tx_descs']} rx_descs {dev['rx_descs']}")
    run.check("sim-interrupts-and-kicks", dev["irqs"] > 0 and dev["kicks_tx"] > 0 and
              dev["kicks_rx"] > 0, f"irqs {dev['irqs']} kicks tx {dev['kicks_tx']} "
              f"rx {dev['kicks_rx']}")
    d = st["dart"]
    print(f"virtio-net{tag}: {sent} frames, {nbytes} bytes looped back: {n.get('loop_sent')} in "
          f"{n.get('vnet_ms')} ms (tool {n.get('loop_ms')} ms, {n.get('loop_bursts')} bursts), "
          f"{n.get('rebind_loop_sent')} after a rebind; device resets {dev['device_resets']}, tx_descs "
          f"{dev['tx_descs']} rx_descs {dev['rx_descs']} kicks tx/rx {dev['kicks_tx']}/"
          f"{dev['kicks_rx']} irqs {dev['irqs']} (suppressed {dev['irqs_suppressed']}) "
          f"tx_stalls {dev['tx_stalls']}; DART maps {d['maps']} unmaps {d['unmaps']} "
          f"dma_reads {d['dma_reads']} dma_writes {d['dma_writes']} faults {d['faults']}; "
          f"guest irqs {n.get('vnet_irqs')}")
    sys.stdout.flush()


if __name__ == "__main__":
    harness.main("pt-virtio-net", body)
