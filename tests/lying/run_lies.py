#!/usr/bin/env python3
"""
QEMU trusts nothing the dext returns (issue 7 item 4).

One QEMU start per lie of tests/lying/fake_dext.py, with vfio-apple-pci
pointed at the fake:

    qemu-system-aarch64 -M virt,vfio-apple=on -accel tcg -display none
        -nographic -monitor none -nic none -S -qmp unix:Q,server=on,wait=off
        -object memory-backend-memfd,id=mem,size=512M,share=on
        -machine memory-backend=mem -m 512M -device '{vfio-apple-pci...}'

A lie QEMU must refuse ("refuse"): exit status 1 (not a signal, not an
abort), a message on stderr naming the problem (the case's pattern), and no
sanitizer report.  A lie QEMU must live with ("accept"): the device
realizes, QMP answers, the case's own check holds, and `quit` exits 0.
Some run-time lies may be either refused or survived ("refuse-or-survive").
"truthful" (no lie) proves the fake is good enough to realize a device, so
a refusal is the lie's doing.

Prints one line per case:
    PASS: lying/<case>
    FAIL: lying/<case>: <reason>
    XFAIL: lying/<case>: <reason>     (known QEMU weakness, see XFAIL; not counted)

    run_lies.py QEMU [CASE...]
Environment: LYING_TIMEOUT (s, default 10; a QEMU that neither exits nor
answers QMP by then hangs), LYING_SLOW=1 also runs the 30 s
silent_during_realize case, LYING_KEEP=1 keeps the work directory,
ASAN_OPTIONS (default detect_leaks=0: QEMU does not free everything at exit).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))
import wire  # noqa: E402  (describe_exit)
FAKE = os.path.join(HERE, "fake_dext.py")
TIMEOUT = float(os.environ.get("LYING_TIMEOUT", "10"))
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:|ThreadSanitizer|==\d+==ERROR")

# (case, lie, expectation, what stderr must say)
R, A, S = "refuse", "accept", "refuse-or-survive"
CASES = [
    ("truthful", None, A, None),
    ("config_size_8192", "config_size_8192", R, r"config space of 8192 bytes"),
    ("msix_vectors_100000", "msix_vectors_100000", R, r"100000 MSI-X vectors"),
    ("msi_vectors_64", "msi_vectors_64", R, r"64 MSI vectors"),
    ("msi_vectors_3", "msi_vectors_3", R, r"3 MSI vectors"),
    ("no_msi_no_msix", "no_msi_no_msix", R, r"neither MSI nor MSI-X"),
    ("bar_size_not_pow2", "bar_size_not_pow2", R, r"BAR 0 of 24576 bytes.*not a PCI BAR"),
    ("bar_size_2e63", "bar_size_2e63", R, r"BAR 0 of 9223372036854775808 bytes"),
    ("bar_mem64_on_bar5", "bar_mem64_on_bar5", R, r"BAR 5 of 16384 bytes \(flags 0x3\)"),
    ("rom_size_2e40", "rom_size_2e40", R, r"1099511627776-byte expansion ROM"),
    ("bar_info_size_differs", "bar_info_size_differs", R,
     r"reports BAR 0 as 16384 bytes.*identity said 32768"),
    ("bar_info_absent", "bar_info_absent", R, r"reports BAR 0 as 0 bytes \(flags 0x0\)"),
    ("map_bar_larger_than_memfd", "map_bar_larger_than_memfd", R,
     r"MAP_MEMORY: the dext's reply was malformed"),
    ("map_irq_larger_than_memfd", "map_irq_larger_than_memfd", R,
     r"IRQ page: MAP_MEMORY: the dext's reply was malformed"),
    ("irq_page_bad_magic", "irq_page_bad_magic", R, r"IRQ page is malformed .*magic 0xdeadbeef"),
    ("irq_page_too_small", "irq_page_too_small", R, r"IRQ page is malformed \(size 64"),
    ("dma_33_segments", "dma_33_segments", R, r"DMA_MAP: malformed segment list \(33 segments\)"),
    ("dma_segments_short", "dma_segments_short", R, r"DMA_MAP: malformed segment list"),
    ("dma_segments_long", "dma_segments_long", R, r"DMA_MAP: malformed segment list"),
    ("dma_iova_wraps", "dma_iova_wraps", R, r"DMA_MAP: malformed segment list"),
    ("dma_zero_length_segment", "dma_zero_length_segment", R, r"DMA_MAP: malformed segment list"),
    ("dma_nsegs_0", "dma_nsegs_0", R, r"DMA_MAP: malformed segment list \(0 segments\)"),
    ("dma_handle_0", "dma_handle_0", R, r"DMA_MAP: malformed segment list"),
    ("dma_segments_overlap", "dma_segments_overlap", R, r"overlap"),
    ("dma_iova_unaligned", "dma_iova_unaligned", R, r"IOVA|align"),
    ("dma_page_size_3", "dma_page_size_3", R, r"DMA page size of 3 bytes"),
    ("abi_major_2", "abi_major_2", R, r"the dext speaks ABI 2, this QEMU speaks 1"),
    ("wrong_sequence_number", "wrong_sequence_number", R,
     r"GET_IDENTITY: the dext's reply was malformed"),
    ("duplicate_reply", "duplicate_reply", R, r"GET_IDENTITY: the dext's reply was malformed"),
    ("reply_longer_than_asked", "reply_longer_than_asked", R,
     r"GET_IDENTITY: the dext's reply was malformed"),
    ("identity_short", "identity_short", R, r"GET_IDENTITY: the dext returned 200 bytes, not 272"),
    ("config_block_short", "config_block_short", R,
     r"CONFIG_READ_BLOCK: the dext returned 256 bytes, not 4096"),
    ("notify_without_fd", "notify_without_fd", R, r"NOTIFY_REGISTER: no notification fd"),
    ("location_without_nul", "location_without_nul", A, None),
    ("cap_list_loop", "cap_list_loop", R, r"capabilit"),
    ("cap_ptr_into_header", "cap_ptr_into_header", R, r"capabilit"),
    ("ext_cap_loop", "ext_cap_loop", R, r"capabilit"),
    ("msix_cap_missing", "msix_cap_missing", R, r"MSI-X"),
    ("msix_table_bigger_than_identity", "msix_table_bigger_than_identity", R, r"MSI-X"),
    ("bar_register_io_space", "bar_register_io_space", R, r"BAR 0"),
    ("notify_fd_not_eventfd", "notify_fd_not_eventfd", S, r"notif"),
    ("irq_page_unsealed_shrunk", "irq_page_unsealed_shrunk", S, r"IRQ page|seal"),
]
SLOW = [("silent_during_realize", "silent_during_realize", R,
         r"OPEN: no reply from the dext within 30000 ms")]

# Lies QEMU does not refuse yet (reported to the QEMU owner; remove an entry
# once QEMU handles it: the case then passes and says so).
XFAIL = {
    # Lies QEMU does not refuse yet: none.  (The first run of this suite
    # found ten: overlapping and misaligned DMA segments, capability lists
    # that loop or point into the header, MSI/MSI-X counts that disagree
    # with the capabilities, an I/O-space BAR register, a notification fd
    # that is not an eventfd, an unsealed IRQ page shrunk under QEMU.)
}


class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise TimeoutError("no QMP socket")
                time.sleep(0.05)
        self.s.settimeout(max(1.0, deadline - time.monotonic()))
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("QMP closed")
            r = json.loads(line)
            if "return" in r or "error" in r:
                return r

    def close(self):
        self.s.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def describe(rc):
    return "still running" if rc is None else wire.describe_exit(rc)


def tail(text, n=3):
    lines = [ln for ln in text.strip().splitlines() if not ln.startswith("vfio_apple_")]
    return " | ".join(lines[-n:])


def run_case(qemu, work, case, lie, expect, pattern):
    """(ok, reason)"""
    d = os.path.join(work, case)
    os.makedirs(d)
    sock, qmp = os.path.join(d, "dext.sock"), os.path.join(d, "qmp.sock")
    flog = open(os.path.join(d, "fake.log"), "w")
    fake = subprocess.Popen([sys.executable, FAKE, "--socket", sock] +
                            (["--lie", lie] if lie else []),
                            stdout=flog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    qproc = None
    try:
        end = time.monotonic() + 10
        while not os.path.exists(sock):
            if fake.poll() is not None or time.monotonic() > end:
                return False, "the fake dext did not start (%s); see %s" % (
                    describe(fake.poll()), flog.name)
            time.sleep(0.02)
        dev = {"driver": "vfio-apple-pci", "id": "pt0",
               "socket": {"type": "unix", "path": sock}, "window-size": 1 << 30}
        argv = [qemu, "-M", "virt,vfio-apple=on", "-accel", "tcg", "-display", "none",
                "-nographic", "-monitor", "none", "-nic", "none", "-S",
                "-qmp", "unix:%s,server=on,wait=off" % qmp,
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                "-machine", "memory-backend=mem", "-m", "512M",
                "-device", json.dumps(dev)]
        if lie == "location_without_nul":
            argv += ["-trace", "vfio_apple_identity"]
        errpath = os.path.join(d, "qemu-stderr.log")
        with open(os.path.join(d, "cmdline"), "w") as f:
            f.write(" ".join(argv) + "\n")
        qerr = open(errpath, "w")
        timeout = TIMEOUT + (35 if lie == "silent_during_realize" else 0)
        qproc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=qerr)
        deadline = time.monotonic() + timeout
        q = None
        while q is None and qproc.poll() is None and time.monotonic() < deadline:
            if os.path.exists(qmp):
                try:
                    q = Qmp(qmp, deadline)
                except (TimeoutError, OSError, EOFError, ValueError):
                    q = None
                    time.sleep(0.1)
            else:
                time.sleep(0.05)
        # QMP answers before realize is over only if realize is done: -device
        # options are realized before the monitor serves anyone.
        if q is not None:
            info = q.cmd("x-query-vfio-apple")
            extra = check_running(case, lie, q, qproc, info, errpath, d)
        else:
            extra = None
        if q is None and qproc.poll() is None:
            try:
                qproc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        if qproc.poll() is None and q is None:
            return False, "QEMU hung: neither exited nor answered QMP within %.0f s (%s)" % (
                timeout, tail(open(errpath).read()) or "no message")
        running = qproc.poll() is None
        if running:
            try:
                q.cmd("quit")
            except (EOFError, OSError):
                pass
            q.close()
            try:
                qproc.wait(10)
            except subprocess.TimeoutExpired:
                return False, "QEMU did not quit"
        err = open(errpath).read()
        if SANITIZER.search(err):
            m = SANITIZER.search(err)
            return False, "sanitizer report: %s" % err[m.start():m.start() + 300].replace("\n", " | ")
        rc = qproc.returncode
        if expect == R or (expect == S and not running):
            if running:
                return False, "QEMU accepted the device (it should refuse it)%s" % (
                    "; " + extra if extra else "")
            if rc != 1:
                return False, "QEMU %s, want exit status 1: %s" % (describe(rc), tail(err))
            if pattern and not re.search(pattern, err, re.S):
                return False, "refused, but stderr does not say /%s/: %s" % (pattern, tail(err))
            return True, ""
        # accept, or survive
        if not running:
            return False, "QEMU refused the device or died (%s): %s" % (describe(rc), tail(err))
        if extra:
            return False, extra
        if rc != 0:
            return False, "QEMU %s after quit: %s" % (describe(rc), tail(err))
        return True, ""
    finally:
        if qproc and qproc.poll() is None:
            qproc.kill()
            qproc.wait()
        fake.terminate()
        try:
            fake.wait(5)
        except subprocess.TimeoutExpired:
            fake.kill()
            fake.wait()
        flog.close()


def check_running(case, lie, q, qproc, info, errpath, d):
    """With the device realized: the case's own check; a reason if it fails."""
    r = info.get("return") or []
    if not r:
        return "x-query-vfio-apple lists no device: %s" % info
    v = r[0]
    if case == "truthful":
        if v["lost"] or v["unresponsive"] or not v["dext-calls"] or len(v["window"]) != 1:
            return "the truthful device looks wrong: %s" % v
        return None
    if case == "location_without_nul":
        err = open(errpath).read()
        m = re.search(r"vfio_apple_identity .* at (.*), config 4096 bytes", err)
        if not m:
            return "no vfio_apple_identity trace line with the location: %s" % tail(err)
        if m.group(1) != "A" * 63:
            return "location printed as %r (want 63 'A', cut at the 64th byte)" % m.group(1)
        return None
    if case == "notify_fd_not_eventfd":
        c0 = cpu_seconds(qproc.pid)
        time.sleep(2)
        used = cpu_seconds(qproc.pid) - c0
        if used > 0.5:
            return "QEMU accepted a notification fd that is not an eventfd and burns " \
                   "%.1f s of CPU in 2 s (the notification thread spins on it)" % used
        return None
    if case == "irq_page_unsealed_shrunk":
        time.sleep(3)           # the fake shrinks the page after 2 s and notifies
        if qproc.poll() is not None:
            return "QEMU %s after the dext shrank the unsealed IRQ page memfd it had " \
                   "accepted" % describe(qproc.returncode)
        try:
            q.cmd("query-status")
        except (EOFError, OSError) as e:
            return "QEMU stopped answering after the IRQ page shrank: %s" % e
        return None
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    qemu, only = sys.argv[1], set(sys.argv[2:])
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    cases = CASES + (SLOW if os.environ.get("LYING_SLOW") or only & {c[0] for c in SLOW} else [])
    work = tempfile.mkdtemp(prefix="vfa-lying.")
    failed = 0
    for case, lie, expect, pattern in cases:
        if only and case not in only:
            continue
        t0 = time.monotonic()
        try:
            ok, why = run_case(qemu, work, case, lie, expect, pattern)
        except Exception as e:
            ok, why = False, "%s: %s" % (type(e).__name__, e)
        dt = time.monotonic() - t0
        label = "lying/%s" % case
        if case in XFAIL:
            line = ("PASS: %s: passes although marked expected-to-fail (%s): remove it from XFAIL"
                    % (label, XFAIL[case])) if ok else "XFAIL: %s: %s" % (label, why)
        else:
            line = "PASS: %s" % label if ok else "FAIL: %s: %s" % (label, why)
            failed += not ok
        if os.environ.get("LYING_TIMES"):
            line += "  [%.1fs]" % dt
        print(line, flush=True)
    if os.environ.get("LYING_KEEP") or failed:
        print("lying: logs in %s" % work, file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
