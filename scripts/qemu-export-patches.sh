#!/usr/bin/env bash
# Export our QEMU changes as a `git format-patch` series against the pinned
# base, ready for qemu-devel: first qemu/patches/*.patch in order (edits to
# existing files), then one commit adding the overlay's new files.
#
#   scripts/qemu-export-patches.sh [OUTDIR]     (default: build/qemu-patches)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/qemu-lib.sh"

out=$(realpath -m "${1:-$TOP/build/qemu-patches}")
base=$(base_source)
repo="$CACHE/qemu/$(source_id)/export"
git_() { git -C "$repo" -c user.name="vfio-apple export" -c user.email="vfio-apple@localhost" "$@"; }

if ! git_ rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
	step "creating a git repository of the base source (once)"
	rm -rf "$repo"
	mkdir -p "$repo"
	cp -a "$base/." "$repo/"
	rm -f "$repo/.unpacked"
	git_ init -q
	git_ add -A -f
	git_ commit -q -m "QEMU $QEMU_UPSTREAM_VERSION ($(source_id)) base"
	git_ tag base
fi

git_ checkout -q -f --detach base
git_ clean -q -fdx
for p in $(patch_files); do
	git_ am -q --keep-cr "$p" >/dev/null 2>&1 || {
		git_ am --abort >/dev/null 2>&1 || true
		die "QEMU patch $(basename "$p") does not apply to the base; refresh it"
	}
done
files=$(overlay_files)
if [ -n "$files" ]; then
	(cd "$OVERLAY" && echo "$files" | while read -r f; do
		mkdir -p "$repo/$(dirname "$f")"
		cp -L "$f" "$repo/$f"
	done)
	git_ add -A -f
	msg="$OVERLAY/overlay-commit-message.txt"
	[ -f "$msg" ] || die "missing $msg (the commit message for the new files)"
	git_ commit -q -F "$msg"
fi
rm -rf "$out"
git_ format-patch -q --cover-letter -o "$out" base..HEAD >/dev/null
ok "$(ls "$out" | grep -vc cover-letter) patches in $out"
ls "$out"
