"""
Shared module of the hostile-client tests (tests/hostile/test_*.py).

The message layouts, constants and method table below MIRROR
include/vfio-apple/sim-wire.h and include/vfio-apple/dext-abi.h: this is
the one place in Python that does.  Those headers pin the sizes with
_Static_assert; check_headers() re-reads them and fails if a constant
mirrored here has drifted, and test_call.py runs it as a case.

Also here: a connection that speaks the wire (and can break it at will), a
simulator launcher (one per case, in a temporary directory), a small NVMe
driver for the cases that need the device to do something, and the case
runner that prints one line per case:
    PASS: hostile/<file>/<case>
    FAIL: hostile/<file>/<case>: <reason>
    XFAIL: hostile/<file>/<case>: <reason>   (expected to fail; not counted)
After every case the simulator must still run and serve a fresh client
(GET_VERSION on a new connection), and stop cleanly on SIGTERM.

Python 3 standard library only.
"""
import array
import collections
import fcntl
import json
import mmap
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIM = os.environ.get("VFA_SIM", os.path.join(ROOT, "build", "vfio-apple-sim"))

# ------------------------------------------------------------ mirrors --
# dext-abi.h
ABI_MAJOR, ABI_MINOR = 1, 0
MAX_SCALARS = 16
MAX_STRUCT = 4096
PAGE = 16384                      # VFA_PAGE_SIZE
NUM_BARS = 6
MAX_DMA_SEGMENTS = 32
MAX_VECTORS = 2048

E = dict(OK=0, PERM=1, NOENT=2, IO=5, NOMEM=12, FAULT=14, BUSY=16, NODEV=19, INVAL=22,
         MFILE=24, NOSPC=28, RANGE=34, NOSYS=38, PROTO=71, NOTSUP=95, ALREADY=114)
ERR_NAME = {v: k for k, v in E.items()}

SEL = dict(GET_VERSION=0, GET_IDENTITY=1, OPEN=2, CLOSE=3, CONFIG_READ=4,
           CONFIG_READ_BLOCK=5, CONFIG_WRITE=6, BAR_INFO=7, MMIO_READ=8, MMIO_WRITE=9,
           IRQ_SETUP=10, IRQ_ENABLE=11, RESET=12, DMA_MAP=13, DMA_UNMAP=14, ROM_READ=15,
           GET_STATS=16, NOTIFY_REGISTER=17)
SEL_COUNT = 18

MF_SESSION, MF_DEVICE = 1, 2
IDENTITY_SIZE, DMA_MAP_OUT_SIZE, STATS_SIZE = 272, 16 + 16 * MAX_DMA_SEGMENTS, 928
IDENTITY_ROM_SIZE = 168           # offsetof(struct vfa_identity, rom_size), a uint64_t
VARIABLE = 0xffff                 # VFA_STRUCT_OUT_VARIABLE
# VFA_METHODS: name -> (scalars in min, max, scalars out min, max, struct in, struct out, flags)
METHODS = {
    "GET_VERSION":       (0, 0, 3, 3, 0, 0, 0),
    "GET_IDENTITY":      (0, 0, 0, 0, 0, IDENTITY_SIZE, 0),
    "OPEN":              (2, 2, 2, 2, 0, 0, MF_DEVICE),
    "CLOSE":             (0, 0, 0, 0, 0, 0, MF_SESSION),
    "CONFIG_READ":       (2, 2, 1, 1, 0, 0, MF_SESSION | MF_DEVICE),
    "CONFIG_READ_BLOCK": (2, 2, 0, 0, 0, VARIABLE, MF_SESSION | MF_DEVICE),
    "CONFIG_WRITE":      (3, 3, 1, 2, 0, 0, MF_SESSION | MF_DEVICE),
    "BAR_INFO":          (1, 1, 4, 4, 0, 0, MF_SESSION | MF_DEVICE),
    "MMIO_READ":         (3, 3, 1, 1, 0, 0, MF_SESSION | MF_DEVICE),
    "MMIO_WRITE":        (4, 4, 0, 0, 0, 0, MF_SESSION | MF_DEVICE),
    "IRQ_SETUP":         (2, 2, 1, 1, 0, 0, MF_SESSION | MF_DEVICE),
    "IRQ_ENABLE":        (3, 3, 0, 0, 0, 0, MF_SESSION | MF_DEVICE),
    "RESET":             (1, 1, 1, 1, 0, 0, MF_SESSION | MF_DEVICE),
    "DMA_MAP":           (3, 3, 0, 0, 0, DMA_MAP_OUT_SIZE, MF_SESSION | MF_DEVICE),
    "DMA_UNMAP":         (1, 1, 0, 0, 0, 0, MF_SESSION),
    "ROM_READ":          (2, 2, 0, 0, 0, VARIABLE, MF_SESSION | MF_DEVICE),
    "GET_STATS":         (0, 0, 0, 0, 0, STATS_SIZE, 0),
    "NOTIFY_REGISTER":   (0, 0, 0, 0, 0, 0, MF_SESSION),
}
MEM_BAR0, MEM_IRQ_PAGE = 0, 16
IRQ_NONE, IRQ_MSI, IRQ_MSIX = 0, 1, 2
RESET_FLR, RESET_HOT = 1, 2
DMA_TO_DEVICE, DMA_FROM_DEVICE = 1, 2
IRQ_PAGE_MAGIC = 0x49414656
IRQ_PAGE_PENDING, IRQ_PAGE_ENABLED, IRQ_PAGE_COUNT = 64, 320, 576   # offsets in the page

