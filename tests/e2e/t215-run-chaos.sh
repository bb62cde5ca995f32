#!/bin/sh
# Chaos: a pipeline of several jobs with a plain service (redis) and a TLS DinD service is run
# RUNNEL_CHAOS_ITERATIONS times (default 30), each run ended at a random moment by one of:
# SIGINT, SIGTERM, SIGHUP, SIGQUIT, a closed output pipe, SIGKILL then `runnel cleanup`, and
# `docker rm -f` of a random job or service container. After every iteration: nothing
# labelled with this test's project is left on the engine (containers, networks, volumes;
# other tests run on the same engine, so only this project's label counts), the runnel
# process is gone, its exit code is the documented one (130/143/129/131/141; cleanup's 0
# after SIGKILL; 1 after docker rm -f, with the job log naming the removed object), and no
# runnel temporary file is left in the private TMPDIR. RUNNEL_CHAOS_SEED replays a run.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
for img in docker:24 docker:24-dind redis:7; do
	docker image inspect "$img" >/dev/null 2>&1 && continue
	if [ "${CI:-}" = true ]; then say "Bail out! stand-in image $img missing"; exit 1; fi
	say "1..0 # SKIP stand-in image $img missing (scripts/build-images.sh)"
	exit 77
done

ITER=${RUNNEL_CHAOS_ITERATIONS:-30}
SEED=${RUNNEL_CHAOS_SEED:-$(($(date +%s) % 32768))}
say "# seed $SEED (replay: RUNNEL_CHAOS_SEED=$SEED RUNNEL_CHAOS_ITERATIONS=$ITER)"
# awk's srand/rand: a seeded sequence in POSIX sh (dash has no RANDOM)
RNG=$T_TMP/rng
awk -v s="$SEED" 'BEGIN { srand(s); for (i = 0; i < 100000; i++) print int(rand() * 32768) }' >"$RNG"
RNG_AT=0
rand() { # rand N: R = a number in [0, N) (no subshell: the position must advance)
	RNG_AT=$((RNG_AT + 1))
	v=$(sed -n "${RNG_AT}p" "$RNG")
	R=$((v % $1))
}

export TMPDIR=$T_TMP/tmp
mkdir -p "$TMPDIR"

p=$(make_project chaos <<'YML'
stages: [one, two]
variables:
  DOCKER_HOST: tcp://docker:2376
  DOCKER_TLS_CERTDIR: "/certs"
  DOCKER_TLS_VERIFY: 1
  DOCKER_CERT_PATH: "/certs/client"
with-redis:
  stage: one
  image: runnel-test/sh:latest
  services: [redis:7]
  script: ['for i in $(seq 1 10); do echo redis-tick-$i; sleep 0.5; done']
  after_script: ['echo after-$CI_JOB_STATUS']
with-dind:
  stage: one
  image: docker:24
  services: [docker:24-dind]
  script:
    - docker version --format '{{.Server.Version}}'
    - 'for i in $(seq 1 8); do docker version >/dev/null || exit 3; echo dind-tick-$i; sleep 0.5; done'
  after_script: ['echo after-$CI_JOB_STATUS']
plain:
  stage: one
  image: runnel-test/sh:latest
  script: ['for i in $(seq 1 10); do echo plain-tick-$i; sleep 0.5; done']
  after_script: ['echo after-$CI_JOB_STATUS']
later:
  stage: two
  image: runnel-test/sh:latest
  script: [echo later-ran]
YML
)

project_objects() {
	{
		docker ps -aq --filter "label=runnel.project=$p"
		docker network ls -q --filter "label=runnel.project=$p"
		docker volume ls -q --filter "label=runnel.project=$p"
	} 2>/dev/null
}

# wait_gone PID: the runnel process ends by itself (bounded: 90 s, then it is a failure)
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 900 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		fail "iteration $n ($how): runnel still running 90 s after the ending"
		kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	RC=$?
}

# a random moment from 0.3 s to 4.5 s into the run: from the setup to the middle of the
# scripts (the services take 2-3 s to be ready, the scripts 5 s)
random_sleep() {
	rand 4200
	ms=$((300 + R))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
}

start_bg() {
	(cd "$p" && NO_COLOR=1 exec "$RUNNEL" run --privileged) >"$OUT" 2>&1 &
	pid=$!
}

end_signal() { # end_signal SIG WANT
	start_bg
	random_sleep
	kill -"$1" "$pid" 2>/dev/null
	wait_gone "$pid"
	WANT=$2
}

