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


_platform = None

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Child-side: get SIGKILL if the harness dies, however it dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()


def platform():
    """Paths of QEMU and the guest kernel pieces (built/fetched once, cached)."""
    global _platform
    if _platform is None:
        qemu = os.environ.get("VFIO_APPLE_QEMU")
        if not qemu:
            qemu = subprocess.run([os.path.join(SCRIPTS, "qemu-build.sh")], check=True,
                                  stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        guest = _eval_assignments(subprocess.run(
            [os.path.join(SCRIPTS, "guest-fetch.sh")], check=True,
            stdout=subprocess.PIPE, text=True).stdout)
        _platform = dict(guest, QEMU=qemu)
    return _platform


class Check:
    def __init__(self, name, ok, reason=""):
        self.name, self.ok, self.reason = name, ok, reason

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

    # -- host-side checks ---------------------------------------------------
    def check(self, name, ok, reason=""):
        self.checks.append(Check(name, bool(ok), "" if ok else reason))
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
    def initramfs(self, scenario, modules=(), ko=(), add=(), params=None):
        """Build an initramfs that runs `scenario` as the test.

        `scenario` is a script name under tests/e2e/scenarios/ or a path, or
        a list of them, run in order as one script.  `params` (a dict)
        become shell variables set before the first script runs.
        """
        out = os.path.join(self.workdir, "initramfs.cpio.gz")
        parts = [scenario] if isinstance(scenario, str) else list(scenario)
        scenario = os.path.join(self.workdir, "scenario.sh")
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
        env = dict(os.environ, **platform())
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        return out

    def boot(self, initrd, qemu_args=(), mem="1G", smp=2, timeout=600,
             append="", on_line=None, qmp=False, expect_end=True, tag=""):
        """Boot the guest; return when it powers off, times out or dies.

        Streams the console to <logdir>/console.log.  Returns the guest's
        exit status from VFIOAPPLE-END, or None if it never got there.
        `on_line(run, line)` sees every console line as it arrives.  `tag`
        names this boot's logs when a test boots more than once.
        """
        plat = platform()
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
                                                 m.group(3) or ""))
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
        t.start()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.check("guest-finished-in-time", False,
                       f"guest did not power off within {timeout}s")
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        t.join(timeout=5)
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
            where = getattr(run, "console_log", run.logdir)
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
