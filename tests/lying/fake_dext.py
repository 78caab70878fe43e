#!/usr/bin/env python3
"""
A fake dext that lies: it speaks the socket transport of vfio-apple-sim
(include/vfio-apple/sim-wire.h, methods of include/vfio-apple/dext-abi.h)
well enough for QEMU's vfio-apple-pci to realize a device against it, and
then tells the one lie it was started with (--lie NAME; see LIES below).

Without a lie it answers what vfio-apple-sim answers for its NVMe model
(sim/server.c, sim/platform.c, dext/core/dispatch.c and device.c): the
same identity, config space, BAR 0 (32 KiB, 64-bit, mappable, page 1
trapped for the MSI-X table and PBA), a sealed memfd per mapping, an IRQ
page, an eventfd for notifications, DMA mappings as one segment.  No
device behind it: MMIO reads 0, writes and DMA go nowhere.  That is
enough for QEMU started with -S, which never runs the guest.

The layouts come from tests/hostile/wire.py (the one Python mirror of the
C headers, checked against them by the hostile group); the identity's
field layout is spelled out here, pinned by its size (272 bytes).

    fake_dext.py --socket PATH [--lie NAME] [--list]

Python 3 standard library only.
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile"))
import wire  # noqa: E402

SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL

# struct vfa_identity (dext-abi.h), field by field.
IDENTITY = struct.Struct("<HHHH I BBH I BBBB 64s II 6I 6Q Q II Q IIII 8Q")
IDENTITY_FIELDS = ("vendor_id device_id subsys_vendor_id subsys_id class_code revision "
                   "header_type flags domain bus dev fn _pad0 location config_size "
                   "num_bars").split() + ["bar_flags%d" % i for i in range(6)] + \
    ["bar_size%d" % i for i in range(6)] + \
    ("rom_size msi_vectors msix_vectors dma_budget_bytes dma_max_mappings dma_page_size "
     "dma_max_segments _pad1").split() + ["reserved%d" % i for i in range(8)]
assert IDENTITY.size == wire.IDENTITY_SIZE == 272
assert len(IDENTITY_FIELDS) == len(IDENTITY.unpack(bytes(272)))

BAR_PRESENT, BAR_MEM64, BAR_PREFETCH, BAR_MAPPABLE, BAR_TRAPPED = 1, 2, 4, 8, 16
ID_PCIE, ID_FLR, ID_HOT_RESET, ID_SIMULATED = 1, 2, 4, 8

# Config space of the simulator's NVMe controller (CONFIG_READ_BLOCK of
# offset 0, 4096 bytes; all zero past 0x90): header, PM at 0x40, MSI-X at
# 0x50 (8 vectors, table BAR 0 + 0x4000, PBA BAR 0 + 0x5000), PCIe v2 at
# 0x60, no extended capabilities.
CONFIG_HEAD = bytes.fromhex(
    "7a7a010e000010000102080100000000040000000000000000000000000000000000"
    "000000000000000000007a7a010e000000004000000000000000000100000150030008"
    "000000000000000000000011600700004000000050000000000000100002000080001010"
    "28000043004000000043100000000000000000000000000000000010000000000000000e000000")
BAR0_SIZE = 0x8000
ROM_SIZE = 0x10000
WINDOW_IOVA = 0x800000000


def identity():
    """What the simulator's NVMe model says (sim/platform.c, dext/core/device.c)."""
    return dict(
        vendor_id=0x7a7a, device_id=0x0e01, subsys_vendor_id=0x7a7a, subsys_id=0x0e01,
        class_code=0x010802, revision=1, header_type=0,
        flags=ID_PCIE | ID_FLR | ID_HOT_RESET | ID_SIMULATED,
        domain=0, bus=1, dev=0, fn=0, _pad0=0, location=b"sim:nvme",
        config_size=4096, num_bars=1,
        bar_flags0=BAR_PRESENT | BAR_MEM64 | BAR_MAPPABLE | BAR_TRAPPED,
        bar_flags1=0, bar_flags2=0, bar_flags3=0, bar_flags4=0, bar_flags5=0,
        bar_size0=BAR0_SIZE, bar_size1=0, bar_size2=0, bar_size3=0, bar_size4=0, bar_size5=0,
        rom_size=ROM_SIZE, msi_vectors=0, msix_vectors=8,
        dma_budget_bytes=1536 << 20, dma_max_mappings=65536, dma_page_size=wire.PAGE,
        dma_max_segments=wire.MAX_DMA_SEGMENTS, _pad1=0,
        **{"reserved%d" % i: 0 for i in range(8)})


