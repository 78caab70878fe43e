#!/usr/bin/env python3
"""make bench-companion: window mode vs companion mode vs the RFC's
synchronous design (sync-baseline), one run, the same guest (6.1, 1 GiB of
RAM, 2 vCPUs) and the same fio workloads on the simulator's NVMe:
4 KiB random read at QD1 and QD32, 128 KiB sequential read, 4 KiB random
write at QD32 (BENCH_RUNTIME seconds each, default 5).

Each mode boots its own guest, so the modes run one after another, and
under TCG on a shared 2-core machine the host's speed drifts between boots
by more than the differences being measured (one run of this benchmark
once put companion mode at 1.43 of window mode).  So it runs BENCH_ROUNDS
rounds (default 3), every round one boot of each mode, the order rotated
each round so that no mode always goes first; a mode's ratio to window
mode is taken within each round (boots minutes apart) and the median of
those is reported, with their spread.  IOPS are the median over rounds;
the per-I/O counts are totals over all rounds.

Printed per mode and workload: IOPS and MiB/s, doorbell writes (VM exits)
per I/O, ring entries per doorbell, host DART maps and unmaps per I/O, the
guest's hit rate (window and table), and IOPS relative to window mode.
Written to build/bench-companion.json and, with python3-matplotlib
(installed from Debian when missing and we are root), build/bench-companion.png.

A benchmark, not a test: it prints what it measured and asserts nothing
(the issue's targets are printed next to the numbers).  Under TCG the
absolute figures say little; the counts and ratios are the point.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_companion as comp  # noqa: E402

MEM = 1 * pt.GiB
RUNTIME = int(os.environ.get("BENCH_RUNTIME", "5"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
WORKLOADS = ["randread-4k-qd1", "randread-4k-qd32", "seqread-128k", "randwrite-4k-qd32"]
MODES = ["window", "companion", "sync-baseline"]
OUT_JSON = os.path.join(harness.TOP, "build", "bench-companion.json")
OUT_PNG = os.path.join(harness.TOP, "build", "bench-companion.png")


def mode_args(mode, sim):
    if mode == "window":
        return pt.qemu_args(sim, MEM, window="1G")
    props = {"sync-baseline": True} if mode == "sync-baseline" else None
    return comp.companion_args(sim, mem=MEM, window=64 * pt.MiB, companion=props)


def counters(run, sim):
    info = run.qmp("x-query-vfio-apple")[0]
    c = info.get("companion") or {}
    d = pt.sim_stats(sim)["dart"]
    return {"doorbells": c.get("doorbells", 0), "entries": c.get("entries", 0),
            "guest_hits": c.get("guest-hits", 0), "guest_misses": c.get("guest-misses", 0),
            "dart_maps": d["maps"], "dart_unmaps": d["unmaps"]}


def run_mode(run, mode, ko, rnd):
    tag = f"{mode}-{rnd}"
    sim = pt.start_sim(run, name=f"sim-{tag}", disk_size="1G")
    samples, jsons, cur = {}, {}, {}

    def on_line(run_, line):
        if "VFIOAPPLE-SYNC bench-start-" in line:
            samples[("start", line.rsplit("-start-", 1)[1])] = counters(run_, sim)
        elif "VFIOAPPLE-SYNC bench-end-" in line:
            samples[("end", line.rsplit("-end-", 1)[1])] = counters(run_, sim)
        elif line.startswith("BENCH-JSON-BEGIN "):
            cur["name"], cur["lines"] = line.split()[1], []
        elif line.startswith("BENCH-JSON-END ") and "name" in cur:
            jsons[cur.pop("name")] = "\n".join(cur.pop("lines"))
        elif "name" in cur:
            cur["lines"].append(line)

    mods, kos = (["nvme"], []) if mode == "window" else (["apple_dma", "nvme"], [ko])
    initrd = run.initramfs(["bench.sh"], modules=mods, ko=kos, kernel="bookworm", fio=True,
                           params={"BENCH_RUNTIME": RUNTIME})
    run.boot(initrd, mem=f"{MEM >> 20}M", timeout=900, on_line=on_line, qmp=True, tag=tag,
             qemu_args=mode_args(mode, sim))
    out = {}
    for w in WORKLOADS:
        a, b = samples.get(("start", w)), samples.get(("end", w))
        try:
            job = json.loads(jsons[w])["jobs"][0]
        except (KeyError, ValueError, IndexError):
            print(f"{mode}/{w}: no fio result", file=sys.stderr)
            continue
        ios = job["read"]["total_ios"] + job["write"]["total_ios"]
        iops = job["read"]["iops"] + job["write"]["iops"]
        mibs = (job["read"]["bw_bytes"] + job["write"]["bw_bytes"]) / (1 << 20)
        d = {k: b[k] - a[k] for k in a} if a and b else {}
        maps = d.get("guest_hits", 0) + d.get("guest_misses", 0)
        out[w] = {"ios": ios, "iops": iops, "mib_s": mibs, "maps": maps, "counters": d}
    return out


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return None if not n else xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def aggregate(rounds):
    """rounds: [{mode: {workload: one boot's result}}].  Per mode and
    workload: median IOPS and MiB/s, the ratio to window mode within each
    round (its median, min and max), and per-I/O counts over all rounds."""
    res = {}
    for mode in MODES:
        res[mode] = {}
        for w in WORKLOADS:
            got = [(r[mode][w], r["window"].get(w)) for r in rounds if w in r.get(mode, {})]
            if not got:
                continue
            ratios = [x["iops"] / base["iops"] for x, base in got if base and base["iops"]]
            ios = sum(x["ios"] for x, _ in got)
            c = {}
            for x, _ in got:
                for k, v in x["counters"].items():
                    c[k] = c.get(k, 0) + v
            maps = sum(x["maps"] for x, _ in got)
            res[mode][w] = {
                "rounds": len(got), "ios": ios,
                "iops": median([x["iops"] for x, _ in got]),
                "mib_s": median([x["mib_s"] for x, _ in got]),
                "iops_per_round": [x["iops"] for x, _ in got],
                "ratio_to_window": median(ratios),
                "ratio_min": min(ratios) if ratios else None,
                "ratio_max": max(ratios) if ratios else None,
                "ratio_per_round": ratios,
                "doorbells_per_io": c.get("doorbells", 0) / ios if ios and c else None,
                "entries_per_doorbell": c["entries"] / c["doorbells"] if c.get("doorbells") else None,
                "dart_maps_per_io": c.get("dart_maps", 0) / ios if ios and c else None,
                "dart_unmaps_per_io": c.get("dart_unmaps", 0) / ios if ios and c else None,
                "hit_rate": c["guest_hits"] / maps if maps else None,
                "counters": c,
            }
    return res


def fmt(v, f="{:.3f}"):
    return "-" if v is None else f.format(v)


def plot(results):
    try:
        import matplotlib
    except ImportError:
        if os.geteuid() == 0:
            subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                            "python3-matplotlib"], stdout=subprocess.DEVNULL)
        import importlib
        importlib.invalidate_caches()   # the package appeared under a path already scanned
        try:
            import matplotlib
        except ImportError:
            print("note: python3-matplotlib not installed; no PNG (apt-get install python3-matplotlib)")
            return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.27
    for i, mode in enumerate(MODES):
        xs = [j + (i - 1) * width for j in range(len(WORKLOADS))]
        axes[0].bar(xs, [results[mode].get(w, {}).get("iops", 0) for w in WORKLOADS], width,
                    label=mode)
        axes[1].bar(xs, [results[mode].get(w, {}).get("doorbells_per_io") or 0 for w in WORKLOADS],
                    width, label=mode)
    for ax, title in zip(axes, ["IOPS (TCG guest)", "doorbells (VM exits) per I/O"]):
        ax.set_xticks(range(len(WORKLOADS)))
        ax.set_xticklabels(WORKLOADS, rotation=15, fontsize=8)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT_PNG, dpi=100)
    return OUT_PNG


def body(run):
    ko = comp.apple_dma_ko("bookworm")
    rounds = []
    for rnd in range(ROUNDS):
        order = MODES[rnd % len(MODES):] + MODES[:rnd % len(MODES)]
        print(f"round {rnd + 1} of {ROUNDS}: {', '.join(order)}", flush=True)
        rounds.append({m: run_mode(run, m, ko, rnd + 1) for m in order})
    results = aggregate(rounds)
    print(f"\nvfio-apple companion benchmark: 6.1 guest, 1 GiB RAM, 2 vCPUs, {RUNTIME} s per "
          f"workload, {ROUNDS} rounds, TCG (targets: companion at QD32 <= 0.1 doorbells per "
          "I/O and >= 0.9 of window IOPS)")
    print("IOPS, MiB/s: median over rounds; xwindow: median of the rounds' ratios "
          "[min-max]; per-I/O counts: all rounds")
    hdr = (f"{'mode':14} {'workload':18} {'IOPS':>9} {'MiB/s':>8} {'xwindow':>8} {'[min-max]':>11} "
           f"{'exits/IO':>9} {'entries/exit':>12} {'maps/IO':>8} {'unmaps/IO':>9} {'hit rate':>8}")
    print(hdr)
    print("-" * len(hdr))
    for mode in MODES:
        for w in WORKLOADS:
            r = results[mode].get(w)
            if not r:
                print(f"{mode:14} {w:18} (no result)")
                continue
            spread = (f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}"
                      if r["ratio_min"] is not None else "-")
            print(f"{mode:14} {w:18} {r['iops']:9.0f} {r['mib_s']:8.1f} "
                  f"{fmt(r['ratio_to_window'], '{:.2f}'):>8} {spread:>11} "
                  f"{fmt(r['doorbells_per_io']):>9} "
                  f"{fmt(r['entries_per_doorbell'], '{:.1f}'):>12} {fmt(r['dart_maps_per_io']):>8} "
                  f"{fmt(r['dart_unmaps_per_io']):>9} {fmt(r['hit_rate']):>8}")
    os.makedirs(os.path.dirname(OUT_JSON), exist_ok=True)
    with open(OUT_JSON, "w") as f:
        json.dump({"guest": "Debian 6.1 arm64, 1 GiB, 2 vCPUs, TCG", "runtime_s": RUNTIME,
                   "rounds": ROUNDS, "results": results, "per_round": rounds}, f, indent=1)
    print(f"\nJSON: {OUT_JSON}")
    png = plot(results)
    if png:
        print(f"PNG:  {png}")


if __name__ == "__main__":
    harness.main("bench-companion", body)
