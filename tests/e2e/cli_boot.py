"""Boot the guest through the product's own entry point, `vfio-apple run`.

For the e2e test of the command (test_cli_run.py) and the demo
(tools/demo.py): `vfio-apple run DEVICE --sim ...` starts the simulator,
builds QEMU's command line and runs it; this module gives it the guest's
kernel and image, reads the console it passes through (the harness's
VFIOAPPLE-CHECK/NOTE/END protocol), and asks `vfio-apple status` for the
device's state while the guest runs.  The simulator's socket and QEMU's QMP
socket live in the run's work directory (VFIO_APPLE_SOCKET_DIR).
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

import harness

CLI = os.path.join(harness.TOP, "build", "vfio-apple")


def env(run):
    """The environment that makes `vfio-apple` find this run's devices."""
    e = dict(os.environ, VFIO_APPLE_SOCKET_DIR=run.workdir)
    e.pop("VFIO_APPLE_SOCKET", None)
    return e


def run_args(run, device, initrd, mem, sim=None, sim_opts=(), append="", extra=(),
             qemu_args=(), kernel=None):
    """`vfio-apple run` arguments for the harness's guest (kernel, QEMU)."""
    kernel = kernel or run.initrd_kernel.get(initrd) or harness.default_kernel()
    plat = harness.platform(kernel)
    argv = [CLI, "run", device, "--kernel", plat["GUEST_KERNEL"], "--initrd", initrd,
            "--mem", mem, "--qemu", plat["QEMU"],
            "--append", f"panic=-1 loglevel=6 {append}".strip(), *extra]
    if sim:
        argv += ["--sim", sim] + [f"--sim-opt={o}" for o in sim_opts]
    if qemu_args:
        argv += ["--", *qemu_args]
    return argv


def status(run, device, timeout=30):
    """`vfio-apple status DEVICE --json`: its device entry."""
    out = subprocess.run([CLI, "status", device, "--json"], env=env(run), timeout=timeout,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode:
        raise RuntimeError(f"vfio-apple status exited {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)["devices"][0]


def printed(run, argv):
    """What `argv + --print` prints, as (simulator argv or None, QEMU argv)."""
    out = subprocess.run(argv[:3] + ["--print"] + argv[3:], env=env(run), timeout=60,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode:
        raise RuntimeError(f"vfio-apple run --print exited {out.returncode}: {out.stderr}")
    lines = out.stdout.splitlines()
    sim = shlex.split(lines[0])[:-1] if len(lines) == 2 else None
    return sim, shlex.split(lines[-1]), out.stderr


def boot(run, argv, on_line=None, timeout=900, tag="cli"):
    """Run `vfio-apple run` (argv from run_args) to the guest's end.

    Returns the command's exit status (QEMU's); the guest's own exit status
    (VFIOAPPLE-END) is run.guest_rc, None if it never got there.  Console lines feed the
    run's checks and notes as harness.Run.boot does; its stderr (the mode
    it chose and why, the simulator's start) goes to <logdir>/<tag>-stderr.log.
    """
    console = os.path.join(run.logdir, f"console-{tag}.log")
    run.console_log = console
    with open(os.path.join(run.logdir, f"{tag}-cmdline.txt"), "w") as f:
        f.write(shlex.join(argv) + "\n")
    err = open(os.path.join(run.logdir, f"{tag}-stderr.log"), "w")
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                         env=env(run), preexec_fn=harness._die_with_parent)
    p.label = "vfio-apple-run"
    run.procs.append(p)
    run.cli = p
    end = {}

    def reader():
        with open(console, "w") as log:
            for raw in p.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                log.write(line + "\n")
                log.flush()
                m = harness.CHECK_RE.search(line)
                if m:
                    run.checks.append(harness.Check(m.group(2), m.group(1) == "PASS",
                                                    m.group(3) or "", console))
                m = harness.NOTE_RE.search(line)
                for kv in (m.group(1).split() if m else ()):
                    k, _, v = kv.partition("=")
                    run.notes[k] = v
                m = harness.END_RE.search(line)
                if m:
                    end["rc"] = int(m.group(1))
                if on_line:
                    on_line(run, line)

    t = threading.Thread(target=reader, daemon=True)
    t0 = time.time()
    t.start()
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.check("guest-finished-in-time", False, f"guest did not power off within {timeout}s")
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    t.join(timeout=5)
    print(f"boot {run.name} through vfio-apple run: {time.time() - t0:.1f} s")
    sys.stdout.flush()
    run.guest_rc = end.get("rc")
    if "rc" not in end:
        run.check("guest-reached-end", False, f"scenario never finished (vfio-apple run exit "
                  f"{p.returncode}); see {console}")
    return p.returncode
