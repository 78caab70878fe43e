"""Log flooding: whatever clients send, the log grows by a bounded amount, and says so."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403


def flood(c, n, msg, fds=()):
    for _ in range(n):
        c.send(msg, fds)
        c.recv()


def log_lines(sim):
    return sim.log_text().splitlines()


def case_one_client_malformed(sim):
    # 20,000 malformed requests (each answered VFA_E_PROTO) from one
    # connection: a few lines, then one a second, and the rest counted.
    c = sim.connect()
    n0 = len(log_lines(sim))
    t0 = time.monotonic()
    flood(c, 20000, call_msg("GET_VERSION", nscalars=99))
    secs = time.monotonic() - t0
    c.close()
    wait_until(lambda: "of its log lines suppressed" in sim.log_text(), what="the disconnect line")
    lines = log_lines(sim)[n0:]
    expect(len(lines) <= 10 + 2 * secs, "%d lines for 20,000 requests in %.1f s" % (len(lines), secs))
    s = sim.connect().stats()["server"]
    expect(s["protocol_errors"] == 20000, "protocol_errors %d" % s["protocol_errors"])
    expect(s["log_lines_suppressed"] >= 20000 - len(lines), "suppressed %d" % s["log_lines_suppressed"])


def case_many_clients_and_churn(sim):
    # Many connections, each flooding a little, and connection churn: each
    # connection has its own small share, and the global limit holds the
    # total.  What it held back is announced within a second or so.
    size0 = len(sim.log_text())
    for _ in range(400):
        c = Conn(sim.path)
        c.send(b"not the protocol")           # dropped: one line each (until limited)
        try:
            c.recv(1)
        except Closed:
            pass
        c.close()
    cs = [sim.connect() for _ in range(15)]
    for _ in range(100):
        for c in cs:
            c.send(call_msg(SEL_COUNT, nscalars=40))
        for c in cs:
            c.recv()
    grew = len(sim.log_text()) - size0
    expect(grew < 40 * 1024, "log grew %d bytes" % grew)
    wait_until(lambda: "log lines suppressed (rate limit)" in sim.log_text(), timeout=4,
               what="the suppression note")
    s = sim.connect().stats()["server"]
    expect(s["log_lines_suppressed"] > 1000 and s["protocol_errors"] >= 1900,
           "suppressed %d, protocol errors %d" % (s["log_lines_suppressed"], s["protocol_errors"]))


def case_refused_registrations(sim):
    # Refusals that carry a reason (unsealed memory) are limited the same way.
    c = sim.connect()
    c.open()
    fd = unsealed_memfd(PAGE)
    n0 = len(log_lines(sim))
    t0 = time.monotonic()
    flood(c, 5000, message(MSG["REGISTER_MEM"], 0, (0x100000000, PAGE, 0)), [fd])
    secs = time.monotonic() - t0
    os.close(fd)
    lines = [l for l in log_lines(sim)[n0:] if "not sealed" in l]
    expect(1 <= len(lines) <= 6 + 2 * secs, "%d refusal lines for 5,000 refusals" % len(lines))
    expect(c.stats()["platform"]["registrations_refused"] == 5000, "refusals not counted")


if __name__ == "__main__":
    sys.exit(run(globals()))