# sim-wire.h
MAGIC = 0x56464153
WIRE_VERSION = 1
MSG = dict(CALL=1, REGISTER_MEM=2, UNREGISTER_MEM=3, MAP_MEMORY=4, STATS_JSON=5)
STATS_MAX = 64 * 1024
# struct vfa_sim_hdr + struct vfa_sim_call / vfa_sim_reply (same size)
HDR = struct.Struct("<IHHII")                 # magic, version, type, seq, _pad
CALL = struct.Struct("<IHHII" "IIII" "16Q")   # + selector, nscalars, struct_len, struct_out_max
REPLY = struct.Struct("<IHHII" "IIII" "16Q")  # + status, nscalars, struct_len, _pad
assert HDR.size == 16 and CALL.size == 160 and REPLY.size == 160
MAX_REQUEST = CALL.size + MAX_STRUCT
MAX_REPLY = REPLY.size + STATS_MAX


def check_headers():
    """Mismatches between the mirrors above and the C headers ([] if none)."""
    inc = os.path.join(ROOT, "include", "vfio-apple")
    abi = open(os.path.join(inc, "dext-abi.h")).read()
    wire = open(os.path.join(inc, "sim-wire.h")).read()
    bad = []

    def num(text, name):
        m = re.search(r"\b%s\s*=?\s*\(?\s*(0x[0-9a-fA-F]+|\d+)u?" % re.escape(name), text)
        return int(m.group(1), 0) if m else None

    want = dict(VFA_ABI_MAJOR=ABI_MAJOR, VFA_MAX_SCALARS=MAX_SCALARS,
                VFA_MAX_STRUCT=MAX_STRUCT, VFA_PAGE_SIZE=PAGE, VFA_NUM_BARS=NUM_BARS,
                VFA_MAX_DMA_SEGMENTS=MAX_DMA_SEGMENTS, VFA_MEM_IRQ_PAGE=MEM_IRQ_PAGE,
                VFA_IRQ_PAGE_MAGIC=IRQ_PAGE_MAGIC, VFA_IRQ_MSIX=IRQ_MSIX)
    want.update({"VFA_E_" + k: v for k, v in E.items() if k != "OK"})
    want.update({"VFA_SEL_" + k: v for k, v in SEL.items()})
    for name, v in want.items():
        if num(abi, name) != v:
            bad.append("%s: header %s, wire.py %s" % (name, num(abi, name), v))
    for name, v in dict(VFA_SIM_MAGIC=MAGIC, VFA_SIM_WIRE_VERSION=WIRE_VERSION,
                        VFA_SIM_MSG_CALL=1, VFA_SIM_MSG_REGISTER_MEM=2,
                        VFA_SIM_MSG_UNREGISTER_MEM=3, VFA_SIM_MSG_MAP_MEMORY=4,
                        VFA_SIM_MSG_STATS_JSON=5).items():
        if num(wire, name) != v:
            bad.append("%s: header %s, wire.py %s" % (name, num(wire, name), v))
    # The method table, row by row: the X-macro's arguments, with the
    # header's own #defines expanded and evaluated (whatever its layout).
    text = abi.replace("\\\n", " ")
    defines = dict(re.findall(r"^#define\s+(\w+)\s+(.+?)\s*$", text, re.M))
    known = {"sizeof(struct vfa_identity)": IDENTITY_SIZE,
             "sizeof(struct vfa_dma_map_out)": DMA_MAP_OUT_SIZE,
             "sizeof(struct vfa_stats)": STATS_SIZE,
             "VFA_MF_SESSION": MF_SESSION, "VFA_MF_DEVICE": MF_DEVICE}

    def value(expr):
        for _ in range(8):                    # expand nested #defines
            expr = re.sub(r"\b[A-Z_][A-Z0-9_]*\b",
                          lambda m: "(%s)" % defines[m.group(0)]
                          if m.group(0) in defines and m.group(0) not in known else m.group(0),
                          expr)
        for k, v in known.items():
            expr = expr.replace(k, str(v))
        expr = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", expr)
        if not re.fullmatch(r"[0-9a-fA-Fx|<() ]*", expr):
            raise ValueError("cannot evaluate %r" % expr)
        return eval(expr)                     # digits and | << ( ) only, checked above

    body = text[text.index("#define VFA_METHODS(X)"):]
    rows = {}
    for m in re.finditer(r"\bX\(", body):
        depth, i = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(body[i], 0)
            i += 1
        args, depth, cur = [], 0, ""
        for ch in body[m.end():i - 1]:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and not depth:
                args.append(cur.strip())
                cur = ""
            else:
                cur += ch
        args.append(cur.strip())
        if len(args) != 9 or not args[1].startswith("VFA_SEL_"):
            break                             # past the table
        try:
            rows[args[0]] = tuple(value(a) for a in args[2:])
        except ValueError as e:
            bad.append("method %s: %s" % (args[0], e))
    if len(rows) != len(METHODS):
        bad.append("VFA_METHODS: %d rows in the header, %d here" % (len(rows), len(METHODS)))
    for name, got in rows.items():
        if METHODS.get(name) != got:
            bad.append("method %s: header %s, wire.py %s" % (name, got, METHODS.get(name)))
    return bad


