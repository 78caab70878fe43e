#!/usr/bin/env python3
"""A hostile guest on the companion (6.1): a guest test tool,
tests/modules/adma_hostile, takes apple-dma-pci and sets its rings up in
MMIO, beyond RAM and unaligned, then submits malformed entries (GPAs below
and beyond RAM, a BAR, across the end of RAM, overflowing, huge and zero
lengths, bad directions, flags and opcodes, unknown and stale handles) and
a submission tail far beyond the ring.  The guest scenario checks that each
completes with the status the ABI names; here the host side: QEMU and the
simulator keep running, no DART mapping was made for any bad entry (the
simulator's counters, sampled before and after), nothing but guest RAM was
ever registered with the simulator, and after the tool is removed apple_dma
takes the companion and the stock nvme driver does verified I/O in the
same VM."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_companion as comp  # noqa: E402

KERNEL = "bookworm"
MEM = pt.GiB
WINDOW = 64 * pt.MiB
# The scenario's own cases: 4 refused setups, 1 good one, 13 bad entries,
# 1 good map after them, the runaway tail, and a good setup and map after
# RESET (adma_hostile.c).
CASES = 22
BAD_ENTRIES = 13
NOT_RAM_ENTRIES = 5     # below and beyond RAM, a BAR, across the end, overflowing
GOOD_MAPS = 2


def companion_of(info):
    c = [d.get("companion") for d in info or [] if d.get("id") == "pt0"]
    return c[0] if c else None


def body(run):
    sim = pt.start_sim(run, name="sim-hostile")
    hko = comp.apple_dma_ko(KERNEL, os.path.join(harness.TOP, "tests", "modules", "adma_hostile"))
    ko = comp.apple_dma_ko(KERNEL)
    seen = {}

    def on_line(run_, line):
        for mark in ("hostile-before", "hostile-after", "hostile-removed"):
            if line.endswith(f"VFIOAPPLE-SYNC {mark}"):
                seen[mark] = (pt.sim_stats(sim), companion_of(run_.qmp("x-query-vfio-apple")))

    run.notes = {}
    # nvme binds at boot and cannot finish its probe (QEMU holds bus
    # mastering until a companion is enabled): 5 s admin timeout, not 60.
    initrd = run.initramfs(["companion-hostile.sh"], modules=["nvme"],
                           modargs={"nvme_core": "admin_timeout=5"},
                           add=[f"{hko}:/root/adma_hostile.ko", f"{ko}:/root/apple_dma.ko"],
                           kernel=KERNEL)
    run.boot(initrd, mem=f"{MEM >> 20}M", qmp=True, on_line=on_line, timeout=600,
             tag="hostile", qemu_args=comp.companion_args(sim, mem=MEM, window=WINDOW))

    cases = int(run.notes.get("hostile_cases") or 0)
    run.check("hostile-all-cases-ran", cases >= CASES, f"{cases} cases, want {CASES}")
    if not run.check("hostile-stats-taken", len(seen) == 3, f"taken at {sorted(seen)}"):
        return
    (s0, c0), (s1, c1), (s2, c2) = (seen[m] for m in
                                    ("hostile-before", "hostile-after", "hostile-removed"))
    if not run.check("hostile-qmp-companion", None not in (c0, c1, c2), "no companion in QMP"):
        return
    # QEMU counted what the guest saw: every bad entry failed and no good
    # one, the not-RAM ones counted apart (by the RAM check itself).
    errs, not_ram = c1["errors"] - c0["errors"], c1["errors-not-ram"] - c0["errors-not-ram"]
    entries = c1["entries"] - c0["entries"]
    print(f"hostile: {cases} cases; QEMU: {errs} entries failed ({not_ram} not RAM), "
          f"{entries} entries; simulator: "
          f"{s1['dart']['maps'] - s0['dart']['maps']} DART maps, "
          f"{s2['dart']['live_mappings']} live after removal")
    run.check("hostile-qemu-saw-every-entry", entries == BAD_ENTRIES + GOOD_MAPS,
              f"{entries} entries processed, {BAD_ENTRIES + GOOD_MAPS} submitted")
    run.check("hostile-qemu-counted-errors", errs == BAD_ENTRIES,
              f"{errs} entries failed, {BAD_ENTRIES} were bad")
    run.check("hostile-qemu-counted-not-ram", not_ram == NOT_RAM_ENTRIES,
              f"{not_ram} not-RAM refusals, {NOT_RAM_ENTRIES} entries were not RAM")
    # The simulator (the dext) never saw a bad entry: the good maps (outside
    # the window, so each a chunk map) reached it and nothing else did, and
    # it refused nothing.
    d0, d1 = s0["dart"], s1["dart"]
    run.check("hostile-sim-only-good-maps", 1 <= d1["maps"] - d0["maps"] <= GOOD_MAPS,
              f"{d1['maps'] - d0['maps']} DART maps during the hostile tool")
    run.check("hostile-sim-refused-nothing", d1["map_failures"] == d0["map_failures"],
              f"DART map failures {d0['map_failures']} -> {d1['map_failures']}")
    # Nothing but guest RAM was ever registered, so nothing else can be
    # mapped: no BAR, ROM or MMIO page reached the DART.
    for tag, s in (("after", s1), ("end", pt.sim_stats(sim))):
        p = s["platform"]
        run.check(f"hostile-sim-registered-only-ram-{tag}",
                  p["registered_regions"] <= 1 and p["registered_bytes"] <= MEM,
                  f"{p['registered_regions']} regions, {p['registered_bytes']:#x} bytes "
                  f"registered, guest RAM {MEM:#x}")
    # Removing the tool reset the companion: no chunk or span left (usage
    # back to the window's, as before the tool), and the simulator holds
    # the window alone.
    run.check("hostile-reset-released-chunks",
              not c2["enabled"] and c2["used-mappings"] == c0["used-mappings"]
              and c2["used-bytes"] == c0["used-bytes"],
              f"enabled {c2['enabled']}, {c2['used-mappings']} mappings "
              f"({c2['used-bytes']:#x} bytes) after removal, "
              f"{c0['used-mappings']} ({c0['used-bytes']:#x}) before")
    live = s2["dart"]["live_mappings"]
    run.check("hostile-sim-window-only-after-removal", live <= 1,
              f"{live} live DART mappings after the tool's removal")
    end = pt.sim_stats(sim)
    pt.check_dart_clean(run, end)


if __name__ == "__main__":
    harness.main("pt-companion-hostile", body)
