#!/usr/bin/env python3
"""The main job (README: `make demo`): the whole stack on the simulator.

vfio-apple-sim plays the Apple dext with a DART model and an NVMe
controller; `vfio-apple run` (the product's entry point) builds our QEMU's
command line and boots the arm64 guest under TCG with vfio-apple-pci in DMA
window mode; the guest's stock nvme driver writes 256 MiB of random data
with O_DIRECT and reads it back, sha256 compared.  `vfio-apple status`
samples the device (session owner, DART, interrupts, QEMU's view) at the
guest's sync points and after QEMU exits.  Prints a summary and writes the
same as JSON to build/demo-report.json.
"""
import json
import os
import shlex
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import cli_boot  # noqa: E402
import harness  # noqa: E402
import passthrough as pt  # noqa: E402

MEM = 768 * pt.MiB
MB = 256
DEVICE = "demo0"


def scenario(run, name, text):
    path = os.path.join(run.workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    run = harness.Run("demo")
    samples = {}
    t0 = time.time()
    try:
        # The simulator serves DEVICE from the run's socket directory, where
        # `vfio-apple run` and `status` find it by name; started here (not
        # with run --sim) so that it outlives QEMU and shows what was left.
        sim = pt.start_sim(run, name=DEVICE, disk_size="1G")

        def on_line(run_, line):
            for phase in ("probe-done", "io-done"):
                if line.endswith(f"VFIOAPPLE-SYNC {phase}"):
                    samples[phase] = pt.sim_stats(sim)
                    try:
                        samples[phase + "-status"] = cli_boot.status(run_, DEVICE)
                    except Exception as e:
                        samples[phase + "-status-error"] = str(e)

        initrd = run.initramfs(
            ["pt-device.sh", scenario(run, "probe.sh", "SYNC=probe-done\n"), "demo-sync.sh",
             "nvme-io.sh", "pt-msix.sh", scenario(run, "io.sh", "SYNC=io-done\n"), "demo-sync.sh"],
            modules=["nvme"], params={"MB": MB})
        plat = harness.platform()
        argv = cli_boot.run_args(run, DEVICE, initrd, f"{MEM >> 20}M")
        rc = cli_boot.boot(run, argv, on_line=on_line, timeout=900, tag="demo")
        final = pt.sim_stats(sim)
        final_status = cli_boot.status(run, DEVICE)
    finally:
        run.kill_all()
    wall = time.time() - t0

    failed = [c for c in run.checks if not c.ok]
    notes = run.notes
    probe, io = samples.get("probe-done"), samples.get("io-done")
    io_status = samples.get("io-done-status")
    if probe is None or io is None or io_status is None:
        failed.append(harness.Check("counters-sampled", False, "the guest never reached its sync "
                                    "points: " + str(samples.get("io-done-status-error", ""))))
    qemu_view = ((io_status or {}).get("qemu") or {}).get("device") or {}
    window = qemu_view.get("window-size", 0)
    report = {
        "demo": "NVMe passthrough on vfio-apple-sim, vfio-apple-pci in DMA window mode",
        "entry_point": " ".join(argv[:3] + ["..."]),
        "qemu": plat["QEMU"], "guest_kernel": plat["GUEST_KVER"],
        "guest_ram_bytes": MEM, "window_bytes": window,
        "window": (f"{window >> 20} MiB" + (" (all of guest RAM)" if window == MEM else ""))
        if window else None,
        "checks_passed": len(run.checks) - len([c for c in run.checks if not c.ok]),
        "checks_failed": len(failed), "failed": [repr(c) for c in failed],
        "bytes_verified": int(notes.get("bytes_verified", 0)),
        "msix_vectors_used": int(notes.get("msix_vectors_used", 0)),
        "wall_seconds": round(wall, 1), "console_log": run.console_log, "guest_exit": run.guest_rc,
    }
    wms, rms = int(notes.get("write_ms", 0)), int(notes.get("read_ms", 0))
    report["write_MiB_per_s"] = round(MB / (wms / 1000), 1) if wms else None
    report["read_MiB_per_s"] = round(MB / (rms / 1000), 1) if rms else None
    if probe and io:
        pc, ic = probe["core"], io["core"]
        pd, idv = probe["device"], io["device"]
        ios = (idv["cmds_read"] + idv["cmds_write"]) - (pd["cmds_read"] + pd["cmds_write"])
        # Counted by the simulator, by selector and transport message.
        probe_calls, probe_by = pt.sim_dext_calls(probe)
        # During the I/O, QEMU's own count: the simulator's would include
        # the calls `vfio-apple status` made at the probe's sync point.
        qp = ((samples.get("probe-done-status") or {}).get("qemu") or {}).get("device") or {}
        calls_io = (qemu_view["dext-calls"] - qp["dext-calls"]) if qp and qemu_view else None
        # The simulator also served `vfio-apple run`'s identity check before
        # QEMU started: QEMU's own count says which calls were QEMU's.
        qemu_probe = qp.get("dext-calls") if qp else None
        report.update({
            "dext_calls_probe": qemu_probe,
            "dext_calls_probe_sim": probe_calls,
            "dext_calls_vfio_apple_run": probe_calls - qemu_probe if qemu_probe is not None
            else None,
            "dext_calls_probe_by_method": probe_by,
            "nvme_io_commands": ios,
            "dext_calls_during_io": calls_io,
            "dext_calls_per_io": round(calls_io / ios, 4) if ios and calls_io is not None
            else None,
            "device_interrupts": idv["interrupts"] - pd["interrupts"],
            "dext_notifications": ic["notifications"] - pc["notifications"],
            "dart_faults": io["dart"]["faults"],
            "dart_peak_mapped_bytes": io["dart"]["peak_mapped_bytes"],
            "dart_peak_live_mappings": io["dart"]["peak_live_mappings"],
            "dart_bytes_moved": io["dart"]["bytes_read"] + io["dart"]["bytes_written"],
        })
        if report["dart_faults"]:
            failed.append(harness.Check("zero-dart-faults", False, f"{report['dart_faults']} faults"))
    if qemu_view:
        report["qemu_view"] = [qemu_view]
    if io_status:
        report["status_during_io"] = {k: io_status[k] for k in ("session", "dart", "interrupts")}
        if not (io_status["session"]["owner_name"] or "").startswith("qemu-system"):
            failed.append(harness.Check("status-names-qemu", False, f"{io_status['session']}"))
    if rc != 0:
        failed.append(harness.Check("vfio-apple-run-exit-0", False, f"vfio-apple run exited {rc}"))
    report["dart_live_mappings_after_exit"] = final["dart"]["live_mappings"]
    report["status_after_exit"] = {k: final_status[k] for k in ("session", "dart")}
    report["checks_failed"] = len(failed)
    out = os.path.join(harness.TOP, "build", "demo-report.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    run.cleanup()

    ok = not failed
    r = report
    print()
    print("vfio-apple demo: NVMe passthrough on the Linux simulator")
    print("========================================================")
    print(f"  host side       vfio-apple-sim (dext core + DART model + NVMe model)")
    print(f"  QEMU            {plat['QEMU']}")
    print(f"  entry point     {shlex.join(argv[:3])} --mem {MEM >> 20}M --kernel ... "
          f"(full command: {os.path.join(run.logdir, 'demo-cmdline.txt')})")
    print(f"  guest           Linux {plat['GUEST_KVER']} (arm64, TCG), {MEM >> 20} MiB RAM, "
          f"vfio-apple-pci, DMA window {r['window']}")
    print(f"  workload        stock nvme driver, {MB} MiB random data, O_DIRECT write + read back")
    print(f"  verified        {r['bytes_verified']} bytes, sha256 equal: "
          f"{'yes' if ok and r['bytes_verified'] else 'NO'}")
    print(f"  throughput      write {r['write_MiB_per_s']} MiB/s, read {r['read_MiB_per_s']} MiB/s "
          f"(guest under TCG)")
    if "dext_calls_probe" in r:
        print(f"  dext calls      {r['dext_calls_probe']} for QEMU setup + guest probe (QEMU's count; "
              f"the simulator served {r['dext_calls_probe_sim']}, {r['dext_calls_vfio_apple_run']} "
              f"of them vfio-apple run's identity check); {r['dext_calls_during_io']} during "
              f"{r['nvme_io_commands']} NVMe I/Os ({r['dext_calls_per_io']} per I/O)")
        print(f"                  served: " + " ".join(f"{k}={v}" for k, v in
                                              r["dext_calls_probe_by_method"].items()))
        q = (r.get("qemu_view") or [{}])[0]
        st = r.get("status_during_io")
        if st:
            print(f"  vfio-apple status  during I/O: session held by pid {st['session']['owner_pid']} "
                  f"({st['session']['owner_name']}), DART {st['dart']['mapped_bytes'] >> 20} MiB in "
                  f"{st['dart']['mappings']} mapping(s); after exit: session "
                  f"{'open' if r['status_after_exit']['session']['open'] else 'free'}, "
                  f"{r['status_after_exit']['dart']['mappings']} mapping(s)")
        if q:
            w = q["window"][0]
            print(f"  QEMU's view     {q['dext-calls']} dext requests in all (incl. socket-transport "
                  f"memory messages), {q['config-cache-hits']} config reads from its cache; "
                  f"window GPA {w['gpa']:#x} -> IOVA {w['iova']:#x}, {w['size'] >> 20} MiB")
        print(f"  interrupts      {r['device_interrupts']} from the device, "
              f"{r['dext_notifications']} notifications, {r['msix_vectors_used']} MSI-X vectors used")
        print(f"  DART            peak {r['dart_peak_mapped_bytes'] >> 20} MiB in "
              f"{r['dart_peak_live_mappings']} mapping(s), {r['dart_bytes_moved'] >> 20} MiB moved, "
              f"{r['dart_faults']} faults, {r['dart_live_mappings_after_exit']} left after exit")
    print(f"  checks          {r['checks_passed']} passed, {r['checks_failed']} failed")
    for c in failed:
        print(f"    FAILED {c!r}")
    print(f"  wall time       {r['wall_seconds']} s")
    print(f"  console log     {run.console_log}")
    print(f"  report (JSON)   {out}")
    print(f"  result          {'SUCCESS' if ok else 'FAILURE'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
