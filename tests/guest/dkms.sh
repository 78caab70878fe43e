#!/usr/bin/env bash
# The DKMS .deb built by Debian's own dkms, as `apt install` in a bookworm
# guest would build it: dkms add (our dkms.conf, from the .deb), dkms build
# for the guest's 6.1 kernel against its headers, and the module dkms
# made is one that kernel loads (vermagic) and that binds the companion.
#
# dkms comes from bookworm's package, unpacked into the cache and run from
# there, never installed: installed, it would hook into this machine's own
# kernel upgrades.  Here it cross-compiles (ARCH and CROSS_COMPILE in its
# environment reach the make of dkms.conf's MAKE line); in a guest the
# guest's compiler builds natively.  The .ko is not stripped here (the
# host's strip does not read arm64 objects; dkms says so and goes on).
#
#   tests/guest/dkms.sh <apple-dma-dkms .deb>      prints PASS:/FAIL: lines
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
log=$top/build/guest-dkms.log
: >"$log"
pass() { echo "PASS: guest/$1"; }
fail() { echo "FAIL: guest/$1${2:+: $2}"; }
deb=$1
ver=$(cat "$top/VERSION")

eval "$(GUEST_KERNEL=bookworm "$top/scripts/guest-fetch.sh" 2>>"$log")" || {
	fail dkms-build "no guest kernel headers (see $log)"; exit 0; }

# bookworm's dkms, cached by version.
dk=$CACHE/dkms
mkdir -p "$dk"
if ! ls "$dk"/dkms_*_all.deb >/dev/null 2>&1; then
	bash -euo pipefail -c '. "$1"; private_apt_update' _ "$top/scripts/lib.sh" >>"$log" 2>&1
	(cd "$dk" && papt_get download dkms/bookworm) >>"$log" 2>&1
fi
dkdeb=$(ls "$dk"/dkms_*_all.deb 2>/dev/null | tail -1)
if [ -z "$dkdeb" ]; then
	fail dkms-build "cannot download bookworm's dkms package (see $log)"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$dkdeb" "$work/dkms"
dpkg-deb -x "$deb" "$work/pkg"
dkms() {
	ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- bash "$work/dkms/usr/sbin/dkms" "$@" \
		--dkmstree "$work/tree" --sourcetree "$work/pkg/usr/src" -k "$GUEST_KVER" -a arm64 \
		--kernelsourcedir "$GUEST_KHEADERS"
}
mkdir -p "$work/tree"
if dkms add -m apple-dma -v "$ver" >>"$log" 2>&1 &&
   dkms build -m apple-dma -v "$ver" >>"$log" 2>&1; then
	pass dkms-build
else
	fail dkms-build "$(basename "$dkdeb"): see $log"
	exit 0
fi
if dkms status -m apple-dma -v "$ver" 2>>"$log" | grep -q "apple-dma/$ver, $GUEST_KVER, arm64: built"; then
	pass dkms-status-built
else
	fail dkms-status-built "$(dkms status -m apple-dma -v "$ver" 2>&1)"
fi
ko=$work/tree/apple-dma/$ver/$GUEST_KVER/arm64/module/apple_dma.ko
vm=$(modinfo -F vermagic "$ko" 2>>"$log")
case $vm in "$GUEST_KVER "*) pass dkms-module-vermagic ;; *) fail dkms-module-vermagic "${vm:-no $ko}" ;; esac
if modinfo -F alias "$ko" 2>/dev/null | grep -qi 'v00001B36d00000015'; then
	pass dkms-module-binds-companion-id
else
	fail dkms-module-binds-companion-id "$(modinfo -F alias "$ko" 2>&1)"
fi
