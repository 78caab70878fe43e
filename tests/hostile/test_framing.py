"""Framing of any message: truncated, random, oversized, lying lengths, stray fds."""
import os
import random
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403


def case_truncated_headers(sim):
    # Shorter than the header: nothing to reply to; the connection goes.
    good = call_msg("GET_VERSION")
    for n in range(0, HDR.size):
        c = sim.connect()
        expect(c.closed_after(good[:n]), "%d-byte message: connection kept" % n)


def case_truncated_calls(sim):
    # A header but less than a whole request: VFA_E_PROTO, connection kept.
    c = sim.connect()
    good = call_msg("GET_VERSION")
    for n in range(HDR.size, CALL.size):
        expect_status(c.exchange(good[:n]), "PROTO", "%d-byte request" % n)
    expect_status(c.call("GET_VERSION"), 0, "the same connection afterwards")


def case_bad_magic_and_version(sim):
    for kw in (dict(magic=0), dict(magic=MAGIC ^ 1), dict(version=0), dict(version=2),
               dict(version=0xffff)):
        c = sim.connect()
        expect(c.closed_after(message(MSG["CALL"], **kw)), "%s: connection kept" % kw)


def case_lying_lengths(sim):
    c = sim.connect()
    for what, msg in [
        ("struct_len beyond the bytes", call_msg("GET_VERSION", struct_len=100)),
        ("struct_len short of the bytes", call_msg("GET_VERSION", struct_in=b"x" * 8,
                                                   struct_len=4)),
        ("struct_len > 4096", call_msg("GET_VERSION", struct_in=b"x" * 8, struct_len=5000)),
        ("struct_len 2^32-1", call_msg("GET_VERSION", struct_len=0xffffffff)),
        ("nscalars 17", call_msg("GET_VERSION", nscalars=17)),
        ("nscalars 2^32-1", call_msg("GET_VERSION", nscalars=0xffffffff)),
        ("struct_out_max 4097", call_msg("GET_IDENTITY", struct_out_max=4097)),
        ("struct_out_max 2^32-1", call_msg("GET_IDENTITY", struct_out_max=0xffffffff)),
        ("STATS_JSON out 64K+1", message(MSG["STATS_JSON"], struct_out_max=STATS_MAX + 1)),
        ("unknown type 0", message(0)),
        ("unknown type 6", message(6)),
        ("unknown type 0xffff", message(0xffff)),
    ]:
        expect_status(c.exchange(msg), "PROTO", what)
    expect_status(c.exchange(message(MSG["STATS_JSON"], struct_out_max=STATS_MAX)), 0,
                  "STATS_JSON with the full 64K")


def case_oversized(sim):
    c = sim.connect()
    for n in (MAX_REQUEST + 1, 8192, 65536, 200000):
        body = b"\0" * (n - CALL.size)
        expect_status(c.exchange(call_msg("GET_VERSION", struct_in=body, struct_len=0)),
                      "PROTO", "%d-byte request" % n)
    expect_status(c.call("GET_VERSION"), 0, "the same connection afterwards")


def case_random_messages(sim):
    # Seeded: a failure here can be replayed.  Half start with a valid
    # header (random type, selector, counts, scalars), half are noise; a
    # connection the server drops is replaced.
    rng = random.Random(0x5eed)
    c = sim.connect(keep=False)
    replies = drops = 0
    for i in range(3000):
        if rng.random() < 0.5:
            msg = message(rng.choice([1, 1, 1, 2, 3, 4, 5, rng.randrange(65536)]),
                          rng.choice([rng.randrange(SEL_COUNT), rng.randrange(2**32)]),
                          [rng.choice([0, 1, 4, 4096, 2**32, 2**64 - 1, rng.randrange(2**64)])
                           for _ in range(rng.randrange(17))],
                          bytes(rng.randrange(256) for _ in range(rng.choice([0, 0, 8, 300]))),
                          struct_out_max=rng.choice([0, 16, 4096, 65536, rng.randrange(2**32)]),
                          seq=i)
            if rng.random() < 0.3:
                msg = msg[:rng.randrange(len(msg) + 1)]
        else:
            msg = bytes(rng.randrange(256) for _ in range(rng.randrange(600)))
        try:
            c.send(msg)
            buf, fds = c.recv()
            for fd in fds:
                os.close(fd)
            r = parse_reply(buf, fds)
            expect(r.status in ERR_NAME, "reply %d: unknown status %d" % (i, r.status))
            replies += 1
        except (Closed, BrokenPipeError, ConnectionResetError):
            drops += 1
            c.close()
            c = sim.connect(keep=False)
    c.close()
    expect(replies > 1000 and drops > 100, "replies %d drops %d" % (replies, drops))


def case_unexpected_fds(sim):
    c = sim.connect()
    r_, w_ = os.pipe()
    s1, s2 = socket.socketpair()
    devnull = os.open("/dev/null", os.O_RDWR)
    fds = [r_, w_, s1.fileno(), devnull]
    before = sim.nfds()
    for _ in range(50):
        expect_status(c.exchange(call_msg("GET_VERSION"), [devnull]), "PROTO", "fd on a CALL")
        expect_status(c.exchange(call_msg("GET_VERSION"), fds), "PROTO", "4 fds on a CALL")
        expect_status(c.exchange(call_msg("GET_VERSION"), fds * 4), "PROTO", "16 fds on a CALL")
        expect_status(c.exchange(message(MSG["STATS_JSON"], struct_out_max=STATS_MAX), [r_]),
                      "PROTO", "fd on STATS_JSON")
        expect_status(c.exchange(message(MSG["MAP_MEMORY"], 0, (MEM_BAR0,)), [w_]), "PROTO",
                      "fd on MAP_MEMORY")
        expect_status(c.exchange(message(MSG["REGISTER_MEM"], 0, (0, PAGE, 0))), "PROTO",
                      "REGISTER_MEM without an fd")
        expect_status(c.exchange(message(MSG["REGISTER_MEM"], 0, (0, PAGE, 0)), [r_, w_]),
                      "PROTO", "REGISTER_MEM with two fds")
    # Every fd that came in was closed again (no leak per message).
    expect(sim.nfds() <= before + 2, "simulator fds %d -> %d" % (before, sim.nfds()))
    # Fds of the wrong kind where one belongs (with the session, so the
    # fd itself is what gets refused).
    c.open()
    for what, fd in [("pipe", r_), ("socket", s1.fileno()), ("/dev/null", devnull)]:
        expect_status(c.register(fd, 0x100000000, PAGE), "INVAL", "REGISTER_MEM of a " + what)
    for fd in (r_, w_, devnull):
        os.close(fd)
    s1.close()
    s2.close()


if __name__ == "__main__":
    sys.exit(run(globals()))
