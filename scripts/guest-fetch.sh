#!/bin/bash
# Fetch the arm64 guest platform from Debian, cached in $CACHE/guest:
#   - bookworm's newest linux-image-6.1.0-NN-arm64 (or GUEST_KVER=6.1.0-NN-arm64)
#   - its linux-headers-...-arm64 (arm64) and -common (all), and the amd64
#     linux-kbuild-6.1 of the same version, unpacked together so that
#     out-of-tree modules can be cross-built against them
#   - busybox-static (arm64)
#
# Prints shell assignments on stdout (everything else goes to stderr):
#   eval "$(scripts/guest-fetch.sh)"
# sets GUEST_KVER GUEST_KVERSION GUEST_KERNEL GUEST_MODDIR GUEST_KHEADERS
# GUEST_BUSYBOX.
#
# Cache layout ($CACHE/guest):
#   debs/                       the downloaded .debs (kept for re-unpacking)
#   linux-<KVER>_<version>/     image + headers + kbuild unpacked into one
#                               root (boot/, lib/modules/<KVER>/, usr/src/,
#                               usr/lib/linux-kbuild-6.1/), depmod run
#   busybox-<version>/          busybox-static unpacked (bin/busybox)
#   resolved-<latest|KVER>      versions picked at the last apt refresh
# Unpacked trees are built in .tmp-* folders and renamed into place when
# complete, so an interrupted run is repaired by the next one.
#
# Environment: GUEST_KVER pins the kernel ABI (e.g. 6.1.0-56-arm64);
# VFIO_APPLE_REFRESH=1 forces an apt refresh and a new version lookup.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

G=$CACHE/guest
KSERIES=6.1
mkdir -p "$G/debs" || die "cannot create $G (run as root, or set VFIO_APPLE_CACHE to a writable folder)"

exec 9>"$G/.lock"
flock 9

# Highest version of a package (given as name:arch) whose version starts
# with $2 (a prefix, may be empty), from every suite of the private config.
highest_version() {
	local pkg=$1 prefix=$2 best= v
	while read -r v; do
		case $v in "$prefix"*) ;; *) continue ;; esac
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done < <(papt_cache madison "$pkg" 2>/dev/null | awk -F' *[|] *' '{print $2}')
	printf '%s\n' "$best"
}

# Work out KVER, the kernel package version and the busybox version.
resolve() {
	local kver ver dep bbver
	if [ -n "${GUEST_KVER:-}" ]; then
		kver=$GUEST_KVER
		[[ $kver =~ ^6\.1\.0-[0-9]+-arm64$ ]] ||
			die "GUEST_KVER=$kver: expected 6.1.0-NN-arm64 (a bookworm arm64 kernel ABI)"
		ver=$(highest_version "linux-image-$kver:arm64" "")
		[ -n "$ver" ] || die "linux-image-$kver:arm64 is not in the bookworm archive any more (only the newest ABIs are); unset GUEST_KVER or pick another"
	else
		local meta
		meta=$(highest_version linux-image-arm64:arm64 "$KSERIES.")
		[ -n "$meta" ] || die "no linux-image-arm64:arm64 $KSERIES.x in the private apt lists ($PAPT); try VFIO_APPLE_REFRESH=1"
		dep=$(papt_cache show "linux-image-arm64:arm64=$meta" |
		      sed -n 's/^Depends: *//p' | head -n1 | tr ',' '\n' |
		      sed -n 's/^ *linux-image-\(6\.1\.0-[0-9]*-arm64\)\( .*\)\?$/\1/p' | head -n1)
		[ -n "$dep" ] || die "cannot find the kernel that linux-image-arm64=$meta depends on"
		kver=$dep
		ver=$(highest_version "linux-image-$kver:arm64" "")
		[ -n "$ver" ] || die "linux-image-$kver:arm64 (the dependency of linux-image-arm64=$meta) is not in the lists"
	fi
	local p
	for p in "linux-headers-$kver:arm64" "linux-headers-${kver%-arm64}-common:all" "linux-kbuild-$KSERIES:amd64"; do
		papt_cache madison "${p%:all}" 2>/dev/null | awk -F' *[|] *' '{print $2}' | grep -qxF "$ver" ||
			die "$p version $ver (matching linux-image-$kver) is not in the archive; cannot build modules against this kernel"
	done
	bbver=$(papt_cache show --no-all-versions busybox-static:arm64 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$bbver" ] || die "busybox-static:arm64 not found in the private apt lists"
	printf '%s %s %s\n' "$kver" "$ver" "$bbver"
}

# Path in debs/ for package $1 (name), version $2, arch $3; downloads it
# if missing.
deb_path() {
	local name=$1 ver=$2 arch=$3 f tmp got
	f="$G/debs/${name}_${ver//:/%3a}_${arch}.deb"
	if [ ! -s "$f" ]; then
		step "download $name $ver ($arch)"
		tmp=$(mktemp -d "$G/debs/.tmp.XXXXXX")
		local spec=$name
		[ "$arch" = all ] || spec="$name:$arch"
		(cd "$tmp" && papt_get download "$spec=$ver") >&2 ||
			{ rm -rf "$tmp"; die "apt-get download $spec=$ver failed (network? try VFIO_APPLE_REFRESH=1 to refresh the lists)"; }
		got=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n1)
		[ -n "$got" ] || { rm -rf "$tmp"; die "apt-get download $spec=$ver produced no .deb"; }
		mv -f "$got" "$f"
		rm -rf "$tmp"
	fi
	printf '%s\n' "$f"
}

