"""The ACPI tables a guest booted with, as iasl (Debian's acpica-tools)
disassembles them: the PCIe host bridge's _DMA ranges and the IORT root
complex's memory address size limit."""
import os
import re
import subprocess

HEX = r"0x([0-9A-Fa-f]+)"


def disassemble(run, name, hexdump):
    """Write table `name` (hex bytes, as acpi.sh prints them) under the
    test's logs and disassemble it; return the .dsl text."""
    path = os.path.join(run.logdir, f"{name}.dat")
    with open(path, "wb") as f:
        f.write(bytes.fromhex(hexdump))
    subprocess.run(["iasl", "-d", path], check=True, cwd=run.logdir,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    with open(path[:-4] + ".dsl") as f:
        return f.read()


def dma_ranges(dsdt_dsl):
    """The QWordMemory descriptors of the first _DMA, as dicts of bus (range
    minimum), max, translation and length; [] when there is no _DMA."""
    m = re.search(r"Name \(_DMA, ResourceTemplate \(\)[^\n]*\n\s*\{(.*?)\n\s*\}\)", dsdt_dsl, re.S)
    if not m:
        return []
    out = []
    for block in re.split(r"QWordMemory", m.group(1))[1:]:
        vals = dict((k, int(v, 16)) for v, k in
                    re.findall(HEX + r",?\s*// (Granularity|Range Minimum|Range Maximum|"
                               r"Translation Offset|Length)", block))
        out.append(dict(bus=vals.get("Range Minimum"), max=vals.get("Range Maximum"),
                        translation=vals.get("Translation Offset"), size=vals.get("Length"),
                        producer="ResourceProducer" in block.split("\n")[0]))
    return out


def iort_rc_address_limit(iort_dsl):
    """The root complex node's (type 02) "Memory Size Limit" (bits; iasl
    prints it in hex), or None."""
    rc = re.search(r"\] +Type : 02\n", iort_dsl)
    if not rc:
        return None
    m = re.search(r"Memory Size Limit : ([0-9A-Fa-f]+)", iort_dsl[rc.end():])
    return int(m.group(1), 16) if m else None


def dma_snippet(dsdt_dsl):
    """The _DMA object's lines, for a person to read in the test log."""
    m = re.search(r"[ \t]*Name \(_DMA.*?\n\s*\}\)", dsdt_dsl, re.S)
    return m.group(0) if m else "(no _DMA)"
