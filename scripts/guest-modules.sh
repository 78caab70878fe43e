#!/bin/bash
# Cross-build an out-of-tree kernel module for the arm64 guest kernel.
#
#   scripts/guest-modules.sh <module-src-dir> [<out-dir>]
#
# The source folder (with a Kbuild or Makefile for kbuild) is copied into
# <out-dir> (default: build/guest-modules/<name of src dir> in the clone)
# and built there, so the source stays clean; unchanged sources are not
# rebuilt.  Prints the paths of the built .ko files on stdout, one a line.
#
# Uses GUEST_KHEADERS (and GUEST_KVER) from the environment when set,
# otherwise gets them from scripts/guest-fetch.sh.  CROSS_COMPILE defaults
# to aarch64-linux-gnu-.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { die "usage: $0 <module-src-dir> [<out-dir>]"; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
src=$1
[ -d "$src" ] || die "module source folder $src does not exist"
[ -f "$src/Kbuild" ] || [ -f "$src/Makefile" ] || die "$src has neither Kbuild nor Makefile"
src=$(cd "$src" && pwd)
name=$(basename "$src")
out=${2:-$TOP/build/guest-modules/$name}

if [ -z "${GUEST_KHEADERS:-}" ]; then
	eval "$("$TOP/scripts/guest-fetch.sh")"
fi
[ -f "$GUEST_KHEADERS/Makefile" ] || die "GUEST_KHEADERS=$GUEST_KHEADERS is not a kernel headers folder (rerun scripts/guest-fetch.sh)"
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
command -v "${CROSS_COMPILE}gcc" >/dev/null ||
	die "${CROSS_COMPILE}gcc not found (install gcc-aarch64-linux-gnu: scripts/bootstrap.sh)"

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
case $out/ in "$src"/*) die "out-dir $out must not be inside the source folder $src" ;; esac
# cp -a keeps mtimes, so make rebuilds only what changed.
cp -a "$src"/. "$out"/ || die "cannot copy $src to $out"

# The compiler the kernel was built with, as kbuild will call it.  When
# this host has no such cross compiler (trixie's kernels name
# aarch64-linux-gnu-gcc-14; bookworm has 12), use ours: the C ABI is the
# same; only -fmin-function-alignment (GCC 14) is spelt -falign-functions,
# which kbuild picks when the compiler lacks the newer option.  A module
# built in the guest (DKMS) uses the guest's own compiler.
kcc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\{0,1\}\([^ "]*\).*/\1/p' \
	"$GUEST_KHEADERS/include/config/auto.conf" 2>/dev/null | head -n1)
cc_args=()
case $kcc in
"${CROSS_COMPILE}"gcc-*)
	if ! command -v "$kcc" >/dev/null; then
		step "note: $kcc (the guest kernel's compiler) is not installed; building with ${CROSS_COMPILE}gcc"
		cc_args=(CC="${CROSS_COMPILE}gcc" CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=)
	fi ;;
esac

# BTF for modules needs pahole, which the build host need not have: a
# module without BTF loads the same (only BPF loses its types).  Without
# BTF the kernel's pahole version matters to nothing, so it is not compared
# either (newer kbuild, 7.3's, warns that ours, 0: none, differs).
if grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$GUEST_KHEADERS/include/config/auto.conf" 2>/dev/null &&
   ! command -v pahole >/dev/null; then
	cc_args+=(CONFIG_DEBUG_INFO_BTF_MODULES= CONFIG_PAHOLE_VERSION=0)
fi

step "cross-build module $name for ${GUEST_KVER:-arm64} in $out"
log=$out/.build.log
if ! make -C "$GUEST_KHEADERS" ARCH=arm64 CROSS_COMPILE="$CROSS_COMPILE" \
		"${cc_args[@]}" M="$out" -j"$(nproc)" modules >"$log" 2>&1; then
	cat "$log" >&2
	die "building module $name failed (full log: $log)"
fi
# Surface compiler warnings, but keep stdout for the result.
grep -E 'warning:' "$log" >&2 || true

# modules.order lists exactly what this build produced (no stale .ko).
[ -s "$out/modules.order" ] || die "build of $name produced no modules.order (no obj-m in $src/Kbuild?)"
n=0
while read -r m; do
	m=${m%.o}; m=${m%.ko}
	case $m in /*) ;; *) m=$out/$m ;; esac
	[ -f "$m.ko" ] || die "kbuild listed $m.ko but it was not built"
	printf '%s\n' "$m.ko"
	n=$((n + 1))
done <"$out/modules.order"
ok "$n module(s) built for $name"
