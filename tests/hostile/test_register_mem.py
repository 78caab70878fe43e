"""REGISTER_MEM: no session, unsealed memory, shrinking it, overflowing ranges, limits."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403

VA = 0x100000000


def case_before_open(sim):
    # Registering costs the simulator address space: never before OPEN.
    c = sim.connect()
    fd = sealed_memfd(1 << 30)
    vm0 = sim.vm_size()
    expect_status(c.register(fd, VA, 1 << 30), "PERM", "1 GiB before OPEN")
    expect_status(c.register(fd, VA, 1 << 47), "PERM", "128 TiB before OPEN")
    for i in range(255):
        expect_status(c.register(fd, VA + i * (1 << 30), 1 << 30), "PERM", "region %d" % i)
    grew = sim.vm_size() - vm0
    expect(grew < (16 << 20), "simulator address space grew by %d bytes" % grew)
    # Nor while somebody else holds the session.
    owner = sim.connect()
    owner.open()
    expect_status(c.register(fd, VA, 1 << 30), "PERM", "while another client owns the session")
    p = c.stats()["platform"]
    expect(p["registered_regions"] == 0 and p["registrations_refused"] >= 258, str(p))
    os.close(fd)


def case_unsealed_refused(sim):
    c = sim.connect()
    c.open()
    fd = unsealed_memfd(1 << 20)
    expect_status(c.register(fd, VA, 1 << 20), "INVAL", "a memfd that can shrink")
    expect("not sealed against shrinking" in sim.log_text(), "no log line saying why")
    plain = os.memfd_create("no-sealing", os.MFD_CLOEXEC)      # F_SEAL_SEAL only
    os.ftruncate(plain, 1 << 20)
    expect_status(c.register(plain, VA, 1 << 20), "INVAL", "a memfd without sealing")
    grow = sealed_memfd(1 << 20, seals=fcntl.F_SEAL_GROW)
    expect_status(c.register(grow, VA, 1 << 20), "INVAL", "sealed against growing only")
    shrink = sealed_memfd(1 << 20, seals=fcntl.F_SEAL_SHRINK)
    expect_status(c.register(shrink, VA, 1 << 20), 0, "sealed against shrinking")
    for f in (fd, plain, grow, shrink):
        os.close(f)


def case_shrink_then_doorbell(sim):
    # The attack that killed the simulator: register DMA memory, put the
    # admin queues in it, shrink the memfd, ring a doorbell.
    bad = unsealed_memfd(1 << 20)
    try:
        d = Nvme(sim, memfd=bad)
    except Refused as e:
        expect(e.status == E["INVAL"], "unsealed DMA memory: %s" % err(e.status))
    else:
        d.enable()
        d.mem[0:64] = struct.pack("<BBHI56x", 0x06, 0, 1, 0)     # Identify in SQ slot 0
        os.ftruncate(bad, 0)                  # (our own mapping is unusable from here)
        d.wr(Nvme.REG_DBS, 1)
        time.sleep(0.1)
        raise AssertionError("memory that can shrink was registered")
    os.close(bad)
    sim.close_conns()
    # Sealed memory cannot shrink: the device keeps working on it.
    d = Nvme(sim)
    try:
        os.ftruncate(d.memfd, 0)
        raise AssertionError("a sealed memfd shrank")
    except PermissionError:
        pass
    d.enable()
    d.identify()
    d.identify(2)
    d.close()


def case_overflowing_ranges(sim):
    c = sim.connect()
    c.open()
    fd = sealed_memfd(1 << 20)
    top = 2**64 - PAGE
    for what, va, ln, off in [
        ("VA + length wraps", top, 2 * PAGE, 0), ("offset + length wraps", VA, 2 * PAGE, top),
        ("length 0", VA, 0, 0), ("length 2^64 - 16K", VA, top, 0),
        ("VA not 16 KiB aligned", VA + 4096, PAGE, 0), ("length not aligned", VA, PAGE + 1, 0),
        ("offset not aligned", VA, PAGE, 512), ("beyond the fd", VA, 2 << 20, 0),
        ("offset beyond the fd", VA, PAGE, 1 << 20), ("VA 2^64 - 16K", top, PAGE, 0),
    ]:
        r = c.register(fd, va, ln, off)
        expect(r.status in (E["INVAL"], E["NOSPC"]), "%s: %s" % (what, err(r.status)))
    expect_status(c.exchange(message(MSG["REGISTER_MEM"], 0, (VA, PAGE)), [fd]), "PROTO",
                  "two arguments")
    # Overlaps.
    expect_status(c.register(fd, VA, 4 * PAGE), 0, "a region")
    for va, ln in ((VA + PAGE, PAGE), (VA - PAGE, 2 * PAGE), (VA - PAGE, 6 * PAGE)):
        expect_status(c.register(fd, va, ln), "INVAL", "overlap %#x+%#x" % (va, ln))
    # At most 256 regions.
    for i in range(1, 256):
        expect_status(c.register(fd, VA + i * 8 * PAGE, PAGE), 0, "region %d" % i)
    expect_status(c.register(fd, VA + 4096 * PAGE, PAGE), "NOSPC", "region 257")
    os.close(fd)


@case(args=["--max-registered", "1M"])
def case_max_registered_option(sim):
    c, fd, rid = owner_with_memory(sim, VA, 1 << 20, 4 << 20)     # all of the 1 MiB
    expect_status(c.register(fd, VA + (2 << 20), PAGE), "NOSPC", "16 KiB more")
    expect("--max-registered" in sim.log_text(), "no log line saying why")
    expect_status(c.unregister(rid), 0, "unregister")
    expect_status(c.register(fd, VA + (2 << 20), 1 << 20), 0, "room again")
    os.close(fd)


def case_default_bound_64g(sim):
    # The default bound: 64 GiB registered per session (sparse memory:
    # nothing is touched, only address space reserved).
    c = sim.connect()
    c.open()
    fd = sealed_memfd(65 << 30)
    expect(c.stats()["platform"]["max_registered"] == 64 << 30, "default is not 64 GiB")
    expect_status(c.register(fd, VA, 65 << 30), "NOSPC", "65 GiB")
    r = c.register(fd, VA, 64 << 30)
    expect_status(r, 0, "64 GiB")
    expect_status(c.register(fd, VA + (80 << 30), PAGE), "NOSPC", "16 KiB beyond 64 GiB")
    expect_status(c.unregister(r.scalars[0]), 0, "unregister")
    os.close(fd)


def case_registrations_end_with_session(sim):
    c, fd, rid = owner_with_memory(sim, VA, 1 << 20)
    expect_status(c.call("CLOSE"), 0, "CLOSE")
    expect(c.stats()["platform"]["registered_regions"] == 0, "registration outlived its session")
    expect_status(c.unregister(rid), "NOENT", "unregister after CLOSE")
    expect_status(c.register(fd, VA, 1 << 20), "PERM", "register after CLOSE")
    c.open()
    expect_status(c.register(fd, VA, 1 << 20), 0, "same range in a new session")
    os.close(fd)


if __name__ == "__main__":
    sys.exit(run(globals()))
