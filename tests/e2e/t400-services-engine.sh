#!/bin/sh
# t400: services against the real engine. Drives the "services-engine" group of
# tests/unit/test-services.c (services_start/services_stop): a redis service becomes ready, a
# service that exits is reported at once, one that never listens times out with the
# gitlab-runner warning (2 s timeout), docker:24-dind answers /_ping without and with TLS (the
# client certificate volume), the --registry registry answers with htpasswd auth from a
# container; then checks that nothing labelled by the test is left (containers, volumes,
# networks). Exit 77 (skip) without an engine, except with CI=true.
set -u

skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL (CI requires it): $*" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

command -v docker >/dev/null 2>&1 || skip "no docker CLI"
docker version >/dev/null 2>&1 || skip "no Docker engine"
for img in redis:7 alpine:3 docker:24-dind registry:2; do
	docker image inspect "$img" >/dev/null 2>&1 || skip "image $img missing (scripts/build-images.sh)"
done

bin=${RUNNEL_TEST_SERVICES:-}
if [ -z "$bin" ] && [ -n "${RUNNEL_BIN:-}" ]; then
	bin=$(dirname "$RUNNEL_BIN")/../tests/test-services
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "FAIL: test-services not built (set RUNNEL_TEST_SERVICES)" >&2; exit 1; }

label=com.runnel.test=services
leftovers() {
	{
		docker ps -aq --filter "label=$label"
		docker volume ls -q --filter "label=$label"
		docker network ls -q --filter "label=$label"
	} 2>/dev/null
}
cleanup() {
	ids=$(docker ps -aq --filter "label=$label")
	[ -z "$ids" ] || docker rm -fv $ids >/dev/null 2>&1
	vols=$(docker volume ls -q --filter "label=$label")
	[ -z "$vols" ] || docker volume rm -f $vols >/dev/null 2>&1
	nets=$(docker network ls -q --filter "label=$label")
	[ -z "$nets" ] || docker network rm $nets >/dev/null 2>&1
	return 0
}
trap cleanup EXIT INT TERM

failed=0
RUNNEL_SERVICES_E2E=1 "$bin" || { echo "FAIL: services engine tests" >&2; failed=1; }
left=$(leftovers)
if [ -n "$left" ]; then
	echo "FAIL: left behind: $left" >&2
	failed=$((failed + 1))
fi
echo "$((2 - failed)) passed, $failed failed"
[ "$failed" = 0 ]
