#!/bin/sh
# Proves that check-includes.sh can fail: a small tree with one include of each forbidden kind
# (upward, between peers, a bare include of another module's header, an unknown module) must
# be rejected with one line naming each, and the same tree without them must pass.
#
# usage: selftest.sh CHECK_INCLUDES_SH
set -eu
check=${1:?usage: selftest.sh CHECK_INCLUDES_SH}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/util" "$tmp/src/exec" "$tmp/src/plan" "$tmp/src/report" "$tmp/src/model"
printf '#pragma once\n' >"$tmp/src/util/err.h"
printf '#pragma once\n' >"$tmp/src/exec/exec.h"
printf '#pragma once\n' >"$tmp/src/plan/dag.h"
printf '#pragma once\n' >"$tmp/src/report/report.h"
printf '#pragma once\n' >"$tmp/src/model/job.h"
printf '#include "exec/exec.h"\n#include "util/err.h"\n#include "plan/dag.h"\n#include "model/job.h"\n#include "report/report.h"\n' >"$tmp/src/exec/run.c"
printf '#include "model/job.h"\n#include "util/err.h"\n' >"$tmp/src/plan/dag.c"

# the clean tree passes
"$check" "$tmp/src" || { echo "selftest: a clean tree was rejected"; exit 1; }

printf '#include "util/err.h"\n#include "exec/exec.h"\n' >"$tmp/src/util/err.c"
printf '#include "plan/dag.h"\n#include "report/report.h"\n' >>"$tmp/src/plan/dag.c"
printf '#include "job.h"\n' >"$tmp/src/plan/sneaky.c"
mkdir "$tmp/src/newmod"
printf '#include "util/err.h"\n' >"$tmp/src/newmod/x.c"
if out=$("$check" "$tmp/src"); then
	echo "selftest: a tree with forbidden includes passed"
	exit 1
fi
printf '%s\n' "$out"
fail=0
expect() {
	printf '%s\n' "$out" | grep -qF -- "$1" || { echo "selftest: no line for: $1"; fail=1; }
}
expect 'src/util/err.c:2: includes "exec/exec.h": util is below exec'
expect 'src/plan/dag.c:4: includes "report/report.h": plan and report are peers'
expect 'src/plan/sneaky.c:1: includes "job.h" without a module folder'
expect 'src/newmod/: module not in the layering matrix'
[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] || { echo "selftest: expected exactly 4 lines"; fail=1; }
exit $fail
