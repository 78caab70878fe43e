#!/usr/bin/env bash
# The project's test command (README: `make check`).  Installs what it needs,
# builds everything, runs every test group, and ends with one line:
#   N passed, N failed
#
# Groups: unit (cmocka), mutation (tests/mutation: broken code must fail
# a unit test), fuzz (libFuzzer, FUZZ_SECONDS each), build (QEMU
# build cache and patch handling), qtest (vfio-apple-pci in QEMU against
# the simulator, no guest), sim (test client against the simulator),
# cli (the vfio-apple command against the simulator),
# lying (QEMU's vfio-apple-pci against a fake dext that lies),
# hostile (malformed and abusive clients against the simulator's socket),
# guest (the apple_dma module for each guest kernel, its DKMS package),
# e2e (arm64 guest under QEMU TCG).  TEST_GROUPS="unit e2e" picks some.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cd "$TOP"

GROUPS_SEL=${TEST_GROUPS:-"unit mutation fuzz build qtest sim cli lying hostile macos guest e2e"}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
RESULTS=$TOP/build/test-results.txt
mkdir -p build
: >"$RESULTS"

pass=0
fail=0
record() {        # record PASS|FAIL name [reason]
	local r=$1 n=$2; shift 2
	if [ "$r" = PASS ]; then
		pass=$((pass + 1)); echo "PASS: $n"
	else
		fail=$((fail + 1)); echo "FAIL: $n${*:+: $*}"
	fi
	echo "$r $n $*" >>"$RESULTS"
}
# Count PASS:/FAIL: lines a group printed (they are already on screen).
tally() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case $line in
		PASS:\ *) pass=$((pass + 1)); echo "$line" >>"$RESULTS" ;;
		FAIL:\ *) fail=$((fail + 1)); echo "$line" >>"$RESULTS" ;;
		esac
	done
}
want() { case " $GROUPS_SEL " in *" $1 "*) return 0 ;; esac; return 1; }
t0=$(date +%s)
phase() { step "[$(( $(date +%s) - t0 ))s] $*"; }

phase "dependencies"
"$here/bootstrap.sh" || { record FAIL setup/bootstrap "dependency installation failed"; echo "$pass passed, $fail failed"; exit 1; }

phase "building host C code"
if make -s -j2 all >build/make.log 2>&1; then
	record PASS build/host-c
else
	tail -30 build/make.log
	record FAIL build/host-c "make all failed; see build/make.log"
fi

# group NAME TITLE SCRIPT [PREFIX]: a group whose script prints PASS:/FAIL:
# lines (names given PREFIX when the script does not name its group).
group() {
	local name=$1 title=$2 script=$3 prefix=${4:-}
	want "$name" || return 0
	phase "$title"
	if [ ! -x "$script" ]; then
		record FAIL "$name/run" "$script missing"
		return 0
	fi
	tally < <("$script" 2>&1 | sed -E "s#^(PASS|FAIL): #\1: $prefix#")
}

if want unit; then
	phase "unit tests (cmocka)"
	for t in $(make -s list-unit-tests); do
		if [ ! -x "$t" ]; then record FAIL "unit/$(basename "$t")" "not built"; continue; fi
		CMOCKA_MESSAGE_OUTPUT=TAP "./$t" >"build/$(basename "$t").tap" 2>&1
		rc=$?
		n_before=$((pass + fail))
		tally < <(sed -n -E "s/^ok [0-9]+ - (.*)/PASS: unit\/$(basename "$t")\/\1/p; s/^not ok [0-9]+ - (.*)/FAIL: unit\/$(basename "$t")\/\1/p" "build/$(basename "$t").tap")
		if [ $rc != 0 ] && [ $((pass + fail)) = "$n_before" ]; then
			record FAIL "unit/$(basename "$t")" "exited $rc without results; see build/$(basename "$t").tap"
		fi
	done
fi

group mutation "mutation checks (each must be caught by a unit test)" tests/mutation/run.sh

if want fuzz; then
	phase "fuzzers (${FUZZ_SECONDS}s each)"
	if make -s -j2 fuzzers >build/fuzz-make.log 2>&1; then
		for f in $(make -s list-fuzzers); do
			name=$(basename "$f")
			corpus=$(mktemp -d)
			cp -r "tests/fuzz/corpus/$name/." "$corpus/" 2>/dev/null
			if "./$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$corpus" >"build/$name.log" 2>&1; then
				stats=$(grep -E '^#[0-9]+.*(DONE|pulse)' "build/$name.log" | tail -1)
				record PASS "fuzz/$name" 
				echo "    $name: $stats"
			else
				record FAIL "fuzz/$name" "crash or error; see build/$name.log"
			fi
			rm -rf "$corpus"
		done
	else
		tail -20 build/fuzz-make.log
		record FAIL build/fuzzers "building fuzzers failed; see build/fuzz-make.log"
	fi
fi

group build "QEMU build (pinned source + overlay)" tests/build/run.sh
group qtest "QEMU qtests of vfio-apple-pci (no guest)" tests/qtest/run.sh
group sim "simulator client tests" tests/client/run.sh sim/
group cli "vfio-apple command (list, status, selftest, run --print) against the simulator" tests/cli/run.sh
group lying "lying-dext tests (QEMU against a fake dext)" tests/lying/run.sh
group hostile "hostile-client tests (simulator socket)" tests/hostile/run.sh
group macos "macOS compile check (clang, arm64 Apple target, macos/sdk declaration headers)" tests/macos/run.sh
group guest "the apple_dma guest module (three kernels) and its DKMS .deb" tests/guest/run.sh

if want e2e; then
	phase "end-to-end tests (arm64 guest, QEMU TCG)"
	for t in tests/e2e/test_*.py; do
		tally < <(/usr/bin/python3 "$t" 2>&1)
	done
fi

phase "done; results in $RESULTS"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
