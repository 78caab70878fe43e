#!/usr/bin/env python3
"""The main job (README: `make demo`): run the stack and say what happened.

Today the stack is the build platform: our QEMU boots the arm64 guest under
TCG and the stock nvme driver does verified O_DIRECT I/O on QEMU's emulated
NVMe.  When the simulator and vfio-apple-pci land, the demo moves onto them.
Prints a summary and writes the same as JSON to build/demo-report.json.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import harness  # noqa: E402


def main():
    report = {"demo": "smoke-nvme (emulated NVMe; passthrough not yet wired)"}
    run = harness.Run("demo")
    t0 = time.time()
    try:
        disk = os.path.join(run.workdir, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(128 << 20)
        initrd = run.initramfs("nvme-io.sh", modules=["nvme"])
        plat = harness.platform()
        rc = run.boot(initrd, qemu_args=["-drive", f"if=none,id=d0,file={disk},format=raw",
                                         "-device", "nvme,drive=d0,serial=demo0"], timeout=300)
    finally:
        run.kill_all()
    wall = time.time() - t0
    failed = [c for c in run.checks if not c.ok]
    notes = run.notes
    mib = int(notes.get("bytes_verified", 0)) / (1 << 20)
    wms, rms = int(notes.get("write_ms", 0)), int(notes.get("read_ms", 0))
    report.update({
        "qemu": plat["QEMU"], "guest_kernel": plat["GUEST_KVER"],
        "checks_passed": len(run.checks) - len(failed), "checks_failed": len(failed),
        "failed": [repr(c) for c in failed],
        "bytes_verified": int(notes.get("bytes_verified", 0)),
        "write_MiB_per_s": round(mib / (wms / 1000), 1) if wms else None,
        "read_MiB_per_s": round(mib / (rms / 1000), 1) if rms else None,
        "wall_seconds": round(wall, 1), "console_log": run.console_log,
        "guest_exit": rc,
    })
    out = os.path.join(harness.TOP, "build", "demo-report.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    run.cleanup()

    ok = not failed
    print()
    print("vfio-apple demo")
    print("===============")
    print(f"  QEMU            {plat['QEMU']}")
    print(f"  guest kernel    {plat['GUEST_KVER']} (arm64, TCG)")
    print(f"  workload        stock nvme driver, {mib:.0f} MiB random data, O_DIRECT write + read back")
    print(f"  verified        {report['bytes_verified']} bytes, sha256 equal: "
          f"{'yes' if ok else 'NO'}")
    print(f"  throughput      write {report['write_MiB_per_s']} MiB/s, read {report['read_MiB_per_s']} MiB/s (TCG)")
    print(f"  checks          {report['checks_passed']} passed, {report['checks_failed']} failed")
    for c in failed:
        print(f"    FAILED {c!r}")
    print(f"  wall time       {report['wall_seconds']} s")
    print(f"  console log     {run.console_log}")
    print(f"  report (JSON)   {out}")
    print(f"  result          {'SUCCESS' if ok else 'FAILURE'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
