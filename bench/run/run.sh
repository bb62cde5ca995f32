#!/bin/sh
# bench/run/run.sh — `runnel run` against bare `docker run` (and gitlab-ci-local as `gcl`
# when scripts/setup-gcl.sh installed it), side by side: several runs, medians, ratios.
#
#   bench/run/run.sh [-n RUNS] [-i IMAGE] [-b RUNNEL_BINARY] [-G]   (-G: without gcl)
#
# Scenarios (targets from the design brief, checked here, not in the test suite):
#   one    one trivial job            runnel <= 1.15 x bare `docker run --rm IMAGE sh -c 'echo hi'`,
#                                     peak RSS < 8 MiB
#   wide   20 trivial jobs, 1 stage   runnel -j 20 <= 1.10 x 20 concurrent bare runs
#   dag    3 levels of needs (2+2+1   runnel <= critical path (the same levels run by hand
#          jobs), each `sleep 1`      with bare `docker run`s) + 0.2 s per level
# Prints a Markdown table (paste into docs/benchmarks.md).
set -eu

RUNS=5
IMAGE=runnel-test/sh:latest
here=$(cd "$(dirname "$0")" && pwd)
RUNNEL=${RUNNEL_BIN:-$here/../../build/src/runnel}
NO_GCL=
while getopts n:i:b:G o; do
	case $o in
	n) RUNS=$OPTARG ;;
	i) IMAGE=$OPTARG ;;
	b) RUNNEL=$OPTARG ;;
	G) NO_GCL=1 ;;
	*) sed -n '2,16p' "$0"; exit 2 ;;
	esac
done
[ -x "$RUNNEL" ] || { echo "run.sh: no runnel binary at $RUNNEL (use -b)" >&2; exit 2; }
# the scenarios run inside their project folders: a relative -b must still find the binary
case $RUNNEL in /*) ;; *) RUNNEL=$(pwd)/$RUNNEL ;; esac
docker image inspect "$IMAGE" >/dev/null 2>&1 || {
	echo "run.sh: image $IMAGE missing (tests/e2e/t200-run-lib.sh builds runnel-test/sh)" >&2
	exit 2
}
GCL=$(command -v gitlab-ci-local || command -v gcl || true)
[ -z "$NO_GCL" ] || GCL=
TMP=$(mktemp -d /tmp/runnel-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# time_runs CMD...: median wall seconds of RUNS runs of CMD (output discarded)
time_runs() {
	i=0
	while [ $i -lt "$RUNS" ]; do
		s=$(now)
		"$@" >/dev/null 2>&1 || true
		e=$(now)
		echo "$e $s" | awk '{printf "%.3f\n", $1 - $2}'
		i=$((i + 1))
	done | median
}
# pair NAME_A NAME_B: RUNS rounds alternating `$NAME_A` and `$NAME_B` (shell functions), so a
# load change on the machine hits both sides alike; sets A and B to the medians.
pair() {
	: >"$TMP/a"
	: >"$TMP/b"
	i=0
	while [ $i -lt "$RUNS" ]; do
		for side in a b; do
			fn=$1
			[ $side = b ] && fn=$2
			s=$(now)
			$fn >/dev/null 2>&1 || true
			e=$(now)
			echo "$e $s" | awk '{printf "%.3f\n", $1 - $2}' >>"$TMP/$side"
		done
		i=$((i + 1))
	done
	A=$(median <"$TMP/a")
	B=$(median <"$TMP/b")
}

# peak_rss DIR CMD...: median peak RSS in KiB of CMD run in DIR
peak_rss() {
	dir=$1
	shift
	i=0
	while [ $i -lt "$RUNS" ]; do
		(cd "$dir" && NO_COLOR=1 /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1)
		i=$((i + 1))
	done | median
}
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }

project() { # project NAME < .gitlab-ci.yml
	d=$TMP/$1
	mkdir -p "$d"
	cat >"$d/.gitlab-ci.yml"
	(cd "$d" && git init -q && git add . &&
		git -c user.email=b@e.nch -c user.name=b commit -qm bench) >/dev/null
	echo "$d"
}
in_dir() { (cd "$1" && shift && NO_COLOR=1 "$@"); }

bare_one() { docker run --rm "$IMAGE" sh -c 'echo hi'; }
bare_wide() {
	i=0
	while [ $i -lt 20 ]; do
		docker run --rm "$IMAGE" sh -c 'echo hi' >/dev/null &
		i=$((i + 1))
	done
	wait
}
# The same DAG by hand: each level's containers at once, levels one after the other. This is
# the critical path with the same parallelism (concurrent starts slow each other down).
bare_dag() {
	docker run --rm "$IMAGE" sh -c 'sleep 1' & docker run --rm "$IMAGE" sh -c 'sleep 1'; wait
	docker run --rm "$IMAGE" sh -c 'sleep 1' & docker run --rm "$IMAGE" sh -c 'sleep 1'; wait
	docker run --rm "$IMAGE" sh -c 'sleep 1'
}

one=$(project one <<EOF
job:
  image: $IMAGE
  script: [echo hi]
EOF
)
wide=$(
	{
		i=1
		while [ $i -le 20 ]; do
			printf 'job%d:\n  image: %s\n  script: [echo hi]\n' $i "$IMAGE"
			i=$((i + 1))
		done
	} | project wide
)
dag=$(project dag <<EOF
image: $IMAGE
stages: [a, b, c]
a1: {stage: a, script: [sleep 1]}
a2: {stage: a, script: [sleep 1]}
b1: {stage: b, needs: [a1], script: [sleep 1]}
b2: {stage: b, needs: [a2], script: [sleep 1]}
c1: {stage: c, needs: [b1, b2], script: [sleep 1]}
EOF
)

echo "runs per figure: $RUNS (median); image $IMAGE; $(nproc) CPUs; docker $(docker version -f '{{.Server.Version}}' 2>/dev/null); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scenario | bare docker | runnel | ratio | target | gcl |"
echo "|---|---|---|---|---|---|"

runnel_one() { in_dir "$one" "$RUNNEL" run; }
runnel_wide() { in_dir "$wide" "$RUNNEL" run -j 20; }
runnel_dag() { in_dir "$dag" "$RUNNEL" run -j 4; }

pair bare_one runnel_one
b=$A r=$B
g=-
[ -n "$GCL" ] && g=$(time_runs in_dir "$one" "$GCL")s
echo "| one trivial job | ${b}s | ${r}s | $(ratio "$r" "$b") | <= 1.15 | $g |"

pair bare_wide runnel_wide
b=$A r=$B
g=-
[ -n "$GCL" ] && g=$(time_runs in_dir "$wide" "$GCL" --concurrency 20)s
echo "| 20 jobs, one stage | ${b}s | ${r}s | $(ratio "$r" "$b") | <= 1.10 | $g |"

pair bare_dag runnel_dag
b=$A r=$B
g=-
[ -n "$GCL" ] && g=$(time_runs in_dir "$dag" "$GCL")s
limit=$(echo "$b" | awk '{printf "%.3f", $1 + 0.6}')
echo "| 3-level needs DAG (sleep 1 each) | ${b}s (critical path) | ${r}s | $(ratio "$r" "$b") | <= ${limit}s | $g |"

rss=$(peak_rss "$one" "$RUNNEL" run)
echo
echo "peak RSS of \`runnel run\` (one job): $rss KiB (target < 8192 KiB); \`runnel --version\`: $(peak_rss "$one" "$RUNNEL" --version) KiB"
