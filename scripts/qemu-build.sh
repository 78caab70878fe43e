#!/usr/bin/env bash
# Build qemu-system-aarch64 from the pinned QEMU source plus our changes.
#
#   source   Debian's qemu 1:10.2.2+ds-1 (Debian patches applied), or
#            QEMU_SRC=<dir> pointing at an upstream v10.2.2 checkout
#   overlay  qemu/<path>    new files, copied to the same path in the tree
#            qemu/patches/  edits to existing files, applied in order
#
# The build lives in $CACHE/qemu/<source-id>/, keyed by the source version.
# A stamp records the hash of the overlay, the patches and the configure
# arguments: when it matches, nothing is rebuilt and ninja is not even run.
# When it does not, only files whose content changed are touched in the
# work tree, so ninja rebuilds incrementally.
#
# Prints the path of qemu-system-aarch64 on stdout; our qtest is built
# beside it (build/tests/qtest/vfio-apple-test).  VFIO_APPLE_QEMU_BUILD
# overrides the build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

. "$here/qemu-lib.sh"

main() {
	local base id dir hash stage
	base=$(base_source)
	id=$(source_id)
	# VFIO_APPLE_QEMU_BUILD: a separate build directory (e.g. for a second
	# work tree), so two trees never share one build.
	dir=${VFIO_APPLE_QEMU_BUILD:-$CACHE/qemu/$id}
	hash=$(overlay_hash)
	local bin="$dir/build/qemu-system-aarch64"
	# One build at a time per build directory (tests and people may start
	# several at once); the second waits, then finds the first one's work.
	mkdir -p "$dir"
	exec 9>"$dir/lock"
	if ! flock -n 9; then
		step "another QEMU build is running in $dir; waiting for it"
		flock 9
	fi
	if [ -x "$bin" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$hash" ]; then
		ok "QEMU up to date ($id, overlay $hash)"
		echo "$bin"
		return
	fi
	mkdir -p "$dir"
	stage="$dir/stage"
	step "preparing QEMU source ($id + overlay $hash)"
	rm -rf "$stage"
	cp -a "$base" "$stage"
	rm -rf "$stage/.git"
	apply_patches "$stage"
	(cd "$OVERLAY" && overlay_files | while read -r f; do
		mkdir -p "$stage/$(dirname "$f")"
		cp -L --remove-destination "$f" "$stage/$f"
	done)
	# Only files whose content changed are written (and get a new mtime) in
	# the work tree; no -t, so unchanged files keep theirs and ninja stays
	# incremental even when the base source was unpacked again.
	mkdir -p "$dir/src"
	rsync -rlp --checksum --delete "$stage/" "$dir/src/" 2>/dev/null ||
		die "rsync failed (is rsync installed?)"
	rm -rf "$stage"
	if [ ! -e "$dir/build/build.ninja" ] || [ "$(cat "$dir/configured" 2>/dev/null)" != "${CONFIGURE_ARGS[*]}" ]; then
		step "configuring QEMU"
		rm -rf "$dir/build"
		mkdir -p "$dir/build"
		(cd "$dir/build" && ../src/configure "${CONFIGURE_ARGS[@]}") >"$dir/configure.log" 2>&1 ||
			{ tail -30 "$dir/configure.log" >&2; die "QEMU configure failed; full log: $dir/configure.log"; }
		echo "${CONFIGURE_ARGS[*]}" >"$dir/configured"
	fi
	step "building QEMU (log: $dir/build.log)"
	# The emulator, and our qtest (tests/qtest/vfio-apple-test) with it.
	if ! ninja -C "$dir/build" qemu-system-aarch64 tests/qtest/vfio-apple-test \
		>"$dir/build.log" 2>&1; then
		# The compiler's and the generators' own words, not ninja's long
		# FAILED: lines listing every output.
		grep -v -E '^(FAILED: |\[[0-9]+/[0-9]+\] )' "$dir/build.log" |
			grep -E -i -B1 -A2 'error|warning: ' | head -40 >&2
		die "QEMU build failed; full log: $dir/build.log"
	fi
	# Our own files build without a warning (QEMU's are not ours to judge).
	if grep -E -A4 '(^|/)(hw/vfio-apple/|tests/qtest/vfio-apple).*warning: ' \
		"$dir/build.log" >&2; then
		die "warnings in our QEMU files (above); fix them"
	fi
	echo "$hash" >"$dir/stamp"
	"$bin" --version | head -1 >&2
	echo "$bin"
}

main "$@"