end_pipe() {
	# the reader leaves after K lines: the moment depends on the jobs' output
	rand 30
	k=$((2 + R))
	{ (cd "$p" && NO_COLOR=1 "$RUNNEL" run --privileged 2>"$OUT"; echo $? >"$T_TMP/rc") |
		head -n "$k" >/dev/null; }
	RC=$(cat "$T_TMP/rc")
	WANT=141
	how="$how after $k lines"
}

end_kill() {
	start_bg
	random_sleep
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# requests the killed process had sent (a container create) still complete on the daemon
	sleep 2
	(cd "$p" && "$RUNNEL" cleanup) >"$OUT.cleanup" 2>&1
	RC=$?
	WANT=0
}

end_rm() {
	start_bg
	# early enough that every job is still before or in its script (5 s after its services)
	rand 2700
	ms=$((300 + R))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	# a random running container of the run (job or service); wait for one if none yet
	i=0
	victim=
	while [ -z "$victim" ] && [ $i -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
		set -- $(docker ps -q --filter "label=runnel.project=$p" --filter status=running)
		if [ $# -gt 0 ]; then
			rand $#
			shift $R
			victim=$1
		else
			sleep 0.1
			i=$((i + 1))
		fi
	done
	if [ -z "$victim" ]; then
		wait_gone "$pid"
		WANT=$RC
		how="$how (no container to remove: run ended first)"
		return
	fi
	vname=$(docker inspect -f '{{.Name}}' "$victim" 2>/dev/null | sed 's,^/,,')
	vjob=$(docker inspect -f '{{index .Config.Labels "runnel.job"}}' "$victim" 2>/dev/null)
	docker rm -f "$victim" >/dev/null 2>&1
	wait_gone "$pid"
	WANT=1
	how="$how of $vname (job $vjob)"
	log=$p/.runnel/logs/$(printf '%s' "$vjob" | tr -c 'A-Za-z0-9._\n-' _).log
	if grep -Eq "was removed outside runnel" "$log" 2>/dev/null &&
		grep -Eq "'($(printf %.12s "$victim")|$vname)'" "$log"; then
		pass "iteration $n ($how): the job log names the removed container"
	else
		fail "iteration $n ($how): the job log does not name the removed container"
		sed 's/^/#   /' "$log" 2>/dev/null | tail -15
	fi
}

endings="INT TERM HUP QUIT pipe kill rm"
for e in $endings; do eval "count_$e=0"; done
n=0
while [ $n -lt "$ITER" ]; do
	n=$((n + 1))
	set -- $endings
	rand 7
	shift $R
	e=$1
	how=$e
	OUT=$T_TMP/chaos.$n
	rm -rf "$p/.runnel/logs"
	t0=$(date +%s)
	case $e in
	INT) end_signal INT 130 ;;
	TERM) end_signal TERM 143 ;;
	HUP) end_signal HUP 129 ;;
	QUIT) end_signal QUIT 131 ;;
	pipe) end_pipe ;;
	kill) end_kill ;;
	rm) end_rm ;;
	esac
	eval "count_$e=\$((count_$e + 1))"
	# (the seconds are information, never asserted)
	if [ "$RC" -eq "$WANT" ]; then pass "iteration $n ($how): exit $RC, $(($(date +%s) - t0)) s"; else
		fail "iteration $n ($how): exit $RC, want $WANT"
		sed 's/^/#   /' "$OUT" | tail -25
	fi
	# the pipe ending waited for runnel inside the pipeline; the others for its pid
	[ "$e" != pipe ] && kill -0 "$pid" 2>/dev/null &&
		fail "iteration $n ($how): the runnel process is still there"
	left=$(project_objects | tr '\n' ' ')
	if [ -z "$left" ]; then pass "iteration $n ($how): nothing left on the engine"; else
		fail "iteration $n ($how): left on the engine: $left"
		for id in $left; do docker rm -f "$id" >/dev/null 2>&1 ||
			docker network rm "$id" >/dev/null 2>&1 || docker volume rm -f "$id" >/dev/null 2>&1
		done
	fi
	tmp_left=$(ls -A "$TMPDIR")
	if [ -z "$tmp_left" ]; then pass "iteration $n ($how): TMPDIR empty"; else
		fail "iteration $n ($how): left in TMPDIR: $tmp_left"
		rm -rf "${TMPDIR:?}"/* "$TMPDIR"/.[!.]* 2>/dev/null
	fi
done
say "# $n iterations, seed $SEED: SIGINT $count_INT, SIGTERM $count_TERM, SIGHUP $count_HUP," \
	"SIGQUIT $count_QUIT, closed pipe $count_pipe, SIGKILL+cleanup $count_kill, docker rm -f $count_rm"
test_done
