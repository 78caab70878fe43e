#!/usr/bin/env bash
# Mutation checks: each line of mutations.txt (tab-separated: name, file,
# sed -E expression, unit test program) breaks one behaviour on purpose and
# names the test that must then fail.  A copy of the tree is mutated, never the
# tree itself.  Prints PASS when the test caught the mutation, FAIL when
# the broken code still passed (a test that cannot fail), or when the
# mutation no longer applies (the code it targets moved: update the list).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vfa-mutation-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$top"
git ls-files -z | xargs -0 cp --parents -t "$work" 2>/dev/null
# Untracked work in progress is part of what is tested, too.
git ls-files -z --others --exclude-standard | xargs -0 -r cp --parents -t "$work" 2>/dev/null
# Build the test programs once, unmutated: each mutation then rebuilds only
# what its one file changes.  (A test that fails unmutated proves nothing.)
tests=$(grep -v '^#' "$top/tests/mutation/mutations.txt" | cut -f4 | sort -u)
for t in $tests; do
	if ! make -s -C "$work" BUILD=build "build/$t" >"$work/base-build.log" 2>&1 ||
		! (cd "$work" && timeout 30 "./build/$t" >/dev/null 2>&1); then
		echo "FAIL: mutation/baseline: $t does not build and pass unmutated: $(tail -3 "$work/base-build.log" | tr '\n' ' ')"
		exit 0
	fi
done

while IFS=$'\t' read -r name file expr test; do
	case $name in ''|'#'*) continue ;; esac
	rm -rf "$work/m"
	mkdir -p "$work/m"
	(cd "$work" && find . -mindepth 1 -maxdepth 1 ! -name m -exec cp -a {} m/ \;)
	# Newer than its object, so make rebuilds it even within the second.
	touch -d '+1 min' "$work/m/$file"
	before=$(sha256sum "$work/m/$file" | cut -d' ' -f1)
	sed -i -E "$expr" "$work/m/$file"
	after=$(sha256sum "$work/m/$file" | cut -d' ' -f1)
	if [ "$before" = "$after" ]; then
		echo "FAIL: mutation/$name: the mutation did not change $file (update tests/mutation/mutations.txt)"
		continue
	fi
	if ! make -s -C "$work/m" BUILD=build "build/$test" >"$work/m/build.log" 2>&1; then
		echo "FAIL: mutation/$name: the mutated tree does not build: $(tail -3 "$work/m/build.log" | tr '\n' ' ')"
		continue
	fi
	if (cd "$work/m" && timeout 30 "./build/$test" >"$work/m/test.log" 2>&1); then
		echo "FAIL: mutation/$name: $test still passes with $file broken ($expr)"
	else
		echo "PASS: mutation/$name (caught by $test)"
	fi
done <"$top/tests/mutation/mutations.txt"
