#!/bin/bash
# Fetch the arm64 guest platform from Debian, cached in $CACHE/guest.
#
# GUEST_KERNEL picks the kernel (default bookworm):
#   bookworm     bookworm's newest linux-image-6.1.0-NN-arm64 (Linux 6.1)
#   trixie       trixie's newest linux-image-6.12.NN+deb13-arm64 (Linux 6.12)
#   trixie-16k   the same with 16 KiB pages (linux-image-...-arm64-16k)
#   trixie-backports  the newest Linux in trixie-backports, whatever its
#                version (7.3.4+deb13-arm64 when this was written)
# and for each: its linux-headers-<KVER> (arm64) and -common (all), and the
# amd64 linux-kbuild of the same version, unpacked together so that
# out-of-tree modules can be cross-built against them.  Where
# linux-image-<KVER> is only a meta package (Debian's packaging of 6.18 and
# later: linux-binary-<KVER> holds the image, linux-modules-<KVER> the
# modules, linux-base-<KVER> modules.builtin/order and the config), the
# packages it depends on by that KVER are fetched and unpacked with it.  The userland is the
# same for every kernel: bookworm's busybox-static (arm64).
#
#   scripts/guest-fetch.sh --fio
# also fetches bookworm's fio (arm64) with the closure of its shared
# libraries (readelf NEEDED, recursively, from the packages it depends on)
# and prints GUEST_FIO_ROOT, a folder holding usr/bin/fio, the libraries and
# lib/ld-linux-aarch64.so.1, to copy into an initramfs as it is.
#
# Prints shell assignments on stdout (everything else goes to stderr):
#   eval "$(scripts/guest-fetch.sh)"
# sets GUEST_KVER GUEST_KVERSION GUEST_KERNEL GUEST_MODDIR GUEST_KHEADERS
# GUEST_BUSYBOX and GUEST_KERNEL_NAME (bookworm|trixie|trixie-16k|
# trixie-backports).  After
# that eval GUEST_KERNEL is the kernel image's path; a later run in the same
# environment then picks the kernel from GUEST_KERNEL_NAME.
#
# Cache layout ($CACHE/guest):
#   debs/                       the downloaded .debs (kept for re-unpacking)
#   linux-<KVER>_<version>/     image + headers + kbuild unpacked into one
#                               root (boot/, lib/modules/<KVER>/ or, trixie,
#                               usr/lib/modules/<KVER>/ with lib -> usr/lib,
#                               usr/src/, usr/lib/linux-kbuild-*/), depmod run;
#                               boot/vmlinuz-<KVER> links to the image where
#                               the packages put it in lib/modules/<KVER>/
#   busybox-<version>/          busybox-static unpacked (bin/busybox)
#   fio-<version>/              fio + its library closure (--fio)
#   resolved-<kernel>-<latest|KVER>   versions picked at the last apt refresh
# Unpacked trees are built in .tmp-* folders and renamed into place when
# complete, so an interrupted run is repaired by the next one.
#
# Environment: GUEST_KVER pins the kernel ABI (e.g. 6.1.0-56-arm64,
# 6.12.117+deb13-arm64, 7.3.4+deb13-arm64); VFIO_APPLE_REFRESH=1 forces an apt refresh and a
# new version lookup.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

want_fio=
for a in "$@"; do
	case $a in
	--fio) want_fio=1 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
	*) die "unknown argument $a (usage: $0 [--fio])" ;;
	esac
done

