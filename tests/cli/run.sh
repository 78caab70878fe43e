#!/usr/bin/env bash
# The `vfio-apple` command against real vfio-apple-sim daemons (issue 10):
# list, status, selftest and run --print, with the values asserted against
# what the simulators were started with.  Builds nothing: run `make all`
# first.  Prints one line per check:
#   PASS: cli/<name>
#   FAIL: cli/<name>: <reason>
# Exits non-zero if any check failed.
HERE=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$HERE/cli_tests.py" "$@"
