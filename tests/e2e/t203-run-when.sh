#!/bin/sh
# when: (on_success, on_failure, always, manual), allow_failure (+exit_codes) as a warning
# that counts as success, retry (max, exit_codes), timeout, after_script after a failure.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

p=$(make_project when <<'YML'
image: runnel-test/sh:latest
stages: [build, test, deploy]
flaky:
  stage: build
  allow_failure: true
  script: [exit 1]
allowed_code:
  stage: build
  allow_failure:
    exit_codes: [42]
  script: [exit 42]
after_ok:
  stage: test
  script: [echo after-ok-ran]
manual_job:
  stage: test
  when: manual
  script: [echo manual-ran]
cleanup:
  stage: deploy
  when: on_failure
  script: [echo on-failure-ran]
YML
)
run_runnel "$p"
expect_rc "allowed failures keep the pipeline green" 0
expect "warning status" "flaky +build +warning"
expect "allow_failure:exit_codes" "allowed_code +build +warning"
expect "later stage ran" "after-ok-ran"
expect_not "manual job not run" "manual-ran"
expect_not "on_failure job skipped when all passed" "on-failure-ran"

run_runnel "$p" --manual manual_job
expect "--manual runs the manual job" "manual-ran"

p2=$(make_project fail <<'YML'
image: runnel-test/sh:latest
stages: [build, test, deploy]
broken:
  stage: build
  retry:
    max: 2
    exit_codes: [3]
  script: [echo attempt-ran, exit 3]
  after_script:
    - echo "after-status=$CI_JOB_STATUS"
next:
  stage: test
  script: [echo next-ran]
notify:
  stage: deploy
  when: on_failure
  script: [echo on-failure-ran]
always:
  stage: deploy
  when: always
  script: [echo always-ran]
YML
)
run_runnel "$p2"
expect_rc "failure fails the pipeline" 1
n=$(grep -cE "^broken +\| attempt-ran" "$OUT")
[ "$n" -eq 3 ] && pass "retry: 1 + 2 attempts" || fail "retry: $n attempts, want 3"
expect "after_script after a failure" "after-status=failed"
expect_not "on_success job skipped after a failure" "next-ran"
expect "on_failure job ran" "on-failure-ran"
expect "always job ran" "always-ran"
expect "skipped in the summary" "next +test +skipped"

p3=$(make_project timeout <<'YML'
slow:
  image: runnel-test/sh:latest
  timeout: 3s
  script: [echo started, sleep 60, echo not-reached]
  after_script: ['echo "after-status=$CI_JOB_STATUS"']
YML
)
start=$(date +%s)
run_runnel "$p3"
took=$(($(date +%s) - start))
expect_rc "timeout fails the job" 1
[ "$took" -lt 30 ] && pass "the job was killed at its timeout (${took}s)" ||
	fail "timeout not applied (${took}s)"
expect "timeout message" "execution took longer than 3s seconds"
expect "after_script sees timedout" "after-status=timedout"
expect_not "script stopped" "not-reached"

assert_no_leftovers
test_done
