#!/usr/bin/env bash
# Export our QEMU changes as a `git format-patch` series against the pinned
# base, ready for qemu-devel: one commit per line of qemu/series (edits to
# existing files from qemu/patches/, our new files with their messages from
# qemu/messages/), each authored and signed off by whoever runs this (the
# Developer's Certificate of Origin is the submitter's to give: the
# identity comes from git config, never from us), then QEMU's own
# scripts/checkpatch.pl over every patch.
#
#   scripts/qemu-export-patches.sh [OUTDIR]     (default: build/qemu-patches)
#
# Exits non-zero if a patch does not apply, a new file under qemu/ belongs
# to no line of the series, or checkpatch reports an error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/qemu-lib.sh"

out=$(realpath -m "${1:-$TOP/build/qemu-patches}")
base=$(base_source)
repo="$CACHE/qemu/$(source_id)/export"
series="$OVERLAY/series"

name=${GIT_AUTHOR_NAME:-$(git -C "$TOP" config user.name || true)}
email=${GIT_AUTHOR_EMAIL:-$(git -C "$TOP" config user.email || true)}
[ -n "$name" ] && [ -n "$email" ] ||
	die "no git identity: the series is signed off by whoever sends it; set git config user.name and user.email (or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL)"
ident="$name <$email>"
git_() {
	git -C "$repo" -c user.name="$name" -c user.email="$email" \
		-c commit.gpgsign=false "$@"
}

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

[ -f "$series" ] || die "missing $series (the order of the series)"
# Which series line each new file belongs to: the first whose path covers it.
declare -A owner=()
lineno=0
while read -r kind arg paths; do
	lineno=$((lineno + 1))
	case $kind in ''|'#'*) continue ;; esac
	[ "$kind" = new ] || [ "$kind" = patch ] ||
		die "$series:$lineno: unknown kind '$kind' (patch or new)"
	for p in $paths; do
		while read -r f; do
			case $f in "$p"|"$p"/*) [ -n "${owner[$f]:-}" ] || owner[$f]=$lineno ;; esac
		done < <(overlay_files)
	done
done <"$series"
stray=$(overlay_files | while read -r f; do [ -n "${owner[$f]:-}" ] || echo "$f"; done)
[ -z "$stray" ] || die "new files under qemu/ in no line of qemu/series: $(echo $stray)"

# Copy the new files of series line $1 into the repository.
add_files() {
	local line=$1 f
	overlay_files | while read -r f; do
		[ "${owner[$f]}" = "$line" ] || continue
		mkdir -p "$repo/$(dirname "$f")"
		cp -L "$OVERLAY/$f" "$repo/$f"
		git_ add -f "$f"
	done
}

lineno=0
while read -r kind arg paths; do
	lineno=$((lineno + 1))
	case $kind in ''|'#'*) continue ;; esac
	if [ "$kind" = patch ]; then
		p="$OVERLAY/patches/$arg"
		[ -f "$p" ] || die "$series:$lineno: no patch $arg"
		sed "s|@SUBMITTER@|$ident|g" "$p" >"$repo/.patch"
		git_ am -q --keep-cr "$repo/.patch" >/dev/null 2>&1 || {
			git_ am --abort >/dev/null 2>&1 || true
			die "QEMU patch $arg does not apply to the base; refresh it"
		}
		rm -f "$repo/.patch"
		add_files "$lineno"
		git_ commit -q --amend --no-edit --reset-author --signoff
	else
		msg="$OVERLAY/messages/$arg"
		[ -f "$msg" ] || die "$series:$lineno: no message $arg in qemu/messages/"
		add_files "$lineno"
		git_ commit -q --signoff -F "$msg"
	fi
done <"$series"

rm -rf "$out"
git_ format-patch -q --cover-letter -o "$out" base..HEAD >/dev/null
n=$(ls "$out" | grep -vc cover-letter)
ok "$n patches in $out"
ls "$out"

# QEMU's own style checker, as qemu-devel runs it.
errors=0
for p in "$out"/0*.patch; do
	case $p in *cover-letter*) continue ;; esac
	r=$(cd "$repo" && perl scripts/checkpatch.pl -q "$p" 2>&1 || true)
	e=$(printf '%s\n' "$r" | grep -c '^ERROR' || true)
	if [ "$e" -gt 0 ]; then
		printf '%s\n' "$r" >&2
		errors=$((errors + e))
	fi
done
[ "$errors" = 0 ] || die "checkpatch: $errors error(s) in the series (above)"
ok "checkpatch: 0 errors in $n patches"