# The kernel: GUEST_KERNEL names it, unless it is a path (the output of an
# earlier eval), in which case GUEST_KERNEL_NAME does.
kname=${GUEST_KERNEL:-bookworm}
case $kname in */*) kname=${GUEST_KERNEL_NAME:-bookworm} ;; esac
LIBC_SUITES=
case $kname in
bookworm)
	SUITES="bookworm bookworm-security bookworm-updates"
	META=linux-image-arm64 KSERIES=6.1 FLAVOUR=arm64
	KVER_RE='^6\.1\.0-[0-9]+-arm64$' KVER_EG=6.1.0-NN-arm64 ;;
trixie)
	SUITES="trixie trixie-security trixie-updates"
	META=linux-image-arm64 KSERIES=6.12 FLAVOUR=arm64
	KVER_RE='^6\.12\.[0-9]+\+deb13-arm64$' KVER_EG=6.12.NN+deb13-arm64 ;;
trixie-16k)
	SUITES="trixie trixie-security trixie-updates"
	META=linux-image-arm64-16k KSERIES=6.12 FLAVOUR=arm64-16k
	KVER_RE='^6\.12\.[0-9]+\+deb13-arm64-16k$' KVER_EG=6.12.NN+deb13-arm64-16k ;;
trixie-backports)
	# No series: whichever Linux backports carries (7.3 when written).
	SUITES="trixie-backports" LIBC_SUITES="trixie trixie-security trixie-updates"
	META=linux-image-arm64 KSERIES= FLAVOUR=arm64
	KVER_RE='^[0-9]+\.[0-9]+(\.[0-9]+)?\+deb13-arm64$' KVER_EG=X.Y.Z+deb13-arm64 ;;
*)
	die "GUEST_KERNEL=$kname: expected bookworm (Linux 6.1), trixie (6.12), trixie-16k (6.12, 16 KiB pages) or trixie-backports (the newest in trixie-backports)" ;;
esac
USERLAND_SUITES="bookworm bookworm-security bookworm-updates"
# The release the kernel's packages were built for, whose libc6 its kbuild
# tools need (backports are built against the stable release).
LIBC_SUITES=${LIBC_SUITES:-$SUITES}

G=$CACHE/guest
mkdir -p "$G/debs" || die "cannot create $G (run as root, or set VFIO_APPLE_CACHE to a writable folder)"

exec 9>"$G/.lock"
flock 9

# Highest version of a package (given as name:arch) in the suites $2 (a
# space-separated list) of the private config whose version starts with $3
# (a prefix, may be empty).
highest_version() {
	local pkg=$1 suites=$2 prefix=${3:-} best= v
	while read -r v; do
		case $v in "$prefix"*) ;; *) continue ;; esac
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done < <(papt_cache madison "$pkg" 2>/dev/null |
	         awk -F' *[|] *' -v s=" $suites " '{ split($3, w, " "); split(w[2], d, "/"); if (index(s, " " d[1] " ")) print $2 }')
	printf '%s\n' "$best"
}

# The ABI without the flavour (6.1.0-57, 6.12.118+deb13) and the kbuild
# package's series (6.1 on bookworm; the ABI itself on trixie).
kbase() { printf '%s\n' "${1%-$FLAVOUR}"; }
kbuild_series() { if [ "$KSERIES" = 6.1 ]; then echo 6.1; else kbase "$1"; fi; }

# The packages a split linux-image-KVER (a meta package) is made of, read
# from its Depends (on stdin, a control paragraph): "name version" for
# each dependency named linux-*-KVER, the version it pins (or $2).  None
# for an image package that holds the kernel itself.
kparts() {
	local kver=$1 ver=$2 dep name pin
	sed -n 's/^Depends: *//p' | head -n1 | tr ',' '\n' | sed 's/|.*//' |
	while read -r dep; do
		name=${dep%% *}
		case $name in linux-image-*) continue ;; linux-*-"$kver") ;; *) continue ;; esac
		pin=$(sed -n 's/.*(= *\([^ )]*\) *).*/\1/p' <<<"$dep")
		printf '%s %s\n' "$name" "${pin:-$ver}"
	done
}

