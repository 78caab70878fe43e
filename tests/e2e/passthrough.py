"""Shared pieces of the passthrough end-to-end tests: the simulator, its
statistics, and the QEMU arguments for vfio-apple-pci in window mode."""
import json
import os
import subprocess
import time

import harness

SIM = os.path.join(harness.TOP, "build", "vfio-apple-sim")
GiB = 1 << 30
MiB = 1 << 20


def start_sim(run, name="sim", disk_size="1G", extra=(), fault_fatal=True, device=None,
              nvme_opts=""):
    """Start vfio-apple-sim with an NVMe model on a sparse file; return its socket.

    nvme_opts: more of the NVMe model's options (e.g. "latency-us=20000").
    device: another model and its options instead (e.g. "virtio-net,mac=...").

    fault_fatal: any DART fault makes the simulator exit loudly (status 3),
    as some Apple hosts panic on one, so that a test doing normal I/O fails
    on a fault wherever it happens; only the fault tests turn it off."""
    sock = os.path.join(run.workdir, f"{name}.sock")
    disk = os.path.join(run.workdir, f"{name}-disk.img")
    p = run.spawn(name, [SIM, "--socket", sock,
                         "--device", device or f"nvme,file={disk},size={disk_size}"
                         + (f",{nvme_opts}" if nvme_opts else ""),
                         *(["--dart-fault-fatal"] if fault_fatal else []), *extra])
    for _ in range(200):
        if os.path.exists(sock):
            break
        if p.poll() is not None:
            raise RuntimeError(f"vfio-apple-sim exited {p.returncode}; see {p.log_path}")
        time.sleep(0.05)
    else:
        raise RuntimeError(f"vfio-apple-sim did not create {sock}; see {p.log_path}")
    p.sock = sock
    return p


def sim_stats(sim):
    out = subprocess.run([SIM, "stats", "--socket", sim.sock], check=True,
                         stdout=subprocess.PIPE, text=True, timeout=30).stdout
    return json.loads(out)


def parse_size(v):
    """'1G', '512M' or a number of bytes, as QEMU's size properties take them."""
    if isinstance(v, int):
        return v
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    return int(v[:-1]) * units[v[-1].upper()] if v[-1].upper() in units else int(v)


def device_opts(sim, window="1G", dev_id="pt0", props=None, bus=None):
    """vfio-apple-pci's options as QMP device_add (and -device JSON) takes them."""
    dev = {"driver": "vfio-apple-pci", "id": dev_id,
           "socket": {"type": "unix", "path": sim.sock},
           "dma-mode": "window", "window-size": parse_size(window)}
    if bus:
        dev["bus"] = bus
    dev.update(props or {})
    return dev


def qemu_args(sim, mem_bytes, window="1G", dev_id="pt0", props=None, bus=None):
    """Guest RAM as a shared memfd (the simulator maps it), the machine's
    window address space (vfio-apple=on) and the device."""
    return ["-object", f"memory-backend-memfd,id=mem,size={mem_bytes},share=on",
            "-machine", "memory-backend=mem,vfio-apple=on",
            "-device", json.dumps(device_opts(sim, window, dev_id, props, bus))]


def check_dart_clean(run, stats, window_iova=None, window_size=None):
    """Zero DART faults, and (when the window is known) every transfer in it."""
    d = stats["dart"]
    run.check("sim-zero-dart-faults", d["faults"] == 0,
              f"{d['faults']} DART faults: {d['fault_log'][-3:]}")
    run.check("sim-device-did-dma", d["bytes_read"] > 0 and d["bytes_written"] > 0,
              f"bytes_read {d['bytes_read']} bytes_written {d['bytes_written']}")
    if window_iova is not None:
        lo, hi = d["iova_lo"], d["iova_hi"]
        run.check("sim-transfers-inside-window",
                  window_iova <= lo and hi <= window_iova + window_size,
                  f"transfers in [{lo:#x}, {hi:#x}), window [{window_iova:#x}, "
                  f"{window_iova + window_size:#x})")


def sim_dext_calls(stats):
    """Requests the simulator served as the dext: method calls plus the
    socket transport's memory messages (what IOKit would do in the call or
    the mapping), by kind; its own counting, not QEMU's."""
    by = {k: v for k, v in stats["core"]["calls"].items() if v}
    req = stats["server"]["requests"]
    for k in ("REGISTER_MEM", "UNREGISTER_MEM", "MAP_MEMORY"):
        if req.get(k):
            by[k] = req[k]
    return sum(by.values()), by


def boot_disk_args(run, name="boot0"):
    """A small virtio-blk disk with bootindex=0, as a UEFI guest's boot disk
    (libvirt and UTM give one).  With a boot order, edk2 connects only the
    devices in it; without, it drives every PCI device, the passthrough
    NVMe too, with guest-physical DMA addresses the DART faults (QEMU warns).
    """
    img = os.path.join(run.workdir, f"{name}.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    return ["-drive", f"if=none,id={name},file={img},format=raw",
            "-device", f"virtio-blk-pci,drive={name},bootindex=0"]
