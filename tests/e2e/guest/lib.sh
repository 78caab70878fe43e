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
	[ -e "$1" ]
}

# Print a value the host may want (e.g. a measurement).
note() { echo "VFIOAPPLE-NOTE $*"; }

# Milliseconds since boot (10 ms resolution), for measurements only.
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