# ------------------------------------------------------------ messages --
def message(type_, selector=0, scalars=(), struct_in=b"", struct_out_max=0, nscalars=None,
            struct_len=None, seq=1, magic=MAGIC, version=WIRE_VERSION):
    """A request; any field can be given a lying value."""
    sc = list(scalars)[:MAX_SCALARS] + [0] * (MAX_SCALARS - min(len(scalars), MAX_SCALARS))
    return CALL.pack(magic, version, type_, seq, 0, selector,
                     len(scalars) if nscalars is None else nscalars,
                     len(struct_in) if struct_len is None else struct_len,
                     struct_out_max, *[s & (2**64 - 1) for s in sc]) + struct_in


def call_msg(name_or_sel, *scalars, **kw):
    sel = SEL[name_or_sel] if isinstance(name_or_sel, str) else name_or_sel
    return message(MSG["CALL"], sel, scalars, **kw)


Reply = collections.namedtuple("Reply", "status seq nscalars struct_len scalars data fds")


def parse_reply(buf, fds=()):
    if len(buf) < REPLY.size:
        raise AssertionError("short reply: %d bytes" % len(buf))
    f = REPLY.unpack_from(buf)
    magic, version, _type, seq, _pad, status, ns, slen, _p2 = f[:9]
    if magic != MAGIC or version != WIRE_VERSION:
        raise AssertionError("reply with bad magic/version")
    if len(buf) != REPLY.size + slen:
        raise AssertionError("reply length %d, struct_len %d" % (len(buf), slen))
    return Reply(status, seq, ns, slen, list(f[9:9 + MAX_SCALARS]), buf[REPLY.size:], list(fds))


class Closed(Exception):
    """The server closed the connection."""