# Work out KVER, the kernel package version and the busybox version.
resolve() {
	local kver ver dep bbver
	if [ -n "${GUEST_KVER:-}" ]; then
		kver=$GUEST_KVER
		[[ $kver =~ $KVER_RE ]] ||
			die "GUEST_KVER=$kver: expected $KVER_EG (an arm64 kernel ABI of $kname)"
		ver=$(highest_version "linux-image-$kver:arm64" "$SUITES")
		[ -n "$ver" ] || die "linux-image-$kver:arm64 is not in the $kname archive any more (only the newest ABIs are); unset GUEST_KVER or pick another"
	else
		local meta
		meta=$(highest_version "$META:arm64" "$SUITES" "${KSERIES:+$KSERIES.}")
		[ -n "$meta" ] || die "no $META:arm64 ${KSERIES:+$KSERIES.x }of $kname in the private apt lists ($PAPT); try VFIO_APPLE_REFRESH=1"
		dep=$(papt_cache show "$META:arm64=$meta" |
		      sed -n 's/^Depends: *//p' | head -n1 | tr ',|' '\n\n' |
		      sed -n 's/^ *linux-image-\([^ ]*\)\( .*\)\?$/\1/p' |
		      grep -E "$KVER_RE" | head -n1) || true
		[ -n "$dep" ] || die "cannot find the kernel that $META=$meta depends on"
		kver=$dep
		ver=$(highest_version "linux-image-$kver:arm64" "$SUITES")
		[ -n "$ver" ] || die "linux-image-$kver:arm64 (the dependency of $META=$meta) is not in the lists"
	fi
	local p base pv
	base=$(kbase "$kver")
	for p in "linux-headers-$kver:arm64" "linux-headers-$base-common" "linux-kbuild-$(kbuild_series "$kver"):amd64"; do
		papt_cache madison "$p" 2>/dev/null | awk -F' *[|] *' '{print $2}' | grep -qxF "$ver" ||
			die "$p version $ver (matching linux-image-$kver) is not in the archive; cannot build modules against this kernel"
	done
	# A split image's parts (checked now, fetched with the image later).
	while read -r p pv; do
		papt_cache madison "$p:arm64" 2>/dev/null | awk -F' *[|] *' '{print $2}' | grep -qxF "$pv" ||
			die "$p version $pv (a part of linux-image-$kver) is not in the archive"
	done < <(papt_cache show "linux-image-$kver:arm64=$ver" | kparts "$kver" "$ver")
	bbver=$(highest_version busybox-static:arm64 "$USERLAND_SUITES")
	[ -n "$bbver" ] || die "busybox-static:arm64 not found in the private apt lists (bookworm)"
	printf '%s %s %s\n' "$kver" "$ver" "$bbver"
}

# Pick versions: reuse the last lookup until the private apt lists are
# refreshed (once a day), so a warm run makes no apt calls at all.
rfile="$G/resolved-$kname-${GUEST_KVER:-latest}"
stamp="$PAPT/updated"
if [ ! -s "$rfile" ] || [ "$stamp" -nt "$rfile" ] ||
   ! bash -c '. "$1"; private_apt_fresh' _ "$TOP/scripts/lib.sh"; then
	# (a separate bash, so that set -e holds inside private_apt_update)
	if bash -euo pipefail -c '. "$1"; private_apt_update' _ "$TOP/scripts/lib.sh" &&
	   res=$(set -e; resolve); then
		printf '%s\n' "$res" >"$rfile.tmp" && mv -f "$rfile.tmp" "$rfile"
	elif [ -s "$rfile" ]; then
		step "warning: apt lookup failed, using the versions found last time"
	else
		die "cannot resolve the guest kernel ($kname) and busybox versions (see above)"
	fi
fi
read -r KVER KVERSION BBVER <"$rfile"
[ -n "$BBVER" ] || die "corrupt $rfile; delete it and rerun"
KBASE=$(kbase "$KVER")
KBUILD=$(kbuild_series "$KVER")

