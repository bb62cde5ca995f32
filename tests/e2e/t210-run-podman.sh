#!/bin/sh
# t210: `runnel run` against podman's Docker-compatible service (a `podman system service` of
# its own, with the containers.conf of scripts/setup-engine.sh --podman): a pipeline with
# needs, artifacts, cache, after_script and a failing job gives the same results as on
# dockerd, the overlay project copy falls back to a copy (podman unmounts the volume when the
# container stops), and nothing labelled runnel.pipeline is left in podman. Skipped without
# podman, except in CI.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
SRC=${RUNNEL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CONF=/etc/runnel/containers.conf

no_podman() {
	if [ "${CI:-}" = true ]; then
		say "Bail out! podman is required in CI: $1"
		exit 1
	fi
	say "1..0 # SKIP $1"
	exit 77
}
command -v podman >/dev/null || no_podman "podman is not installed"
if [ ! -f "$CONF" ] && [ "$(id -u)" -eq 0 ] && [ -x "$SRC/scripts/setup-engine.sh" ]; then
	bash "$SRC/scripts/setup-engine.sh" --podman --no-apt >"$T_TMP/setup.log" 2>&1 ||
		sed 's/^/#   /' "$T_TMP/setup.log"
fi
[ -f "$CONF" ] || no_podman "no $CONF (scripts/setup-engine.sh --podman writes it)"

# A service of this test's own, stopped at its end: a long-lived `podman system service`
# (podman 4.3) collects defunct conmon children and after a while fails every attach with
# "write child: broken pipe (HTTP 409)", which would fail this test for the service's age.
PH=unix://$T_TMP/podman.sock
CONTAINERS_CONF=$CONF setsid podman system service --time=0 "$PH" >"$T_TMP/podman.log" 2>&1 \
	</dev/null &
PODMAN_PID=$!
trap 'kill "$PODMAN_PID" 2>/dev/null; wait "$PODMAN_PID" 2>/dev/null; cleanup' EXIT
podman_ok() { podman --url "$PH" version >/dev/null 2>&1; }
i=0
while ! podman_ok && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
podman_ok || no_podman "podman system service did not answer on $PH: $(tail -n 3 "$T_TMP/podman.log")"
pm() { podman --url "$PH" "$@"; }

# podman gets docker's test image, again whenever docker's was rebuilt (lib-test-image.sh key)
ti_key_of() { "$@" --format '{{index .Config.Labels "runnel.test.key"}}' 2>/dev/null; }
if [ "$(ti_key_of pm image inspect "localhost/$TEST_IMAGE")" != \
	"$(ti_key_of docker image inspect "$TEST_IMAGE")" ]; then
	docker save "$TEST_IMAGE" | pm load -q >/dev/null ||
		{ say "Bail out! cannot load $TEST_IMAGE into podman"; exit 1; }
fi
podman_objects() {
	{
		pm ps -aq --no-trunc --filter label=runnel.pipeline
		pm network ls -q --filter label=runnel.pipeline
		pm volume ls -q --filter label=runnel.pipeline
	} 2>/dev/null | sort
}
podman_objects >"$T_TMP/pbefore"
snapshot_objects

p=$(make_project podman <<'YML'
stages: [build, test]
build:
  stage: build
  image: runnel-test/sh:latest
  script:
    - mkdir -p out && echo "built-$CI_JOB_NAME" > out/a.txt
    - echo "cached=$(cat cachedir/c.txt 2>/dev/null || echo none)"
    - mkdir -p cachedir && echo "cache-$RUN" > cachedir/c.txt
  cache: {key: k1, paths: [cachedir/]}
  artifacts: {paths: [out/]}
  after_script: ['echo "after-build=$CI_JOB_STATUS"']
use:
  stage: test
  image: runnel-test/sh:latest
  needs: [build]
  script:
    - cat out/a.txt
    - 'echo "git=$(test -d .git && echo yes || echo no)"'
    - echo written > tracked.txt
broken:
  stage: test
  image: runnel-test/sh:latest
  needs: []
  script: [echo about-to-fail, exit 3]
  after_script: ['echo "after-broken=$CI_JOB_STATUS"']
YML
)

# summary: the "JOB STAGE STATUS DURATION EXIT" table without durations
summary() { sed -n '/^JOB  *STAGE/,$p' "$OUT" | awk 'NF>=5 {print $1, $2, $3, $5, $6}'; }
check_run() { # check_run ENGINE RUN-NUMBER WANT-CACHED
	expect_rc "$1 run $2: one job fails" 1
	expect "$1 run $2: cache" "^build +\| cached=$3$"
	expect "$1 run $2: cache saved" "^build +\| Created cache"
	expect "$1 run $2: after_script of a success" "^build +\| after-build=success"
	expect "$1 run $2: needs + artifacts" "^use +\| built-build"
	expect "$1 run $2: the job has a repository" "^use +\| git=yes"
	expect "$1 run $2: after_script of a failure" "^broken +\| after-broken=failed"
	expect "$1 run $2: failing job" "^broken +\| ERROR: Job failed: exit code 3"
	expect "$1 run $2: summary" "^broken +test +failed .* 3 +script_failure"
}

for engine in docker podman; do
	rm -rf "$p/.runnel/cache"
	for run in 1 2; do
		want=none
		[ "$run" = 2 ] && want=cache-1
		if [ "$engine" = podman ]; then
			# overlay forced: podman must fall back to a copy, artifacts intact
			(cd "$p" && DOCKER_HOST=$PH RUNNEL_PROJECT_COPY=overlay NO_COLOR=1 \
				timeout 300 "$RUNNEL" run --variable RUN=$run >"$T_TMP/out.$engine.$run" 2>&1)
		else
			(cd "$p" && NO_COLOR=1 timeout 300 "$RUNNEL" run --variable RUN=$run \
				>"$T_TMP/out.$engine.$run" 2>&1)
		fi
		RC=$?
		OUT=$T_TMP/out.$engine.$run
		check_run "$engine" "$run" "$want"
		summary >"$T_TMP/sum.$engine.$run"
		cp "$p/.runnel/artifacts/build/out/a.txt" "$T_TMP/art.$engine.$run" 2>/dev/null
	done
done
for run in 1 2; do
	if cmp -s "$T_TMP/sum.docker.$run" "$T_TMP/sum.podman.$run"; then
		pass "run $run: same job results on podman as on dockerd"
	else
		fail "run $run: results differ"
		diff "$T_TMP/sum.docker.$run" "$T_TMP/sum.podman.$run" | sed 's/^/#   /'
	fi
	cmp -s "$T_TMP/art.docker.$run" "$T_TMP/art.podman.$run" && [ -s "$T_TMP/art.podman.$run" ] &&
		pass "run $run: same artifacts" || fail "run $run: artifacts differ or are missing"
done
[ "$(cat "$p/tracked.txt")" = tracked ] && pass "the working tree is untouched" ||
	fail "a job wrote into the working tree"

podman_objects >"$T_TMP/pafter"
left=$(comm -13 "$T_TMP/pbefore" "$T_TMP/pafter")
[ -z "$left" ] && pass "nothing labelled runnel.pipeline left in podman" ||
	fail "podman leftovers: $left"
assert_no_leftovers "in dockerd"
test_done
