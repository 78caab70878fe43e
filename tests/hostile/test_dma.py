"""DMA_MAP and DMA_UNMAP (CALL selectors 13, 14): many cycles, limits, stale handles."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403

VA = 0x300000000


def session_with_memory(sim, size=1 << 20):
    c, fd, _ = owner_with_memory(sim, VA, size)
    os.close(fd)
    return c


def case_map_unmap_65536_cycles(sim):
    # The DART's mapping limit is 65,536 live mappings: as many map/unmap
    # cycles must leave nothing behind (no leaked mapping, IOVA space or
    # handle).  Messages are prebuilt: the loop is the socket round trips.
    c = session_with_memory(sim)
    n = 65536
    maps = [call_msg("DMA_MAP", VA + (i % 60) * PAGE + (i % 7) * 512, 4096 + (i % 3) * PAGE,
                     1 + i % 3, struct_out_max=DMA_MAP_OUT_SIZE) for i in range(64)]
    s = c.s
    for i in range(n):
        s.send(maps[i % 64])
        r = s.recv(MAX_REPLY)
        st, = struct.unpack_from("<I", r, 16)
        if st:
            raise AssertionError("cycle %d: DMA_MAP %s" % (i, err(st)))
        handle, = struct.unpack_from("<Q", r, REPLY.size)
        s.send(call_msg("DMA_UNMAP", handle))
        st, = struct.unpack_from("<I", s.recv(MAX_REPLY), 16)
        if st:
            raise AssertionError("cycle %d: DMA_UNMAP %s" % (i, err(st)))
    st = c.stats()
    expect(st["dart"]["maps"] == n and st["dart"]["unmaps"] == n and
           st["dart"]["live_mappings"] == 0 and st["core"]["dma_live_mappings"] == 0,
           "dart maps %d unmaps %d live %d" % (st["dart"]["maps"], st["dart"]["unmaps"],
                                              st["dart"]["live_mappings"]))


@case(args=["--dart-max-mappings", "64", "--dart-budget", "1M"])
def case_limits_and_stale_handles(sim):
    c = session_with_memory(sim, 4 << 20)
    handles = []
    for i in range(64):
        r = c.call("DMA_MAP", VA + i * PAGE, 16, 1, out=DMA_MAP_OUT_SIZE)
        expect_status(r, 0, "map %d" % i)
        handles.append(struct.unpack_from("<Q", r.data)[0])
    expect_status(c.call("DMA_MAP", VA, 16, 1, out=DMA_MAP_OUT_SIZE), "MFILE", "map 65")
    for h in handles:
        expect_status(c.call("DMA_UNMAP", h), 0, "unmap")
    for h in handles[:8] + [0, 2**64 - 1]:
        expect_status(c.call("DMA_UNMAP", h), "NOENT", "stale handle %d" % h)
    expect_status(c.call("DMA_MAP", VA, 2 << 20, 3, out=DMA_MAP_OUT_SIZE), "NOSPC",
                  "2 MiB over a 1 MiB budget")
    expect_status(c.call("DMA_MAP", VA + (4 << 20) - PAGE, 2 * PAGE, 3, out=DMA_MAP_OUT_SIZE),
                  "FAULT", "a range running past the registration")


def case_handles_die_with_session(sim):
    c = session_with_memory(sim)
    h = struct.unpack_from("<Q", c.call("DMA_MAP", VA, PAGE, 3, out=DMA_MAP_OUT_SIZE).data)[0]
    c.call("CLOSE")
    c.open()
    expect_status(c.call("DMA_UNMAP", h), "NOENT", "a handle of the previous session")
    expect(c.stats()["dart"]["live_mappings"] == 0, "mapping outlived its session")


if __name__ == "__main__":
    sys.exit(run(globals()))
