#!/bin/sh
# The layout check of STYLE.md section 5: `clang-format --dry-run --Werror` with the repository's
# .clang-format over every C file of src/ and tests/unit/, except those listed in
# tests/format/pending.txt (not yet reformatted). Skips (exit 77) when clang-format is absent.
#
# usage: check-format.sh SOURCE_ROOT [CLANG_FORMAT]
set -eu
root=${1:?usage: check-format.sh SOURCE_ROOT [CLANG_FORMAT]}
cf=${2:-${CLANG_FORMAT:-clang-format}}
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "SKIP: $cf not found (Debian: apt-get install clang-format)"
	exit 77
fi
cd "$root"
[ -f .clang-format ] || { echo "no .clang-format in $root"; exit 1; }
pending=tests/format/pending.txt
files=$(find src tests/unit -type f \( -name '*.c' -o -name '*.h' \) | sort)
bad=0 checked=0 skipped=0 list=
for f in $files; do
	if [ -f "$pending" ] && grep -qxF "$f" "$pending"; then
		skipped=$((skipped + 1))
		continue
	fi
	checked=$((checked + 1))
	list="$list $f"
done
# one process for all files (a process per file costs seconds); on failure, the first places
# and the files to fix
# shellcheck disable=SC2086 # the list is split on purpose (no spaces in the tree's file names)
if ! out=$("$cf" --style=file --dry-run --Werror $list 2>&1); then
	printf '%s\n' "$out" | head -n 30
	for f in $(printf '%s\n' "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: .*clang-format-violations.*/\1/p' | sort -u); do
		echo "  fix: clang-format -i $f"
		bad=$((bad + 1))
	done
	[ "$bad" -gt 0 ] || bad=1
fi
# a listed file that no longer exists is a stale line
if [ -f "$pending" ]; then
	for f in $(grep -v '^#' "$pending"); do
		[ -f "$f" ] || { echo "$pending: '$f' does not exist (remove the line)"; bad=$((bad + 1)); }
	done
fi
echo "clang-format: $checked files checked, $bad problems, $skipped pending ($pending)"
[ "$bad" -eq 0 ]
