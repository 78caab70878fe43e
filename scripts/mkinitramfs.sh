#!/bin/bash
# Build a guest initramfs (newc cpio, gzip) from busybox, kernel modules and
# a scenario script.
#
#   scripts/mkinitramfs.sh -o OUT.cpio.gz --init FILE
#       [--modules "nvme virtio_blk ..."]   in-tree modules (repeatable)
#       [--ko path.ko ...]                  our out-of-tree modules (repeatable)
#       [--add SRC:DST ...]                 extra files or folders (repeatable)
#       [--modarg NAME=ARGS ...]            parameters for module NAME when
#                                           init loads it (repeatable; NAME
#                                           must be in the image; '-' and
#                                           '_' are the same, as in the kernel)
#       [--fio]                             fio and its shared libraries
#                                           (scripts/guest-fetch.sh --fio)
#
# Image layout:
#   /init                     FILE
#   /bin/busybox + a symlink for every applet it has (sh, mount, insmod,
#                             poweroff, dd, sha256sum, cmp, awk, ...);
#                             /sbin, /usr/bin, /usr/sbin link to /bin
#   /lib/modules/KVER/...     the requested modules with their whole
#                             dependency chains (modinfo depends=, plus
#                             softdep pre:/post: resolved by name or alias),
#                             decompressed; our .ko files in .../extra/;
#                             modules.dep etc. from depmod (busybox modprobe)
#   /etc/vfio-apple/modules   the .ko paths in load order (dependencies
#                             first, each once): init does
#                             while read m; do insmod $m; done
#   /etc/vfio-apple/modules.optional   those of them that were reached only
#                             through a softdep (their insmod may fail
#                             harmlessly, e.g. crct10dif_ce without PMULL)
#   /etc/vfio-apple/modules.names   "<path> <module name>" for each of them
#                             (the name as the kernel spells it: '_', not '-';
#                             init matches NAME.param=value on the kernel
#                             command line and modargs/ files against it)
#   /etc/vfio-apple/modargs/NAME   --modarg parameters of module NAME
#   /bin/fio, /lib/ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu/...,
#   /usr/lib/aarch64-linux-gnu/...   with --fio
#   /dev /proc /sys /tmp /run /mnt /root   empty mount points
#
# Uses GUEST_MODDIR, GUEST_KVER and GUEST_BUSYBOX (GUEST_FIO_ROOT for
# --fio) from the environment when set, otherwise gets them from
# scripts/guest-fetch.sh (GUEST_KERNEL picks the kernel there).  Runs depmod
# on GUEST_MODDIR itself when its modules.dep is missing.  The output is
# byte-for-byte reproducible for the same inputs (SOURCE_DATE_EPOCH, default
# 0, sets the timestamps).  Every failure says what failed.
set -Eeuo pipefail
. "$(dirname "$0")/lib.sh"
# Anything that fails without its own message still says what and where.
trap 'rc=$?; printf "error: mkinitramfs: \"%s\" failed (exit %s, line %s of %s); the image was not written\n" "$BASH_COMMAND" "$rc" "$LINENO" "$0" >&2; exit "$rc"' ERR

usage() {
	cat >&2 <<EOF
usage: $0 -o OUT.cpio.gz --init FILE [--modules "mod ..."] [--ko FILE.ko]... [--add SRC:DST]...
          [--modarg NAME=ARGS]... [--fio]
EOF
	exit 2
}

out= init= mods=() kos=() adds=() modargs=() fio=
while [ $# -gt 0 ]; do
	case $1 in
	-o|--output) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	--init) [ $# -ge 2 ] || usage; init=$2; shift 2 ;;
	--modules) [ $# -ge 2 ] || usage; read -ra m <<<"${2//,/ }"; mods+=("${m[@]}"); shift 2 ;;
	--ko) [ $# -ge 2 ] || usage; kos+=("$2"); shift 2 ;;
	--add) [ $# -ge 2 ] || usage; adds+=("$2"); shift 2 ;;
	--modarg) [ $# -ge 2 ] || usage; modargs+=("$2"); shift 2 ;;
	--fio) fio=1; shift ;;
	-h|--help) usage ;;
	*) printf 'error: unknown argument %s\n' "$1" >&2; usage ;;
	esac