# --- kernel: image + headers + kbuild in one root --------------------------
kroot="$G/linux-${KVER}_${KVERSION//:/%3a}"
if [ ! -e "$kroot/.complete" ]; then
	debs=()
	for p in "linux-image-$KVER arm64" "linux-headers-$KVER arm64" \
	         "linux-headers-$KBASE-common all" "linux-kbuild-$KBUILD amd64"; do
		d=$(deb_path "${p% *}" "$KVERSION" "${p#* }")
		debs+=("$d")
	done
	# A meta linux-image (6.18+ packaging): its parts hold the files.
	while read -r p pv; do
		d=$(deb_path "$p" "$pv" arm64)
		debs+=("$d")
	done < <(dpkg-deb -f "${debs[0]}" Depends | sed 's/^/Depends: /' | kparts "$KVER" "$KVERSION")
	step "unpack kernel $KVER ($KVERSION)"
	rm -rf "$G"/.tmp-linux-* "$kroot"
	tmp=$(mktemp -d "$G/.tmp-linux-XXXXXX")
	for d in "${debs[@]}"; do
		dpkg-deb -x "$d" "$tmp" || die "dpkg-deb -x $d failed (corrupt download? delete it and rerun)"
	done
	hdr=usr/src/linux-headers-$KVER
	common=usr/src/linux-headers-$KBASE-common
	# linux-binary-KVER (6.18+ packaging) has the image in the modules
	# folder, as lib/modules/KVER/vmlinuz: link it where the others have it.
	if [ ! -e "$tmp/boot/vmlinuz-$KVER" ]; then
		for m in usr/lib lib; do
			[ -f "$tmp/$m/modules/$KVER/vmlinuz" ] || continue
			mkdir -p "$tmp/boot"
			ln -s "../$m/modules/$KVER/vmlinuz" "$tmp/boot/vmlinuz-$KVER"
			break
		done
	fi
	[ -f "$tmp/boot/vmlinuz-$KVER" ] || die "linux-image-$KVER (and its parts) has no boot/vmlinuz-$KVER nor lib/modules/$KVER/vmlinuz"
	[ -f "$tmp/$common/Makefile" ] || die "linux-headers common package has no $common/Makefile"
	# Trixie ships modules under usr/lib/modules (merged /usr): give the
	# root a lib -> usr/lib link, as a merged-/usr system has, so that
	# depmod -b (which looks in lib/modules) and every lib/modules path work.
	if [ -d "$tmp/usr/lib/modules/$KVER" ] && [ ! -e "$tmp/lib/modules" ]; then
		[ ! -e "$tmp/lib" ] || rmdir "$tmp/lib" 2>/dev/null ||
			die "$KVER: both lib/ and usr/lib/modules in the packages; cannot merge them"
		ln -s usr/lib "$tmp/lib"
	fi
	[ -d "$tmp/lib/modules/$KVER/kernel" ] || die "linux-image-$KVER has no lib/modules/$KVER/kernel (nor under usr/lib)"
	# The arm64 headers include the common Makefile by absolute path (and,
	# from 6.18's packaging on, set KBUILD_OUTPUT to their own).
	sed -i -e "s|^include /usr/src/|include $kroot/usr/src/|" \
	       -e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$kroot/usr/src/|" "$tmp/$hdr/Makefile"
	grep -qxF "include $kroot/$common/Makefile" "$tmp/$hdr/Makefile" &&
	! grep -q '^[^#]*[ =]/usr/src/' "$tmp/$hdr/Makefile" ||
		die "unexpected $hdr/Makefile layout: $(head -c 300 "$tmp/$hdr/Makefile")"
	# scripts/ and tools/ point at ../../lib/linux-kbuild-$KBUILD/...; the
	# packages ship them relative, which already resolves inside this root.
	# Make that explicit (and correct, whatever the packages ship).
	for h in "$hdr" "$common"; do
		for l in scripts tools; do
			ln -sfn "../../lib/linux-kbuild-$KBUILD/$l" "$tmp/$h/$l"
		done
	done
	[ -x "$tmp/$hdr/scripts/basic/fixdep" ] && [ -x "$tmp/$hdr/scripts/mod/modpost" ] ||
		die "kbuild tools missing under $hdr/scripts (linux-kbuild-$KBUILD unpack failed?)"
	# lib/modules/KVER/{build,source}: relative, from wherever the modules
	# really are (lib/ or usr/lib/).
	mreal=$(cd "$tmp/lib/modules/$KVER" && pwd -P)
	ln -sfn "$(realpath -m --relative-to="$mreal" "$tmp/$hdr")" "$mreal/build"
	ln -sfn "$(realpath -m --relative-to="$mreal" "$tmp/$common")" "$mreal/source"
	# modules.dep/alias/softdep for the initramfs builder.
	depmod -b "$tmp" "$KVER" || die "depmod -b $tmp $KVER failed"
	[ -s "$tmp/lib/modules/$KVER/modules.dep" ] || die "depmod -b $tmp $KVER wrote no modules.dep"
	touch "$tmp/.complete"
	mv -T "$tmp" "$kroot"
	ok "kernel $KVER unpacked in $kroot"
fi