class Conn:
    """One connection to the simulator."""

    def __init__(self, path, timeout=5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        self.s.connect(path)
        self.timeout = timeout
        self.seq = 0

    def close(self):
        self.s.close()

    def fileno(self):
        return self.s.fileno()

    def send(self, data, fds=()):
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self.s.sendmsg([data], anc)

    def recv(self, timeout=None):
        """(bytes, fds); raises Closed on hang-up, TimeoutError on silence."""
        r, _, _ = select.select([self.s], [], [], self.timeout if timeout is None else timeout)
        if not r:
            raise TimeoutError("no reply within %.1f s" % (timeout or self.timeout))
        try:
            data, anc, _flags, _ = self.s.recvmsg(MAX_REPLY + 1, socket.CMSG_SPACE(16 * 4))
        except ConnectionResetError:
            raise Closed()
        fds = []
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                fds.extend(a)
        if not data and not fds:
            raise Closed()
        return data, fds

    def exchange(self, data, fds=()):
        self.send(data, fds)
        buf, rfds = self.recv()
        return parse_reply(buf, rfds)

    def closed_after(self, data, fds=()):
        """True if the server hangs up on this message instead of replying."""
        try:
            self.send(data, fds)
            self.recv()
        except (Closed, BrokenPipeError, ConnectionResetError):
            return True
        return False

    def call(self, name, *scalars, struct_in=b"", out=0, **kw):
        self.seq += 1
        r = self.exchange(call_msg(name, *scalars, struct_in=struct_in, struct_out_max=out,
                                   seq=self.seq, **kw))
        if r.seq != self.seq:
            raise AssertionError("reply seq %d for request %d" % (r.seq, self.seq))
        return r

    def open(self):
        r = self.call("OPEN", ABI_MAJOR, ABI_MINOR)
        expect(r.status == 0, "OPEN: %s" % err(r.status))
        return r

    def register(self, fd, va, length, off=0, fds=None):
        return self.exchange(message(MSG["REGISTER_MEM"], 0, (va, length, off)),
                             [fd] if fds is None else fds)

    def unregister(self, reg_id):
        return self.exchange(message(MSG["UNREGISTER_MEM"], 0, (reg_id,)))

    def map_memory(self, type_):
        return self.exchange(message(MSG["MAP_MEMORY"], 0, (type_,)))

    def stats(self):
        r = self.exchange(message(MSG["STATS_JSON"], struct_out_max=STATS_MAX))
        expect(r.status == 0, "STATS_JSON: %s" % err(r.status))
        return json.loads(r.data.decode())


def err(status):
    return ERR_NAME.get(status, str(status))


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


class Refused(AssertionError):
    """A request the test needed was refused (status in .status)."""

    def __init__(self, what, status):
        super().__init__("%s: %s" % (what, err(status)))
        self.status = status


def expect_status(r, want, what):
    want = want if isinstance(want, (list, tuple, set)) else [want]
    want = [E[w] if isinstance(w, str) else w for w in want]
    expect(r.status in want, "%s: status %s, want %s" % (what, err(r.status),
                                                         "/".join(err(w) for w in want)))


def owner_with_memory(sim, va, size, memfd_size=None):
    """A connection holding the session with `size` bytes of sealed memory
    registered at client address va: (conn, memfd, registration id)."""
    c = sim.connect()
    c.open()
    fd = sealed_memfd(memfd_size or size)
    r = c.register(fd, va, size)
    expect_status(r, 0, "REGISTER_MEM of %#x bytes" % size)
    return c, fd, r.scalars[0]


class Children:
    """
    n forked processes, each running body(stop_fd) and then exiting; body
    returns when told to (stop_fd becomes readable) or by itself.  They say
    when they are set up (ready() waits for that); finish() tells them to
    stop and reaps them.
    """

    def __init__(self, n, setup, body):
        self.r_ready, self.w_ready = os.pipe()
        self.r_stop, self.w_stop = os.pipe()
        self.pids = []
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                try:
                    state = setup()
                    os.write(self.w_ready, b"r")
                    body(state, self.r_stop)
                finally:
                    os._exit(0)
            self.pids.append(pid)

    def ready(self):
        for _ in self.pids:
            os.read(self.r_ready, 1)

    def finish(self):
        os.write(self.w_stop, b"s" * len(self.pids))
        for pid in self.pids:
            os.waitpid(pid, 0)
        for fd in (self.r_ready, self.w_ready, self.r_stop, self.w_stop):
            os.close(fd)


def sealed_memfd(size, name="hostile", seals=fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW):
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, size)
    if seals:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    return fd


def unsealed_memfd(size, name="hostile-unsealed"):
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, size)
    return fd


def seals_of(fd):
    return fcntl.fcntl(fd, fcntl.F_GET_SEALS)


def u32(mm, off):
    return struct.unpack_from("<I", mm, off)[0]


def put32(mm, off, v):
    struct.pack_into("<I", mm, off, v & 0xffffffff)


def wait_until(pred, timeout=3.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.002)
    raise AssertionError("timed out waiting for %s" % what)


