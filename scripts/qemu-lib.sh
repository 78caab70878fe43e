# QEMU source, overlay and patch handling shared by qemu-build.sh and
# qemu-export-patches.sh.  Source after lib.sh.

QEMU_DEB_VERSION=1:10.2.2+ds-1
QEMU_UPSTREAM_VERSION=10.2.2
# QEMU_OVERLAY overrides the overlay directory (the tests use it to try a
# broken patch without touching the tree).
OVERLAY=${QEMU_OVERLAY:-$TOP/qemu}
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

# The files copied into the QEMU tree: everything under qemu/ but the
# patches, the series and its messages, and this directory's README.
overlay_files() {
	(cd "$OVERLAY" && find . \( -type f -o -type l \) ! -path './patches/*' \
		! -path './messages/*' ! -path ./series ! -path ./README.md |
		sed 's|^\./||' | LC_ALL=C sort)
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


# VFIO_APPLE_QEMU_SANITIZE=asan: a QEMU built with AddressSanitizer
# (--enable-asan), for the tests that want one (tests/lying/run.sh with
# VFIO_APPLE_QEMU=<its binary>).  It gets its own build directory,
# $CACHE/qemu/<source-id>-asan, unless VFIO_APPLE_QEMU_BUILD names one, so
# it never replaces the default build.  Not part of `make check`: a cold
# build takes far longer than the plain one.  Run it with
# ASAN_OPTIONS=detect_leaks=0 (QEMU does not free everything at exit).
case ${VFIO_APPLE_QEMU_SANITIZE:-} in
"") ;;
asan)
	CONFIGURE_ARGS+=(--enable-asan)
	VFIO_APPLE_QEMU_BUILD=${VFIO_APPLE_QEMU_BUILD:-$CACHE/qemu/$(source_id)-asan}
	;;
*) die "VFIO_APPLE_QEMU_SANITIZE=$VFIO_APPLE_QEMU_SANITIZE: only 'asan' is supported" ;;
esac
