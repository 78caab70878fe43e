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
# Prints the path of qemu-system-aarch64 on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

QEMU_DEB_VERSION=1:10.2.2+ds-1
QEMU_UPSTREAM_VERSION=10.2.2
OVERLAY=$TOP/qemu
PKGVERSION="vfio-apple $(cat "$TOP/VERSION")"
CONFIGURE_ARGS=(
	--target-list=aarch64-softmmu
	--python=/usr/bin/python3
	--disable-install-blobs
	--disable-docs
	--disable-guest-agent
	--disable-tools
	"--with-pkgversion=$PKGVERSION"
)

# Unpack Debian's source package once; the result is never modified.
debian_source() {
	local dir="$CACHE/src/qemu-${QEMU_DEB_VERSION#1:}"
	if [ ! -e "$dir/.unpacked" ]; then
		private_apt_update
		step "fetching Debian's qemu source $QEMU_DEB_VERSION"
		local dl="$CACHE/src/dl"
		mkdir -p "$dl"
		(cd "$dl" && papt_get source --download-only "qemu=$QEMU_DEB_VERSION") >&2 ||
			die "could not download qemu source $QEMU_DEB_VERSION (is sid's deb-src reachable?)"
		rm -rf "$dir"
		step "unpacking with Debian's patches"
		dpkg-source --no-check -x "$dl"/qemu_"${QEMU_DEB_VERSION#1:}".dsc "$dir" >&2
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

base_source() {
	if [ -n "${QEMU_SRC:-}" ]; then
		[ -f "$QEMU_SRC/VERSION" ] || die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree (no VERSION file)"
		local v
		v=$(cat "$QEMU_SRC/VERSION")
		[ "$v" = "$QEMU_UPSTREAM_VERSION" ] ||
			die "QEMU_SRC=$QEMU_SRC is QEMU $v; our patches are against $QEMU_UPSTREAM_VERSION (check out v$QEMU_UPSTREAM_VERSION)"
		(cd "$QEMU_SRC" && pwd)
	else
		debian_source
	fi
}

source_id() {
	if [ -n "${QEMU_SRC:-}" ]; then
		echo "upstream-$QEMU_UPSTREAM_VERSION-$(printf %s "$(cd "$QEMU_SRC" && pwd)" | sha256sum | cut -c1-8)"
	else
		echo "debian-${QEMU_DEB_VERSION#1:}"
	fi
}

overlay_files() {
	(cd "$OVERLAY" && find . -type f ! -path './patches/*' ! -name README.md | LC_ALL=C sort)
}

patch_files() {
	find "$OVERLAY/patches" -maxdepth 1 -name '*.patch' 2>/dev/null | LC_ALL=C sort
}

overlay_hash() {
	{
		printf '%s\n' "${CONFIGURE_ARGS[@]}"
		(cd "$OVERLAY" && overlay_files | xargs -r sha256sum)
		patch_files | xargs -r sha256sum | sed "s|$OVERLAY/||"
	} | sha256sum | cut -c1-16
}

# Apply our patches to $1, in order.  A patch that does not apply stops the
# build and names itself.
apply_patches() {
	local tree=$1 p out
	for p in $(patch_files); do
		if ! out=$(cd "$tree" && git apply --check -p1 "$p" 2>&1); then
			printf '%s\n' "$out" >&2
			die "QEMU patch $(basename "$p") does not apply to QEMU $QEMU_UPSTREAM_VERSION; refresh qemu/patches/$(basename "$p") against the pinned source"
		fi
		(cd "$tree" && git apply -p1 "$p")
	done
}

main() {
	local base id dir hash stage
	base=$(base_source)
	id=$(source_id)
	dir="$CACHE/qemu/$id"
	hash=$(overlay_hash)
	local bin="$dir/build/qemu-system-aarch64"
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
		cp --remove-destination "$f" "$stage/$f"
	done)
	# Only files whose content changed get a new mtime in the work tree.
	mkdir -p "$dir/src"
	rsync -a --checksum --delete "$stage/" "$dir/src/" 2>/dev/null ||
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
	if ! ninja -C "$dir/build" qemu-system-aarch64 >"$dir/build.log" 2>&1; then
		grep -E 'error|Error' "$dir/build.log" | head -30 >&2
		die "QEMU build failed; full log: $dir/build.log"
	fi
	echo "$hash" >"$dir/stamp"
	"$bin" --version | head -1 >&2
	echo "$bin"
}

main "$@"
