#!/usr/bin/env bash
# Hostile-client tests against vfio-apple-sim (see the docstring of
# tests/hostile/wire.py): one Python file per message type, malformed
# input through the real socket, a fresh simulator per case.
#
# Builds nothing: run `make all` first.  Prints one line per case:
#   PASS: hostile/<file>/<case>
#   FAIL: hostile/<file>/<case>: <reason>
#   XFAIL: hostile/<file>/<case>: <reason>    (expected failure, not counted)
# Exits non-zero if any case failed.
#   tests/hostile/run.sh [test_file.py [case ...]]   one file, some cases
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export VFA_SIM=$BUILD/vfio-apple-sim
export VFA_HOSTILE_TMP
VFA_HOSTILE_TMP=$(mktemp -d /tmp/vfa-hostile.XXXXXX)
trap 'rm -rf "$VFA_HOSTILE_TMP"' EXIT
trap 'exit 130' INT TERM
FAILED=0

if [ ! -x "$VFA_SIM" ]; then
    echo "FAIL: hostile/setup: $VFA_SIM missing (run make all)"
    exit 1
fi

if [ $# -gt 0 ]; then
    files=("$HERE/$1")
    shift
else
    files=("$HERE"/test_*.py)
fi
for f in "${files[@]}"; do
    name=$(basename "$f" .py)
    out=$(timeout 120 /usr/bin/python3 "$f" "$@" 2>"$VFA_HOSTILE_TMP/$name.err")
    rc=$?
    [ -n "$out" ] && echo "$out"
    if echo "$out" | grep -q '^FAIL:'; then
        FAILED=1
    elif [ $rc -ne 0 ]; then
        echo "FAIL: hostile/$name: exited with $rc: $(tail -n 3 "$VFA_HOSTILE_TMP/$name.err" | tr '\n' ' ')"
        FAILED=1
    fi
done
exit $FAILED
