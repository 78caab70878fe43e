#!/usr/bin/env bash
# The apple_dma guest module as users get it: cross-built for each Debian
# guest kernel (6.1, 6.12, 6.12 with 16 KiB pages, and the newest in
# trixie-backports: 7.x), with the kernel API found at build time
# (alloc_pages vs alloc_pages_op, map_page vs map_phys); and the DKMS .deb:
# its layout, its control data, and its packaged source built the way DKMS
# builds it (dkms.conf's MAKE line, against the 6.1 headers) and by
# bookworm's dkms itself (tests/guest/dkms.sh).
# Prints PASS:/FAIL: lines.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
log=$top/build/guest-tests.log
mkdir -p "$top/build"
: >"$log"
pass() { echo "PASS: guest/$1"; }
fail() { echo "FAIL: guest/$1${2:+: $2}"; }

# The build folder of each kernel's module, set only when it built now (a
# failed build can leave an earlier build's files behind).
declare -A built
for k in bookworm trixie trixie-16k trixie-backports; do
	if ko=$(GUEST_KERNEL=$k "$top/scripts/guest-apple-dma.sh" 2>>"$log" | tail -1) && [ -f "$ko" ]; then
		pass "apple_dma-builds-$k"
		built[$k]=$(dirname "$ko")
		vm=$(modinfo -F vermagic "$ko")
		kv=$(GUEST_KERNEL=$k "$top/scripts/guest-fetch.sh" 2>/dev/null | sed -n 's/^GUEST_KVER=//p')
		case $vm in "$kv "*) pass "apple_dma-vermagic-$k" ;; *) fail "apple_dma-vermagic-$k" "$vm, kernel $kv" ;; esac
		# The PCI ID the companion has, from the one ABI header.
		if modinfo -F alias "$ko" | grep -qi 'v00001B36d00000015'; then
			pass "apple_dma-binds-companion-id-$k"
		else
			fail "apple_dma-binds-companion-id-$k" "$(modinfo -F alias "$ko")"
		fi
	else
		fail "apple_dma-builds-$k" "see $log"
	fi
done
# 6.12 names the hook alloc_pages_op: the build must have seen it.
d612=${built[trixie]:-}
if [ -n "$d612" ] && grep -q -- '-DAPPLE_DMA_HAVE_ALLOC_PAGES_OP' "$d612"/.ops.o.cmd 2>/dev/null; then
	pass apple_dma-6.12-alloc_pages_op-detected
else
	fail apple_dma-6.12-alloc_pages_op-detected "no -DAPPLE_DMA_HAVE_ALLOC_PAGES_OP in ${d612:-?}/.ops.o.cmd"
fi
d61=${built[bookworm]:-}
if [ -n "$d61" ] && ! grep -q -- '-DAPPLE_DMA_HAVE_ALLOC_PAGES_OP' "$d61"/.ops.o.cmd 2>/dev/null; then
	pass apple_dma-6.1-alloc_pages-kept
else
	fail apple_dma-6.1-alloc_pages-kept "6.1 has no alloc_pages_op, the build (${d61:-none}) thought it had"
fi
# 6.19 replaced map_page by map_phys: 7.x builds must use it, 6.12 not
# (its struct has no map_phys; a build that thought so would not compile,
# but one that never looks would silently keep map_page on 7.x, which has
# no such member either: both directions are checked).
d7=${built[trixie-backports]:-}
if [ -n "$d7" ] && grep -q -- '-DAPPLE_DMA_HAVE_MAP_PHYS' "$d7"/.ops.o.cmd 2>/dev/null; then
	pass apple_dma-7.x-map_phys-detected
else
	fail apple_dma-7.x-map_phys-detected "no -DAPPLE_DMA_HAVE_MAP_PHYS in ${d7:-?}/.ops.o.cmd"
fi
if [ -n "$d612" ] && ! grep -q -- '-DAPPLE_DMA_HAVE_MAP_PHYS' "$d612"/.ops.o.cmd 2>/dev/null; then
	pass apple_dma-6.12-map_page-kept
else
	fail apple_dma-6.12-map_page-kept "6.12 has no map_phys, the build (${d612:-none}) thought it had"
fi

if deb=$("$top/scripts/guest-apple-dma-deb.sh" "$top/build" 2>>"$log" | tail -1) && [ -f "$deb" ]; then
	pass deb-built
	ver=$(cat "$top/VERSION")
	list=$(dpkg-deb -c "$deb" | awk '{print $6}')
	missing=
	for f in "usr/src/apple-dma-$ver/dkms.conf" "usr/src/apple-dma-$ver/Kbuild" \
	         "usr/src/apple-dma-$ver/main.c" "usr/src/apple-dma-$ver/ops.c" \
	         "usr/src/apple-dma-$ver/ring.c" "usr/src/apple-dma-$ver/apple_dma.h" \
	         "usr/src/apple-dma-$ver/include/vfio-apple/apple-dma-abi.h" \
	         usr/lib/modules-load.d/apple-dma.conf etc/modprobe.d/apple-dma.conf; do
		grep -qx "\./$f" <<<"$list" || missing="$missing $f"
	done
	[ -z "$missing" ] && pass deb-layout || fail deb-layout "missing:$missing"
	[ "$(dpkg-deb -f "$deb" Package)" = apple-dma-dkms ] &&
	[ "$(dpkg-deb -f "$deb" Version)" = "$ver" ] &&
	dpkg-deb -f "$deb" Depends | grep -q '^dkms' && pass deb-control || fail deb-control "$(dpkg-deb -f "$deb")"
	x=$(mktemp -d)
	dpkg-deb -x "$deb" "$x"
	grep -qx "PACKAGE_VERSION=\"$ver\"" "$x/usr/src/apple-dma-$ver/dkms.conf" &&
	grep -qx apple_dma "$x/usr/lib/modules-load.d/apple-dma.conf" && pass deb-dkms-conf ||
		fail deb-dkms-conf "$(cat "$x/usr/src/apple-dma-$ver/dkms.conf")"
	# Build the packaged tree as DKMS would (MAKE[0] with kernel_source_dir
	# the headers, M= the tree): our cross-build wrapper runs that make.
	if ko=$(GUEST_KERNEL=bookworm "$top/scripts/guest-modules.sh" "$x/usr/src/apple-dma-$ver" \
			"$top/build/guest-modules/apple-dma-dkms" 2>>"$log" | tail -1) && [ -f "$ko" ]; then
		pass deb-source-builds
	else
		fail deb-source-builds "see $log"
	fi
	rm -rf "$x"
	# And by Debian's own dkms, as apt install in a guest runs it.
	"$top/tests/guest/dkms.sh" "$deb"
else
	fail deb-built "see $log"
fi
