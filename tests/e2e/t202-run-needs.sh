#!/bin/sh
# Stage order vs needs: a job with needs starts as soon as what it needs is done, while an
# unrelated slow job of the earlier stage is still running; a job without needs waits for the
# whole earlier stage. Named jobs pull in what they need; --no-needs runs only them.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

p=$(make_project needs <<'YML'
image: runnel-test/sh:latest
stages: [build, test]
quick:
  stage: build
  script: [echo quick-done]
slow:
  stage: build
  script: [sleep 4, echo slow-done]
needer:
  stage: test
  needs: [quick]
  script: [echo needer-ran]
stager:
  stage: test
  script: [echo stager-ran]
YML
)
run_runnel "$p" -j 4
expect_rc "pipeline passes" 0
# output is live: line order is time order
n_needer=$(grep -n "needer-ran" "$OUT" | head -1 | cut -d: -f1)
n_slow=$(grep -n "slow-done" "$OUT" | head -1 | cut -d: -f1)
n_stager=$(grep -n "stager-ran" "$OUT" | head -1 | cut -d: -f1)
if [ -n "$n_needer" ] && [ -n "$n_slow" ] && [ "$n_needer" -lt "$n_slow" ]; then
	pass "needs job ran before the slow job of the earlier stage ended"
else
	fail "needs job waited for the stage (needer line $n_needer, slow line $n_slow)"
	sed 's/^/#   /' "$OUT"
fi
if [ -n "$n_stager" ] && [ "$n_stager" -gt "$n_slow" ]; then
	pass "stage job waited for the whole earlier stage"
else
	fail "stage job started early (stager line $n_stager, slow line $n_slow)"
fi

run_runnel "$p" needer
expect_rc "named job with its needs" 0
expect "the need ran" "quick-done"
expect_not "unrelated jobs did not run" "slow-done|stager-ran"

run_runnel "$p" --no-needs needer
expect_rc "--no-needs" 0
expect "named job ran" "needer-ran"
expect_not "its needs did not run" "quick-done"

assert_no_leftovers
test_done