def pack_identity(d):
    return IDENTITY.pack(*[d[f] for f in IDENTITY_FIELDS])


def config_space():
    c = bytearray(4096)
    c[:len(CONFIG_HEAD)] = CONFIG_HEAD
    return c


# ------------------------------------------------------------------ lies --
# Each lie: a dict of what changes, read by the handlers below.
#   id:           identity fields replaced
#   bar_info:     BAR_INFO scalars replaced, {bar: {index: value}}
#   cfg:          config bytes replaced, {offset: bytes}
#   map:          MAP_MEMORY of {type: {"size": reported, "fd_size": memfd size,
#                 "magic": IRQ page magic, "unsealed": True}}
#   dma:          DMA_MAP reply: "segs" [(iova, len)] or a callable(len) -> segs,
#                 "nsegs", "handle"
#   version:      GET_VERSION scalars
#   seq:          {selector: delta added to the reply's sequence number}
#   long_reply:   {selector: extra struct bytes past struct_out_max}
#   short_reply:  {selector: struct bytes sent}
#   duplicate:    {selector}: the reply is sent twice
#   silent:       {selector}: never answered
#   no_fd:        NOTIFY_REGISTER answered without its eventfd
#   notify_memfd: NOTIFY_REGISTER answered with a memfd (always readable)
#   shrink_irq:   seconds after NOTIFY_REGISTER: truncate the IRQ page's memfd
#                 to 0 and signal the eventfd
def _segs_33(n):
    step = (n // 33) & ~(wire.PAGE - 1)
    segs = [(WINDOW_IOVA + i * 0x100000000, step) for i in range(32)]
    return segs + [(WINDOW_IOVA + 32 * 0x100000000, n - 32 * step)]


LIES = {
    "config_size_8192": dict(id=dict(config_size=8192)),
    "msix_vectors_100000": dict(id=dict(msix_vectors=100000)),
    "msi_vectors_64": dict(id=dict(msi_vectors=64)),
    "msi_vectors_3": dict(id=dict(msi_vectors=3)),
    "no_msi_no_msix": dict(id=dict(msix_vectors=0)),
    "bar_size_not_pow2": dict(id=dict(bar_size0=0x6000), bar_info={0: {1: 0x6000}}),
    "bar_size_2e63": dict(id=dict(bar_size0=1 << 63), bar_info={0: {1: 1 << 63}}),
    "bar_mem64_on_bar5": dict(id=dict(bar_flags5=BAR_PRESENT | BAR_MEM64, bar_size5=0x4000,
                                      num_bars=2)),
    "rom_size_2e40": dict(id=dict(rom_size=1 << 40)),
    "bar_info_size_differs": dict(bar_info={0: {1: 0x4000}}),
    "bar_info_absent": dict(bar_info={0: {0: 0, 1: 0}}),
    "map_bar_larger_than_memfd": dict(map={0: dict(size=0x10000, fd_size=BAR0_SIZE)}),
    "map_irq_larger_than_memfd": dict(map={16: dict(size=0x8000, fd_size=wire.PAGE)}),
    "irq_page_bad_magic": dict(map={16: dict(magic=0xdeadbeef)}),
    "irq_page_too_small": dict(map={16: dict(size=64, fd_size=64)}),
    "dma_33_segments": dict(dma=dict(segs=_segs_33)),
    "dma_segments_short": dict(dma=dict(segs=lambda n: [(WINDOW_IOVA, n - wire.PAGE)])),
    "dma_segments_long": dict(dma=dict(segs=lambda n: [(WINDOW_IOVA, n),
                                                       (WINDOW_IOVA + n, wire.PAGE)])),
    "dma_iova_wraps": dict(dma=dict(segs=lambda n: [(2**64 - n // 2, n)])),
    "dma_zero_length_segment": dict(dma=dict(segs=lambda n: [(WINDOW_IOVA, 0),
                                                             (WINDOW_IOVA, n)])),
    "dma_nsegs_0": dict(dma=dict(nsegs=0)),
    "dma_handle_0": dict(dma=dict(handle=0)),
    "dma_segments_overlap": dict(dma=dict(segs=lambda n: [(WINDOW_IOVA, n // 2),
                                                          (WINDOW_IOVA, n - n // 2)])),
    "dma_iova_unaligned": dict(dma=dict(segs=lambda n: [(WINDOW_IOVA + 0x1001, n)])),
    "dma_page_size_3": dict(id=dict(dma_page_size=3)),
    "abi_major_2": dict(version=[2, 0, 0]),
    "wrong_sequence_number": dict(seq={wire.SEL["GET_IDENTITY"]: 1}),
    "duplicate_reply": dict(duplicate={wire.SEL["GET_VERSION"]}),
    "reply_longer_than_asked": dict(long_reply={wire.SEL["GET_IDENTITY"]: 16}),
    "identity_short": dict(short_reply={wire.SEL["GET_IDENTITY"]: 200}),
    "config_block_short": dict(short_reply={wire.SEL["CONFIG_READ_BLOCK"]: 256}),
    "notify_without_fd": dict(no_fd=True),
    "location_without_nul": dict(id=dict(location=b"A" * 64)),
    # Config space the device reports (the dext's word as much as its identity).
    "cap_list_loop": dict(cfg={0x61: b"\x40"}),          # PCIe cap's next -> PM cap
    "cap_ptr_into_header": dict(cfg={0x61: b"\x10"}),    # PCIe cap's next -> BAR 0
    "msix_cap_missing": dict(cfg={0x41: b"\x60"}),       # PM cap's next skips MSI-X
    "ext_cap_loop": dict(cfg={0x100: struct.pack("<I", 0x0001 | 1 << 16 | 0x100 << 20)}),
    "msix_table_bigger_than_identity": dict(cfg={0x52: struct.pack("<H", 63)}),
    "bar_register_io_space": dict(cfg={0x10: struct.pack("<I", 0x1)}),
    # Run-time lies about shared memory and notifications.
    "notify_fd_not_eventfd": dict(notify_memfd=True),
    "irq_page_unsealed_shrunk": dict(map={16: dict(unsealed=True)}, shrink_irq=2.0),
    # Never answers OPEN: realize waits for its setup bound (30 s).
    "silent_during_realize": dict(silent={wire.SEL["OPEN"]}),
}


# --------------------------------------------------------------- server --
def log(msg):
    sys.stderr.write("fake-dext: %s\n" % msg)
    sys.stderr.flush()


def memfd(size, name, sealed=True):
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, size)
    if sealed:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, SEALS)
    return fd


class Fake:
    def __init__(self, lie):
        self.lie = LIES[lie] if lie else {}
        self.id = identity()
        self.id.update(self.lie.get("id", {}))
        self.cfg = config_space()
        for off, b in self.lie.get("cfg", {}).items():
            self.cfg[off:off + len(b)] = b
        self.owner = None
        self.regs = {}
        self.next_reg = 1
        self.next_handle = 0x100000001
        self.eventfd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self.irq_fd = None
        self.timers = []            # (monotonic deadline, callable)

    # -- methods -----------------------------------------------------------
    def call(self, conn, sel, sc, out_max):
        """(status, scalars, struct bytes, fd)"""
        name = {v: k for k, v in wire.SEL.items()}.get(sel, "?")
        if sel == wire.SEL["GET_VERSION"]:
            return 0, self.lie.get("version", [wire.ABI_MAJOR, wire.ABI_MINOR, 0]), b"", -1
        if sel == wire.SEL["GET_IDENTITY"]:
            return 0, [], pack_identity(self.id), -1
        if sel == wire.SEL["GET_STATS"]:
            return 0, [], struct.pack("<II", wire.STATS_SIZE, wire.SEL_COUNT).ljust(
                wire.STATS_SIZE, b"\0"), -1
        if sel == wire.SEL["OPEN"]:
            if sc[0] != wire.ABI_MAJOR:
                return wire.E["PROTO"], [], b"", -1
            if self.owner == conn:
                return wire.E["ALREADY"], [], b"", -1
            if self.owner is not None:
                return wire.E["BUSY"], [], b"", -1
            self.owner = conn
            return 0, [wire.ABI_MAJOR, wire.ABI_MINOR], b"", -1
        if self.owner != conn:
            return wire.E["PERM"], [], b"", -1
        if sel == wire.SEL["CLOSE"]:
            self.owner = None
            return 0, [], b"", -1
        if sel == wire.SEL["CONFIG_READ"]:
            off, width = sc[0], sc[1]
            if width not in (1, 2, 4) or off + width > self.id["config_size"]:
                return wire.E["INVAL"], [], b"", -1
            return 0, [int.from_bytes(self.cfg[off:off + width], "little")], b"", -1
        if sel == wire.SEL["CONFIG_READ_BLOCK"]:
            off, n = sc[0], sc[1]
            if n > wire.MAX_STRUCT or out_max < n or off + n > len(self.cfg):
                return wire.E["INVAL"], [], b"", -1
            return 0, [], bytes(self.cfg[off:off + n]), -1
        if sel == wire.SEL["CONFIG_WRITE"]:
            off, width, val = sc[0], sc[1], sc[2]
            if width not in (1, 2, 4):
                return wire.E["INVAL"], [], b"", -1
            if off == 4 and width in (2, 4):          # Command only
                self.cfg[4:6] = (val & 0x0406).to_bytes(2, "little")
                return 0, [0x3], b"", -1
            return 0, [0], b"", -1
        if sel == wire.SEL["BAR_INFO"]:
            bar = sc[0]
            if bar >= wire.NUM_BARS:
                return wire.E["RANGE"], [], b"", -1
            out = [0, 0, 0, 0]
            if self.id["bar_flags%d" % bar] & BAR_PRESENT:
                out = [self.id["bar_flags%d" % bar], self.id["bar_size%d" % bar], bar,
                       0x2 if bar == 0 else 0]
            for i, v in self.lie.get("bar_info", {}).get(bar, {}).items():
                out[i] = v
            return 0, out, b"", -1
        if sel == wire.SEL["MMIO_READ"]:
            return 0, [0], b"", -1
        if sel in (wire.SEL["MMIO_WRITE"], wire.SEL["IRQ_ENABLE"], wire.SEL["DMA_UNMAP"]):
            return 0, [], b"", -1
        if sel == wire.SEL["IRQ_SETUP"]:
            return 0, [sc[1]], b"", -1
        if sel == wire.SEL["RESET"]:
            return 0, [1], b"", -1
        if sel == wire.SEL["ROM_READ"]:
            off, n = sc[0], sc[1]
            if not n or n > wire.MAX_STRUCT or out_max < n or off + n > ROM_SIZE:
                return wire.E["INVAL"], [], b"", -1
            rom = bytearray(n)
            if off == 0 and n >= 2:
                rom[0:2] = b"\x55\xaa"
            return 0, [], bytes(rom), -1
        if sel == wire.SEL["DMA_MAP"]:
            va, n = sc[0], sc[1]
            if out_max < wire.DMA_MAP_OUT_SIZE:
                return wire.E["INVAL"], [], b"", -1
            d = self.lie.get("dma", {})
            segs = d.get("segs", lambda n: [(WINDOW_IOVA + (va % wire.PAGE), n)])(n)
            handle = d.get("handle", self.next_handle)
            self.next_handle += 1
            body = struct.pack("<QII", handle, d.get("nsegs", len(segs)), 0)
            for iova, ln in segs[:wire.MAX_DMA_SEGMENTS]:
                body += struct.pack("<QQ", iova % 2**64, ln)
            log("DMA_MAP 0x%x bytes -> %d segment(s) %s" % (n, len(segs), [
                (hex(a), hex(b)) for a, b in segs[:3]]))
            return 0, [], body.ljust(wire.DMA_MAP_OUT_SIZE, b"\0"), -1
        if sel == wire.SEL["NOTIFY_REGISTER"]:
            if self.lie.get("no_fd"):
                return 0, [], b"", -1
            if self.lie.get("notify_memfd"):
                return 0, [], b"", memfd(4096, "not-an-eventfd")
            if "shrink_irq" in self.lie:
                self.timers.append((time.monotonic() + self.lie["shrink_irq"], self.shrink_irq))
            return 0, [], b"", os.dup(self.eventfd)
        log("unknown selector %d (%s)" % (sel, name))
        return wire.E["NOSYS"], [], b"", -1

    def shrink_irq(self):
        log("truncating the IRQ page's memfd to 0 and notifying")
        os.ftruncate(self.irq_fd, 0)
        os.eventfd_write(self.eventfd, 1)

    def map_memory(self, conn, mtype):
        if self.owner != conn:
            return wire.E["PERM"], [], -1
        m = self.lie.get("map", {}).get(mtype, {})
        if mtype == 0:
            size, flags = BAR0_SIZE, BAR_PRESENT | BAR_MEM64 | BAR_MAPPABLE
        elif mtype == wire.MEM_IRQ_PAGE:
            size, flags = wire.PAGE, 0
        else:
            return wire.E["INVAL"], [], -1
        fd = memfd(m.get("fd_size", size), "fake-mem-%d" % mtype, sealed=not m.get("unsealed"))
        if mtype == wire.MEM_IRQ_PAGE:
            hdr = struct.pack("<IIII", m.get("magic", wire.IRQ_PAGE_MAGIC),
                              wire.ABI_MAJOR << 16 | wire.ABI_MINOR, 0, 0)
            os.pwrite(fd, hdr[:m.get("fd_size", size)], 0)
            if self.irq_fd is not None:
                os.close(self.irq_fd)
            self.irq_fd = os.dup(fd)
        return 0, [m.get("size", size), flags], fd

    # -- framing -----------------------------------------------------------
    def serve(self, conn):
        """One request; False when the connection is gone."""
        try:
            data, fds = conn.recv(timeout=0)
        except (wire.Closed, ConnectionResetError):
            return False
        except TimeoutError:
            return True
        if len(data) < wire.CALL.size:
            log("short request (%d bytes)" % len(data))
            return False
        f = wire.CALL.unpack_from(data)
        magic, version, mtype, seq, _pad, sel, ns, slen, out_max = f[:9]
        sc = list(f[9:9 + wire.MAX_SCALARS])
        if magic != wire.MAGIC or version != wire.WIRE_VERSION:
            log("bad magic/version")
            return False
        status, scalars, body, rfd = 0, [], b"", -1
        what = "type %d" % mtype
        if mtype == wire.MSG["CALL"]:
            what = {v: k for k, v in wire.SEL.items()}.get(sel, "sel %d" % sel)
            if sel in self.lie.get("silent", ()):
                log("%s seq %d: never answered" % (what, seq))
                return True
            status, scalars, body, rfd = self.call(conn, sel, sc, out_max)
            if "short_reply" in self.lie and sel in self.lie["short_reply"]:
                body = body[:self.lie["short_reply"][sel]]
            if "long_reply" in self.lie and sel in self.lie["long_reply"]:
                body = body.ljust(out_max + self.lie["long_reply"][sel], b"\xa5")
        elif mtype == wire.MSG["REGISTER_MEM"]:
            if len(fds) != 1:
                status = wire.E["PROTO"]
            else:
                self.regs[self.next_reg] = (sc[0], sc[1], sc[2], fds.pop())
                scalars = [self.next_reg]
                log("REGISTER_MEM va 0x%x len 0x%x off 0x%x -> %d" % (sc[0], sc[1], sc[2],
                                                                     self.next_reg))
                self.next_reg += 1
        elif mtype == wire.MSG["UNREGISTER_MEM"]:
            r = self.regs.pop(sc[0], None)
            if r:
                os.close(r[3])
            else:
                status = wire.E["NOENT"]
        elif mtype == wire.MSG["MAP_MEMORY"]:
            status, scalars, rfd = self.map_memory(conn, sc[0])
            what = "MAP_MEMORY %d" % sc[0]
        elif mtype == wire.MSG["STATS_JSON"]:
            body = b"{}"
        else:
            status = wire.E["PROTO"]
        for fd in fds:
            os.close(fd)
        if status:
            scalars, body = [], b""
        seq_out = seq + self.lie.get("seq", {}).get(sel, 0) if mtype == wire.MSG["CALL"] else seq
        reply = wire.REPLY.pack(wire.MAGIC, wire.WIRE_VERSION, mtype, seq_out & 0xffffffff, 0,
                                status, len(scalars), len(body), 0,
                                *(list(scalars) + [0] * (wire.MAX_SCALARS - len(scalars)))) + body
        log("%s seq %d -> status %d, %d scalars, %d struct bytes%s" % (
            what, seq, status, len(scalars), len(body), ", fd" if rfd >= 0 else ""))
        try:
            conn.send(reply, [rfd] if rfd >= 0 else ())
            if mtype == wire.MSG["CALL"] and sel in self.lie.get("duplicate", ()):
                conn.send(reply)
        except (BrokenPipeError, ConnectionResetError):
            return False
        finally:
            if rfd >= 0:
                os.close(rfd)
        return True


def accepted(sock):
    """An accepted connection with wire.Conn's framing (one message and its
    fds per recv/send), which wire.py offers for the connecting side."""
    c = wire.Conn.__new__(wire.Conn)
    c.s, c.timeout, c.seq = sock, 0.0, 0
    return c


def listen(path):
    """Bound under a temporary name, renamed once listening (as the simulator)."""
    tmp = "%s.%d" % (path, os.getpid())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    for p in (tmp, path):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
    s.bind(tmp)
    s.listen(4)
    os.rename(tmp, path)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--socket")
    ap.add_argument("--lie", choices=sorted(LIES))
    ap.add_argument("--list", action="store_true", help="print the lies and exit")
    a = ap.parse_args()
    if a.list:
        print("\n".join(sorted(LIES)))
        return 0
    if not a.socket:
        ap.error("--socket is required")
    fake = Fake(a.lie)
    ls = listen(a.socket)
    log("listening on %s, lie: %s" % (a.socket, a.lie or "none"))
    conns = []
    while True:
        now = time.monotonic()
        due = [t for t in fake.timers if t[0] <= now]
        for t in due:
            fake.timers.remove(t)
            t[1]()
        timeout = min([t[0] for t in fake.timers], default=now + 3600) - now
        r, _, _ = select.select([ls] + conns, [], [], max(0.0, timeout))
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                conns.append(accepted(c))
                log("client connected")
            elif not fake.serve(s):
                log("client gone")
                if fake.owner is s:
                    fake.owner = None
                conns.remove(s)
                s.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
