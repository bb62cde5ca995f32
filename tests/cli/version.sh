#!/bin/sh
# `runnel --version` and `runnel version`: the version and the commit the binary was built
# from (the source tree's HEAD when it is a git checkout, else "unknown").
# usage: version.sh RUNNEL SRCDIR VERSION
RUNNEL=$1 SRC=$2 VERSION=$3
out=$("$RUNNEL" --version) || { echo "not ok - runnel --version fails"; exit 1; }
failed=0
if [ "$out" = "$("$RUNNEL" version)" ]; then echo "ok - version and --version agree"; else
	echo "not ok - 'runnel version' differs from --version"; failed=1; fi
if printf '%s\n' "$out" | grep -Eqx "runnel $VERSION \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)"; then
	echo "ok - $out"
else
	echo "not ok - unexpected version line: $out"; failed=1
fi
if head=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null); then
	case $out in
	*"(commit $head)"* | *"(commit $head-dirty)"*) echo "ok - the commit is HEAD ($head)" ;;
	*) echo "not ok - built from a git checkout at $head, but: $out"; failed=1 ;;
	esac
fi
exit $failed
