#!/bin/sh
# Ctrl-C in the middle of a run: running jobs are canceled, their after_script still runs with
# CI_JOB_STATUS=canceled, pending jobs never start, runnel exits 130 (143 for SIGTERM) and
# leaves nothing behind. SIGHUP (the terminal closed) and SIGQUIT do the same (129, 131); so
# does a closed output pipe (`runnel run | head -n 2`: 141), the job logs still complete.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

p=$(make_project cancel <<'YML'
image: runnel-test/sh:latest
stages: [build, test]
long:
  stage: build
  script: [echo long-started, sleep 60]
  after_script: ['echo "after-status=$CI_JOB_STATUS"']
later:
  stage: test
  script: [echo later-ran]
YML
)

# start_and_signal SIG: runs runnel in the background, waits for the job's output, signals it
start_and_signal() {
	OUT=$T_TMP/cancel.$1
	(cd "$p" && NO_COLOR=1 exec "$RUNNEL" run) >"$OUT" 2>&1 &
	pid=$!
	i=0
	while ! grep -Eq "^long +\| long-started" "$OUT" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -"$1" "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "runnel still running 30 s after SIG$1"
		kill -9 "$pid"
	fi
	wait "$pid"
	RC=$?
}

start_and_signal INT
expect_rc "SIGINT" 130
expect "after_script ran with canceled" "after-status=canceled"
expect_not "pending job never started" "later-ran"
expect "canceled in the summary" "long +build +canceled"
assert_no_leftovers "after SIGINT"

start_and_signal TERM
expect_rc "SIGTERM" 143
assert_no_leftovers "after SIGTERM"

start_and_signal HUP
expect_rc "SIGHUP" 129
expect "after_script ran after SIGHUP" "after-status=canceled"
expect_not "pending job never started after SIGHUP" "later-ran"
assert_no_leftovers "after SIGHUP"

start_and_signal QUIT
expect_rc "SIGQUIT" 131
expect "after_script ran after SIGQUIT" "after-status=canceled"
assert_no_leftovers "after SIGQUIT"

# the reader of the output goes away after two lines: no SIGPIPE death, the run is canceled
# like by Ctrl-C, the log file has the whole job, after_script included
rm -rf "$p/.runnel/logs"
ERR=$T_TMP/pipe.err
{ (cd "$p" && NO_COLOR=1 "$RUNNEL" run 2>"$ERR"; echo $? >"$T_TMP/pipe.rc") | head -n 2 >"$T_TMP/pipe.head"; }
RC=$(cat "$T_TMP/pipe.rc")
OUT=$ERR
expect_rc "closed output pipe" 141
expect "runnel says why it stopped" "the output was closed: canceling"
[ "$(wc -l <"$T_TMP/pipe.head")" -eq 2 ] && pass "head got its two lines" || fail "head got: $(cat "$T_TMP/pipe.head")"
OUT=$p/.runnel/logs/long.log
expect "the job log starts at the beginning" "Running with runnel"
expect "the job log has after_script" "after-status=canceled"
expect "the job log ends with the verdict" "Job failed: canceled"
assert_no_leftovers "after the output pipe closed"

# the reader leaves in the middle of the script's output (sed quits at long-started)
rm -rf "$p/.runnel/logs"
{ (cd "$p" && NO_COLOR=1 "$RUNNEL" run 2>"$ERR"; echo $? >"$T_TMP/pipe.rc") | sed -n '/| long-started$/{p;q;}' >"$T_TMP/pipe.head"; }
RC=$(cat "$T_TMP/pipe.rc")
OUT=$ERR
expect_rc "output pipe closed during the script" 141
OUT=$p/.runnel/logs/long.log
expect "the job log has the script's output" "^long-started"
expect "the job log has after_script" "after-status=canceled"
expect "the job log ends with the verdict" "Job failed: canceled"
assert_no_leftovers "after the output pipe closed during the script"

# a second Ctrl-C while after_script runs: remove everything now and leave
p2=$(make_project force <<'YML'
long:
  image: runnel-test/sh:latest
  script: [echo long-started, sleep 60]
  after_script: [echo after-started, sleep 60]
YML
)
OUT=$T_TMP/force.out
(cd "$p2" && NO_COLOR=1 exec "$RUNNEL" run) >"$OUT" 2>&1 &
pid=$!
i=0
while ! grep -Eq "^long +\| long-started" "$OUT" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -INT "$pid"
i=0
while ! grep -Eq "^long +\| after-started" "$OUT" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
start=$(date +%s)
kill -INT "$pid"
wait "$pid"
RC=$?
took=$(($(date +%s) - start))
expect_rc "second SIGINT" 130
[ "$took" -lt 15 ] && pass "second SIGINT stops at once (${took}s)" || fail "took ${took}s"
assert_no_leftovers "after a second SIGINT"
[ -d "$p2/.runnel/builds" ] && [ -z "$(ls "$p2/.runnel/builds")" ] && pass "run directory removed" ||
	fail "run directory left: $(ls "$p2/.runnel/builds")"
# Ctrl-C while the image is being pulled: a "registry" on 127.0.0.1 (insecure by default for
# the daemon) that accepts the connection and never answers keeps the pull hanging; the run
# must stop at once, report the job as canceled and leave nothing behind.
port=$((20000 + $$ % 20000))
# its own session, all output away: nothing of it may outlive the test or hold its output
setsid sh -c "sleep 120 | busybox nc -l -p $port" </dev/null >/dev/null 2>&1 &
hang=$!
p3=$(make_project pull-cancel <<YML
hang:
  image: 127.0.0.1:$port/never/answers:1
  script: [echo must-not-run]
YML
)
OUT=$T_TMP/pull.out
(cd "$p3" && NO_COLOR=1 exec "$RUNNEL" run) >"$OUT" 2>&1 &
pid=$!
i=0
while ! grep -q "Pulling docker image" "$OUT" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
start=$(date +%s)
kill -INT "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 "$pid" 2>/dev/null
wait "$pid"
RC=$?
took=$(($(date +%s) - start))
kill -- "-$hang" 2>/dev/null
expect_rc "SIGINT during the image pull" 130
[ "$took" -lt 5 ] && pass "the pull was abandoned at once (${took}s)" || fail "SIGINT during the pull took ${took}s"
expect "the job is canceled, not a pull failure" "hang +test +canceled"
expect_not "the script never ran" "must-not-run"
assert_no_leftovers "after SIGINT during a pull"
test_done
