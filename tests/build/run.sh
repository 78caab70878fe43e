#!/usr/bin/env bash
# Build-platform tests: the QEMU build cache, patch handling and the patch
# export.  Prints PASS:/FAIL: lines.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
res() { if [ "$1" = 0 ]; then echo "PASS: build/$2"; else echo "FAIL: build/$2: $3"; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The build (cold or incremental) produces our QEMU.
if bin=$("$top/scripts/qemu-build.sh" 2>"$tmp/build1.err" | tail -1) && [ -x "$bin" ]; then
	ver=$("$bin" --version | head -1)
	case $ver in
	*"(vfio-apple $(cat "$top/VERSION"))"*) res 0 qemu-version-identifies-build ;;
	*) res 1 qemu-version-identifies-build "version line is '$ver'" ;;
	esac
else
	res 1 qemu-builds "$(tail -5 "$tmp/build1.err" | tr '\n' ' ')"
	exit 0
fi

# 2. Nothing changed: the second run rebuilds nothing (ninja is not run and
#    the binary is untouched).
before=$(stat -c %Y "$bin")
"$top/scripts/qemu-build.sh" >/dev/null 2>"$tmp/build2.err"
if grep -q "QEMU up to date" "$tmp/build2.err" && [ "$(stat -c %Y "$bin")" = "$before" ]; then
	res 0 qemu-warm-run-rebuilds-nothing
else
	res 1 qemu-warm-run-rebuilds-nothing "$(tr '\n' ' ' <"$tmp/build2.err")"
fi

# 3. Our patches are in the built source.
src=$(dirname "$(dirname "$bin")")/src
n=$(grep -c "event_notifier_get_wfd" "$src/hw/vfio/pci.c")
[ "$n" -ge 5 ] && res 0 eventnotifier-patch-applied ||
	res 1 eventnotifier-patch-applied "only $n uses of event_notifier_get_wfd in hw/vfio/pci.c"

# 4. A patch whose context no longer matches stops the build and names itself.
cp -a "$top/qemu" "$tmp/overlay"
first=$(ls "$tmp/overlay/patches"/*.patch | head -1)
name=$(basename "$first")
# Corrupt one context line (lines starting with a space inside a hunk).
awk 'BEGIN{done=0} /^@@/{inh=1} inh && !done && /^ ./ {print " THIS CONTEXT DOES NOT EXIST"; done=1; next} {print}' \
	"$first" >"$tmp/p" && mv "$tmp/p" "$first"
if QEMU_OVERLAY="$tmp/overlay" "$top/scripts/qemu-build.sh" >/dev/null 2>"$tmp/broken.err"; then
	res 1 broken-patch-stops-build "the build succeeded with a broken patch"
elif grep -q "$name" "$tmp/broken.err" && grep -q "does not apply" "$tmp/broken.err"; then
	res 0 broken-patch-stops-build-naming-it
else
	res 1 broken-patch-stops-build-naming-it "error did not name $name: $(tail -2 "$tmp/broken.err" | tr '\n' ' ')"
fi
# ... and the real build is still intact afterwards.
"$top/scripts/qemu-build.sh" >/dev/null 2>"$tmp/build3.err"
grep -q "QEMU up to date" "$tmp/build3.err" && res 0 broken-patch-leaves-build-intact ||
	res 1 broken-patch-leaves-build-intact "$(tr '\n' ' ' <"$tmp/build3.err")"

# 5. The export is a format-patch series for qemu-devel: the EventNotifier
#    change first, every patch signed off by whoever exports it (here a test
#    identity), QEMU's checkpatch clean (the export fails otherwise), and
#    nothing of ours that is not QEMU's (series, messages, READMEs).
export_id_name="Vfio Apple Tester" export_id_mail="tester@vfio-apple.invalid"
if GIT_AUTHOR_NAME="$export_id_name" GIT_AUTHOR_EMAIL="$export_id_mail" \
	"$top/scripts/qemu-export-patches.sh" "$tmp/series" >"$tmp/export.out" 2>"$tmp/export.err"; then
	res 0 export-series-checkpatch-clean
	firstp=$(ls "$tmp/series" | grep -v cover-letter | head -1)
	if grep -q '^Subject: \[PATCH 0*1/[0-9]*\] vfio/pci: use the write side of EventNotifier' "$tmp/series/$firstp"; then
		res 0 export-series-first-patch-is-eventnotifier
	else
		res 1 export-series-first-patch-is-eventnotifier "first patch: $firstp: $(grep -m1 '^Subject' "$tmp/series/$firstp")"
	fi
	unsigned=$(for p in "$tmp/series"/0*.patch; do
		case $p in *cover-letter*) continue ;; esac
		grep -q "^Signed-off-by: $export_id_name <$export_id_mail>\$" "$p" &&
			grep -q "^From: $export_id_name <$export_id_mail>\$" "$p" || basename "$p"
	done)
	[ -z "$unsigned" ] && res 0 export-series-signed-off-by-submitter ||
		res 1 export-series-signed-off-by-submitter "not the submitter's: $unsigned"
	stray=$(grep -h '^+++ b/' "$tmp/series"/0*.patch | grep -E 'b/(series|messages/|README\.md|patches/|overlay-commit)' || true)
	[ -z "$stray" ] && res 0 export-series-no-stray-files ||
		res 1 export-series-no-stray-files "$stray"
else
	res 1 export-series "$(grep -E 'error|ERROR' "$tmp/export.err" | head -5 | tr '\n' ' ')"
fi
