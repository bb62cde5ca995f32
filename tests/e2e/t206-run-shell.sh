#!/bin/sh
# The shell executor (--executor shell, or jobs without any image): same script semantics and
# variables on the host, in a per-job copy under .runnel/builds/<job>/, the job's process
# group killed on timeout and on Ctrl-C.
. "$(dirname "$0")/t200-run-lib.sh"
command -v git >/dev/null || { say "1..0 # SKIP no git"; exit 77; }
[ -x "$RUNNEL" ] || { say "Bail out! no runnel binary at $RUNNEL"; exit 1; }

p=$(make_project shell <<'YML'
variables:
  V: yaml
build:
  script:
    - echo "dir=$CI_PROJECT_DIR pwd=$(pwd) v=$V shared=$CI_SHARED_ENVIRONMENT"
    - cat tracked.txt
    - echo made > made.txt
  after_script:
    - 'echo "after-status=$CI_JOB_STATUS"'
pipe:
  script:
    - false | true
    - echo after-pipe
slow:
  timeout: 2s
  script:
    - (sleep 100; echo orphan-survived) &
    - sleep 60
YML
)
run_runnel "$p" --executor shell build
expect_rc "shell job" 0
expect "project copy under .runnel/builds/<job>" "dir=.*/\.runnel/builds/build pwd=.*/\.runnel/builds/build v=yaml shared=true"
expect "tracked file present" "^build +\| tracked"
expect "after_script" "after-status=success"
[ ! -e "$p/made.txt" ] && pass "the working tree is untouched" || fail "made.txt in the working tree"

run_runnel "$p" --executor shell pipe
expect_rc "pipefail (the host shell is bash)" 1
expect_not "script stopped at the failing pipeline" "^pipe +\| after-pipe"

start=$(date +%s)
run_runnel "$p" --executor shell slow
took=$(($(date +%s) - start))
expect_rc "timeout" 1
[ "$took" -lt 20 ] && pass "killed at the timeout (${took}s)" || fail "took ${took}s"
expect "timeout message" "execution took longer than 2s seconds"
sleep 0.5
if pgrep -f "sleep 100" >/dev/null 2>&1 && pgrep -af "sleep 100" | grep -qv pgrep; then
	fail "a background process of the job survived"
else
	pass "the whole process group was killed"
fi

# no image anywhere and no --default-image: the shell executor is used
p2=$(make_project noimage <<'YML'
job:
  script: [echo "shared=$CI_SHARED_ENVIRONMENT"]
YML
)
run_runnel "$p2"
expect_rc "job without image" 0
expect "ran on the host" "shared=true"
test_done