# Pick versions: reuse the last lookup until the private apt lists are
# refreshed (once a day), so a warm run makes no apt calls at all.
rfile="$G/resolved-${GUEST_KVER:-latest}"
stamp="$PAPT/updated"
if [ -n "${VFIO_APPLE_REFRESH:-}" ] || [ ! -s "$rfile" ] || [ ! -e "$stamp" ] ||
   [ "$stamp" -nt "$rfile" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
	# (a separate bash, so that set -e holds inside private_apt_update)
	if bash -euo pipefail -c '. "$1"; private_apt_update' _ "$TOP/scripts/lib.sh" &&
	   res=$(set -e; resolve); then
		printf '%s\n' "$res" >"$rfile.tmp" && mv -f "$rfile.tmp" "$rfile"
	elif [ -s "$rfile" ]; then
		step "warning: apt lookup failed, using the versions found last time"
	else
		die "cannot resolve the guest kernel and busybox versions (see above)"
	fi
fi
read -r KVER KVERSION BBVER <"$rfile"
[ -n "$BBVER" ] || die "corrupt $rfile; delete it and rerun"

# --- kernel: image + headers + kbuild in one root --------------------------
kroot="$G/linux-${KVER}_${KVERSION//:/%3a}"
if [ ! -e "$kroot/.complete" ]; then
	debs=()
	for p in "linux-image-$KVER arm64" "linux-headers-$KVER arm64" \
	         "linux-headers-${KVER%-arm64}-common all" "linux-kbuild-$KSERIES amd64"; do
		d=$(deb_path "${p% *}" "$KVERSION" "${p#* }")
		debs+=("$d")
	done
	step "unpack kernel $KVER ($KVERSION)"
	rm -rf "$G"/.tmp-linux-* "$kroot"
	tmp=$(mktemp -d "$G/.tmp-linux-XXXXXX")
	for d in "${debs[@]}"; do
		dpkg-deb -x "$d" "$tmp" || die "dpkg-deb -x $d failed (corrupt download? delete it and rerun)"
	done
	hdr=usr/src/linux-headers-$KVER
	common=usr/src/linux-headers-${KVER%-arm64}-common
	[ -f "$tmp/boot/vmlinuz-$KVER" ] || die "linux-image-$KVER has no boot/vmlinuz-$KVER"
	[ -f "$tmp/$common/Makefile" ] || die "linux-headers common package has no $common/Makefile"
	# The arm64 headers include the common Makefile by absolute path.
	sed -i "s|^include /usr/src/|include $kroot/usr/src/|" "$tmp/$hdr/Makefile"
	grep -qxF "include $kroot/$common/Makefile" "$tmp/$hdr/Makefile" ||
		die "unexpected $hdr/Makefile layout: $(head -c 200 "$tmp/$hdr/Makefile")"
	# scripts/ and tools/ point at ../../lib/linux-kbuild-$KSERIES/...; the
	# packages ship them relative, which already resolves inside this root.
	# Make that explicit (and correct, whatever the packages ship).
	for h in "$hdr" "$common"; do
		for l in scripts tools; do
			ln -sfn "../../lib/linux-kbuild-$KSERIES/$l" "$tmp/$h/$l"
		done
	done
	[ -x "$tmp/$hdr/scripts/basic/fixdep" ] && [ -x "$tmp/$hdr/scripts/mod/modpost" ] ||
		die "kbuild tools missing under $hdr/scripts (linux-kbuild-$KSERIES unpack failed?)"
	# lib/modules/KVER/{build,source} are absolute: make them relative.
	ln -sfn "../../../$hdr" "$tmp/lib/modules/$KVER/build"
	ln -sfn "../../../$common" "$tmp/lib/modules/$KVER/source"
	# modules.dep/alias/softdep for the initramfs builder.
	depmod -b "$tmp" "$KVER" || die "depmod -b $tmp $KVER failed"
	touch "$tmp/.complete"
	mv -T "$tmp" "$kroot"
	ok "kernel $KVER unpacked in $kroot"
fi

# --- busybox -----------------------------------------------------------------
bbroot="$G/busybox-${BBVER#*:}"
if [ ! -e "$bbroot/.complete" ]; then
	d=$(deb_path busybox-static "$BBVER" arm64)
	step "unpack busybox-static $BBVER"
	rm -rf "$G"/.tmp-busybox-* "$bbroot"
	tmp=$(mktemp -d "$G/.tmp-busybox-XXXXXX")
	dpkg-deb -x "$d" "$tmp" || die "dpkg-deb -x $d failed (corrupt download? delete it and rerun)"
	[ -x "$tmp/bin/busybox" ] || die "busybox-static $BBVER has no bin/busybox"
	touch "$tmp/.complete"
	mv -T "$tmp" "$bbroot"
	ok "busybox $BBVER unpacked in $bbroot"
fi

printf 'GUEST_KVER=%q\n' "$KVER"
printf 'GUEST_KVERSION=%q\n' "$KVERSION"
printf 'GUEST_KERNEL=%q\n' "$kroot/boot/vmlinuz-$KVER"
printf 'GUEST_MODDIR=%q\n' "$kroot/lib/modules/$KVER"
printf 'GUEST_KHEADERS=%q\n' "$kroot/usr/src/linux-headers-$KVER"
printf 'GUEST_BUSYBOX=%q\n' "$bbroot/bin/busybox"