done
[ -n "$out" ] || { printf 'error: -o OUT is required\n' >&2; usage; }
[ -n "$init" ] || { printf 'error: --init FILE is required\n' >&2; usage; }
[ -f "$init" ] || die "--init $init: no such file"

if [ -z "${GUEST_MODDIR:-}" ] || [ -z "${GUEST_BUSYBOX:-}" ] ||
   { [ -n "$fio" ] && [ -z "${GUEST_FIO_ROOT:-}" ]; }; then
	fetched=$("$TOP/scripts/guest-fetch.sh" ${fio:+--fio}) ||
		die "scripts/guest-fetch.sh${fio:+ --fio} failed (see above); the image was not written"
	eval "$fetched"
fi
KVER=${GUEST_KVER:-$(basename "$GUEST_MODDIR")}
[ -d "$GUEST_MODDIR/kernel" ] || die "GUEST_MODDIR=$GUEST_MODDIR has no kernel/ folder (rerun scripts/guest-fetch.sh)"
[ -f "$GUEST_BUSYBOX" ] || die "GUEST_BUSYBOX=$GUEST_BUSYBOX: no such file (rerun scripts/guest-fetch.sh)"
if [ -n "$fio" ]; then
	[ -x "${GUEST_FIO_ROOT:-}/usr/bin/fio" ] && [ -s "$GUEST_FIO_ROOT/.closure" ] ||
		die "GUEST_FIO_ROOT=${GUEST_FIO_ROOT:-} has no usr/bin/fio and .closure (rerun scripts/guest-fetch.sh --fio)"
fi
# The module index (modules.dep, aliases, softdeps) comes from depmod; a
# tree unpacked by hand may not have it yet.
if [ ! -s "$GUEST_MODDIR/modules.dep" ]; then
	case $GUEST_MODDIR in
	*/lib/modules/"$KVER") ;;
	*) die "GUEST_MODDIR=$GUEST_MODDIR has no modules.dep and does not end in lib/modules/$KVER, so depmod -b cannot index it; run depmod on it yourself (or rerun scripts/guest-fetch.sh)" ;;
	esac
	step "depmod -b ${GUEST_MODDIR%/lib/modules/"$KVER"} $KVER (no modules.dep yet)"
	depmod -b "${GUEST_MODDIR%/lib/modules/"$KVER"}" "$KVER" ||
		die "depmod -b ${GUEST_MODDIR%/lib/modules/"$KVER"} $KVER failed (is kmod installed, is $GUEST_MODDIR writable?)"
	[ -s "$GUEST_MODDIR/modules.dep" ] || die "depmod wrote no $GUEST_MODDIR/modules.dep"
fi

umask 022
export LC_ALL=C
st=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX")
trap 'rm -rf "$st" "$st.fio"' EXIT
mdir=lib/modules/$KVER            # inside the image

step "initramfs $out (kernel $KVER)"

# --- skeleton and busybox --------------------------------------------------
mkdir -p "$st"/{bin,dev,proc,sys,tmp,run,mnt,root,etc/vfio-apple,usr,"$mdir"}
ln -s bin "$st/sbin"
ln -s ../bin "$st/usr/bin"
ln -s ../bin "$st/usr/sbin"
cp "$GUEST_BUSYBOX" "$st/bin/busybox"
chmod 755 "$st/bin/busybox"
# The applet names are a NUL-separated, sorted table starting "[", "[[".
# Reading it from the binary works for any (foreign-arch) busybox.
applets=$(tr '\0' '\n' <"$GUEST_BUSYBOX" |
	awk 'p && $0 == "" { p = 0; done = 1 } p { print } !p && !done && prev == "[" && $0 == "[[" { p = 1; print "["; print } { prev = $0 }')
