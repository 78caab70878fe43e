#!/usr/bin/env python3
"""The `vfio-apple` command against running simulators (tests/cli/run.sh).

Two simulators with different models and budgets serve from a temporary
socket directory (VFIO_APPLE_SOCKET_DIR), so every value the command prints
can be checked against what that simulator was told: IDs, BAR and ROM
sizes, MSI-X vectors, the DMA budget in bytes and mappings (which selftest
must find by mapping until the simulator refuses), the session owner.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
CLI = os.path.join(BUILD, "vfio-apple")
SIM = os.path.join(BUILD, "vfio-apple-sim")
MiB = 1 << 20

failed = 0


def check(name, ok, reason=""):
    global failed
    if ok:
        print(f"PASS: cli/{name}")
    else:
        failed += 1
        print(f"FAIL: cli/{name}: {reason}")
    sys.stdout.flush()
    return ok


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vfa-cli-tests.")
        self.env = dict(os.environ, VFIO_APPLE_SOCKET_DIR=self.dir)
        self.env.pop("VFIO_APPLE_SOCKET", None)
        self.procs = []

    def sim(self, name, device, *flags):
        sock = os.path.join(self.dir, f"{name}.sock")
        log = open(os.path.join(self.dir, f"{name}.log"), "w")
        p = subprocess.Popen([SIM, "--socket", sock, "--device", device, *flags],
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        for _ in range(200):
            if os.path.exists(sock):
                return p
            time.sleep(0.05)
        raise RuntimeError(f"simulator {name} did not start; see {log.name}")

    def cli(self, *args, timeout=120, env=None):
        r = subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, env=env or self.env)
        return r.returncode, r.stdout, r.stderr

    def json(self, *args):
        rc, out, err = self.cli(*args)
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, None, f"not JSON: {out[:300]!r} {err[:300]!r}"

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# nvme0: the defaults but a small budget; nvme1: other vectors and budget.
SIMS = {
    "nvme0": ("nvme,size=64M", ["--dart-budget", "64M", "--dart-max-mappings", "1000"],
              64 * MiB, 1000, 8),
    "nvme1": ("nvme,size=1G,vectors=4", ["--dart-budget", "96M", "--dart-max-mappings", "500",
                                          "--dart-fragment", "3"], 96 * MiB, 500, 4),
}


def test_help(e):
    for cmd in ("list", "status", "run", "selftest"):
        rc, out, err = e.cli(cmd, "--help")
        check(f"help/{cmd}", rc == 0 and out.startswith(f"usage: vfio-apple {cmd}"),
              f"rc {rc}: {out[:80]!r} {err[:200]!r}")
    rc, out, err = e.cli("frobnicate")
    check("help/unknown-command", rc == 2 and "unknown command 'frobnicate'" in err,
          f"rc {rc} {err!r}")


def test_list(e):
    rc, j, err = e.json("list", "--json")
    if not check("list/json", rc == 0 and j is not None, f"rc {rc} {err}"):
        return
    devs = {d["name"]: d for d in j["devices"]}
    check("list/finds-both-sockets", sorted(devs) == ["nvme0", "nvme1"], f"{sorted(devs)}")
    for name, (_, _, budget, maps, vectors) in SIMS.items():
        d = devs.get(name)
        if not d:
            continue
        bars = d["bars"]
        check(f"list/{name}/ids", d["vendor_id"] == 0x7a7a and d["device_id"] == 0x0e01 and
              d["class_code"] == 0x010802 and d["location"] == "sim:nvme",
              f"{d['vendor_id']:#x}:{d['device_id']:#x} class {d['class_code']:#x} {d['location']}")
        check(f"list/{name}/bars", len(bars) == 1 and bars[0]["index"] == 0 and
              bars[0]["size"] == 32768 and bars[0]["mem64"] and bars[0]["mappable"] and
              d["rom_size"] == 65536, f"{bars} rom {d['rom_size']}")
        check(f"list/{name}/interrupts", d["msix_vectors"] == vectors and d["msi_vectors"] == 0,
              f"MSI-X {d['msix_vectors']} (want {vectors}), MSI {d['msi_vectors']}")
        check(f"list/{name}/reset-kinds", sorted(d["reset"]) == ["flr", "hot"], f"{d['reset']}")
        check(f"list/{name}/budget", d["dma"]["budget_bytes"] == budget and
              d["dma"]["max_mappings"] == maps and d["dma"]["page_size"] == 16384,
              f"{d['dma']} (want {budget} bytes, {maps} mappings)")
        check(f"list/{name}/session-free", d["session"]["open"] is False, f"{d['session']}")
    if os.path.exists("/usr/share/misc/pci.ids"):
        d = devs.get("nvme0", {})
        check("list/class-names-from-pci-ids", d.get("progif_name") == "NVM Express" and
              d.get("class_name") == "Mass storage controller", f"{d.get('class_name')} / "
              f"{d.get('progif_name')}")
    rc, out, err = e.cli("list")
    check("list/human", rc == 0 and "nvme0  " in out and "BAR0         32 KiB" in out and
          "DMA budget   64 MiB, 1000 mappings" in out and "MSI-X 4" in out, out[:600])
    # A socket that nobody serves: listed with its error, exit status 1.
    dead = os.path.join(e.dir, "dead.sock")
    import socket as so
    s = so.socket(so.AF_UNIX, so.SOCK_SEQPACKET)
    s.bind(dead)
    s.close()
    rc, out, err = e.cli("list")
    check("list/dead-socket-reported", rc == 1 and "dead  " in out and "error" in out,
          f"rc {rc}: {out[-300:]!r}")
    os.unlink(dead)
    rc, out, err = e.cli("list", "--socket", os.path.join(e.dir, "nvme1.sock"), "--json")
    names = [d["name"] for d in json.loads(out)["devices"]] if rc == 0 else None
    check("list/socket-option", names == ["nvme1"], f"rc {rc} {names} {err}")


def test_selftest(e):
    for name, (_, _, budget, maps, vectors) in SIMS.items():
        rc, j, err = e.json("selftest", name, "--json", "--samples", "300")
        if not check(f"selftest/{name}/passes", rc == 0 and j and j["passed"],
                     f"rc {rc}: {j and [s for s in j['steps'] if s['result'] == 'fail']} {err[-300:]}"):
            continue
        b = j["dma_budget"]
        check(f"selftest/{name}/finds-byte-budget", b["bytes_exact"] and b["bytes"] == budget,
              f"found {b['bytes']} (exact {b['bytes_exact']}), simulator --dart-budget {budget}")
        check(f"selftest/{name}/finds-mapping-limit", b["mappings_exact"] and
              b["mappings"] == maps, f"found {b['mappings']} (exact {b['mappings_exact']}), "
              f"simulator --dart-max-mappings {maps}")
        check(f"selftest/{name}/gauges-zero-after", b["gauges_zero_after"], f"{b}")
        irq = j["interrupts"]
        check(f"selftest/{name}/interrupts", irq["type"] == "msix" and irq["vectors"] == vectors
              and irq["loopback"] and "NVMe Identify" in (irq["loopback_what"] or ""), f"{irq}")
        bar = j["bars"][0]
        # NVMe CAP's low word: MQES (queue entries - 1) in bits 0..15, CQR bit 16.
        check(f"selftest/{name}/bar0-read", bar["mapped"] and bar["size"] == 32768 and
              bar["map_value"] == bar["mmio_value"] and bar["mmio_value"] & 0x10000,
              f"{bar}")
        check(f"selftest/{name}/config", j["config"]["vendor_id"] == 0x7a7a and
              j["config"]["bytes_read"] == 4096 and j["config"]["capabilities"] == 3,
              f"{j['config']}")
        lat = j["latency"]
        check(f"selftest/{name}/latency", all(lat[k]["samples"] == 300 and
                                              0 < lat[k]["min_ns"] <= lat[k]["median_ns"] <=
                                              lat[k]["p99_ns"] <= lat[k]["max_ns"]
                                              for k in ("config_read", "dma_map", "dma_unmap")),
              f"{lat}")
        if name == "nvme1":
            check("selftest/nvme1/fragmented-maps-seen", b["max_segments_seen"] == 3,
                  f"max segments {b['max_segments_seen']} with --dart-fragment 3")
        print(f"    selftest {name}: budget {b['bytes']} bytes / {b['mappings']} mappings in "
              f"{b['map_calls']} maps; config read median {lat['config_read']['median_ns']} ns, "
              f"map {lat['dma_map']['median_ns']} ns, unmap {lat['dma_unmap']['median_ns']} ns, "
              f"p99 {lat['dma_map']['p99_ns']} ns")
    rc, out, err = e.cli("selftest", "nvme0", "--samples", "50")
    check("selftest/human-report", rc == 0 and "pass dma-budget  64 MiB (67108864 bytes) and "
          "1000 mappings" in out and "Result: PASSED" in out and "p99" in out, out[-800:])
    rc, out, err = e.cli("selftest", "nosuch")
    check("selftest/unknown-device", rc == 1 and "no device named 'nosuch'" in err, err)


def test_status(e):
    # After the selftests: nothing mapped now, the peak is the budget.
    rc, j, err = e.json("status", "nvme0", "--json")
    if check("status/json", rc == 0 and j, f"rc {rc} {err}"):
        d = j["devices"][0]
        check("status/after-selftest", d["dart"]["mapped_bytes"] == 0 and
              d["dart"]["mappings"] == 0 and d["dart"]["peak_mapped_bytes"] == 64 * MiB and
              d["dart"]["peak_mappings"] == 1000 and d["dart"]["faults"] == 0 and
              d["session"]["open"] is False, f"{d['dart']} {d['session']}")
        c = d["counters"]
        check("status/counters", c["sessions_opened"] == 2 and c["sessions_closed"] == 2 and
              c["dma_fail_budget_bytes"] >= 1 and c["dma_fail_budget_maps"] >= 1 and
              c["irq_received"] >= 2 and c["calls"]["DMA_MAP"] > 2000, f"{c}")
        check("status/no-vm", d["qemu"] is None and "no QMP socket" in d["qemu_note"],
              f"{d.get('qemu')} {d.get('qemu_note')}")
    # A long selftest holds the session: status names its pid; a second
    # selftest and `run` are refused, saying who holds it.
    p = subprocess.Popen([CLI, "selftest", "nvme1", "--no-budget", "--samples", "1000000",
                          "-q"], env=e.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            rc, j, err = e.json("status", "nvme1", "--json")
            if j and j["devices"][0].get("session", {}).get("open"):
                break
            time.sleep(0.05)
        s = j["devices"][0]["session"] if j else {}
        check("status/session-owner", s.get("open") and s.get("owner_pid") == p.pid and
              (s.get("owner_name") or "").startswith("vfio-apple"), f"{s} (holder pid {p.pid})")
        rc, out, err = e.cli("selftest", "nvme1", "--no-budget")
        check("selftest/busy-refused", rc == 1 and "another client" in out, out[-400:])
        rc, out, err = e.cli("run", "nvme1", "--kernel", "/nonexistent", "--print")
        check("run/busy-refused", rc == 1 and f"pid {p.pid}" in err and "in use" in err, err)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    time.sleep(0.2)
    rc, j, err = e.json("status", "nvme1", "--json")
    c = j["devices"][0]["counters"] if j else {}
    check("status/dead-client-counted", c.get("sessions_client_died") == 1 and
          not j["devices"][0]["session"]["open"], f"{c.get('sessions_client_died')}")
    rc, out, err = e.cli("status", "--watch", "--count", "2", "--interval", "1")
    check("status/watch-count", rc == 0 and out.count("nvme0  ") == 2 and
          out.count("nvme1  ") == 2 and "DART " in out, out[:300])
    rc, out, err = e.cli("status", "nvme0")
    check("status/human", rc == 0 and "session      free" in out and
          "peak 64 MiB in 1000" in out and "faults       0 DART faults" in out, out)


def fake_qmp(path, reply):
    """A QEMU stand-in on @path: greeting, capabilities, an event, then
    @reply for x-query-vfio-apple; one connection at a time."""
    import socket as so
    import threading
    srv = so.socket(so.AF_UNIX, so.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            f = c.makefile("rw")
            f.write('{"QMP": {"version": {}, "capabilities": []}}\n')
            f.flush()
            for line in f:
                cmd = json.loads(line)["execute"]
                if cmd == "qmp_capabilities":
                    f.write('{"return": {}}\n')
                else:
                    f.write('{"event": "RESUME", "timestamp": {"seconds": 1}}\n')
                    f.write(json.dumps({"return": reply} if cmd == "x-query-vfio-apple" else
                                       {"error": {"desc": "no"}}) + "\n")
                f.flush()
            c.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_status_qemu_view(e):
    """QEMU's view through QMP (a stand-in that answers like QEMU does)."""
    qmp = os.path.join(e.dir, "nvme0.qmp")
    dev = {"qom-path": "/machine/peripheral/vfa0", "id": "vfa0",
           "dext": os.path.join(e.dir, "nvme0.sock"), "dext-calls": 35,
           "dext-calls-realize": 13, "dext-timeouts": 0, "dext-wait-max-ns": 91000,
           "lost": False, "unresponsive": False, "dma-mode": "window", "interrupts": 7,
           "notifications": 6, "config-cache-hits": 40, "window-size": 32 * MiB,
           "window": [{"gpa": 1 << 30, "iova": 1 << 35, "size": 32 * MiB}],
           "padding": "x" * 300000}    # longer than one read: the reply must outlive it
    other = dict(dev, id="other", dext="/elsewhere.sock")
    srv = fake_qmp(qmp, [other, dev])
    try:
        rc, j, err = e.json("status", "nvme0", "--json")
        q = (j["devices"][0].get("qemu") or {}) if j else {}
        check("status/qemu-view-json", rc == 0 and q.get("qmp") == qmp and
              (q.get("device") or {}).get("id") == "vfa0" and
              q["device"]["window"][0]["iova"] == 1 << 35 and
              len(q["device"]["padding"]) == 300000, f"rc {rc} {err[-300:]} {str(q)[:300]}")
        rc, out, err = e.cli("status", "nvme0")
        check("status/qemu-view-human", rc == 0 and "device vfa0 (" + qmp + "): 35 dext calls "
              "(13 setting up), 0 timed out, longest wait 91 us" in out and
              "window GPA 0x40000000 -> IOVA 0x800000000 (32 MiB)" in out, out[-600:])
    finally:
        srv.close()
        os.unlink(qmp)