# --- kbuild's host tools on this host ----------------------------------------
# A newer suite's linux-kbuild (trixie's) is linked against a newer glibc
# than bookworm has, and modpost then cannot start.  Give those tools the
# suite's own libc6 (amd64, unpacked next to them, never installed): each
# modpost.real-* becomes a wrapper that runs it through that libc's loader.
kbuild_host_libc() {
	local kb="$kroot/usr/lib/linux-kbuild-$KBUILD/scripts/mod" real v d lroot ld libdir out
	[ -e "$kroot/.kbuild-host-ok" ] && return 0
	real="$kb/modpost.real-lsb-64"
	[ -x "$real" ] || { touch "$kroot/.kbuild-host-ok"; return 0; }
	out=$("$real" -x 2>&1 || true)
	if ! grep -q 'GLIBC_[0-9.]*. not found' <<<"$out"; then
		touch "$kroot/.kbuild-host-ok"
		return 0
	fi
	v=$(highest_version libc6:amd64 "$LIBC_SUITES")
	[ -n "$v" ] || die "libc6:amd64 for $kname not in the lists (needed to run its modpost)"
	d=$(deb_path libc6 "$v" amd64)
	lroot="$kroot/hostlibc"
	rm -rf "$lroot"
	dpkg-deb -x "$d" "$lroot" || die "dpkg-deb -x $d failed"
	ld=$(find "$lroot" -name 'ld-linux-x86-64.so.2' | head -n1)
	libdir=$(dirname "$(find "$lroot" -name 'libc.so.6' | head -n1)")
	[ -n "$ld" ] && [ -d "$libdir" ] || die "libc6 $v has no loader or libc.so.6"
	step "kbuild $KBUILD needs a newer glibc: running modpost with libc6 $v (${LIBC_SUITES%% *})"
	for real in "$kb"/modpost.real-*; do
		case $real in *.bin) continue ;; esac
		mv -f "$real" "$real.bin"
		printf '#!/bin/sh\n# modpost with the glibc it was built for (scripts/guest-fetch.sh)\nexec "%s" --library-path "%s" "%s" "$@"\n' \
			"$ld" "$libdir" "$real.bin" >"$real"
		chmod +x "$real"
	done
	touch "$kroot/.kbuild-host-ok"
}
kbuild_host_libc

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

