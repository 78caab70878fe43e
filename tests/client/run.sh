#!/usr/bin/env bash
# Client tests against running vfio-apple-sim daemons (issue 3, section 4).
#
# Builds nothing: run `make all` first.  Starts the simulators it needs on
# temporary sockets, runs the C test client's cases against them, always
# stops what it started, and prints one line per check:
#   PASS: <name>
#   FAIL: <name>: <reason>
# Exits non-zero if any check failed.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SIM=$BUILD/vfio-apple-sim
CLIENT=$BUILD/tests/client/vfa-test-client
TMP=$(mktemp -d /tmp/vfa-client-tests.XXXXXX)
PIDS=()
FAILED=0

cleanup() {
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; FAILED=1; }

for b in "$SIM" "$CLIENT"; do
    if [ ! -x "$b" ]; then
        fail "setup" "$b missing (run make all)"
        exit 1
    fi
done

# start_sim NAME ARGS...: daemon on $TMP/NAME.sock, log in $TMP/NAME.log.
start_sim() {
    local name=$1
    shift
    "$SIM" --socket "$TMP/$name.sock" "$@" 2>"$TMP/$name.log" &
    local pid=$!
    PIDS+=("$pid")
    eval "PID_$name=$pid"
    for _ in $(seq 100); do
        [ -S "$TMP/$name.sock" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "sim $name starts" "no socket; log: $(tail -n 3 "$TMP/$name.log" | tr '\n' ' ')"
    return 1
}

# run_case LABEL CASE SOCKET [ARG]: the client's lines, relabelled.
run_case() {
    local label=$1 cs=$2
    shift 2
    local out rc
    out=$(timeout 120 "$CLIENT" "$cs" "$@" 2>"$TMP/client-$label.err")
    rc=$?
    if [ -n "$out" ]; then
        echo "$out" | sed -e "s/^\(PASS\|FAIL\): $cs:/\1: $label:/"
    fi
    if echo "$out" | grep -q '^FAIL:'; then
        FAILED=1
    elif [ $rc -ne 0 ]; then
        fail "$label" "client exited with $rc: $(tail -n 2 "$TMP/client-$label.err" | tr '\n' ' ')"
    fi
}

# Main simulator: NVMe on a sparse file, default DART.
if start_sim main --device "nvme,file=$TMP/disk.img,size=256M,queues=4"; then
    run_case basic basic "$TMP/main.sock"
    run_case busy busy "$TMP/main.sock"
    run_case dart-fault dart-fault "$TMP/main.sock"
    run_case kill-mid-io kill-mid-io "$TMP/main.sock"
    run_case garbage garbage "$TMP/main.sock"

    if kill -0 "$PID_main" 2>/dev/null; then
        pass "sim: daemon alive after all cases"
    else
        fail "sim: daemon alive after all cases" "it exited: $(tail -n 3 "$TMP/main.log" | tr '\n' ' ')"
    fi
    if "$SIM" stats --socket "$TMP/main.sock" >"$TMP/stats.json" 2>"$TMP/stats.err" &&
       python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["dart"]["live_mappings"]==0 and d["core"]["sessions_opened"]>=5' "$TMP/stats.json" 2>>"$TMP/stats.err"; then
        pass "sim: stats prints valid JSON with zero live mappings"
    else
        fail "sim: stats prints valid JSON with zero live mappings" "$(tail -n 2 "$TMP/stats.err" | tr '\n' ' ')"
    fi
    if out=$("$SIM" --socket "$TMP/main.sock" --device nvme 2>&1); then
        fail "sim: refuses a second daemon on a live socket" "it started"
    elif echo "$out" | grep -q "in use"; then
        pass "sim: refuses a second daemon on a live socket"
    else
        fail "sim: refuses a second daemon on a live socket" "$out"
    fi
    # Peer credentials: another uid is refused even when the socket file
    # lets it in (needs root to become another user).
    if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        chmod 755 "$TMP"
        chmod 777 "$TMP/main.sock"
        if setpriv --reuid=65534 --regid=65534 --clear-groups \
               "$SIM" stats --socket "$TMP/main.sock" >/dev/null 2>&1; then
            fail "sim: peer credential check" "uid 65534 got stats"
        elif grep -q "refused a client with uid 65534" "$TMP/main.log"; then
            pass "sim: peer credential check refuses another uid"
        else
            fail "sim: peer credential check" "no refusal logged"
        fi
        chmod 700 "$TMP"
    else
        echo "SKIP: sim: peer credential check (needs root and setpriv)"
    fi
    kill -TERM "$PID_main"
    if wait "$PID_main"; then
        if [ ! -e "$TMP/main.sock" ]; then
            pass "sim: clean stop on SIGTERM"
        else
            fail "sim: clean stop on SIGTERM" "socket left behind"
        fi
    else
        fail "sim: clean stop on SIGTERM" "exit status $?"
    fi
fi

# DART that splits every mapping: segment lists must be handled whole.
if start_sim frag --device nvme,size=64M --dart-fragment 4; then
    run_case basic-fragmented basic "$TMP/frag.sock" 4
fi

# Small budget: both limits, each with its own error.
if start_sim budget --device nvme,size=16M --dart-budget 1M --dart-max-mappings 8; then
    run_case budget budget "$TMP/budget.sock"
fi

# Fault injection: every third DART map fails.
if start_sim failnth --device nvme,size=16M --fail-every-nth-map 3; then
    run_case fail-nth fail-nth "$TMP/failnth.sock"
fi

# IOVAs from a base that overlaps guest RAM (1 GiB) and from 0: the stack
# works wherever the DART puts them, and every transfer stays in the space.
for base in 0x40000000 0; do
    name=iova$base
    if start_sim "$name" --device nvme,size=64M --dart-iova-base "$base"; then
        run_case "basic-iova-base-$base" basic "$TMP/$name.sock"
        if "$SIM" stats --socket "$TMP/$name.sock" >"$TMP/$name.json" 2>"$TMP/$name.err" &&
           python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["dart"]; b=int(sys.argv[2],0)
assert max(b, 16384) <= d["iova_lo"] < d["iova_hi"] < b + (8 << 30), d' "$TMP/$name.json" "$base" 2>>"$TMP/$name.err"; then
            pass "sim: --dart-iova-base $base: device transfers at IOVAs from the base"
        else
            fail "sim: --dart-iova-base $base: device transfers at IOVAs from the base" \
                "$(tail -n 2 "$TMP/$name.err" | tr '\n' ' ')"
        fi
    fi
done

# --dart-fault-fatal: the first DART fault ends the simulator with status 3.
if start_sim fatal --device nvme,size=16M --dart-fault-fatal; then
    run_case fault-fatal fault-fatal "$TMP/fatal.sock"
    if ! timeout 5 tail --pid="$PID_fatal" -f /dev/null; then
        kill -KILL "$PID_fatal"         # it should have gone by itself
    fi
    wait "$PID_fatal"
    rc=$?
    if [ $rc = 3 ] && grep -q "DART fault with --dart-fault-fatal.*exiting with status 3" "$TMP/fatal.log"; then
        pass "sim: --dart-fault-fatal exits with status 3 on the first fault, saying why"
    else
        fail "sim: --dart-fault-fatal exits with status 3 on the first fault" \
            "status $rc: $(tail -n 2 "$TMP/fatal.log" | tr '\n' ' ')"
    fi
fi

# The dext dies under a client: the client notices without a call.
if start_sim gone --device nvme,size=16M; then
    disown "$PID_gone"          # the case kills it: no job notice
    run_case dext-gone dext-gone "$TMP/gone.sock" "$PID_gone"
fi

# The socket path never replaces a file that is not a socket.
echo keep >"$TMP/not-a-socket"
if "$SIM" --socket "$TMP/not-a-socket" --device nvme >/dev/null 2>&1; then
    fail "sim: leaves a non-socket file at its path alone" "it started"
elif [ "$(cat "$TMP/not-a-socket")" = keep ]; then
    pass "sim: leaves a non-socket file at its path alone"
else
    fail "sim: leaves a non-socket file at its path alone" "the file changed"
fi

# Command-line errors are explained.
if out=$("$SIM" --socket "$TMP/x.sock" --device nvme,bogus=1 2>&1); then
    fail "sim: bad device option rejected" "it started"
elif echo "$out" | grep -q "bogus"; then
    pass "sim: bad device option rejected with a message naming it"
else
    fail "sim: bad device option rejected" "$out"
fi

exit $FAILED
