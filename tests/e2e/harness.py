"""End-to-end harness: boot the arm64 guest under QEMU TCG and collect checks.

Every end-to-end test uses this module.  A test builds an initramfs holding
a scenario script, starts any helper processes (e.g. vfio-apple-sim), boots
the guest with the QEMU arguments it needs, and gets back the per-check
results the guest printed.  The guest console streams to a log file as it
runs; a timeout bounds every run; everything the harness started is killed
when the run ends, whichever way it ends.

Guest-side protocol (tests/e2e/guest/lib.sh writes it, on the console):
    VFIOAPPLE-CHECK PASS <name>
    VFIOAPPLE-CHECK FAIL <name> <reason...>
    VFIOAPPLE-END <rc>
"""

import ctypes
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(TOP, "scripts")
GUEST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")
SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")
LOG_ROOT = os.environ.get("VFIO_APPLE_LOGS", os.path.join(TOP, "build", "e2e-logs"))

CHECK_RE = re.compile(r"VFIOAPPLE-CHECK (PASS|FAIL) (\S+)(?: (.*))?")
END_RE = re.compile(r"VFIOAPPLE-END (-?\d+)")
NOTE_RE = re.compile(r"VFIOAPPLE-NOTE (.*)")


def _eval_assignments(text):
    env = {}
    for tok in shlex.split(text):
        if "=" in tok:
            k, v = tok.split("=", 1)
            env[k] = v
    return env


_platforms = {}
_qemu = None
# The names scripts/guest-fetch.sh knows (trixie-backports: the newest Linux
# there, 7.x, which test_pt_companion.py boots by default).
KERNELS = ("bookworm", "trixie", "trixie-16k", "trixie-backports")

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Child-side: get SIGKILL if the harness dies, however it dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()


def default_kernel():
    """The guest kernel of tests that do not name one: GUEST_KERNEL
    (bookworm|trixie|trixie-16k|trixie-backports), else bookworm (Linux 6.1)."""
    k = os.environ.get("GUEST_KERNEL", "")
    if "/" in k:       # an eval of guest-fetch.sh's output: a path
        k = os.environ.get("GUEST_KERNEL_NAME", "")
    return k or "bookworm"


# edk2 for QEMU's virt machine, from Debian's qemu-efi-aarch64.
UEFI_FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"