for a in sh mount insmod poweroff dd sha256sum md5sum cmp grep awk sleep cat echo; do
	grep -qxF "$a" <<<"$applets" || die "busybox $GUEST_BUSYBOX lacks the applet '$a' (or its applet table was not found)"
done
while read -r a; do
	case $a in busybox|*/*|'') continue ;; esac
	ln -s busybox "$st/bin/$a"
done <<<"$applets"

# --- modules ---------------------------------------------------------------
# index: normalized module name -> path relative to GUEST_MODDIR (in-tree)
# or absolute path (--ko); staged: name -> path inside the image.
declare -A index=() staged=() state=() hdeps=() required=()
norm() { local n=${1##*/}; n=${n%.ko*}; printf '%s' "${n//-/_}"; }

if [ ${#mods[@]} -gt 0 ] || [ ${#kos[@]} -gt 0 ]; then
	list=$(cut -d: -f1 "$GUEST_MODDIR/modules.dep")
	while read -r n p; do
		index[$n]=$p
	done < <(awk -F/ 'NF { n = $NF; sub(/\.ko.*/, "", n); gsub("-", "_", n); print n, $0 }' <<<"$list")
fi
builtin=
[ -f "$GUEST_MODDIR/modules.builtin" ] && builtin=$(sed 's|.*/||; s|\.ko.*||; s|-|_|g' "$GUEST_MODDIR/modules.builtin")

for k in "${kos[@]}"; do
	[ -f "$k" ] || die "--ko $k: no such file"
	n=$(modinfo -F name "$k" 2>/dev/null) || die "--ko $k: modinfo cannot read it (not a kernel module?)"
	[ -n "$n" ] || n=$(norm "$k")
	n=${n//-/_}
	index[$n]=$(cd "$(dirname "$k")" && pwd)/$(basename "$k")
done

# Copy (decompressing) module $1 into the image; sets staged[$1].
stage() {
	local n=$1 src=${index[$1]} src_abs dst rel
	if [[ $src == /* ]]; then
		rel=extra/$(basename "$src"); src_abs=$src
	else
		rel=$src; src_abs=$GUEST_MODDIR/$src
	fi
	rel=${rel%.xz}; rel=${rel%.zst}; rel=${rel%.gz}
	dst=$st/$mdir/$rel
	mkdir -p "$(dirname "$dst")"
	case $src_abs in
	*.ko.xz)  xz -dc "$src_abs" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src_abs" >"$dst" ;;
	*.ko.gz)  gzip -dc "$src_abs" >"$dst" ;;
	*)        cp "$src_abs" "$dst" ;;
	esac || die "cannot copy module $src_abs into the image"
	chmod 644 "$dst"
	staged[$n]=/$mdir/$rel
}

# Names a softdep entry refers to: a module name, or else an alias (crypto
# algorithms are named like that) matching any number of modules.
softdep_targets() {
	local want=${1//-/_}
	if [ -n "${index[$want]:-}" ]; then
		printf '%s\n' "$want"
	elif [ -f "$GUEST_MODDIR/modules.alias" ]; then
		awk -v a="$1" '$1 == "alias" && $2 == a { gsub("-", "_", $3); print $3 }' \
			"$GUEST_MODDIR/modules.alias" | sort -u
	fi
}

order=()
chain=()   # for messages
# Depth-first: hard depends and softdep pre: first, then the module, then
# softdep post:.  $2 = "soft" when reached through a softdep (optional).
visit() {
	local n=${1//-/_} how=${2:-hard} d t mode= post=() deps soft
	case ${state[$n]:-} in
	done|busy) return 0 ;;   # busy: a cycle (softdeps can make one); break it
	esac
	if [ -z "${index[$n]:-}" ]; then
		if grep -qxF "$n" <<<"$builtin"; then
			step "  $n is built into the kernel"
			state[$n]=done; return 0
		fi
		if [ "$how" = soft ]; then
			step "  warning: optional module $n (softdep of ${chain[*]: -1}) not found, skipped"
			state[$n]=done; return 0
		fi
		die "module $n${chain:+ (needed by ${chain[*]: -1})} is not in $GUEST_MODDIR"
	fi
	state[$n]=busy
	chain+=("$n")
	stage "$n"
	local f=$st${staged[$n]}
	deps=$(modinfo -F depends "$f") || die "modinfo -F depends $f failed"
	soft=$(modinfo -F softdep "$f" | tr '\n' ' ')
	for d in ${deps//,/ }; do
		visit "$d" hard
		hdeps[$n]+=" ${d//-/_}"
	done
	for t in $soft; do
		case $t in
		pre:) mode=pre ;;
		post:) mode=post ;;
		*)
			if [ "$mode" = post ]; then
				post+=("$t")
			elif [ "$mode" = pre ]; then
				local tt any=
				for tt in $(softdep_targets "$t"); do visit "$tt" soft; any=1; done
				[ -n "$any" ] || step "  note: softdep $t of $n matches no module, skipped"
			fi ;;
		esac
	done
	order+=("${staged[$n]}")
	state[$n]=done
	for t in "${post[@]}"; do
		local tt
		for tt in $(softdep_targets "$t"); do visit "$tt" soft; done
	done
	unset 'chain[${#chain[@]}-1]'
}

# Modules reached only through softdeps are optional: they may fail to load
# (e.g. crct10dif_ce on a CPU without PMULL) without harm.
mark_required() {
	local n=${1//-/_} d
	[ -z "${required[$n]:-}" ] || return 0
	required[$n]=1
	for d in ${hdeps[$n]:-}; do mark_required "$d"; done
}
roots=("${mods[@]}")
for k in "${kos[@]}"; do roots+=("$(modinfo -F name "$k")"); done
for m in "${roots[@]}"; do visit "$m"; done
for m in "${roots[@]}"; do mark_required "$m"; done
: >"$st/etc/vfio-apple/modules"
: >"$st/etc/vfio-apple/modules.optional"
: >"$st/etc/vfio-apple/modules.names"
if [ ${#order[@]} -gt 0 ]; then
	printf '%s\n' "${order[@]}" >"$st/etc/vfio-apple/modules"
	for n in "${!staged[@]}"; do
		printf '%s %s\n' "${staged[$n]}" "$n"
	done | sort >"$st/etc/vfio-apple/modules.names"
	for n in "${!staged[@]}"; do
		[ -n "${required[$n]:-}" ] || printf '%s\n' "${staged[$n]}"
	done | sort >"$st/etc/vfio-apple/modules.optional"
	step "  modules (load order): $(for p in "${order[@]}"; do norm "$p"; printf ' '; done)"
	# modules.dep etc., so that busybox modprobe (and the kernel's
	# request_module) can find what is in the image.
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "$GUEST_MODDIR/$f" ] && cp "$GUEST_MODDIR/$f" "$st/$mdir/"
	done
	depmod -b "$st" "$KVER" 2>"$st/.depmod.err" ||
		{ cat "$st/.depmod.err" >&2; die "depmod on the image's modules failed"; }
	rm -f "$st/.depmod.err"
fi

# Module parameters, by module name ('-' and '_' alike, as the kernel has
# it).  A name that is not in the image is an error: its parameters would
# silently go nowhere.
for a in "${modargs[@]}"; do
	n=${a%%=*} v=${a#*=}
	[ "$n" != "$a" ] && [ -n "$n" ] || die "--modarg $a: expected NAME=ARGS (e.g. nvme_core=\"io_timeout=10\")"
	n=$(norm "$n")
	[ -n "${staged[$n]:-}" ] ||
		die "--modarg $a: module $n is not in the image (modules: $(printf '%s ' "${!staged[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')); add it to --modules or fix the name; a module built into the kernel takes NAME.param=value on the kernel command line instead"
	mkdir -p "$st/etc/vfio-apple/modargs"
	if [ -e "$st/etc/vfio-apple/modargs/$n" ]; then
		printf ' %s' "$v" >>"$st/etc/vfio-apple/modargs/$n"
	else
		printf '%s' "$v" >"$st/etc/vfio-apple/modargs/$n"
	fi
done
for f in "$st"/etc/vfio-apple/modargs/*; do [ ! -e "$f" ] || echo >>"$f"; done

# --- fio ---------------------------------------------------------------------
# Its closure as guest-fetch listed it (usr/bin is a link to bin here), as
# a second gzip'd cpio archive appended to the image (the kernel unpacks
# concatenated archives in turn).  That part is the same for every image,
# so it is built once and kept beside the closure.
fio_part=
if [ -n "$fio" ]; then
	fio_part=$GUEST_FIO_ROOT/.initramfs-${SOURCE_DATE_EPOCH:-0}.cpio.gz
	if [ ! -s "$fio_part" ]; then
		fst=$st.fio
		mkdir -p "$fst"
		nf=0
		while read -r f; do
			[ -n "$f" ] || continue
			d=$f
			case $d in usr/bin/*) d=bin/${d#usr/bin/} ;; esac
			mkdir -p "$fst/$(dirname "$d")"
			cp -a "$GUEST_FIO_ROOT/$f" "$fst/$d" || die "--fio: cannot copy $GUEST_FIO_ROOT/$f (rerun scripts/guest-fetch.sh --fio)"
			nf=$((nf + 1))
		done <"$GUEST_FIO_ROOT/.closure"
		find "$fst" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-0}" {} +
		ftmp=$fio_part.tmp.$$
		(cd "$fst" && find . -mindepth 1 -print0 | sort -z |
			cpio --quiet -o -0 -H newc --reproducible -R 0:0 | gzip -n -6) >"$ftmp" ||
			{ rm -rf "$ftmp" "$fst"; die "--fio: cpio/gzip of fio's closure failed"; }
		mv -f "$ftmp" "$fio_part"
		rm -rf "$fst"
		step "  fio: $nf files from $GUEST_FIO_ROOT, archived once in $fio_part"
	fi
fi

# --- extra files and init --------------------------------------------------
for a in "${adds[@]}"; do
	src=${a%%:*} dst=${a#*:}
	[ "$src" != "$a" ] && [ -n "$src" ] && [ -n "$dst" ] || die "--add $a: expected SRC:DST"
	[ -e "$src" ] || die "--add $a: $src does not exist"
	dst=/${dst#/}
	mkdir -p "$st$(dirname "$dst")"
	if [ -d "$src" ]; then
		mkdir -p "$st$dst"
		cp -R "$src"/. "$st$dst"/ || die "--add $a: copy failed"
	else
		cp "$src" "$st$dst" || die "--add $a: copy failed"
	fi
done
cp "$init" "$st/init"
chmod 755 "$st/init"

# --- archive (reproducible) -------------------------------------------------
find "$st" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-0}" {} +
mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
(cd "$st" && find . -mindepth 1 -print0 | sort -z |
	cpio --quiet -o -0 -H newc --reproducible -R 0:0 | gzip -n -6) >"$tmp" ||
	{ rm -f "$tmp"; die "cpio/gzip of the image failed"; }
if [ -n "$fio_part" ]; then
	cat "$fio_part" >>"$tmp" || { rm -f "$tmp"; die "cannot append $fio_part to the image"; }
fi
mv -f "$tmp" "$out"
ok "$out ($(du -k "$out" | cut -f1) KiB, ${#order[@]} modules)"
