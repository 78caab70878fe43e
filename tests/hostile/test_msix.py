"""MMIO_WRITE (CALL selector 9) into the MSI-X table: the host's entries must stay."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wire import *  # noqa: E402,F401,F403

TABLE, PBA = 0x4000, 0x5000     # BAR0 offsets of the NVMe model's table and PBA

# The dext core keeps MMIO away from the MSI-X table and PBA (its MMIO
# guard, dext/core/device.c); against a core without it this case fails
# with every entry overwritten.


def msix_state(c):
    p = c.stats()["platform"]
    return p["msix_entries_programmed"], p["msix_entries_altered"]


def case_table_writes_do_not_reach_the_device(sim):
    d = Nvme(sim)
    expect_status(d.c.call("IRQ_SETUP", IRQ_MSIX, 4), 0, "IRQ_SETUP")
    expect(msix_state(d.c) == (4, 0), "after IRQ_SETUP: %s" % (msix_state(d.c),))
    # The platform's own view of the device's table, past the core: every
    # entry as the host programmed it.  Now the client tries to redirect
    # and mask them, at every width and offset.
    for v in range(4):
        e = TABLE + 16 * v
        for off, width, val in ((0, 4, 0xdeadbeef), (4, 4, 0x1), (8, 4, 0x4242), (12, 4, 1),
                                (0, 8, 0x00000001fee0f000), (8, 8, 2**64 - 1), (3, 1, 0xff),
                                (12, 2, 0xffff)):
            d.c.call("MMIO_WRITE", 0, e + off, width, val)     # refused or dropped: either
    d.c.call("MMIO_WRITE", 0, PBA, 8, 2**64 - 1)
    # The session still works either way...
    expect_status(d.c.call("IRQ_ENABLE", 0, 4, 1), 0, "IRQ_ENABLE")
    d.enable()
    d.identify()
    # ...and the device kept the host's table.
    prog, altered = msix_state(d.c)
    expect(prog == 4 and altered == 0, "%d of %d MSI-X entries overwritten by MMIO_WRITE" %
           (altered, prog))
    d.close()


def case_table_reprogrammed_on_reset(sim):
    # Whatever happened to the table, RESET re-programs it from the host's
    # values (independent of the guard; passes today).
    c = sim.connect()
    c.open()
    expect_status(c.call("IRQ_SETUP", IRQ_MSIX, 4), 0, "IRQ_SETUP")
    c.call("MMIO_WRITE", 0, TABLE, 4, 0xdeadbeef)
    expect_status(c.call("RESET", 0), 0, "RESET")
    expect(msix_state(c) == (4, 0), "after RESET: %s" % (msix_state(c),))


if __name__ == "__main__":
    sys.exit(run(globals()))
