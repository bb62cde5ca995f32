#!/bin/sh
# Differential test: `runnel list --json` against `gitlab-ci-local --list-json` on the golden
# list fixtures that take no context arguments. Compared per job: name, stage, when,
# allow_failure, needs. Differences listed in t010-gcl-diff.known (GitLab semantics, where
# gitlab-ci-local differs: tests/fixtures/GCL-DIFFERENCES.md) are accepted; any other fails.
# Each case runs in its own temporary git repository (gitlab-ci-local writes state folders such
# as .gitlab-ci-local/ into the project), never in the source tree.
# Skips (77) when gitlab-ci-local is not installed (scripts/setup-gcl.sh installs it as `gcl`),
# unless CI is set.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${RUNNEL_SRCDIR:-$HERE/../..}
RUNNEL=${RUNNEL_BIN:-$SRC/build/src/runnel}
KNOWN=$HERE/t010-gcl-diff.known

GCL=
for c in gcl gitlab-ci-local; do
	if command -v "$c" >/dev/null 2>&1; then GCL=$c; break; fi
done
if [ -z "$GCL" ]; then
	if [ -n "${CI:-}" ]; then echo "gitlab-ci-local is required in CI"; exit 1; fi
	echo "gitlab-ci-local not installed: skipping"; exit 77
fi
command -v jq >/dev/null 2>&1 || { echo "jq not installed: skipping"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/runnel-t010.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=T
export GIT_COMMITTER_EMAIL=t@example.org GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1

# One line per job: name|stage|when|allow_failure|needs (sorted), from either tool's JSON.
# (`//` would treat allow_failure: false as missing: test the key instead.) gitlab-ci-local
# also lists the jobs rules excluded, with when "never"; GitLab does not create them, so they
# are dropped before comparing.
NORMALIZE='.[] | select(.when != "never") | [.name, .stage, .when,
  ((if has("allow_failure") then .allow_failure else .allowFailure end)
   | if type == "boolean" then tostring else "exit_codes" end),
  (if (.needs == null) then "-" else ([.needs[] | if type == "object" then .job else . end]
   | sort | join(",")) end)] | join("|")'

is_known() { # case job
	[ -f "$KNOWN" ] && grep -v '^#' "$KNOWN" | awk -v c="$1" -v j="$2" \
		'$1 == c && ($2 == j || $2 == "*") { found = 1 } END { exit !found }'
}

pass=0 fail=0 known=0
for dir in "$SRC"/tests/fixtures/list/*/; do
	dir=${dir%/}
	name=$(basename "$dir")
	# context arguments (--branch, --variable...) gcl cannot reproduce; --json alone is fine
	if [ -f "$dir/args" ] && [ "$(tr -d ' \n' <"$dir/args")" != "--json" ]; then continue; fi
	[ -f "$dir/setup.sh" ] && continue
	[ -f "$dir/expected-rc" ] && continue   # error cases: messages differ by design
	repo=$TMP/$name
	mkdir -p "$repo"
	(cd "$dir" && tar cf - --exclude=./expected --exclude=./expected-err --exclude=./args .) | (cd "$repo" && tar xf -)
	(cd "$repo" && git init -q -b main . && git add -A && git commit -q -m init &&
		git remote add origin git@gitlab.com:gcl/test-project.git) || { fail=$((fail + 1)); continue; }
	(cd "$repo" && "$RUNNEL" list --json) 2>/dev/null | jq -r "$NORMALIZE" | sort >"$TMP/r.txt" || true
	(cd "$repo" && "$GCL" --list-json) 2>/dev/null | sed -n "/^\[/,\$p" | jq -r "$NORMALIZE" | sort >"$TMP/g.txt" || true
	# lines only one side has, keyed by job name
	diff "$TMP/r.txt" "$TMP/g.txt" | sed -n 's/^[<>] //p' | cut -d'|' -f1 | sort -u >"$TMP/jobs"
	bad=0
	while IFS= read -r job; do
		[ -n "$job" ] || continue
		if is_known "$name" "$job"; then known=$((known + 1)); continue; fi
		bad=1
		echo "DIFF $name: $job"
		grep -F "$job|" "$TMP/r.txt" | sed 's/^/    runnel: /'
		grep -F "$job|" "$TMP/g.txt" | sed 's/^/    gcl:    /'
	done <"$TMP/jobs"
	if [ $bad = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "known differences accepted: $known"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
