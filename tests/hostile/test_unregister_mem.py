"""UNREGISTER_MEM: unknown, foreign and busy registrations."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403

VA = 0x200000000


def case_unknown_and_foreign_ids(sim):
    a, fd, rid = owner_with_memory(sim, VA, 1 << 20)
    b = sim.connect()
    for x in (0, rid + 1, 2**64 - 1):
        expect_status(a.unregister(x), "NOENT", "unknown id %d" % x)
    expect_status(b.unregister(rid), "NOENT", "another client's registration")
    expect_status(a.exchange(message(MSG["UNREGISTER_MEM"], 0, ())), "PROTO", "no id")
    expect_status(a.unregister(rid), 0, "the owner's own")
    expect_status(a.unregister(rid), "NOENT", "twice")
    os.close(fd)


def case_busy_while_mapped(sim):
    c, fd, rid = owner_with_memory(sim, VA, 1 << 20)
    m = c.call("DMA_MAP", VA + PAGE, PAGE, 1, out=DMA_MAP_OUT_SIZE)
    expect_status(m, 0, "DMA_MAP")
    expect_status(c.unregister(rid), "BUSY", "unregister under a live DMA mapping")
    expect_status(c.call("DMA_UNMAP", struct.unpack_from("<Q", m.data)[0]), 0, "DMA_UNMAP")
    expect_status(c.unregister(rid), 0, "unregister after the unmap")
    os.close(fd)


if __name__ == "__main__":
    sys.exit(run(globals()))
