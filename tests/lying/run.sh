#!/usr/bin/env bash
# Lying-dext tests: QEMU's vfio-apple-pci against tests/lying/fake_dext.py,
# one QEMU start per lie (see tests/lying/run_lies.py).  Builds nothing
# itself: the QEMU binary comes from scripts/qemu-build.sh (up to date, or
# built), or VFIO_APPLE_QEMU=<binary> (e.g. an ASan build:
# VFIO_APPLE_QEMU_SANITIZE=asan scripts/qemu-build.sh prints its path).
# The binary is copied first, so a rebuild meanwhile does not change it
# under the run.  Prints one line per case:
#   PASS: lying/<case>
#   FAIL: lying/<case>: <reason>
#   XFAIL: lying/<case>: <reason>    (known QEMU weakness, not counted)
# Exits non-zero if any case failed.
#   tests/lying/run.sh [case ...]
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d /tmp/vfa-lying-bin.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

qemu=${VFIO_APPLE_QEMU:-}
if [ -z "$qemu" ]; then
	if ! qemu=$("$ROOT/scripts/qemu-build.sh" 2>"$TMP/build.err" | tail -1) || [ ! -x "$qemu" ]; then
		echo "FAIL: lying/setup: scripts/qemu-build.sh failed: $(tail -n 3 "$TMP/build.err" | tr '\n' ' ')"
		exit 1
	fi
fi
if [ ! -x "$qemu" ]; then
	echo "FAIL: lying/setup: no QEMU binary at $qemu"
	exit 1
fi
cp "$qemu" "$TMP/qemu-system-aarch64"
/usr/bin/python3 "$HERE/run_lies.py" "$TMP/qemu-system-aarch64" "$@" 2>"$TMP/run.err" | tee "$TMP/out"
rc=${PIPESTATUS[0]}
cat "$TMP/run.err" >&2
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL:' "$TMP/out"; then
	echo "FAIL: lying/run: run_lies.py exited $rc: $(tail -n 3 "$TMP/run.err" | tr '\n' ' ')"
fi
exit "$rc"