# --- fio and its shared libraries (--fio) ------------------------------------
# Packages are unpacked into a sysroot on demand: fio's, then, for every
# soname some ELF file there NEEDs and no unpacked package provides, the
# dependencies of the package holding that file (those named like the
# soname first, the rest one at a time until it is found).  The result
# holds only fio, the closure of what it NEEDs, and the dynamic linker.
fio_fetch() {
	local fver froot sys tmp
	fver=$(cat "$G/resolved-fio" 2>/dev/null || true)
	if [ -z "$fver" ] || [ "$stamp" -nt "$G/resolved-fio" ]; then
		fver=$(highest_version fio:arm64 "$USERLAND_SUITES")
		[ -n "$fver" ] || die "fio:arm64 not found in the private apt lists (bookworm); try VFIO_APPLE_REFRESH=1"
		printf '%s\n' "$fver" >"$G/resolved-fio"
	fi
	froot="$G/fio-$fver"
	if [ ! -e "$froot/.complete" ]; then
		step "fio $fver (arm64) and the closure of its shared libraries"
		rm -rf "$G"/.tmp-fio-* "$froot"
		tmp=$(mktemp -d "$G/.tmp-fio-XXXXXX")
		sys=$tmp/sysroot
		mkdir -p "$sys" "$tmp/pkgs"
		declare -A owner=() have=() unpacked=()
		unpack_pkg() {      # name: download the bookworm version, unpack, index
			local name=$1 v d f
			[ -z "${unpacked[$name]:-}" ] || return 0
			unpacked[$name]=1
			v=$(highest_version "$name:arm64" "$USERLAND_SUITES")
			[ -n "$v" ] || { step "  note: $name has no arm64 package in bookworm, skipped"; return 0; }
			d=$(deb_path "$name" "$v" arm64)
			mkdir -p "$tmp/pkgs/$name"
			dpkg-deb -x "$d" "$tmp/pkgs/$name" || die "dpkg-deb -x $d failed (corrupt download? delete it and rerun)"
			cp -a "$tmp/pkgs/$name/." "$sys/"
			while read -r f; do
				have[${f##*/}]=$name
			done < <(cd "$tmp/pkgs/$name" && find . \( -type f -o -type l \) -name '*.so*' | sed 's|^\./||')
		}
		deps_of() {         # package names in the Depends of $1 (alternatives: all)
			papt_cache show "$1:arm64=$(highest_version "$1:arm64" "$USERLAND_SUITES")" 2>/dev/null |
				sed -n 's/^\(Pre-\)\{0,1\}Depends: *//p' | tr ',|' '\n\n' |
				sed 's/^ *//; s/[ :(].*//' | grep . | sort -u
		}
		# The soname's stem, for guessing its package: libfoo.so.1 -> libfoo
		stem() { local s=${1%%.so*}; printf '%s\n' "${s%%-[0-9]*}"; }
		resolve_soname() {  # soname, package whose file needs it
			local so=$1 pkg=$2 d deps
			deps=$(deps_of "$pkg")
			for d in $(grep -i "^$(stem "$so" | sed 's/^lib//; s/[.+]/\\&/g')\|^$(stem "$so" | sed 's/[.+]/\\&/g')" <<<"$deps"); do
				[ -n "${have[$so]:-}" ] && return 0
				unpack_pkg "$d"
			done
			for d in $deps; do
				[ -n "${have[$so]:-}" ] && return 0
				unpack_pkg "$d"
			done
			[ -n "${have[$so]:-}" ] || die "no dependency of $pkg provides $so (needed by fio's closure)"
		}
		unpack_pkg fio
		[ -x "$sys/usr/bin/fio" ] || die "fio $fver has no usr/bin/fio"
		local -a queue=("usr/bin/fio:fio") closure=()
		declare -A seen=()
		local item f pkg so path
		while [ ${#queue[@]} -gt 0 ]; do
			item=${queue[0]}; queue=("${queue[@]:1}")
			f=${item%:*} pkg=${item##*:}
			[ -z "${seen[$f]:-}" ] || continue
			seen[$f]=1
			closure+=("$f")
			for so in $(readelf -d "$sys/$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
				[ -n "${have[$so]:-}" ] || resolve_soname "$so" "$pkg"
				path=$(cd "$sys" && find lib usr/lib -name "$so" \( -type f -o -type l \) 2>/dev/null | head -n1)
				[ -n "$path" ] || die "$so (needed by $f) not found in the unpacked packages"
				# the link and the file it points at
				closure+=("$path")
				path=$(realpath --relative-to="$sys" "$sys/$path")
				queue+=("$path:${have[$so]}")
			done
		done
		# The dynamic linker (PT_INTERP) is not a NEEDED entry of fio's.
		local interp
		interp=$(readelf -l "$sys/usr/bin/fio" | sed -n 's/.*interpreter: \/\(.*\)\]/\1/p')
		[ -n "$interp" ] || die "fio has no program interpreter (not dynamically linked?)"
		[ -e "$sys/$interp" ] || {
			# lib/ld-linux-aarch64.so.1 -> the file in usr/lib or lib/aarch64-linux-gnu
			path=$(cd "$sys" && find lib usr/lib -name "${interp##*/}" 2>/dev/null | head -n1)
			[ -n "$path" ] || die "the dynamic linker /$interp is not in libc6:arm64"
			mkdir -p "$sys/$(dirname "$interp")"
			ln -sfn "/$path" "$sys/$interp"
		}
		closure+=("$interp" "$(realpath --relative-to="$sys" "$sys/$interp")")
		mkdir -p "$tmp/root"
		(cd "$sys" && printf '%s\n' "${closure[@]}" | sort -u | cpio --quiet -pdm "$tmp/root") ||
			die "cannot copy fio's closure"
		for f in "${closure[@]}"; do [ -e "$tmp/root/$f" ] || die "closure file $f missing after copy"; done
		printf '%s\n' "${closure[@]}" | sort -u >"$tmp/root/.closure"
		rm -rf "$sys" "$tmp/pkgs"
		mv -T "$tmp/root" "$tmp.root"
		rm -rf "$tmp"
		touch "$tmp.root/.complete"
		mv -T "$tmp.root" "$froot"
		ok "fio $fver: $(wc -l <"$froot/.closure") files, $(du -sk --exclude=.closure "$froot" | cut -f1) KiB in $froot"
	fi
	printf 'GUEST_FIO_ROOT=%q\n' "$froot"
}
[ -z "$want_fio" ] || fio=$(fio_fetch)

printf 'GUEST_KERNEL_NAME=%q\n' "$kname"
printf 'GUEST_KVER=%q\n' "$KVER"
printf 'GUEST_KVERSION=%q\n' "$KVERSION"
printf 'GUEST_KERNEL=%q\n' "$kroot/boot/vmlinuz-$KVER"
printf 'GUEST_MODDIR=%q\n' "$kroot/lib/modules/$KVER"
printf 'GUEST_KHEADERS=%q\n' "$kroot/usr/src/linux-headers-$KVER"
printf 'GUEST_BUSYBOX=%q\n' "$bbroot/bin/busybox"
[ -z "$want_fio" ] || printf '%s\n' "$fio"
