"""CALL messages: every selector with wrong shapes, overflowing arguments, no session."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403


def case_wire_mirrors_headers(sim):
    bad = check_headers()
    expect(not bad, "; ".join(bad))


def shapes(name):
    """(what, scalars, kwargs) calls of selector `name` with a wrong shape."""
    smin, smax, _sout, _sout_max, _sin, sout_struct, _f = METHODS[name]
    out = []
    if smin:
        out.append(("%d scalars (min %d)" % (smin - 1, smin), [1] * (smin - 1), {}))
    out.append(("a nonzero scalar past the %d it knows" % smax, [0] * smax + [7], {}))
    out.append(("16 nonzero scalars", [1] * 16, {}))
    out.append(("struct input it does not take", [0] * smin, dict(struct_in=b"\0" * 8)))
    out.append(("4096 bytes of struct input", [0] * smin, dict(struct_in=b"\xff" * 4096)))
    if not sout_struct:
        out.append(("struct output it does not give", [0] * smin, dict(struct_out_max=16)))
    return out


def case_every_selector_wrong_shape(sim):
    c = sim.connect()
    c.open()
    for name in METHODS:
        for what, sc, kw in shapes(name):
            r = c.exchange(call_msg(name, *sc, **kw))
            expect_status(r, "PROTO", "%s with %s" % (name, what))
            expect(r.nscalars == 0 and r.struct_len == 0, "%s: outputs on an error" % name)
    # Trailing zero scalars are the "old meaning": accepted.
    expect_status(c.call("GET_VERSION", 0, 0, 0), 0, "GET_VERSION with trailing zeros")
    # The session survived all of it.
    expect_status(c.call("CONFIG_READ", 0, 4), 0, "CONFIG_READ afterwards")
    st = c.stats()["core"]
    expect(st["bad_shape"] >= sum(len(shapes(n)) for n in METHODS), "bad_shape %d" % st["bad_shape"])


def case_unknown_selectors(sim):
    c = sim.connect()
    for sel in (SEL_COUNT, 31, 32, 255, 2**31, 2**32 - 1):
        expect_status(c.exchange(call_msg(sel)), "NOSYS", "selector %d" % sel)
    expect(c.stats()["core"]["bad_selector"] == 6, "bad_selector not counted")


def case_no_session(sim):
    c = sim.connect()
    for name, (smin, _smax, _so, _so_max, _si, sout, flags) in METHODS.items():
        if not flags & MF_SESSION:
            continue
        out = MAX_STRUCT if sout else 0
        expect_status(c.call(name, *([0] * smin), out=out), "PERM", name + " without the session")
    # Another client's session does not help.
    owner = sim.connect()
    owner.open()
    expect_status(c.call("CONFIG_READ", 0, 4), "PERM", "CONFIG_READ while another owns it")
    expect_status(c.call("CLOSE"), "PERM", "CLOSE of another's session")
    expect_status(owner.call("CONFIG_READ", 0, 4), 0, "the owner still owns it")


BIG = 2**64 - 1


def case_overflowing_arguments(sim):
    c = sim.connect()
    c.open()
    bar_size = c.call("BAR_INFO", 0).scalars[1]
    rom = c.call("GET_IDENTITY", out=IDENTITY_SIZE)
    rom_size = struct.unpack_from("<Q", rom.data, IDENTITY_ROM_SIZE)[0]
    expect(bar_size and rom_size == 65536, "BAR0 size %d, ROM size %d" % (bar_size, rom_size))
    bad = [
        ("CONFIG_READ", (2**32, 4), 0), ("CONFIG_READ", (BIG, 4), 0),
        ("CONFIG_READ", (4094, 4), 0), ("CONFIG_READ", (4096, 1), 0),
        ("CONFIG_READ", (0, 3), 0), ("CONFIG_READ", (0, 0), 0), ("CONFIG_READ", (0, BIG), 0),
        ("CONFIG_READ_BLOCK", (0xfffffffc, 8), 4096), ("CONFIG_READ_BLOCK", (BIG - 3, 8), 4096),
        ("CONFIG_READ_BLOCK", (0, 0), 4096), ("CONFIG_READ_BLOCK", (0, 4097), 4096),
        ("CONFIG_READ_BLOCK", (0, BIG), 4096), ("CONFIG_READ_BLOCK", (4092, 8), 4096),
        ("CONFIG_READ_BLOCK", (0, 64), 16),           # capacity below the length
        ("CONFIG_WRITE", (0x40, 3, 0), 0), ("CONFIG_WRITE", (0x40, 8, 0), 0),
        ("CONFIG_WRITE", (0x40, 1, 0x100), 0), ("CONFIG_WRITE", (2**32 + 4, 4, 0), 0),
        ("CONFIG_WRITE", (BIG, 4, 0), 0), ("CONFIG_WRITE", (0, BIG, BIG), 0),
        ("BAR_INFO", (6,), 0), ("BAR_INFO", (BIG,), 0),
        ("MMIO_READ", (6, 0, 4), 0), ("MMIO_READ", (BIG, 0, 4), 0),
        ("MMIO_READ", (1, 0, 4), 0),                  # absent BAR
        ("MMIO_READ", (0, bar_size, 4), 0), ("MMIO_READ", (0, bar_size - 2, 4), 0),
        ("MMIO_READ", (0, BIG - 7, 8), 0), ("MMIO_READ", (0, 2, 4), 0),
        ("MMIO_READ", (0, 0, 3), 0), ("MMIO_READ", (0, 0, 16), 0), ("MMIO_READ", (0, 0, BIG), 0),
        ("MMIO_WRITE", (0, BIG - 3, 4, 0), 0), ("MMIO_WRITE", (0, bar_size, 1, 0), 0),
        ("MMIO_WRITE", (0, 0x14, 4, 2**32), 0), ("MMIO_WRITE", (6, 0, 4, 0), 0),
        ("IRQ_SETUP", (IRQ_MSIX, 0), 0), ("IRQ_SETUP", (IRQ_MSIX, 5), 0),
        ("IRQ_SETUP", (IRQ_MSIX, 2**32), 0), ("IRQ_SETUP", (IRQ_MSIX, BIG), 0),
        ("IRQ_SETUP", (IRQ_MSI, 1), 0), ("IRQ_SETUP", (3, 1), 0), ("IRQ_SETUP", (BIG, 1), 0),
        ("IRQ_ENABLE", (BIG, 2, 1), 0), ("IRQ_ENABLE", (0, BIG, 1), 0),
        ("IRQ_ENABLE", (MAX_VECTORS - 1, 2, 1), 0), ("IRQ_ENABLE", (0, 1, 2), 0),
        ("RESET", (0x80,), 0), ("RESET", (BIG,), 0),
        ("DMA_MAP", (BIG - PAGE + 1, 2 * PAGE, 3), DMA_MAP_OUT_SIZE),
        ("DMA_MAP", (0x10000, 0, 3), DMA_MAP_OUT_SIZE),
        ("DMA_MAP", (0x10000, BIG, 3), DMA_MAP_OUT_SIZE),
        ("DMA_MAP", (0x10000, PAGE, 0x80), DMA_MAP_OUT_SIZE),
        ("DMA_MAP", (0x10000, PAGE, 3), 16),          # no room for the segment list
        ("DMA_MAP", (0x10000, PAGE, 3), DMA_MAP_OUT_SIZE),   # not registered memory
        ("DMA_UNMAP", (0,), 0), ("DMA_UNMAP", (BIG,), 0), ("DMA_UNMAP", (1,), 0),
        ("ROM_READ", (BIG - 100, 4096), 4096), ("ROM_READ", (rom_size, 1), 4096),
        ("ROM_READ", (rom_size - 4, 8), 4096), ("ROM_READ", (0, 0), 4096),
        ("ROM_READ", (0, 4097), 4096), ("ROM_READ", (0, BIG), 4096), ("ROM_READ", (0, 64), 16),
    ]
    for name, sc, out in bad:
        r = c.call(name, *sc, out=out)
        expect(r.status not in (0, E["PROTO"], E["IO"]),
               "%s%s: %s, want a refusal of the arguments" % (name, sc, err(r.status)))
        expect(r.nscalars == 0 and r.struct_len == 0, "%s%s: outputs on an error" % (name, sc))
    # Edges that are valid work.
    expect_status(c.call("CONFIG_READ", 4092, 4), 0, "last config dword")
    expect_status(c.call("MMIO_READ", 0, bar_size - 8, 8), 0, "last BAR0 quadword")
    expect_status(c.call("ROM_READ", rom_size - 4096, 4096, out=4096), 0, "last ROM page")
    expect_status(c.call("IRQ_SETUP", IRQ_MSIX, 4), 0, "IRQ_SETUP of every vector")


if __name__ == "__main__":
    sys.exit(run(globals()))
