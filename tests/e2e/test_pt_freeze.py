#!/usr/bin/env python3
"""Issue 7 item 2: a stuck dext never freezes the VM.

The simulator (the dext) is stopped with SIGSTOP for FREEZE_S seconds while
the guest's stock nvme driver writes with O_DIRECT and the guest reads the
Status register (a dext call each time) every 0.5 s.  Meanwhile the host
sends QMP query-status every 0.25 s on one persistent connection and times
each answer; every 4th round it also asks x-query-vfio-apple.

Checks: every QMP answer within MAX_QMP_S (max, median and count printed);
QEMU said the dext stopped answering (x-query-vfio-apple unresponsive=true
during the freeze, and the warning on its stderr); after SIGCONT the device
either recovered (unresponsive false again, the "answers again" message,
the guest's I/O completed or the driver's reset path brought the disk back
and a verified read works) or was declared lost with a clear message;
nothing deadlocked (the guest reached its end, QEMU exited 0); the
simulator still serves afterwards.

Before the fix a dext call could hold the BQL for as long as the dext
stayed silent: QMP query-status blocked for the whole freeze.
VFIO_APPLE_FREEZE_PROPS='{"x-msg-timeout": 60000}' (JSON, merged into the
device's properties) brings that behaviour back, and this test fails.
"""
import json
import os
import signal
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

RAM = 512 * pt.MiB
FREEZE_S = 40           # how long the simulator stays stopped
STOP_AFTER_S = 2        # after the guest starts its I/O
MAX_QMP_S = 1.0         # longest acceptable QMP answer
QMP_PERIOD_S = 0.25
IO_TIMEOUT = 30         # nvme_core.io_timeout: the stock default, pinned


