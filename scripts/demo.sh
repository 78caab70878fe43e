#!/usr/bin/env bash
# The main job (README: `make demo`): install, build, run the demo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cd "$TOP"
"$here/bootstrap.sh"
step "building host C code"
make -s -j2 all
exec /usr/bin/python3 "$TOP/tools/demo.py"
