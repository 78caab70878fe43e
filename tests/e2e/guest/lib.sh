# Guest-side check helpers for end-to-end scenarios (busybox sh).
# Each check prints one line the host harness collects:
#   VFIOAPPLE-CHECK PASS <name> | VFIOAPPLE-CHECK FAIL <name> <reason>

pass() { echo "VFIOAPPLE-CHECK PASS $1"; }
fail() { n=$1; shift; echo "VFIOAPPLE-CHECK FAIL $n $*"; }

# check NAME CMD...: passes when CMD exits 0; its output is shown on failure.
check() {
	n=$1; shift
	if out=$("$@" 2>&1); then pass "$n"; return 0; fi
	fail "$n" "command failed: $* :: $(echo "$out" | tail -3 | tr '\n' ' ')"
	return 1
}

# require NAME CMD...: a precondition.  Like check, but when CMD fails the
# scenario stops here (one FAIL naming what is missing, then init prints
# VFIOAPPLE-END): the checks after it would only test empty variables.
require() {
	n=$1; shift
	if out=$("$@" 2>&1); then pass "$n"; return 0; fi
	fail "$n" "precondition failed, later checks skipped: $* :: $(echo "$out" | tail -3 | tr '\n' ' ')"
	exit 1
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; return 0; fi
	fail "$1" "expected '$2', got '$3'"
	return 1
}

# check_ne NAME A B: passes when A and B differ.
check_ne() {
	if [ "$2" != "$3" ]; then pass "$1"; return 0; fi
	fail "$1" "both are '$2'"
	return 1
}

# Wait up to $2 seconds for path $1 to exist.
wait_for() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ] || { echo "$1 did not appear within $2 s"; return 1; }
}

# The kernel's page size in bytes, from the auxiliary vector the kernel
# gave this process (AT_PAGESZ, type 6: pairs of native-endian 64-bit
# words); busybox has no getconf.  Falls back to KernelPageSize in smaps.
page_size() {
	p=$(od -An -tu8 -w16 -v /proc/self/auxv 2>/dev/null | awk '$1 == 6 { print $2; exit }')
	[ -n "$p" ] || p=$(awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps 2>/dev/null)
	echo "$p"
}

# Print a value the host may want (e.g. a measurement).
note() { echo "VFIOAPPLE-NOTE $*"; }

# Milliseconds since boot (10 ms resolution), for measurements only.
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# nvme_io TAG MB [DEV]: MB MiB of random data written to DEV (default
# /dev/nvme0n1) with O_DIRECT, read back with O_DIRECT, sha256 compared.
# Check names get "-TAG" appended when TAG is not empty.  Notes
# bytes_verified, write_ms and read_ms (suffixed likewise).
nvme_io() {
	sfx=${1:+-$1}; mb=$2; dev=${3:-/dev/nvme0n1}
	require "block-device$sfx" wait_for "$dev" 20
	require "pattern-generated$sfx" dd if=/dev/urandom of=/tmp/pattern bs=1M count="$mb"
	want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
	t0=$(uptime_ms)
	# Nothing to read back after a failed write.
	require "dd-write-direct$sfx" dd if=/tmp/pattern of="$dev" bs=1M count="$mb" oflag=direct
	t1=$(uptime_ms)
	# A timed read on its own (hashing under TCG is slower than the device)...
	dd if="$dev" of=/dev/null bs=1M count="$mb" iflag=direct 2>/dev/null
	t2=$(uptime_ms)
	# ...then the verifying read, straight into the hash: no second copy in RAM.
	got=$(dd if="$dev" bs=1M count="$mb" iflag=direct 2>/tmp/dd-read.err | sha256sum | cut -d' ' -f1)
	check "dd-read-direct$sfx" grep -q "^$mb+0 records in" /tmp/dd-read.err
	check_eq "readback-checksum-equal$sfx" "$want" "$got"
	note "bytes_verified$sfx=$((mb * 1024 * 1024)) write_ms$sfx=$((t1 - t0)) read_ms$sfx=$((t2 - t1))"
	# The comparison must be able to fail: one byte changed, hash changes.
	# (Replace it with a byte it is not: random data holds 'X' 1 time in 256.)
	orig=$(head -c 12346 /tmp/pattern | tail -c 1)
	sub=X; [ "$orig" = X ] && sub=Y
	bad=$({ head -c 12345 /tmp/pattern; printf %s "$sub"; tail -c +12347 /tmp/pattern; } | sha256sum | cut -d' ' -f1)
	check_ne "checksum-detects-corruption$sfx" "$want" "$bad"
	rm -f /tmp/pattern
}
