"""MAP_MEMORY: bad types, shrinking what it hands out, mappings kept past the session."""
import mmap
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403

ALL_SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL


def case_bad_types(sim):
    c = sim.connect()
    expect_status(c.map_memory(MEM_BAR0), "PERM", "BAR0 without the session")
    expect_status(c.map_memory(MEM_IRQ_PAGE), "PERM", "IRQ page without the session")
    c.open()
    for t in list(range(1, 16)) + [17, 255, 2**31]:
        r = c.map_memory(t)
        expect(r.status in (E["INVAL"], E["NOTSUP"]) and not r.fds, "type %d: %s" % (t, err(r.status)))
    for t in (2**32, 2**64 - 1):
        expect_status(c.map_memory(t), "PROTO", "type %#x" % t)
    expect_status(c.exchange(message(MSG["MAP_MEMORY"], 0, ())), "PROTO", "no type")


def shrinks(fd):
    """Tries what the hostile client did (shrink to 0); True if it worked."""
    try:
        os.ftruncate(fd, 0)
        return True
    except PermissionError:
        return False


def case_shrink_irq_page(sim):
    # The core writes the IRQ page on every interrupt: shrunk, that write
    # is a SIGBUS in the simulator.  So shrink it, then make interrupts.
    d = Nvme(sim)
    r = d.c.map_memory(MEM_IRQ_PAGE)
    expect_status(r, 0, "MAP_MEMORY IRQ page")
    fd = r.fds[0]
    page = mmap.mmap(fd, PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    expect(u32(page, 0) == IRQ_PAGE_MAGIC, "IRQ page magic")
    shrunk = shrinks(fd)
    expect_status(d.c.call("IRQ_SETUP", IRQ_MSIX, 2), 0, "IRQ_SETUP")
    expect_status(d.c.call("IRQ_ENABLE", 0, 2, 1), 0, "IRQ_ENABLE")
    d.enable()
    d.identify()
    expect(not shrunk, "the IRQ page fd could be shrunk")
    expect(seals_of(fd) & ALL_SEALS == ALL_SEALS, "IRQ page seals %#x" % seals_of(fd))
    wait_until(lambda: u32(page, IRQ_PAGE_COUNT) >= 1, what="vector 0 counted in the IRQ page")
    page.close()
    os.close(fd)
    d.close()


def case_shrink_bar(sim):
    # The device thread polls BAR0's page every few milliseconds.
    d = Nvme(sim)
    shrunk = shrinks(d.bar_fd)
    time.sleep(0.05)
    expect_status(d.c.call("GET_VERSION"), 0, "a call after the shrink attempt")
    expect(not shrunk, "the BAR0 fd could be shrunk")
    expect(seals_of(d.bar_fd) & ALL_SEALS == ALL_SEALS, "BAR0 seals %#x" % seals_of(d.bar_fd))
    d.enable()
    d.identify()
    d.close()


def case_stale_bar_after_close(sim):
    # A keeps its BAR0 mapping after CLOSE and after hanging up; B opens
    # the device.  Nothing A writes reaches B's device (one CC.EN=0 from A
    # used to take B's controller down).
    a = Nvme(sim)
    a_bar = a.bar
    a_ino = os.fstat(a.bar_fd).st_ino
    expect_status(a.c.call("CLOSE"), 0, "A closes")
    a.c.close()

    b = Nvme(sim)
    expect(os.fstat(b.bar_fd).st_ino != a_ino, "B got the same BAR memory as A")
    expect(seals_of(b.bar_fd) & ALL_SEALS == ALL_SEALS, "B's BAR fd is not sealed")
    expect(b.rd(Nvme.REG_CC) == 0 and b.rd(0x08) == 0x00010400, "B's BAR0 not in reset state")
    b.wr(Nvme.REG_AQA, 0x001f001f)
    put32(a_bar, Nvme.REG_AQA, 0xdeadbeef)
    put32(a_bar, Nvme.REG_CC, Nvme.CC_ENABLE)
    time.sleep(0.02)
    expect(b.rd(Nvme.REG_AQA) == 0x001f001f, "A's write reached B's BAR")
    r = b.c.call("MMIO_READ", 0, Nvme.REG_AQA, 4)
    expect(r.status == 0 and r.scalars[0] == 0x001f001f, "device sees AQA %#x" % r.scalars[0])
    expect(b.rd(Nvme.REG_CSTS) == 0, "A's CC.EN enabled B's controller")
    b.enable()

    # A hammers CC.EN=0 and garbage doorbells while B works.
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            put32(a_bar, Nvme.REG_CC, 0)
            put32(a_bar, Nvme.REG_DBS, 7)
            put32(a_bar, Nvme.REG_ASQ, 0x1000)

    t = threading.Thread(target=hammer)
    t.start()
    try:
        for cid in range(1, 20):
            b.identify(cid)
        expect(b.rd(Nvme.REG_CSTS) & 3 == 1, "B's controller lost RDY or went fatal")
    finally:
        stop.set()
        t.join()
    st = b.c.stats()
    expect(st["platform"]["bar_renewals"] >= 1 and st["device"]["ctrl_resets"] == 0,
           "renewals %d, controller resets by CC.EN=0 %d" %
           (st["platform"]["bar_renewals"], st["device"]["ctrl_resets"]))
    a.close()
    b.close()


def case_stale_irq_page_after_close(sim):
    a = sim.connect()
    a.open()
    r = a.map_memory(MEM_IRQ_PAGE)
    old = mmap.mmap(r.fds[0], PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    old_ino = os.fstat(r.fds[0]).st_ino
    os.close(r.fds[0])
    a.call("CLOSE")
    b = sim.connect()
    b.open()
    r = b.map_memory(MEM_IRQ_PAGE)
    new = mmap.mmap(r.fds[0], PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    expect(os.fstat(r.fds[0]).st_ino != old_ino, "B got A's IRQ page")
    os.close(r.fds[0])
    expect_status(b.call("IRQ_SETUP", IRQ_MSIX, 2), 0, "IRQ_SETUP")
    expect_status(b.call("IRQ_ENABLE", 0, 2, 1), 0, "IRQ_ENABLE")
    enabled = struct.unpack_from("<Q", new, IRQ_PAGE_ENABLED)[0]
    struct.pack_into("<Q", old, IRQ_PAGE_ENABLED, 0)
    struct.pack_into("<Q", old, IRQ_PAGE_PENDING, 2**64 - 1)
    expect(struct.unpack_from("<Q", new, IRQ_PAGE_ENABLED)[0] == enabled == 3, "A reached B's page")
    expect(struct.unpack_from("<Q", new, IRQ_PAGE_PENDING)[0] == 0, "A set B's pending bits")
    old.close()
    new.close()


if __name__ == "__main__":
    sys.exit(run(globals()))
