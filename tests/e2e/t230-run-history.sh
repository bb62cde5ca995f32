#!/bin/sh
# Run history (issue 13): every `runnel run` is recorded under .runnel/runs/<N>/ with a copy
# of its job logs; `runnel runs` lists the runs newest first, `runnel log JOB [--run N]` and
# `runnel log --failed` read the logs back, and the keep_runs setting (.runnel.yml) prunes
# the oldest. The shell executor is enough: no container engine is needed.
. "$(dirname "$0")/t200-run-lib.sh"
command -v git >/dev/null || { say "1..0 # SKIP no git"; exit 77; }
[ -x "$RUNNEL" ] || { say "Bail out! no runnel binary at $RUNNEL"; exit 1; }

p=$(make_project history <<'YML'
build:
  stage: build
  script:
    - echo "build-round-$ROUND"
test:
  stage: test
  script:
    - echo "test-round-$ROUND"
    - test "$ROUND" != 1 || exit 3
slow:
  rules: [{if: $SLOW}]
  script:
    - echo slow-started
    - sleep 60
YML
)

# runnel_in DIR VERB ARGS...: any verb; stdout in $OUT, stderr in $ERR, status in $RC
runnel_in() {
	dir=$1
	shift
	OUT=$T_TMP/out.$T_COUNT
	ERR=$T_TMP/err.$T_COUNT
	T_COUNT=$((T_COUNT + 1))
	(cd "$dir" && NO_COLOR=1 "$RUNNEL" "$@") >"$OUT" 2>"$ERR"
	RC=$?
}

runnel_in "$p" runs
expect_rc "runs before any run" 0
expect "runs says there is none yet" "no run recorded" "$ERR"
runnel_in "$p" log build
expect_rc "log before any run" 2

run_runnel "$p" --executor shell --variable ROUND=1
expect_rc "run 1 fails (test exits 3)" 1
run_runnel "$p" --executor shell --variable ROUND=2
expect_rc "run 2 passes" 0
run_runnel "$p" --executor shell --variable ROUND=3 build
expect_rc "run 3 (build only) passes" 0

runnel_in "$p" runs
expect_rc "runs" 0
sed -n 2,4p "$OUT" | awk '{print $1}' | tr '\n' ' ' >"$T_TMP/order"
expect "runs lists 3, 2, 1 (newest first)" "^3 2 1 $" "$T_TMP/order"
[ "$(wc -l <"$OUT")" -eq 4 ] && pass "runs: a header and three runs" ||
	{ fail "runs: $(wc -l <"$OUT") lines, want 4"; sed 's/^/#   /' "$OUT"; }
expect "run 1: branch, source, result, job statuses" \
	"^1 .* branch [^ ]+ +push +failed .* 2 jobs: 1 success, 1 failed$"
expect "run 2 succeeded with two jobs" "^2 .* success .* 2 jobs: 2 success$"
expect "run 3 had only build" "^3 .* success .* 1 job: 1 success$"

runnel_in "$p" log build
expect_rc "log build (last run)" 0
expect "the last run's build log" "^build-round-3$"
expect_not "not an older run's" "build-round-[12]"
runnel_in "$p" log build --run 1
expect "log --run 1 build" "^build-round-1$"
runnel_in "$p" log --run 2 test
expect "log --run 2 test" "^test-round-2$"
runnel_in "$p" log test
expect_rc "log of a job the last run did not have" 2
expect "names the jobs of that run" "no job 'test' in run 3 \(jobs: build\)" "$ERR"

runnel_in "$p" log --failed
expect_rc "log --failed of a run without failures" 0
expect "says so" "no failed job in run 3" "$ERR"
[ ! -s "$OUT" ] && pass "and prints no log" || fail "log --failed printed: $(cat "$OUT")"
runnel_in "$p" log --failed --run 1
expect_rc "log --failed --run 1" 0
expect "header of the failed job" "^==> test \(failed, exit code 3\) <==$"
expect "its log" "^test-round-1$"
expect_not "only the failed jobs" "build-round"
runnel_in "$p" log --failed build
expect_rc "--failed with a job name is a usage error" 2
runnel_in "$p" log --run 9 build
expect_rc "log of a run that does not exist" 2
expect "names the missing run" "there is no run 9" "$ERR"

# the logs of .runnel/logs are the last run's; the history keeps its own copies
expect "the working log is the newest" "build-round-3" "$p/.runnel/logs/build.log"

# retention: keep_runs 2 leaves the newest two after the next run
printf 'keep_runs: 2\n' >"$p/.runnel.yml"
run_runnel "$p" --executor shell --variable ROUND=4 build
expect_rc "run 4" 0
runnel_in "$p" runs
sed -n '2,$p' "$OUT" | awk '{print $1}' | tr '\n' ' ' >"$T_TMP/order"
expect "keep_runs: 2 keeps runs 4 and 3" "^4 3 $" "$T_TMP/order"
[ ! -e "$p/.runnel/runs/1" ] && [ ! -e "$p/.runnel/runs/2" ] &&
	pass "the older runs' records and logs are removed" ||
	fail "runs 1/2 still on disk: $(ls "$p/.runnel/runs")"
runnel_in "$p" log --run 2 build
expect_rc "log of a removed run" 2
runnel_in "$p" log --run 3 build
expect "run 3 still readable" "^build-round-3$"

# numbering goes on after pruning; keep_runs: 0 records nothing
printf 'keep_runs: 0\n' >"$p/.runnel.yml"
run_runnel "$p" --executor shell --variable ROUND=5 build
runnel_in "$p" runs
expect "keep_runs: 0 records no run" "^4 " "$OUT"
expect_not "no run 5" "^5 " "$OUT"

# a canceled run is recorded as canceled, with the log as far as it got
printf 'keep_runs: -1\n' >"$p/.runnel.yml"
OUT=$T_TMP/cancel.out
(cd "$p" && NO_COLOR=1 exec "$RUNNEL" run --executor shell --no-needs --variable SLOW=1 slow) >"$OUT" 2>&1 &
pid=$!
i=0
while ! grep -q "slow-started" "$OUT" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"
RC=$?
expect_rc "the slow run, canceled by SIGTERM" 143
runnel_in "$p" runs
expect "run 5 is canceled" "^5 .* canceled .* 1 job: 1 canceled$"
runnel_in "$p" log slow
expect "its log up to the cancel" "^slow-started$"
test_done
