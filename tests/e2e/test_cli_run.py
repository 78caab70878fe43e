#!/usr/bin/env python3
"""Issue 10: the guest booted through `vfio-apple run ... --sim nvme,size=...`.

One command starts the simulator, builds QEMU's command line (memfd RAM,
-M virt,vfio-apple=on, a root port, the device, the window) and runs it.
The guest's stock nvme driver writes 64 MiB with O_DIRECT and reads it back
(checksums equal) in window mode, the window all of its 512 MiB RAM.  While
the guest runs, `vfio-apple status` must show QEMU holding the session and
QEMU's own view through QMP (the window, one DART mapping of all RAM); the
QEMU process that runs must have exactly the command line that `run
--print` prints; when the guest powers off, the simulator is stopped and
both sockets are gone.  Then once more through UEFI firmware
(`--firmware`): the guest takes ACPI and does verified I/O.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_boot  # noqa: E402
import harness  # noqa: E402

RAM = 512 << 20
MB = 64


def proc_cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]


def proc_ppid(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("PPid:")).split()[1])


def body(run):
    initrd = run.initramfs(["pt-device.sh", "passthrough-nvme.sh"], modules=["nvme"],
                           params={"MB": MB})
    argv = cli_boot.run_args(run, "cli0", initrd, "512M", sim=f"nvme,size={2 * MB}M",
                             sim_opts=["--dart-fault-fatal"])
    seen = {}

    def on_line(r, line):
        for tag in ("probed", "io-done"):
            if f"VFIOAPPLE-SYNC {tag}" in line and tag not in seen:
                try:
                    st = cli_boot.status(r, "cli0")
                    seen[tag] = st
                    pid = st["session"]["owner_pid"]
                    if tag == "probed" and pid:
                        seen["qemu-cmdline"] = proc_cmdline(pid)
                        seen["qemu-ppid"] = proc_ppid(pid)
                except Exception as e:
                    seen[tag + "-error"] = f"{type(e).__name__}: {e}"

    rc = cli_boot.boot(run, argv, on_line=on_line)
    run.check("run-exit-status-0", rc == 0, f"vfio-apple run exited {rc}")
    with open(os.path.join(run.logdir, "cli-stderr.log")) as f:
        err = f.read()
    run.check("run-says-window-mode", "window mode (auto): guest RAM (512 MiB) fits the DMA "
              "budget (1.50 GiB): the window is all of RAM" in err, err[-600:])

    probe, done = seen.get("probed"), seen.get("io-done")
    if run.check("status-sampled", probe and done,
                 seen.get("probed-error") or seen.get("io-done-error") or "no SYNC lines"):
        s = probe["session"]
        run.check("status-owner-is-our-qemu", s["open"] and s["owner_name"] and
                  s["owner_name"].startswith("qemu-system") and
                  seen.get("qemu-ppid") == run.cli.pid,
                  f"{s}, its parent {seen.get('qemu-ppid')}, vfio-apple run is {run.cli.pid}")
        q = (probe.get("qemu") or {}).get("device") or {}
        win = q.get("window") or []
        run.check("status-qemu-view-window", q.get("id") == "vfa0" and
                  q.get("dma-mode") == "window" and q.get("window-size") == RAM and
                  sum(w["size"] for w in win) == RAM, f"{probe.get('qemu') or probe}")
        d = probe["dart"]
        run.check("status-dart-one-mapping-of-all-ram", d["mapped_bytes"] == RAM and
                  d["mappings"] == 1 and d["faults"] == 0, f"{d}")
        run.check("status-interrupts-during-io",
                  done["interrupts"]["received"] > probe["interrupts"]["received"] and
                  done["dart"]["faults"] == 0 and
                  done["qemu"]["device"]["interrupts"] > 0, f"{done['interrupts']}")

    # `run --print` prints what `run` ran (it starts its own simulator to
    # read the budget from, and stops it again).
    sim, qemu, perr = cli_boot.printed(run, argv)
    ran = seen.get("qemu-cmdline")
    run.check("print-equals-what-ran", ran == qemu,
              f"printed {qemu}\nran     {ran}")
    run.check("print-names-simulator", sim and sim[0].endswith("vfio-apple-sim") and
              sim[1:5] == ["--socket", os.path.join(run.workdir, "cli0.sock"), "--device",
                           f"nvme,size={2 * MB}M"] and "--dart-fault-fatal" in sim, f"{sim}")
    run.check("print-window-all-ram", any('"window-size":%d' % RAM in a for a in qemu) and
              f"memory-backend-memfd,id=vfa-ram,size={RAM},share=on" in qemu and
              "virt,vfio-apple=on,memory-backend=vfa-ram" in qemu, " ".join(qemu))
    run.check("sockets-removed-after", not os.path.exists(os.path.join(run.workdir, "cli0.sock"))
              and not os.path.exists(os.path.join(run.workdir, "cli0.qmp")),
              f"left in {run.workdir}: {os.listdir(run.workdir)}")
    n = run.notes
    if "write_ms" in n:
        print(f"through vfio-apple run: {n.get('bytes_verified')} bytes verified; write "
              f"{MB * 1000 / max(int(n['write_ms']), 1):.1f} MiB/s, read "
              f"{MB * 1000 / max(int(n['read_ms']), 1):.1f} MiB/s (TCG)")

    uefi(run)


def uefi(run):
    """`vfio-apple run --firmware`: the guest boots through edk2 with ACPI
    (acpi.sh: the IORT, no device tree) and its boot disk first in the boot
    order; verified I/O with zero DART faults (the simulator's fatal mode
    would stop it on one: the firmware must leave the device alone)."""
    n0 = len(run.checks)
    initrd = run.initramfs(["acpi.sh", "pt-device.sh", "nvme-io.sh"], modules=["nvme"],
                           params={"MB": 16})
    disk = os.path.join(run.workdir, "boot.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    argv = cli_boot.run_args(run, "cli1", initrd, "512M", sim="nvme,size=64M",
                             sim_opts=["--dart-fault-fatal"],
                             extra=["--firmware", harness.UEFI_FIRMWARE, "--disk", disk])
    rc = cli_boot.boot(run, argv, tag="cli-uefi")
    run.check("run-exit-status-0", rc == 0, f"vfio-apple run --firmware exited {rc}")
    _, qemu, _ = cli_boot.printed(run, argv)
    run.check("print-uefi-boot-disk-first", "-bios" in qemu and
              "virtio-blk-pci,drive=vfa-disk0,bootindex=0" in qemu, " ".join(qemu))
    run.checks[n0:] = [harness.Check(f"uefi/{c.name}", c.ok, c.reason, c.log)
                       for c in run.checks[n0:]]


if __name__ == "__main__":
    harness.main("cli-run", body)
