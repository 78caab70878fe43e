#!/usr/bin/env python3
"""Issue 8, test 5 in companion mode: the stock virtio_pci and virtio_net
(many small streaming maps per frame, long-lived receive buffers) through
apple_dma, in a guest with 2 GiB of RAM and a 64 MiB window, on 6.1 and
6.12.  test_pt_virtio_net.py's loop and checks (every frame back intact,
the simulator's counters equal to the guest interface's, zero DART faults),
plus the companion's: entries handled, no errors, a small fraction of a
doorbell per map (the guest counts maps at the interface note)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import passthrough as pt  # noqa: E402
import test_pt_companion as comp  # noqa: E402
import test_pt_virtio_net as vnet  # noqa: E402

MEM = 2 * pt.GiB
KERNELS = os.environ.get("VFIO_APPLE_KERNELS", "bookworm trixie").split()


class Companion:
    def __init__(self, kernel):
        self.ko = comp.apple_dma_ko(kernel)

    def __call__(self, sim):
        return comp.companion_args(sim, mem=MEM, window=64 * pt.MiB)

    def check(self, run, info):
        c = info.get("companion") if info else None
        if not run.check("companion-sampled", c is not None, f"x-query-vfio-apple: {info}"):
            return
        print(f"companion: entries {c['entries']}, doorbells {c['doorbells']}, DART maps "
              f"{c['dart-maps']}, pins {c['pins']}, guest hits {c['guest-hits']} misses "
              f"{c['guest-misses']}; {json.dumps({k: c[k] for k in ('errors', 'evictions')})}")
        run.check("companion-entries", c["entries"] > 0 and c["enabled"], f"{c}")
        run.check("companion-no-errors", c["errors"] == 0, f"{c['errors']} entries failed")


def body(run):
    for kernel in KERNELS:
        vnet.body(run, kernel=kernel, tag=f"-{kernel}", mem=MEM, companion=Companion(kernel))


if __name__ == "__main__":
    harness.main("pt-virtio-net-companion", body)
