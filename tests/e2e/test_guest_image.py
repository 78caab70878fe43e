#!/usr/bin/env python3
"""The guest image and its init: module parameters, preconditions, page size.

Host side (no boot): scripts/mkinitramfs.sh runs depmod itself on a module
tree that has no modules.dep; every failure ends with an `error:` line that
says what failed; a parameter for a module that is not in the image is
refused ('-' and '_' alike, as in the kernel).
Guest side (one boot, QEMU's emulated NVMe): parameters from the image and
from the kernel command line (nvme.poll_queues=2) reach the modules init
loads; a command-line parameter for a module that is neither loaded nor
built in fails loudly; a missing precondition (require) stops the scenario
with one FAIL naming it; the guest reports its page size.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

MKINITRAMFS = os.path.join(harness.SCRIPTS, "mkinitramfs.sh")
INIT = os.path.join(harness.GUEST_DIR, "init")


def mkinitramfs(run, args, env_over=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUEST_")}
    env.update(harness.platform())
    env.update(env_over or {})
    out = os.path.join(run.workdir, "host.cpio.gz")
    r = subprocess.run([MKINITRAMFS, "-o", out, "--init", INIT] + args, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    return r, out


def host_side(run):
    plat = harness.platform()
    kver = plat["GUEST_KVER"]
    # A module tree without modules.dep: only nvme and its dependencies.
    root = os.path.join(run.workdir, "modroot")
    mdir = os.path.join(root, "lib", "modules", kver)
    with open(os.path.join(plat["GUEST_MODDIR"], "modules.dep")) as f:
        dep = next(ln for ln in f if ln.startswith("kernel/drivers/nvme/host/nvme.ko"))
    for rel in dep.replace(":", " ").split():
        os.makedirs(os.path.dirname(os.path.join(mdir, rel)), exist_ok=True)
        shutil.copy(os.path.join(plat["GUEST_MODDIR"], rel), os.path.join(mdir, rel))
    r, _ = mkinitramfs(run, ["--modules", "nvme"], {"GUEST_MODDIR": mdir})
    run.check("mkinitramfs-runs-depmod",
              r.returncode == 0 and os.path.getsize(os.path.join(mdir, "modules.dep")) > 0
              and "depmod" in r.stderr,
              f"exit {r.returncode}: {r.stderr.strip()[-300:]}")

    # Failures: non-zero, and the last line says what failed.
    cases = {
        "unknown-module": (["--modules", "no_such_module"], None, "no_such_module"),
        "modarg-for-module-not-in-image": (["--modules", "nvme", "--modarg", "virtio_blk=x=1"],
                                           None, "virtio_blk is not in the image"),
        "modarg-without-args": (["--modules", "nvme", "--modarg", "nvme"], None, "NAME=ARGS"),
        "missing-init": (["--init", "/nonexistent"], None, "/nonexistent"),
        "bad-busybox": ([], {"GUEST_BUSYBOX": "/nonexistent/busybox"}, "GUEST_BUSYBOX"),
        "unwritable-output": (["-o", "/proc/vfio-apple/x.cpio.gz"], None, "failed"),
    }
    for name, (args, env, want) in cases.items():
        r, _ = mkinitramfs(run, args, env)
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        run.check(f"mkinitramfs-error-{name}",
                  r.returncode != 0 and last.startswith("error:") and want in r.stderr,
                  f"exit {r.returncode}, last stderr line {last!r}, wanted an error naming {want!r}")
    # '-' and '_' name the same module; the file is nvme-core.ko.
    r, _ = mkinitramfs(run, ["--modules", "nvme", "--modarg", "nvme-core=io_timeout=7",
                             "--modarg", "nvme_core=admin_timeout=8"])
    run.check("mkinitramfs-modarg-normalised", r.returncode == 0, r.stderr.strip()[-300:])
    # The harness refuses to put files where init's own configuration lives.
    try:
        run.initramfs("harness-selftest.sh", add=["/dev/null:/etc/vfio-apple/modargs/nvme"])
        run.check("harness-refuses-modargs-files", False, "initramfs() accepted the file")
    except ValueError:
        run.check("harness-refuses-modargs-files", True)


def guest_side(run):
    disk = os.path.join(run.workdir, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    scen = os.path.join(run.workdir, "modparams.sh")
    with open(scen, "w") as f:
        f.write('note "poll_queues=$(cat /sys/module/nvme/parameters/poll_queues)'
                ' io_timeout=$(cat /sys/module/nvme_core/parameters/io_timeout)'
                ' admin_timeout=$(cat /sys/module/nvme_core/parameters/admin_timeout)'
                ' page_size=$(page_size)"\n')
    nvme = ["-drive", f"if=none,id=d0,file={disk},format=raw", "-device", "nvme,drive=d0,serial=img0"]
    initrd = run.initramfs(["nvme-io.sh", scen], modules=["nvme"], params={"MB": 4},
                           modargs={"nvme-core": "io_timeout=7", "nvme_core": "admin_timeout=8"})
    run.boot(initrd, qemu_args=nvme, timeout=180, tag="params", append="nvme.poll_queues=2")
    n = run.notes
    run.check("image-modargs-reach-module", n.get("io_timeout") == "7" and n.get("admin_timeout") == "8",
              f"nvme_core io_timeout={n.get('io_timeout')} admin_timeout={n.get('admin_timeout')}")
    run.check("cmdline-params-reach-module", n.get("poll_queues") == "2",
              f"nvme poll_queues={n.get('poll_queues')}, the command line said 2")
    run.check("guest-page-size", n.get("page_size") == "4096",
              f"page_size={n.get('page_size')!r} on {harness.default_kernel()} (4 KiB pages)")

    # A parameter for a module nobody loads goes nowhere: init says so.
    n0 = len(run.checks)
    rc = run.boot(initrd, qemu_args=nvme, timeout=180, tag="stray-param",
                  append="nvme.poll_queues=2 no_such_mod.debug=1")
    got = {c.name: c for c in run.checks[n0:]}
    c = got.get("cmdline-module-params")
    run.checks[n0:] = []
    run.check("stray-cmdline-param-fails", c is not None and not c.ok and "no_such_mod" in c.reason
              and rc == 1, f"check {c}, end {rc}")

    # No NVMe device: pt-device.sh's precondition fails once, nothing after it runs.
    n0 = len(run.checks)
    initrd = run.initramfs(["pt-device.sh", "nvme-io.sh"], modules=["nvme"], params={"PT_WAIT": 2})
    rc = run.boot(initrd, timeout=180, tag="no-device")
    mine = run.checks[n0:]
    run.checks[n0:] = []
    failed = [c.name for c in mine if not c.ok]
    run.check("require-stops-at-first-missing-precondition",
              failed == ["pt-nvme-controller"] and rc == 1 and
              not any(c.name.startswith(("readback", "dd-", "pt-vendor")) for c in mine),
              f"end {rc}, checks {mine}")


def body(run):
    host_side(run)
    guest_side(run)


if __name__ == "__main__":
    harness.main("guest-image", body)
