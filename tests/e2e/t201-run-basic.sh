#!/bin/sh
# runnel run, Docker executor: job output, exit codes, variables and their precedence,
# dotenv between jobs, the project copy (working tree vs --committed, never written back),
# and nothing left behind.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

p=$(make_project basic <<'YML'
image: runnel-test/sh:latest
variables:
  GLOBAL: global
  OVER: from-global
stages: [build, test]
build:
  stage: build
  variables:
    OVER: from-job
    REF: "x-${GLOBAL}-y"
  script:
    - echo "dir=$CI_PROJECT_DIR pwd=$(pwd)"
    - echo "over=$OVER ref=$REF cli=$CLIVAR stage=$CI_JOB_STAGE slug=$CI_JOB_NAME_SLUG"
    - cat tracked.txt untracked.txt
    - echo "generated" > generated.txt
    - echo "FROM_DOTENV=hello-dotenv" > build.env
    - mkdir -p out && echo "artifact-content" > out/art.txt
    - |
      if true; then
        echo multi-line-ran
      fi
  artifacts:
    paths: [out/]
    reports:
      dotenv: build.env
test:
  stage: test
  script:
    - echo "dotenv=$FROM_DOTENV"
    - cat out/art.txt
    - test ! -e generated.txt && echo "no-generated-file"
    - echo "disposable=$CI_DISPOSABLE_ENVIRONMENT"
YML
)
echo "uncommitted" >"$p/untracked.txt"
echo "changed" >"$p/tracked.txt"

run_runnel "$p" --variable CLIVAR=cli-wins --variable OVER=cli
expect_rc "passing pipeline" 0
expect "CI_PROJECT_DIR is /builds/<project>" "dir=/builds/[^ ]*basic pwd=/builds/[^ ]*basic"
expect "CLI variables win, YAML expanded" "over=cli ref=x-global-y cli=cli-wins stage=build slug=build"
expect "working tree copied with uncommitted changes" "^build +\| changed"
expect "untracked file copied" "^build +\| uncommitted"
expect "command echoed" '^build +\| \$ echo "dir='
expect "multi-line command collapsed" '\$ if true; then # collapsed multi-line command'
expect "multi-line command ran" "multi-line-ran"
expect "dotenv of the dependency" "dotenv=hello-dotenv"
expect "disposable environment" "disposable=true"
expect "artifacts of the dependency" "^test +\| artifact-content"
expect "only artifacts travel between jobs" "^test +\| no-generated-file"
expect "job verdict" "^test +\| Job succeeded"
[ ! -e "$p/generated.txt" ] && pass "jobs never write into the working tree" ||
	fail "generated.txt appeared in the working tree"
[ -f "$p/.runnel/logs/build.log" ] && pass "job log file" || fail "no .runnel/logs/build.log"

# a small project is copied and bind-mounted; large ones get an overlay volume over the
# run's snapshot: force it here, the job must not see a difference
export RUNNEL_PROJECT_COPY=overlay
run_runnel "$p" --variable CLIVAR=cli-wins
unset RUNNEL_PROJECT_COPY
expect_rc "overlay mode" 0
expect "overlay mode: working tree" "^build +\| changed"
expect "overlay mode: artifacts" "^test +\| artifact-content"
expect "overlay mode: dotenv" "dotenv=hello-dotenv"
expect "overlay mode: jobs do not share writes" "^test +\| no-generated-file"
[ ! -e "$p/generated.txt" ] && pass "overlay mode: the working tree is untouched" ||
	fail "overlay mode: generated.txt in the working tree"

# a remote daemon (tcp) cannot bind-mount our directories: the archive API carries the
# project in and the artifacts and reports out
export RUNNEL_PROJECT_COPY=archive
run_runnel "$p" --variable CLIVAR=cli-wins
unset RUNNEL_PROJECT_COPY
expect_rc "archive mode" 0
expect "archive mode: working tree" "^build +\| changed"
expect "archive mode: artifacts" "^test +\| artifact-content"
expect "archive mode: dotenv" "dotenv=hello-dotenv"
expect "archive mode: CI_PROJECT_DIR" "dir=/builds/[^ ]*basic pwd=/builds/[^ ]*basic"

run_runnel "$p" --committed build
expect_rc "--committed run" 1
expect "--committed gives HEAD" "^build +\| tracked"
expect "untracked file absent with --committed" "untracked.txt.*No such file"

p2=$(make_project fail <<'YML'
first:
  image: runnel-test/sh:latest
  script:
    - echo before
    - sh -c 'exit 42'
    - echo not-reached
YML
)
run_runnel "$p2"
expect_rc "failing pipeline" 1
expect "exit code reported" "ERROR: Job failed: exit code 42"
expect_not "errexit stops the script" "not-reached"
expect "summary" "first +test +failed"

p3=$(make_project noimage <<'YML'
job:
  image: runnel-test/missing:none
  script: [true]
YML
)
run_runnel "$p3"
expect_rc "missing image fails the job" 1

run_runnel "$p2" nosuchjob
expect_rc "unknown job is a usage error" 2

assert_no_leftovers
test_done