# -------------------------------------------------------------- NVMe --
class Nvme:
    """
    Just enough of an NVMe driver over the wire for cases that need the
    device to work: session, BAR0 mapped, DMA memory registered and mapped
    through the DART, admin queues, Identify.
    """
    REG_CC, REG_CSTS, REG_AQA, REG_ASQ, REG_ACQ, REG_DBS = 0x14, 0x1c, 0x24, 0x28, 0x30, 0x1000
    CC_ENABLE = 1 | 6 << 16 | 4 << 20
    VA = 0x7e0000000000            # where the "client" says its memory lives

    def __init__(self, sim, mem_size=1 << 20, memfd=None):
        """memfd: DMA memory to use (mem_size bytes), else a sealed one.
        Raises Refused if the simulator will not register it."""
        self.c = sim.connect()
        self.c.open()
        r = self.c.map_memory(MEM_BAR0)
        expect_status(r, 0, "MAP_MEMORY BAR0")
        self.bar_fd = r.fds[0]
        self.bar = mmap.mmap(self.bar_fd, r.scalars[0], mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        self.memfd = sealed_memfd(mem_size) if memfd is None else memfd
        self.mem = mmap.mmap(self.memfd, mem_size, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        r = self.c.register(self.memfd, self.VA, mem_size)
        if r.status:
            raise Refused("REGISTER_MEM", r.status)
        r = self.c.call("DMA_MAP", self.VA, mem_size, DMA_TO_DEVICE | DMA_FROM_DEVICE,
                        out=DMA_MAP_OUT_SIZE)
        expect_status(r, 0, "DMA_MAP")
        self.handle, nsegs = struct.unpack_from("<QI", r.data)
        self.segs = [struct.unpack_from("<QQ", r.data, 16 + 16 * i) for i in range(nsegs)]
        r = self.c.call("CONFIG_WRITE", 4, 2, 0x0406)     # memory, bus master, INTx off
        expect_status(r, 0, "CONFIG_WRITE command")
        self.sq_tail = 0
        self.cq_head = 0
        self.phase = 1

    def iova(self, off):
        for iova, ln in self.segs:
            if off < ln:
                return iova + off
            off -= ln
        raise AssertionError("offset beyond the DMA mapping")

    def rd(self, off):
        return u32(self.bar, off)

    def wr(self, off, v):
        put32(self.bar, off, v)

    def enable(self, asq_iova=None):
        self.wr(self.REG_AQA, 31 << 16 | 31)
        asq = self.iova(0) if asq_iova is None else asq_iova
        acq = self.iova(0x1000)
        self.wr(self.REG_ASQ, asq), self.wr(self.REG_ASQ + 4, asq >> 32)
        self.wr(self.REG_ACQ, acq), self.wr(self.REG_ACQ + 4, acq >> 32)
        self.wr(self.REG_CC, self.CC_ENABLE)
        wait_until(lambda: self.rd(self.REG_CSTS) & 1, what="CSTS.RDY")

    def submit(self, opcode, cid, prp1=0, cdw10=0, nsid=0):
        sqe = struct.pack("<BBHIIIQQQIIIIII", opcode, 0, cid, nsid, 0, 0, 0, prp1, 0,
                          cdw10, 0, 0, 0, 0, 0)
        self.mem[self.sq_tail * 64:self.sq_tail * 64 + 64] = sqe
        self.sq_tail = (self.sq_tail + 1) % 32
        self.wr(self.REG_DBS, self.sq_tail)

    def reap(self, timeout=3.0):
        """(cid, status) of the next admin completion, or None."""
        off = 0x1000 + self.cq_head * 16
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            cid, st = struct.unpack_from("<HH", self.mem, off + 12)
            if (st & 1) == self.phase:
                self.cq_head = (self.cq_head + 1) % 32
                if not self.cq_head:
                    self.phase ^= 1
                self.wr(self.REG_DBS + 4, self.cq_head)
                return cid, st >> 1
            time.sleep(0.001)
        return None

    def identify(self, cid=1):
        self.submit(0x06, cid, prp1=self.iova(0x2000), cdw10=1)
        got = self.reap()
        expect(got is not None, "Identify: no completion (CSTS %#x)" % self.rd(self.REG_CSTS))
        expect(got == (cid, 0), "Identify: completion %s" % (got,))

    def close(self):
        for m in (self.bar, self.mem):
            try:
                m.close()
            except (BufferError, ValueError):
                pass
        for fd in (self.bar_fd, self.memfd):
            try:
                os.close(fd)
            except OSError:
                pass


# ------------------------------------------------------------- simulator --
class Sim:
    """One vfio-apple-sim in a temporary directory."""

    def __init__(self, args, tmp):
        self.dir = tempfile.mkdtemp(prefix="sim.", dir=tmp)
        self.path = os.path.join(self.dir, "s.sock")
        self.log_path = os.path.join(self.dir, "sim.log")
        self.args = args
        self.conns = []
        self.proc = None

    def start(self):
        device = [a for a in self.args if a.startswith("--device")]
        cmd = [SIM, "--socket", self.path] + ([] if device else
                                              ["--device", "nvme,size=16M,queues=2,vectors=4"])
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd + self.args, stdout=subprocess.DEVNULL,
                                     stderr=self.log, close_fds=True)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError("simulator exited at start (%s): %s" %
                                     (self.proc.returncode, self.log_tail()))
            if os.path.exists(self.path):
                return
            time.sleep(0.01)
        raise AssertionError("simulator did not create its socket")

    @property
    def pid(self):
        return self.proc.pid

    def connect(self, keep=True):
        c = Conn(self.path)
        if keep:
            self.conns.append(c)
        return c

    def close_conns(self):
        for c in self.conns:
            c.close()
        self.conns = []

    def log_text(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_tail(self, n=3):
        return " | ".join(self.log_text().strip().splitlines()[-n:])

    def vm_size(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
        return 0

    def nfds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def check_alive(self):
        """Still running, and a fresh client gets GET_VERSION and stats."""
        rc = self.proc.poll()
        if rc is not None:
            raise AssertionError("simulator died (%s): %s" % (describe_exit(rc), self.log_tail()))
        c = Conn(self.path)
        try:
            r = c.call("GET_VERSION")
            expect(r.status == 0 and r.scalars[0] == ABI_MAJOR, "fresh client: GET_VERSION %s" %
                   err(r.status))
            c.stats()
        finally:
            c.close()

    def stop(self):
        """SIGTERM; returns None if it stopped cleanly, else why not."""
        if self.proc is None:
            return None
        why = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                why = "did not stop on SIGTERM"
        if why is None and self.proc.returncode != 0:
            why = "exit: %s" % describe_exit(self.proc.returncode)
        self.log.close()
        return why


def describe_exit(rc):
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "status %d" % rc


# ---------------------------------------------------------------- runner --
def case(args=(), xfail=None):
    """Decorator: simulator arguments for the case, and an expected failure."""
    def mark(fn):
        fn.sim_args = list(args)
        fn.xfail = xfail
        return fn
    return mark


def run(module_globals):
    """Runs every case_* function of the calling test file, in order."""
    file = os.path.splitext(os.path.basename(module_globals["__file__"]))[0]
    tmp = os.environ.get("VFA_HOSTILE_TMP") or tempfile.mkdtemp(prefix="vfa-hostile.")
    only = set(sys.argv[1:])
    failed = False
    cases = [(n[5:], f) for n, f in module_globals.items() if n.startswith("case_") and callable(f)]
    for name, fn in cases:
        if only and name not in only:
            continue
        label = "hostile/%s/%s" % (file, name)
        sim = Sim(getattr(fn, "sim_args", []), tmp)
        result, why = "PASS", ""
        t0 = time.monotonic()
        try:
            sim.start()
            try:
                fn(sim)
            except Exception as e:
                if getattr(fn, "xfail", None):
                    result, why = "XFAIL", "%s (expected: %s)" % (e, fn.xfail)
                else:
                    raise
            sim.close_conns()
            sim.check_alive()
        except Exception as e:
            result = "FAIL"
            why = "%s: %s" % (type(e).__name__, e) if not isinstance(e, AssertionError) else str(e)
            rc = sim.proc.poll() if sim.proc else None
            if rc is not None and "simulator died" not in why:
                why += " (simulator died: %s)" % describe_exit(rc)
            if os.environ.get("VFA_HOSTILE_DEBUG"):
                traceback.print_exc()
        finally:
            sim.close_conns()
            stop = sim.stop()
        if stop and result != "FAIL":
            result, why = "FAIL", "simulator %s: %s" % (stop, sim.log_tail())
        if result == "PASS" and getattr(fn, "xfail", None):
            why = "passes although marked expected-to-fail (%s): remove the mark" % fn.xfail
        dt = time.monotonic() - t0
        line = "%s: %s" % (result, label) + (": %s" % why if why else "")
        if os.environ.get("VFA_HOSTILE_TIMES"):
            line += "  [%.2fs]" % dt
        print(line, flush=True)
        failed |= result == "FAIL"
    return 1 if failed else 0