def arg(argv, opt, nth=0):
    idx = [i for i, a in enumerate(argv) if a == opt]
    return argv[idx[nth] + 1] if len(idx) > nth else None


def test_run_print(e):
    import shlex
    rc, out, err = e.cli("run", "nvme0", "--kernel", "/k/Image", "--mem", "32M", "--print",
                         "--qemu", "/q/qemu", "--", "-S")
    if check("run/print", rc == 0, f"rc {rc} {err}"):
        argv = shlex.split(out)
        dev = json.loads(arg(argv, "-device", 1))
        check("run/print/window-all-ram", dev["window-size"] == 32 * MiB and
              dev["dma-mode"] == "window" and "fits the DMA budget (64 MiB)" in err,
              f"{dev} {err}")
        check("run/print/socket", dev["socket"]["path"] == os.path.join(e.dir, "nvme0.sock"),
              f"{dev}")
        check("run/print/memfd", arg(argv, "-object") ==
              f"memory-backend-memfd,id=vfa-ram,size={32 * MiB},share=on" and
              "memory-backend=vfa-ram" in arg(argv, "-machine"), out)
        check("run/print/qmp-beside-socket", arg(argv, "-qmp") ==
              f"unix:{os.path.join(e.dir, 'nvme0.qmp')},server=on,wait=off", out)
        check("run/print/extra-args-last", argv[0] == "/q/qemu" and argv[-1] == "-S", out)
    rc, out, err = e.cli("run", "nvme0", "--kernel", "/k/Image", "--mem", "128M", "--print")
    if check("run/auto-picks-companion", rc == 0 and "larger than the DMA budget (64 MiB)" in err,
             f"rc {rc} {err}"):
        argv = shlex.split(out)
        dev = json.loads(arg(argv, "-device", 1))
        adma = json.loads(arg(argv, "-device", 2))
        check("run/companion-device", dev["dma-mode"] == "companion" and
              dev["window-size"] == 16 * MiB and adma["driver"] == "apple-dma-pci" and
              adma["device"] == dev["id"] and adma["bus"] == dev["bus"] and
              "vfio-apple=on" not in arg(argv, "-machine"), f"{dev} {adma} {out}")
    rc, out, err = e.cli("run", "nvme0", "--kernel", "/k/Image", "--mem", "32M", "--mode",
                         "companion", "--print")
    check("run/companion-asked", rc == 0 and "companion mode asked for" in err and
          "apple-dma-pci" in out, err)
    rc, out, err = e.cli("run", "nvme0", "--kernel", "/k/Image", "--mem", "2G", "--mode",
                         "window", "--print")
    check("run/window-impossible", rc == 1 and "no smaller window fits" in err, err)
    # --sim: the simulator is started (its budget decides), printed, stopped.
    rc, out, err = e.cli("run", "simx", "--sim", "nvme,size=64M", "--sim-opt=--dart-budget=4G",
                         "--kernel", "/k/Image", "--mem", "6G", "--mode", "window", "--print")
    lines = out.splitlines()
    if check("run/print-sim", rc == 0 and len(lines) == 2, f"rc {rc} {out!r} {err}"):
        sim = shlex.split(lines[0])
        q = shlex.split(lines[1])
        dev = json.loads(arg(q, "-device", 1))
        check("run/print-sim/sim-line", sim[-1] == "&" and sim[1:5] == [
            "--socket", os.path.join(e.dir, "simx.sock"), "--device", "nvme,size=64M"] and
            "--dart-budget=4G" in sim, lines[0])
        check("run/print-sim/bounce-window", dev["window-size"] == 3 << 30 and
              "first 3 GiB" in err and "bounces" in err, f"{dev} {err}")
    check("run/print-sim/stopped", not os.path.exists(os.path.join(e.dir, "simx.sock")),
          "the simulator's socket is still there")
    rc, out, err = e.cli("run", "nvme0", "--print")
    check("run/needs-kernel", rc == 2 and "--kernel IMAGE is required" in err, err)


def main():
    for b in (CLI, SIM):
        if not os.access(b, os.X_OK):
            check("setup", False, f"{b} missing (run make all)")
            return 1
    e = Env()
    try:
        for name, (dev, flags, *_rest) in SIMS.items():
            e.sim(name, dev, *flags)
        test_help(e)
        test_list(e)
        test_selftest(e)
        test_status(e)
        test_status_qemu_view(e)
        test_run_print(e)
    except Exception as ex:     # a broken test is a failed test
        check("ran", False, f"{type(ex).__name__}: {ex}")
    finally:
        e.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
