#!/bin/sh
# A SIGKILLed run cannot clean up: its container stays, labelled with the dead owner's pid.
# The next run (of any project on the engine) removes it.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

p=$(make_project reap <<'YML'
long:
  image: runnel-test/sh:latest
  script: [echo long-started, sleep 120]
YML
)
OUT=$T_TMP/killed
(cd "$p" && exec "$RUNNEL" run) >"$OUT" 2>&1 &
pid=$!
i=0
while ! grep -q "long-started" "$OUT" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
left=$(docker ps -aq --filter label=runnel.pipeline --filter "label=runnel.pid=$pid")
[ -n "$left" ] && pass "SIGKILL leaves the container behind" || fail "no leftover to reap"

p2=$(make_project reaper <<'YML'
quick:
  image: runnel-test/sh:latest
  script: [echo quick]
YML
)
run_runnel "$p2"
expect_rc "next run" 0
left=$(docker ps -aq --filter label=runnel.pipeline --filter "label=runnel.pid=$pid")
[ -z "$left" ] && pass "the next run reaped the leftover container" ||
	fail "leftover container $left still there"
[ -n "$(ls "$p/.runnel/builds")" ] && pass "the killed run left its run directory" ||
	fail "no run directory left by the killed run"
printf 'quick:\n  image: runnel-test/sh:latest\n  script: [echo quick]\n' >"$p/other.yml"
run_runnel "$p" -f other.yml
expect_rc "next run in the same project" 0
[ -z "$(ls "$p/.runnel/builds")" ] && pass "the next run reaped the stale run directory" ||
	fail "stale run directory left: $(ls "$p/.runnel/builds")"
assert_no_leftovers
test_done
