#!/bin/bash
# A stock Debian bookworm arm64 root file system, with dkms, gcc and the
# headers of the guest kernel, for installing apple_dma's DKMS .deb inside
# a guest as a user would (tests/e2e/test_pt_companion_dkms.py).
#
#   scripts/guest-rootfs.sh
#
# Stage 1 runs here: debootstrap --foreign (minbase plus dkms, gcc, make,
# libc6-dev, kmod) and the guest kernel's linux-headers and linux-kbuild
# .debs (the versions scripts/guest-fetch.sh picked, which may be newer
# than bookworm's own, from bookworm-security) copied in, packed into an
# ext4 image by mke2fs -d.  Stage 2 (debootstrap --second-stage and dpkg
# -i of the headers) must run on arm64, so the test runs it in a guest
# once and keeps the result.  Prints:
#
#   ROOTFS_STAGE1=<image after stage 1>
#   ROOTFS=<image after stage 2: may not exist yet>
#
# Everything is cached in $VFIO_APPLE_CACHE/guest/rootfs-bookworm-<kver>/
# (two sparse 2 GiB images, 1.2 GB on disk).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "debootstrap needs root to create the guest's device nodes (run as root, as .ci/run does)"
command -v debootstrap >/dev/null ||
	die "debootstrap not found (install it: scripts/bootstrap.sh)"
command -v mke2fs >/dev/null || die "mke2fs not found (install e2fsprogs)"

eval "$(GUEST_KERNEL=bookworm "$TOP/scripts/guest-fetch.sh")"
G=$CACHE/guest
dir=$G/rootfs-bookworm-$GUEST_KVER
stage1=$dir/stage1.img
final=$dir/rootfs.img
if [ ! -s "$stage1" ]; then
	root=$dir/root
	rm -rf "$root" "$stage1.tmp"
	mkdir -p "$dir"
	# The guest kernel's headers, as its own packages.  linux-kbuild is
	# arm64 here (the guest builds with it), not the amd64 one that
	# cross-builds on this host.
	kdebs=$dir/kernel-debs
	rm -rf "$kdebs"
	mkdir -p "$kdebs"
	hdr=$G/debs/linux-headers-${GUEST_KVER}_${GUEST_KVERSION}_arm64.deb
	[ -s "$hdr" ] || die "$hdr missing (rerun scripts/guest-fetch.sh)"
	cp "$hdr" "$kdebs/"
	for dep in $(dpkg-deb -f "$hdr" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-[a-z0-9.+-]*\) (>\{0,1\}= \([^)]*\)).*/\1=\2/p'); do
		name=${dep%%=*} ver=${dep#*=}
		arch=arm64
		case $name in *-common*) arch=all ;; esac
		[ -s "$G/debs/${name}_${ver//:/%3a}_${arch}.deb" ] || private_apt_update
		cp "$(deb_path "$name" "$ver" "$arch")" "$kdebs/"
	done
	ls "$kdebs"/linux-kbuild-* >/dev/null 2>&1 ||
		die "no linux-kbuild in the Depends of $hdr"
	# What those packages need from bookworm (libelf1, libssl3, gcc-12...),
	# first alternatives, for debootstrap to include.
	deps=$(for f in "$kdebs"/*.deb; do dpkg-deb -f "$f" Depends; done | tr ',' '\n' |
		sed 's/|.*//; s/(.*)//; s/ //g' | grep -v '^linux-' | grep . | sort -u | paste -sd, -)
	include="dkms,gcc,make,libc6-dev,kmod${deps:+,$deps}"
	# A "name:any" dependency (libdpkg-perl's perl:any) that debootstrap's
	# resolver did not pull in would leave a package unconfigured in the
	# guest: add any such and run it again (none is today).
	for round in 1 2 3; do
		step "debootstrap --foreign bookworm arm64 (minbase, $include) into $root"
		rm -rf "$root"
		debootstrap --foreign --arch=arm64 --variant=minbase --include="$include" \
			bookworm "$root" http://deb.debian.org/debian >"$dir/debootstrap.log" 2>&1 ||
			die "debootstrap failed (network? see $dir/debootstrap.log)"
		missing=$(for f in "$root"/var/cache/apt/archives/*.deb; do
				dpkg-deb -f "$f" Pre-Depends Depends; done |
			grep -o '[a-z0-9.+-]*:any' | sed 's/:any//' | sort -u |
			while read -r n; do
				grep -q "^$n " "$root/debootstrap/debpaths" || echo "$n"
			done | paste -sd, -)
		[ -z "$missing" ] && break
		[ "$round" = 3 ] && die "debootstrap still leaves out $missing"
		include="$include,$missing"
	done
	cp -a "$kdebs" "$root/root/kernel-debs"
	step "mke2fs -d: $stage1 (2 GiB, sparse)"
	mke2fs -q -t ext4 -L vfa-root -d "$root" "$stage1.tmp" 2G >&2 ||
		die "mke2fs -d $root failed"
	mv -f "$stage1.tmp" "$stage1"
	rm -rf "$root" "$kdebs"
	ok "stage 1 of the bookworm root file system: $stage1"
fi
printf 'ROOTFS_STAGE1=%s\nROOTFS=%s\n' "$stage1" "$final"
