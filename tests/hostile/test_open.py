"""OPEN and CLOSE (CALL selectors 2, 3): racing opens from several connections."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403


def case_racing_opens(sim):
    # Every connection sends OPEN before any reads its reply: exactly one
    # wins each round, whoever the server reads first.
    conns = [sim.connect() for _ in range(12)]
    for rnd in range(30):
        for c in conns:
            c.send(call_msg("OPEN", ABI_MAJOR, ABI_MINOR, seq=rnd))
        res = [parse_reply(c.recv()[0]).status for c in conns]
        wins = [i for i, st in enumerate(res) if st == 0]
        expect(len(wins) == 1 and all(st == E["BUSY"] for i, st in enumerate(res) if i != wins[0]),
               "round %d: %s" % (rnd, [err(s) for s in res]))
        w = conns[wins[0]]
        expect_status(w.call("CONFIG_READ", 0, 4), 0, "the winner owns the device")
        if rnd % 2:
            expect_status(w.call("CLOSE"), 0, "winner closes")
        else:
            w.close()                         # or hangs up holding it
            conns[wins[0]] = sim.connect()
        wait_until(lambda: not sim.connect(keep=False).stats()["session_open"],
                   what="session released")


def case_threads_open_close(sim):
    # Threads on their own connections open, use and close as fast as they
    # can: whoever holds the session can use it, the others get BUSY, and
    # nobody ever sees another client's session as its own.
    errors = []
    wins = [0] * 6

    def worker(k):
        c = Conn(sim.path)
        try:
            for _ in range(150):
                r = c.call("OPEN", ABI_MAJOR, ABI_MINOR)
                if r.status == 0:
                    wins[k] += 1
                    if c.call("CONFIG_READ", 0, 4).status != 0:
                        errors.append("owner could not read config")
                    if c.call("OPEN", ABI_MAJOR, ABI_MINOR).status != E["ALREADY"]:
                        errors.append("second OPEN not ALREADY")
                    if c.call("CLOSE").status != 0:
                        errors.append("owner could not close")
                elif r.status != E["BUSY"]:
                    errors.append("OPEN: %s" % err(r.status))
                elif c.call("CONFIG_READ", 0, 4).status != E["PERM"]:
                    errors.append("a refused client read config")
        except Exception as e:               # noqa: BLE001 (reported below)
            errors.append(repr(e))
        finally:
            c.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    expect(not errors, "; ".join(errors[:5]))
    st = sim.connect().stats()["core"]
    expect(sum(wins) == st["sessions_opened"] == st["sessions_closed"] and sum(wins) > 0,
           "wins %d, opened %d, closed %d" % (sum(wins), st["sessions_opened"],
                                             st["sessions_closed"]))


def case_bad_opens(sim):
    c = sim.connect()
    for major in (0, ABI_MAJOR + 1, 2**64 - 1):
        expect_status(c.call("OPEN", major, 0), "PROTO", "OPEN with major %d" % major)
    expect_status(c.call("CLOSE"), "PERM", "CLOSE without a session")
    c.open()
    expect_status(c.call("OPEN", ABI_MAJOR, ABI_MINOR), "ALREADY", "OPEN twice")
    expect_status(c.call("CLOSE"), 0, "CLOSE")
    expect_status(c.call("CLOSE"), "PERM", "CLOSE twice")


if __name__ == "__main__":
    sys.exit(run(globals()))