class QmpProbe(threading.Thread):
    """One persistent QMP connection: query-status every QMP_PERIOD_S, timed;
    x-query-vfio-apple every 4th round, kept with its time."""

    def __init__(self, run):
        super().__init__(daemon=True)
        self.run_ = run
        self.latencies = []         # (monotonic send time, seconds)
        self.vfa = []               # (monotonic time, x-query-vfio-apple[0])
        self.errors = []
        self.stop = threading.Event()
        self.connected = threading.Event()

    def _connect(self):
        path = os.path.join(self.run_.workdir, "qmp.sock")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                s.close()
                time.sleep(0.1)
        raise RuntimeError("no QMP socket")

    def _cmd(self, f, command):
        f.write(json.dumps({"execute": command}) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                raise EOFError("QMP connection closed")
            r = json.loads(line)
            if "return" in r or "error" in r:
                return r

    def run(self):
        try:
            s = self._connect()
            # Generous: the test must measure a blocked QEMU, not give up on it.
            s.settimeout(300)
            f = s.makefile("rw")
            json.loads(f.readline())
            self._cmd(f, "qmp_capabilities")
            self.connected.set()
            n = 0
            while not self.stop.is_set():
                t0 = time.monotonic()
                r = self._cmd(f, "query-status")
                self.latencies.append((t0, time.monotonic() - t0))
                if "error" in r:
                    self.errors.append(f"query-status: {r['error']}")
                n += 1
                if n % 4 == 0:
                    r = self._cmd(f, "x-query-vfio-apple")
                    if "return" in r and r["return"]:
                        self.vfa.append((time.monotonic(), r["return"][0]))
                    elif "error" in r:
                        self.errors.append(f"x-query-vfio-apple: {r['error']}")
                time.sleep(max(0.0, QMP_PERIOD_S - (time.monotonic() - t0)))
        except (EOFError, ConnectionResetError, BrokenPipeError):
            pass            # QEMU exited: the end of the measurement
        except Exception as e:
            self.errors.append(f"{type(e).__name__}: {e}")


def body(run):
    t_start = time.monotonic()
    sim = pt.start_sim(run, disk_size="1G")
    probe = QmpProbe(run)
    freeze = {}

    def freezer():
        try:
            time.sleep(STOP_AFTER_S)
            freeze["stop"] = time.monotonic()
            sim.send_signal(signal.SIGSTOP)
            time.sleep(FREEZE_S)
        finally:
            sim.send_signal(signal.SIGCONT)
            freeze["cont"] = time.monotonic()

    def on_line(run_, line):
        if line.endswith("VFIOAPPLE-SYNC freeze-io") and "thread" not in freeze:
            freeze["thread"] = threading.Thread(target=freezer, daemon=True)
            freeze["thread"].start()

    props = json.loads(os.environ.get("VFIO_APPLE_FREEZE_PROPS", "{}"))
    initrd = run.initramfs(["pt-device.sh", "pt-freeze.sh"], modules=["nvme"],
                           modargs={"nvme_core": f"io_timeout={IO_TIMEOUT}"})
    probe.start()
    try:
        rc = run.boot(initrd, mem=f"{RAM >> 20}M", qmp=True, timeout=300, on_line=on_line,
                      qemu_args=pt.qemu_args(sim, RAM, window="1G", props=props))
    finally:
        if "thread" in freeze:
            freeze["thread"].join(FREEZE_S + STOP_AFTER_S + 5)
        sim.send_signal(signal.SIGCONT)     # whatever happened, let it go on
        probe.stop.set()
        probe.join(10)

    # -- the VM never froze -------------------------------------------------
    lat = [d for _, d in probe.latencies]
    in_freeze = [d for t, d in probe.latencies
                 if "stop" in freeze and freeze["stop"] - 1 <= t <= freeze.get("cont", t) + 1]
    run.check("freeze-happened", "stop" in freeze and "cont" in freeze,
              "the guest never started its I/O (no VFIOAPPLE-SYNC freeze-io)")
    run.check("qmp-probe-ran", probe.connected.is_set() and not probe.errors and len(in_freeze) > 20,
              f"{len(lat)} answers ({len(in_freeze)} during the freeze), errors {probe.errors}")
    if lat:
        worst = max(probe.latencies, key=lambda x: x[1])
        when = (f"{worst[0] - freeze['stop']:+.1f} s from SIGSTOP" if "stop" in freeze
                else f"{worst[0] - t_start:.1f} s into the test")
        print(f"QMP query-status: {len(lat)} answers, max {max(lat) * 1000:.0f} ms ({when}), "
              f"median {statistics.median(lat) * 1000:.1f} ms; during the freeze: "
              f"{len(in_freeze)} answers, max {max(in_freeze or [0]) * 1000:.0f} ms, "
              f"median {statistics.median(in_freeze or [0]) * 1000:.1f} ms")
        run.check("qmp-latency-below-1s", max(lat) < MAX_QMP_S,
                  f"a query-status took {max(lat):.2f} s ({when}); limit {MAX_QMP_S} s")

    # -- QEMU saw the dext stop and come back (or gave up on it) -----------------
    err = open(run.qemu_stderr).read()
    samples = probe.vfa
    t_stop, t_cont = freeze.get("stop", float("inf")), freeze.get("cont", float("inf"))
    during = [v for t, v in samples if t_stop + 2 <= t <= t_cont]
    after = [v for t, v in samples if t > t_cont]
    saw_stuck = any(v["unresponsive"] for v in during)
    run.check("qemu-reported-unresponsive",
              saw_stuck and "no reply from the dext" in err,
              f"unresponsive during the freeze: {saw_stuck} ({len(during)} samples); "
              f"stderr: {err[-400:]!r}")
    last = after[-1] if after else (samples[-1][1] if samples else {})
    lost = bool(last.get("lost")) or "device lost" in err
    recovered = (not lost and bool(after) and not last.get("unresponsive", True) and
                 "the dext answers again after" in err)
    outcome = "lost" if lost else "recovered" if recovered else "neither"
    guest = ("writes failed, then " + ("disk back" if run.notes.get("verified_after_failure") == "yes"
                                        else "disk not back")
             if run.notes.get("io_fails", "0") != "0" else "all writes completed")
    print(f"outcome: {outcome}; guest: {guest}; "
          f"x-query-vfio-apple after: unresponsive={last.get('unresponsive')} lost={last.get('lost')} "
          f"episodes={last.get('unresponsive-episodes')} unresponsive-ms={last.get('unresponsive-ms')} "
          f"timeouts={last.get('dext-timeouts')} refused={last.get('dext-calls-refused')} "
          f"wait-max={last.get('dext-wait-max-ns', 0) / 1e6:.0f} ms")
    if outcome == "lost":
        run.check("lost-with-clear-message",
                  "device lost:" in err and ("x-lost-timeout" in err or "connection" in err),
                  f"stderr: {err[-400:]!r}")
    else:
        run.check("recovered-after-sigcont", recovered,
                  f"after SIGCONT: unresponsive={last.get('unresponsive')} lost={last.get('lost')} "
                  f"({len(after)} samples); stderr: {err[-400:]!r}")
        # The guest's side of a recovery: the freeze ended for it too, and
        # its data is there: every write went through and reads back, or
        # the nvme driver's timeout/reset path failed some and the disk
        # took a verified write and read afterwards.
        n = run.notes
        run.check("guest-saw-freeze-end", bool(n.get("freeze_over")),
                  f"the guest never read a normal Status again (notes {n})")
        io_ok = n.get("io_fails") == "0" and n.get("slots_bad") == "" and \
            int(n.get("slots_checked", "0")) > 0
        run.check("guest-io-survived", io_ok or n.get("verified_after_failure") == "yes",
                  f"{n.get('io_fails')} writes failed, slots bad: {n.get('slots_bad')!r}, "
                  f"verified after the failure: {n.get('verified_after_failure')!r}")
    if last:
        run.check("dext-wait-bounded", last["dext-wait-max-ns"] < MAX_QMP_S * 1e9,
                  f"a dext call waited {last['dext-wait-max-ns'] / 1e9:.2f} s")

    # -- nothing deadlocked; the simulator still serves ---------------------
    run.check("qemu-exited-cleanly", run.qemu_rc == 0 and rc is not None,
              f"QEMU exit {run.qemu_rc}, guest end {rc}")
    try:
        st = pt.sim_stats(sim)
        run.check("sim-still-serving", sim.poll() is None and not st["session_open"] and
                  st["dart"]["live_mappings"] == 0,
                  f"session_open={st['session_open']} live={st['dart']['live_mappings']}")
    except Exception as e:
        run.check("sim-still-serving", False, f"{type(e).__name__}: {e}")
    n = run.notes
    print(f"guest: {n.get('io_chunks')} chunks ({n.get('io_fails')} failed), slowest "
          f"{n.get('io_max_chunk_ms')} ms; Status reads {n.get('status_reads')} "
          f"({n.get('status_allones')} all-ones, slowest {n.get('status_slowest_ms')} ms); "
          f"test wall time {time.monotonic() - t_start:.0f} s")


if __name__ == "__main__":
    harness.main("pt-freeze", body)
