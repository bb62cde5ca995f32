#!/bin/sh
# Objects removed outside runnel mid-run (`docker rm -f`): the job fails saying which object
# was removed, not with a bare "exit code 137"; the run exits 1 and leaves nothing behind.
# Also: a closed stderr pipe cancels the run like a closed stdout (141).
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

p=$(make_project removed <<'YML'
image: runnel-test/sh:latest
victim:
  script: [echo victim-started, sleep 60]
with-service:
  services:
    - name: runnel-test/sh:latest
      alias: helper
      command: [sleep, "120"]
  variables:
    CI_DEBUG_SERVICES: "false"
  script: [echo service-job-started, sleep 8]
YML
)

OUT=$T_TMP/removed.out
(cd "$p" && NO_COLOR=1 exec "$RUNNEL" run) >"$OUT" 2>&1 &
pid=$!
i=0
while ! { grep -Eq "victim +\| victim-started" "$OUT" && grep -Eq "with-service +\| service-job-started" "$OUT"; } 2>/dev/null &&
	[ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
job=$(docker ps -q --filter "label=runnel.project=$p" --filter label=runnel.job=victim |
	while read -r id; do
		case $(docker inspect -f '{{.Name}}' "$id") in */runnel-*) ;; *) echo "$id" ;; esac
	done | head -1)
svc=$(docker ps --filter "label=runnel.project=$p" --filter label=runnel.job=with-service \
	--format '{{.Names}}' | grep -- '-svc-' | head -1)
[ -n "$job" ] && [ -n "$svc" ] && pass "found the job container and the service container" ||
	fail "job container '$job', service container '$svc'"
docker rm -f "$job" "$svc" >/dev/null
wait "$pid"
RC=$?
expect_rc "run with removed containers" 1
LOG=$p/.runnel/logs/victim.log
expect "the job log names the removed job container" \
	"the job's container '$(printf %.12s "$job")' was removed outside runnel \\(docker rm\\?\\)" "$LOG"
expect_not "no bare exit code as the reason" "Job failed: exit code 137" "$LOG"
expect "the service job's log names the removed service" \
	"the job's service container '$svc' \\(runnel-test/sh:latest as .*helper\\) was removed outside runnel" \
	"$p/.runnel/logs/with-service.log"
expect "the summary says system failure" "victim +test +failed .*runner_system_failure"
assert_no_leftovers "after docker rm -f"

# stderr is the pipe (stdout goes to a file), its reader leaves while the jobs run: canceled
# as for stdout, exit 141, though runnel wrote nothing to stderr
OUT=$T_TMP/stderr.out
{ (cd "$p" && NO_COLOR=1 "$RUNNEL" run victim 2>&1 >"$OUT"; echo $? >"$T_TMP/rc") |
	{ i=0; while ! grep -q "victim-started" "$OUT" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1; i=$((i + 1)); done; }; }
RC=$(cat "$T_TMP/rc")
expect_rc "closed stderr pipe" 141
expect "the job was canceled" "Job failed: canceled" "$p/.runnel/logs/victim.log"
assert_no_leftovers "after stderr closed"
test_done
