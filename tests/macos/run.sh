#!/usr/bin/env bash
# The macOS compile check (make macos-check; the `macos` group of
# scripts/test.sh).  Compiles every macOS-only file with clang for an Apple
# target (or the host target, for PART B's user-space C) against the
# declaration headers in macos/sdk and the project's own headers, one line
# per file:
#   PASS: macos/<kind>/<file>
#   FAIL: macos/<kind>/<file>: <first error>
# then checks that the IIG sources and their hand-kept generated
# equivalents (dext/macos/iig-out) name the same methods, and proves the
# check can fail: it compiles the dext against perturbed copies of the
# portable headers (a selector renumbered, a method row removed, a core
# field renamed) and requires each of those compiles to FAIL.
# Lists and flags come from macos/*.mk (macos-vars in macos/macos.mk).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

# Only the macOS fragments are read (not the top Makefile): this check
# needs nothing built, and does not depend on the rest of the build.
frags=$(ls macos/*.mk)
# shellcheck disable=SC2046
vars=$(make -s --no-print-directory $(printf -- '-f %s ' $frags) macos-vars) || {
	echo "FAIL: macos/setup: make macos-vars failed"; exit 1; }
eval "$vars"

FAILED=0
TMP=$(mktemp -d /tmp/vfa-macos-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }

if ! command -v "$MACOS_CLANG" >/dev/null || ! command -v "$MACOS_CLANGXX" >/dev/null; then
	fail "macos/setup: $MACOS_CLANG / $MACOS_CLANGXX not installed (scripts/bootstrap.sh installs clang)"
	exit 1
fi

# check KIND COMPILER FLAGS FILE: one line for FILE.
check() {
	local kind=$1 cc=$2 flags=$3 f=$4 log=$TMP/log
	# shellcheck disable=SC2086
	if $cc $flags "$f" >"$log" 2>&1; then
		pass "macos/$kind/$f"
	else
		fail "macos/$kind/$f: $(grep -m1 -E 'error|fatal' "$log" || head -1 "$log")"
		sed 's/^/    /' "$log" | head -20
	fi
}

for f in $MACOS_DEXT_SRCS; do check dext "$MACOS_CLANGXX" "$MACOS_DEXT_CXXFLAGS" "$f"; done
for f in $MACOS_IIG_SRCS; do check iig "$MACOS_CLANGXX" "$MACOS_IIG_CXXFLAGS" "$f"; done
for f in $MACOS_CORE_SRCS; do check core "$MACOS_CLANG" "$MACOS_CORE_CFLAGS" "$f"; done
for f in $MACOS_HOST_SRCS; do check host "$MACOS_CLANG" "$MACOS_HOST_CFLAGS" "$f"; done
for f in $MACOS_OBJC_SRCS; do
	[ -f "$f" ] || continue
	check objc "$MACOS_CLANG" "$MACOS_OBJC_FLAGS" "$f"
done

# Every method an .iig declares is in its iig-out equivalent (as itself,
# or as the _Impl IIG generates for a LOCAL method).
for iig in $MACOS_IIG_SRCS; do
	out=dext/macos/iig-out/$(basename "$iig" .iig).h
	if [ ! -f "$out" ]; then
		fail "macos/iig-out/$iig: $out missing"
		continue
	fi
	missing=
	for m in $(sed -n -E 's/^[[:space:]]+(virtual[[:space:]]+)?[A-Za-z_][A-Za-z0-9_ *]*[[:space:]*]([A-Za-z][A-Za-z0-9_]*)\(.*/\2/p' "$iig" | sort -u); do
		grep -q -E "\b$m(_Impl)?\(" "$out" || missing="$missing $m"
	done
	n=$(sed -n -E 's/^[[:space:]]+(virtual[[:space:]]+)?[A-Za-z_][A-Za-z0-9_ *]*[[:space:]*]([A-Za-z][A-Za-z0-9_]*)\(.*/\2/p' "$iig" | sort -u | wc -l)
	if [ -z "$missing" ] && [ "$n" -gt 0 ]; then
		pass "macos/iig-out/$(basename "$out") names the $n methods of $iig"
	else
		fail "macos/iig-out/$(basename "$out"): missing${missing:- (no methods found)}"
	fi
done

# The bundle agrees with itself and with the client: every personality
# matches within the dext's PCI entitlement, is tunnel-compatible, names
# the class the client looks up and the user client class; the QEMU
# client entitlement names the dext's bundle ID.
if command -v python3 >/dev/null; then
	python3 - <<'PY' || FAILED=1
import plistlib, re, sys
d = "dext/macos/"
info = plistlib.load(open(d + "Info.plist", "rb"))
svc = re.search(r'#define VFA_IOKIT_SERVICE_NAME\s+"([^"]+)"', open("client/iokit-match.h").read()).group(1)
bundle = re.search(r"PRODUCT_BUNDLE_IDENTIFIER: (\S+)", open(d + "project.yml").read()).group(1)
failed = False
for ent in ("VFIOAppleDriver.entitlements", "VFIOAppleDriver-development.entitlements"):
    e = plistlib.load(open(d + ent, "rb"))
    allowed = {m["IOPCIPrimaryMatch"].lower() for m in e["com.apple.developer.driverkit.transport.pci"]}
    bad = []
    for name, p in info["IOKitPersonalities"].items():
        if p.get("IOPCIPrimaryMatch", "").lower() not in allowed:
            bad.append(f"{name}: match {p.get('IOPCIPrimaryMatch')} not in {ent}")
        if p.get("IOPCITunnelCompatible") is not True:
            bad.append(f"{name}: not IOPCITunnelCompatible")
        if p.get("IOUserClass") != svc:
            bad.append(f"{name}: IOUserClass {p.get('IOUserClass')} is not the client's {svc}")
        if p.get("UserClientProperties", {}).get("IOUserClass") != "VFIOAppleUserClient":
            bad.append(f"{name}: user client class")
        if "*" in p.get("IOPCIPrimaryMatch", "") or p.get("IOPCIPrimaryMatch", "").lower().endswith("&0x00000000"):
            bad.append(f"{name}: wildcard match (Apple does not sign these)")
    failed |= bool(bad)
    print(("FAIL: macos/plist/" + ent + ": " + "; ".join(bad)) if bad else
          f"PASS: macos/plist/{ent}: {len(info['IOKitPersonalities'])} personalities within it, tunnel-compatible, IOUserClass {svc}")
q = plistlib.load(open(d + "qemu-client.entitlements", "rb"))
ok = bundle in q.get("com.apple.developer.driverkit.userclient-access", [])
print(("PASS" if ok else "FAIL") + f": macos/plist/qemu-client.entitlements names the dext {bundle}")
sys.exit(0 if ok and not failed else 1)
PY
fi

# perturb NAME FILE SED-EXPR TARGET-FILE EXPECT: compile TARGET-FILE (a
# dext source) with a copy of FILE changed by SED-EXPR placed first on
# the include path; the compile must fail, with EXPECT in its output.
perturb() {
	local name=$1 file=$2 expr=$3 target=$4 expect=$5
	local dir=$TMP/p-$name sub inc log=$TMP/p-$name.log
	case $file in
	include/*) sub=${file#include/}; inc=$dir/include ;;
	dext/core/*) sub=${file#dext/core/}; inc=$dir/core ;;
	esac
	mkdir -p "$(dirname "$inc/$sub")"
	# A quoted include is looked up next to the file that includes it
	# first: the core's headers go over as a set, so core.h finds the
	# perturbed sibling.
	case $file in dext/core/*) cp dext/core/*.h "$inc/" ;; esac
	sed -E "$expr" "$file" >"$inc/$sub"
	if cmp -s "$file" "$inc/$sub"; then
		fail "macos/catches/$name: the perturbation did not change $file"
		return
	fi
	# Same flags, the perturbed copy found first (-I order).
	# shellcheck disable=SC2086
	if $MACOS_CLANGXX -I"$inc" $MACOS_DEXT_CXXFLAGS "$target" >"$log" 2>&1; then
		fail "macos/catches/$name: $target still compiles with $file perturbed"
	elif grep -q -- "$expect" "$log"; then
		pass "macos/catches/$name: $target fails to compile ($(grep -m1 -o -- "$expect.*" "$log" | cut -c1-100))"
	else
		fail "macos/catches/$name: failed, but not with '$expect': $(grep -m1 error "$log")"
	fi
}

perturb abi-selector-renumbered include/vfio-apple/dext-abi.h \
	's/VFA_SEL_NOTIFY_REGISTER[[:space:]]+= 17/VFA_SEL_NOTIFY_REGISTER     = 18/' \
	dext/macos/VFIOAppleUserClient.cpp "static.assert"
perturb abi-method-row-removed include/vfio-apple/dext-abi.h \
	'/X\(GET_STATS, VFA_SEL_GET_STATS/d' \
	dext/macos/VFIOAppleUserClient.cpp "static.assert"
perturb abi-rows-out-of-order include/vfio-apple/dext-abi.h \
	's/X\(GET_STATS, VFA_SEL_GET_STATS,/X(GET_STATS, VFA_SEL_ROM_READ,/' \
	dext/macos/VFIOAppleUserClient.cpp "selector order"
perturb core-field-renamed dext/core/platform.h \
	's/bar_memory_index\[/bar_mem_index[/' \
	dext/macos/VFIOAppleDriver.cpp "bar_memory_index"
perturb core-op-removed dext/core/platform.h \
	'/\(\*dma_complete\)/d' \
	dext/macos/VFIOAppleDriver.cpp "dma_complete"

exit $FAILED
