#!/usr/bin/env bash
# QEMU-level tests of vfio-apple-pci without a guest boot: our qtest
# (qemu/tests/qtest/vfio-apple-test.c, built with QEMU by qemu-build.sh)
# against build/vfio-apple-sim.  Prints PASS:/FAIL: lines from its TAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
sim=$top/build/vfio-apple-sim
if ! bin=$("$top/scripts/qemu-build.sh" 2>/tmp/vfa-qtest-build.err | tail -1) || [ ! -x "$bin" ]; then
	echo "FAIL: qtest/build: $(tail -3 /tmp/vfa-qtest-build.err | tr '\n' ' ')"
	exit 0
fi
build=$(dirname "$bin")
qtest=$build/tests/qtest/vfio-apple-test
[ -x "$qtest" ] || { echo "FAIL: qtest/build: $qtest was not built"; exit 0; }
[ -x "$sim" ] || { echo "FAIL: qtest/sim: $sim missing (make all)"; exit 0; }
log=$top/build/qtest.log
mkdir -p "$top/build"
(cd "$build" && QTEST_QEMU_BINARY=./qemu-system-aarch64 VFIO_APPLE_SIM=$sim \
	timeout 600 ./tests/qtest/vfio-apple-test --tap -k) >"$log" 2>&1
rc=$?
n=$(grep -cE '^(not )?ok ' "$log")
sed -n -E 's|^ok [0-9]+ /aarch64/vfio-apple/(.*)|PASS: qtest/\1|p;
	s|^not ok [0-9]+ /aarch64/vfio-apple/(.*)|FAIL: qtest/\1 (see build/qtest.log)|p' "$log"
if [ "$rc" != 0 ] && ! grep -q '^not ok' "$log"; then
	echo "FAIL: qtest/run: exited $rc after $n test(s): $(grep -E 'ERROR|Bail' "$log" | head -2 | tr '\n' ' ') (see build/qtest.log)"
fi
