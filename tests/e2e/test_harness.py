#!/usr/bin/env python3
"""The harness itself: it must see failing checks, enforce its timeout and
leave no process behind.  Each inner run is a real guest boot."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def body(run):
    # 1. Checks, notes and the end marker are collected; a failing guest
    #    check is reported as failed.
    inner = harness.Run("harness-inner")
    try:
        rc = inner.boot(inner.initramfs("harness-selftest.sh"), timeout=120)
        by = {c.name: c.ok for c in inner.checks}
        run.check("sees-passing-check", by.get("selftest-pass") is True, f"checks: {inner.checks}")
        run.check("sees-failing-check", by.get("selftest-fail") is False, f"checks: {inner.checks}")
        run.check("collects-notes", inner.notes.get("selftest_note") == "17", f"notes: {inner.notes}")
        run.check("sees-end-marker", rc == 0, f"rc {rc}")
        run.check("streams-console-to-log",
                  "VFIOAPPLE-END" in open(inner.console_log).read(), inner.console_log)
    finally:
        inner.cleanup()

    # 2. A guest that never finishes is killed at the timeout, with a failed
    #    check naming it; helpers started for the run are killed too.
    inner = harness.Run("harness-timeout")
    try:
        helper = inner.spawn("sleeper", ["sleep", "1000"])
        hang = os.path.join(inner.workdir, "hang")
        open(hang, "w").close()
        t0 = time.time()
        inner.boot(inner.initramfs("harness-selftest.sh", add=[f"{hang}:/hang"]), timeout=25)
        took = time.time() - t0
        names = {c.name: c.ok for c in inner.checks}
        run.check("timeout-enforced", names.get("guest-finished-in-time") is False and took < 60,
                  f"took {took:.0f}s, checks {inner.checks}")
        run.check("timeout-kills-qemu", not alive(inner.qemu.pid), "qemu still running")
        inner.kill_all()
        run.check("helpers-killed", not alive(helper.pid), "helper still running")
    finally:
        inner.cleanup()


if __name__ == "__main__":
    harness.main("harness", body)