def platform(kernel=None, fio=False):
    """Paths of QEMU and of the pieces of guest kernel `kernel` (a name of
    KERNELS; default: default_kernel()), built/fetched once and cached; with
    `fio`, also GUEST_FIO_ROOT."""
    global _qemu
    kernel = kernel or default_kernel()
    if kernel not in KERNELS:
        raise ValueError(f"guest kernel {kernel!r}: expected one of {', '.join(KERNELS)}")
    if _qemu is None:
        qemu = os.environ.get("VFIO_APPLE_QEMU")
        if not qemu:
            qemu = subprocess.run([os.path.join(SCRIPTS, "qemu-build.sh")], check=True,
                                  stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        _qemu = qemu
    key = (kernel, bool(fio))
    if key not in _platforms:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUEST_")}
        env["GUEST_KERNEL"] = kernel
        if os.environ.get("GUEST_KVER") and kernel == default_kernel():
            env["GUEST_KVER"] = os.environ["GUEST_KVER"]     # a pin applies to its kernel
        guest = _eval_assignments(subprocess.run(
            [os.path.join(SCRIPTS, "guest-fetch.sh")] + (["--fio"] if fio else []),
            check=True, stdout=subprocess.PIPE, text=True, env=env).stdout)
        _platforms[key] = guest
    return dict(_platforms[key], QEMU=_qemu)


class Check:
    def __init__(self, name, ok, reason="", log=None):
        self.name, self.ok, self.reason = name, ok, reason
        self.log = log      # the console log of the boot it belongs to

    def __repr__(self):
        return f"{'PASS' if self.ok else 'FAIL'} {self.name} {self.reason}".rstrip()


class Run:
    """One test's resources: a work directory, a log directory, processes."""

    def __init__(self, name):
        self.name = name
        self.logdir = os.path.join(LOG_ROOT, name)
        os.makedirs(self.logdir, exist_ok=True)
        self.workdir = tempfile.mkdtemp(prefix=f"vfio-apple-{name}-")
        self.procs = []
        self.checks = []
        self.notes = {}     # key=value pairs the guest printed with `note`
        self.initrd_kernel = {}     # initramfs path -> the kernel its modules are for
        self.boot_times = []        # (label, kernel, seconds) of every boot
        self._n_initrd = 0

    # -- host-side checks ---------------------------------------------------
    def check(self, name, ok, reason=""):
        self.checks.append(Check(name, bool(ok), "" if ok else reason,
                                 getattr(self, "console_log", None)))
        return bool(ok)

    # -- processes ----------------------------------------------------------
    def spawn(self, name, argv, **kw):
        """Start a helper process in its own process group, output to a log."""
        log = open(os.path.join(self.logdir, f"{name}.log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent, **kw)
        p.log_path = log.name
        p.label = name
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 5
        for p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()

    def cleanup(self):
        self.kill_all()
        subprocess.run(["rm", "-rf", self.workdir])

    # -- guest --------------------------------------------------------------
    def initramfs(self, scenario, modules=(), ko=(), add=(), params=None,
                  modargs=None, kernel=None, fio=False):
        """Build an initramfs that runs `scenario` as the test.

        `scenario` is a script name under tests/e2e/scenarios/ or a path, or
        a list of them, run in order as one script.  `params` (a dict)
        become shell variables set before the first script runs.
        `modargs` maps a module name to its parameters, e.g.
        {"nvme_core": "io_timeout=10"} ('-' and '_' alike, as in the
        kernel); a module that is not in the image is an error.  Parameters
        on the kernel command line (boot's `append`, e.g.
        "nvme.poll_queues=2") reach the modules too.  `kernel` (a name of
        KERNELS, default default_kernel()) picks the kernel whose modules go
        in; boot() then boots that kernel.  `fio` adds fio and its libraries.
        """
        kernel = kernel or default_kernel()
        self._n_initrd += 1
        n = self._n_initrd
        out = os.path.join(self.workdir, f"initramfs-{n}.cpio.gz")
        parts = [scenario] if isinstance(scenario, str) else list(scenario)
        for a in add:
            dst = "/" + a.split(":", 1)[-1].lstrip("/")
            if dst.startswith("/etc/vfio-apple/"):
                raise ValueError(f"add={a!r}: /etc/vfio-apple/ belongs to mkinitramfs.sh; "
                                 "pass module parameters as modargs={name: args}")
        scenario = os.path.join(self.workdir, f"scenario-{n}.sh")
        with open(scenario, "w") as f:
            for k, v in (params or {}).items():
                f.write(f"{k}={shlex.quote(str(v))}\n")
            for part in parts:
                if not os.path.isabs(part):
                    part = os.path.join(SCENARIOS, part)
                with open(part) as src:
                    f.write(f"# --- {os.path.basename(part)}\n{src.read()}\n")
        argv = [os.path.join(SCRIPTS, "mkinitramfs.sh"), "-o", out,
                "--init", os.path.join(GUEST_DIR, "init"),
                "--add", f"{os.path.join(GUEST_DIR, 'lib.sh')}:/lib/vfio-apple/lib.sh",
                "--add", f"{scenario}:/scenario.sh"]
        if modules:
            argv += ["--modules", " ".join(modules)]
        for k in ko:
            argv += ["--ko", k]
        for a in add:
            argv += ["--add", a]
        for m, v in (modargs or {}).items():
            argv += ["--modarg", f"{m}={v}"]
        if fio:
            argv += ["--fio"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUEST_")}
        env.update(platform(kernel, fio=fio))
        r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            msg = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
            raise RuntimeError(f"mkinitramfs.sh failed (exit {r.returncode}): "
                               f"{msg[-1] if msg else r.stderr.strip()[-300:]}")
        self.initrd_kernel[out] = kernel
        return out

    def boot(self, initrd, qemu_args=(), mem="1G", smp=2, timeout=600,
             append="", on_line=None, qmp=False, expect_end=True, tag="", kernel=None,
             firmware=False):
        """Boot the guest; return when it powers off, times out or dies.

        Streams the console to <logdir>/console.log.  Returns the guest's
        exit status from VFIOAPPLE-END, or None if it never got there.
        `on_line(run, line)` sees every console line as it arrives.  `tag`
        names this boot's logs when a test boots more than once.  `kernel`
        (default: the one the initramfs was built for) must match the
        initramfs's modules.  `firmware`: boot through Debian's UEFI
        firmware for QEMU (edk2, qemu-efi-aarch64), which loads the same
        kernel and initramfs from QEMU's fw_cfg and hands the guest ACPI
        tables instead of the device tree.
        """
        built_for = self.initrd_kernel.get(initrd)
        kernel = kernel or built_for or default_kernel()
        if built_for and kernel != built_for:
            raise ValueError(f"boot(kernel={kernel!r}) with an initramfs built for {built_for!r}: "
                             "its modules would not load; build it with initramfs(..., kernel=...)")
        plat = platform(kernel)
        sfx = f"-{tag}" if tag else ""
        console = os.path.join(self.logdir, f"console{sfx}.log")
        self.console_log = console
        argv = [plat["QEMU"], "-M", "virt", "-cpu", "max", "-smp", str(smp),
                "-m", mem, "-display", "none", "-no-reboot", "-monitor", "none",
                # No default NIC: it would need a firmware blob we do not build.
                "-nic", "none",
                "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
                "-kernel", plat["GUEST_KERNEL"], "-initrd", initrd,
                "-append", f"console=ttyAMA0 panic=-1 loglevel=6 {append}".strip()]
        if firmware:
            if not os.path.exists(UEFI_FIRMWARE):
                raise RuntimeError(f"{UEFI_FIRMWARE} is missing: install Debian's "
                                   "qemu-efi-aarch64 (scripts/bootstrap.sh does)")
            argv += ["-bios", UEFI_FIRMWARE]
        if qmp:
            self.qmp_path = os.path.join(self.workdir, "qmp.sock")
            argv += ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        argv += list(qemu_args)
        with open(os.path.join(self.logdir, f"qemu-cmdline{sfx}.txt"), "w") as f:
            f.write(shlex.join(argv) + "\n")
        self.qemu_stderr = os.path.join(self.logdir, f"qemu-stderr{sfx}.log")
        qemu_err = open(self.qemu_stderr, "w")
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=qemu_err,
                             stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        p.label = "qemu"
        self.procs.append(p)
        self.qemu = p
        end = {"rc": None}

        def reader():
            with open(console, "w") as log:
                for raw in p.stdout:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    log.write(line + "\n")
                    log.flush()
                    m = CHECK_RE.search(line)
                    if m:
                        self.checks.append(Check(m.group(2), m.group(1) == "PASS",
                                                 m.group(3) or "", console))
                    m = NOTE_RE.search(line)
                    if m:
                        for kv in m.group(1).split():
                            if "=" in kv:
                                k, v = kv.split("=", 1)
                                self.notes[k] = v
                    m = END_RE.search(line)
                    if m:
                        end["rc"] = int(m.group(1))
                    if on_line:
                        on_line(self, line)

        t = threading.Thread(target=reader, daemon=True)
        t0 = time.time()
        t.start()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.check("guest-finished-in-time", False,
                       f"guest did not power off within {timeout}s")
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        t.join(timeout=5)
        took = time.time() - t0
        self.boot_times.append((tag or "boot", kernel, took))
        print(f"boot {self.name}{sfx}: {plat['GUEST_KVER']} ({kernel}), {took:.1f} s")
        sys.stdout.flush()
        self.qemu_rc = p.returncode
        if end["rc"] is None and expect_end:
            self.check("guest-reached-end", False,
                       f"scenario never finished (qemu exit {p.returncode}); see {console}")
        return end["rc"]

    # -- QMP ----------------------------------------------------------------
    def qmp(self, command, **arguments):
        """One QMP command on a fresh connection; returns the 'return' value."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.qmp_path)
        f = s.makefile("rw")
        json.loads(f.readline())                          # greeting
        f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
        f.flush()
        json.loads(f.readline())
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        f.write(json.dumps(msg) + "\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r:
                break
        s.close()
        if "error" in r:
            raise RuntimeError(f"QMP {command}: {r['error'].get('desc')}")
        return r["return"]


def report(run):
    """Print one PASS/FAIL line per check; return the number failed."""
    failed = 0
    if not run.checks:
        run.checks.append(Check("produced-checks", False, "no check ran"))
    for c in run.checks:
        if c.ok:
            print(f"PASS: e2e/{run.name}/{c.name}")
        else:
            failed += 1
            where = c.log or getattr(run, "console_log", run.logdir)
            print(f"FAIL: e2e/{run.name}/{c.name}: {c.reason} (log: {where})")
    sys.stdout.flush()
    return failed


def main(name, body):
    """Run `body(run)` as test `name`, report, clean up, exit non-zero on failure."""
    run = Run(name)

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    try:
        body(run)
    except (Exception, KeyboardInterrupt) as e:
        # A broken or interrupted test is a failed test, with the reason.
        run.check("test-ran", False, f"{type(e).__name__}: {e}")
    finally:
        run.kill_all()
    failed = report(run)
    run.cleanup()
    sys.exit(1 if failed else 0)
