#!/usr/bin/env bash
# Listing benchmark: `runnel list` against `gitlab-ci-local --list` on generated pipelines of
# 1000 and 3000 jobs over 10 stages. Every job extends a hidden template, has a rules:if with
# && and a regex, and needs a job of the previous stage. Each tool runs RUNS times per size
# (after one warm-up); the script prints median and minimum wall time, peak RSS (GNU time's
# %M) and the ratio. Targets (docs/benchmarks.md): 1000 jobs < 20 ms and < 16 MiB; 3000 jobs
# <= 3.2x the 1000-job time. `runnel version` is measured too: the process start-up every verb pays.
#
# Wall times on a shared machine swing with its load, so when valgrind is installed the script
# also prints callgrind's instruction count of the runnel process itself (git children not
# included): the steady figure to compare builds with.
#
#   bench/list/run.sh [RUNNEL] [RUNS]
#   BENCH_GCL=0   skip gitlab-ci-local even when installed (it takes seconds per run)
#   BENCH_IR=0    skip the instruction counts
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
RUNNEL=${1:-$HERE/../../build/src/runnel}
RUNS=${2:-15}
case $RUNNEL in /*) ;; *) RUNNEL=$(pwd)/$RUNNEL ;; esac
GCL=
if [ "${BENCH_GCL:-1}" != 0 ]; then
	for c in gcl gitlab-ci-local; do
		if command -v "$c" >/dev/null 2>&1; then GCL=$c; break; fi
	done
fi
IR=
if [ "${BENCH_IR:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then IR=1; fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/runnel-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# gen N DIR: a git repository holding the N-job pipeline
gen() {
	n=$1
	dir=$2
	mkdir -p "$dir"
	awk -v n="$n" 'BEGIN {
		printf "stages: ["
		for (s = 0; s < 10; s++) printf "%ss%d", (s ? ", " : ""), s
		print "]\n"
		print "variables:\n  DEPLOY_ENV: staging\n"
		print ".tmpl:\n  image: alpine:3.19\n  before_script:\n    - echo setup"
		print "  script:\n    - echo run\n  variables:\n    KIND: bench\n"
		per = n / 10
		for (i = 0; i < n; i++) {
			s = int(i / per)
			printf "job-%d:\n  extends: .tmpl\n  stage: s%d\n", i, s
			print "  rules:"
			printf "    - if: $CI_COMMIT_BRANCH == \"main\" && $CI_COMMIT_REF_NAME =~ /^(main|release\\/.*)$/\n"
			print "    - if: $DEPLOY_ENV =~ /^prod/"
			print "      when: manual"
			if (s > 0) printf "  needs: [job-%d]\n", i - per
			print ""
		}
	}' >"$dir/.gitlab-ci.yml"
	(cd "$dir" && git init -q -b main . && git add -A &&
		GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.org GIT_COMMITTER_NAME=b \
		GIT_COMMITTER_EMAIL=b@example.org git commit -q -m bench &&
		git remote add origin git@gitlab.com:bench/list.git)
}

# measure DIR CMD...: prints "median_ms peak_rss_kib" over RUNS runs
measure() {
	dir=$1
	shift
	(cd "$dir" && "$@" >/dev/null 2>&1) || { echo "command failed: $*" >&2; return 1; }
	: >"$TMP/samples"
	i=0
	while [ $i -lt "$RUNS" ]; do
		(cd "$dir" && /usr/bin/time -f '%e %M' -o "$TMP/one" "$@" >/dev/null 2>&1)
		# %e has 10 ms resolution: time with date(1) nanoseconds as well
		i=$((i + 1))
		cat "$TMP/one" >>"$TMP/samples"
	done
	# wall clock from bash's $EPOCHREALTIME: no date(1) process around each run, so the figure
	# is runnel's own fork+exec+run (the harness costs < 0.1 ms)
	(
		cd "$dir" || exit 1
		i=0
		while [ $i -lt "$RUNS" ]; do
			t0=${EPOCHREALTIME/./}
			"$@" >/dev/null 2>&1
			t1=${EPOCHREALTIME/./}
			echo $((t1 - t0))
			i=$((i + 1))
		done
	) >"$TMP/ns"
	med_us=$(sort -n "$TMP/ns" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	min_us=$(sort -n "$TMP/ns" | head -1)
	rss=$(awk '{ print $2 }' "$TMP/samples" | sort -n | tail -1)
	echo "$med_us $rss $min_us"
}

# instructions DIR CMD...: callgrind's total instruction count of CMD (children not traced)
instructions() {
	dir=$1
	shift
	(cd "$dir" && valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null) |
		awk '/Collected :/ { print $NF }'
}

# row JOBS TOOL US KIB MIN_US [IR]
# (the minimum is the figure least distorted by other load on a shared machine)
row() {
	printf '%-6s %-16s %12.1f %9.1f %12.1f %14s\n' "$1" "$2" "$(echo "$3 / 1000" | bc -l)" \
		"$(echo "$5 / 1000" | bc -l)" "$(echo "$4 / 1024" | bc -l)" "${6:--}"
}

printf '%-6s %-16s %12s %9s %12s %14s\n' jobs tool median_ms min_ms peak_rss_MiB instructions
gen 1 "$TMP/p1"
set -- $(measure "$TMP/p1" "$RUNNEL" version)
row - "runnel version" "$1" "$2" "$3" "${IR:+$(instructions "$TMP/p1" "$RUNNEL" version)}"
for n in 1000 3000; do
	gen "$n" "$TMP/p$n"
	set -- $(measure "$TMP/p$n" "$RUNNEL" list)
	eval "r_us_$n=$1"
	row "$n" "runnel list" "$1" "$2" "$3" "${IR:+$(instructions "$TMP/p$n" "$RUNNEL" list)}"
	if [ -n "$GCL" ]; then
		set -- $(measure "$TMP/p$n" "$GCL" --list)
		eval "g_us_$n=$1"
		row "$n" gitlab-ci-local "$1" "$2" "$3"
	fi
done
eval "a=\$r_us_1000 b=\$r_us_3000"
printf 'runnel 3000/1000 time ratio: %.2f (medians above, measured one size after the other)\n' \
	"$(echo "$b / $a" | bc -l)"

# The same ratio from alternating runs (1000, 3000, 1000, ...): this VM's speed drifts by up to
# 1.5x within minutes, which skews a ratio of two medians taken minutes apart; alternating
# exposes both sizes to the same drift.
alternating() {
	: >"$TMP/alt"
	i=0
	while [ $i -lt "$RUNS" ]; do
		for n in 1000 3000; do
			(
				cd "$TMP/p$n" || exit 1
				t0=${EPOCHREALTIME/./}
				"$RUNNEL" list >/dev/null 2>&1
				t1=${EPOCHREALTIME/./}
				echo "$n $((t1 - t0))"
			) >>"$TMP/alt"
		done
		i=$((i + 1))
	done
	for n in 1000 3000; do
		awk -v n="$n" '$1 == n { print $2 }' "$TMP/alt" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
	done
}
set -- $(alternating)
printf 'runnel 3000/1000 time ratio, alternating runs: %.2f (%.1f ms, %.1f ms)\n' \
	"$(echo "$2 / $1" | bc -l)" "$(echo "$1 / 1000" | bc -l)" "$(echo "$2 / 1000" | bc -l)"
if [ -n "$GCL" ]; then
	eval "g=\$g_us_1000"
	printf 'gitlab-ci-local / runnel at 1000 jobs: %.1fx\n' "$(echo "$g / $a" | bc -l)"
else
	echo "gitlab-ci-local not installed (scripts/setup-gcl.sh) or BENCH_GCL=0: runnel figures only"
fi
