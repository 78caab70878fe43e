"""Connections: flooding the table from one or many processes, a busy flood vs the owner."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403


def in_child(fn):
    """Runs fn() in a forked process; True if it returned without raising."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def fresh_client(path):
    def check():
        c = Conn(path)
        expect_status(c.call("GET_VERSION"), 0, "GET_VERSION")
    return check


def hung_up(c, timeout=2.0):
    try:
        c.recv(timeout)
    except Closed:
        return True
    except TimeoutError:
        return False
    return False


def case_flood_one_process(sim):
    # 64 connections that never send, from one process: the server keeps
    # 16 of them (its per-process bound) and closes the rest at once.
    conns = [sim.connect() for _ in range(64)]
    closed = sum(hung_up(c, 0.5) for c in conns[16:])
    expect(closed == 48, "%d of 48 connections over the bound closed" % closed)
    expect(not any(hung_up(c, 0.01) for c in conns[:16]), "a connection within the bound closed")
    expect(in_child(fresh_client(sim.path)), "a client of another process was locked out")
    expect(hung_up(sim.connect()), "a 17th connection of this process was kept")
    for c in conns[:8]:
        c.close()
    c = sim.connect()
    expect_status(c.call("GET_VERSION"), 0, "this process again, below its bound")
    s = c.stats()["server"]
    expect(s["connections_refused_per_peer"] >= 49, str(s))


def case_flood_many_processes_owner_kept(sim):
    # Six processes take 16 connections each, 96 > 64: the table fills and
    # new connections evict the longest-idle ones, never the session owner.
    owner = sim.connect()
    owner.open()
    kids = Children(6, lambda: [Conn(sim.path) for _ in range(16)],
                    lambda conns, stop: os.read(stop, 1))
    try:
        kids.ready()
        time.sleep(0.1)                       # the server accepts them all
        expect(in_child(fresh_client(sim.path)), "a new client was locked out")
        expect_status(owner.call("CONFIG_READ", 0, 4), 0, "the owner after the flood")
        st = owner.stats()
        expect(st["server"]["connections_evicted"] >= 33 and st["session_open"],
               "evicted %d" % st["server"]["connections_evicted"])
    finally:
        kids.finish()


def busy(conns, stop):
    """Pipelined GET_VERSIONs, 8 in flight per connection, until told to stop."""
    os.set_blocking(stop, False)
    msg = call_msg("GET_VERSION")
    while True:
        try:
            if os.read(stop, 1):
                return
        except BlockingIOError:
            pass
        for c in conns:
            for _ in range(8):
                c.send(msg)
        for c in conns:
            for _ in range(8):
                c.recv()


def case_busy_flood_owner_served(sim):
    # Two processes keep 15 connections each busy with pipelined requests
    # while the owner works: the server takes at most one request per
    # connection per pass, the owner's first, so the owner's calls go
    # through at their own pace.
    owner = sim.connect()
    owner.open()
    kids = Children(2, lambda: [Conn(sim.path) for _ in range(15)], busy)
    try:
        kids.ready()
        time.sleep(0.2)
        t0 = time.monotonic()
        for _ in range(300):
            expect_status(owner.call("CONFIG_READ", 0, 4), 0, "owner CONFIG_READ")
        dt = time.monotonic() - t0
        expect(dt < 10, "300 owner calls took %.1f s under the flood" % dt)
        served = owner.stats()["core"]["calls"]["GET_VERSION"]
        expect(served > 1000, "the flood itself was not served (%d)" % served)
    finally:
        kids.finish()


def case_reply_hog_dropped(sim):
    # A client that pipelines requests and never reads the replies fills
    # its socket: the server drops it instead of blocking on it.
    c = sim.connect()
    c.s.setblocking(False)
    msg = message(MSG["STATS_JSON"], struct_out_max=STATS_MAX)
    sent = 0
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            c.s.send(msg)
            sent += 1
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break
    c.s.setblocking(True)
    expect("hung up or misbehaved" in sim.log_text(), "never dropped after %d requests" % sent)


if __name__ == "__main__":
    sys.exit(run(globals()))
