#!/bin/sh
# A SIGKILLed run cannot clean up: its container stays, labelled with the dead owner's pid.
# The next run (of any project on the engine) removes it, and so does `runnel cleanup` (this
# project's only; --all every project's) without waiting for a next run.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

# start_run DIR: a run of DIR in the background, once its job runs; its pid in $pid. Two runs
# to be killed are killed only when both run: a run that starts reaps every dead run's objects.
start_run() {
	OUT=$T_TMP/killed.$T_COUNT
	T_COUNT=$((T_COUNT + 1))
	(cd "$1" && exec "$RUNNEL" run) >"$OUT" 2>&1 &
	pid=$!
	i=0
	while ! grep -q "long-started" "$OUT" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
owned_by() { docker ps -aq --filter label=runnel.pipeline --filter "label=runnel.pid=$1"; }

p=$(make_project reap <<'YML'
long:
  image: runnel-test/sh:latest
  script: [echo long-started, sleep 120]
YML
)
start_run "$p"
kill -9 "$pid"
wait "$pid" 2>/dev/null
left=$(owned_by "$pid")
[ -n "$left" ] && pass "SIGKILL leaves the container behind" || fail "no leftover to reap"

p2=$(make_project reaper <<'YML'
quick:
  image: runnel-test/sh:latest
  script: [echo quick]
YML
)
run_runnel "$p2"
expect_rc "next run" 0
left=$(owned_by "$pid")
[ -z "$left" ] && pass "the next run reaped the leftover container" ||
	fail "leftover container $left still there"
[ -n "$(ls "$p/.runnel/builds")" ] && pass "the killed run left its run directory" ||
	fail "no run directory left by the killed run"
printf 'quick:\n  image: runnel-test/sh:latest\n  script: [echo quick]\n' >"$p/other.yml"
run_runnel "$p" -f other.yml
expect_rc "next run in the same project" 0
[ -z "$(ls "$p/.runnel/builds")" ] && pass "the next run reaped the stale run directory" ||
	fail "stale run directory left: $(ls "$p/.runnel/builds")"

# runnel cleanup: this project's leftovers go, another project's stay (for --all)
p3=$(make_project other <<'YML'
long:
  image: runnel-test/sh:latest
  script: [echo long-started, sleep 120]
YML
)
start_run "$p"
mine=$pid
start_run "$p3"
theirs=$pid
kill -9 "$mine" "$theirs"
wait "$mine" "$theirs" 2>/dev/null
[ -n "$(owned_by $mine)" ] && [ -n "$(owned_by $theirs)" ] && pass "two killed runs left containers" ||
	fail "no leftovers to clean"
OUT=$T_TMP/cleanup.out
(cd "$p" && "$RUNNEL" cleanup) >"$OUT" 2>&1
RC=$?
expect_rc "runnel cleanup" 0
expect "cleanup says what it removed" "^Removed container .*of $p\)"
expect "cleanup removed the stale run directory" "^Removed run directory $p/.runnel/builds/"
[ -z "$(owned_by $mine)" ] && pass "cleanup removed this project's container" ||
	fail "this project's container still there"
[ -n "$(owned_by $theirs)" ] && pass "cleanup left the other project's container" ||
	fail "cleanup removed another project's container"
(cd "$p" && "$RUNNEL" cleanup) >"$OUT" 2>&1
RC=$?
expect_rc "a second cleanup" 0
expect "nothing left to clean" "^Nothing to clean up for this project"
(cd "$p" && "$RUNNEL" cleanup --all) >"$OUT" 2>&1
RC=$?
expect_rc "runnel cleanup --all" 0
expect "--all removed the other project's container" "^Removed container .*of $p3\)"
[ -z "$(owned_by $theirs)" ] && pass "nothing of the other project left" ||
	fail "the other project's container still there"
assert_no_leftovers
test_done
