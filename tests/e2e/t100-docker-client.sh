#!/bin/sh
# t100: the Docker client (src/docker) against the real engine. Drives the "engine" group of
# tests/unit/test-docker.c: a network, an attached run with stdin input checking output and
# exit code, stdin EOF through a half-close, files in and out through the archive API, exec,
# logs, timeout with kill, error messages, and cleanup by label. Then compares the hot path
# (create + attach + start + wait + remove of a trivial job) with `docker run --rm`.
# Exit 77 (skip) without an engine, except with CI=true, where the engine is required.
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
docker version >/dev/null 2>&1 || skip "no Docker engine answering at ${DOCKER_HOST:-unix:///var/run/docker.sock}"

bin=${RUNNEL_TEST_DOCKER:-}
if [ -z "$bin" ] && [ -n "${RUNNEL_BIN:-}" ]; then
	bin=$(dirname "$RUNNEL_BIN")/../tests/test-docker
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "FAIL: test-docker not built (set RUNNEL_TEST_DOCKER)" >&2; exit 1; }

image=runnel-test/busybox:1
label=com.runnel.test

# A tiny image from the host's static busybox (no registry is reachable), rebuilt when its
# inputs change.
. "$(cd "$(dirname "$0")" && pwd)/lib-test-image.sh"
test_image docker "$image" busybox1 || exit 1

cleanup() {
	ids=$(docker ps -aq --filter "label=$label")
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
	nets=$(docker network ls -q --filter "label=$label")
	[ -z "$nets" ] || docker network rm $nets >/dev/null 2>&1
	return 0
}
trap cleanup EXIT INT TERM

echo "# engine tests against $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
RUNNEL_DOCKER_E2E=1 RUNNEL_DOCKER_IMAGE=$image "$bin" || { echo "FAIL: engine tests" >&2; exit 1; }

# Latency of the hot path, against the docker CLI doing the same job.
n=${RUNNEL_BENCH_RUNS:-5}
ours=$(RUNNEL_DOCKER_E2E=1 RUNNEL_DOCKER_BENCH=$n RUNNEL_DOCKER_IMAGE=$image "$bin" 2>&1 |
	sed -n 's/^bench: .* mean \([0-9.]*\) ms$/\1/p')
start=$(date +%s%N)
i=0
while [ $i -lt "$n" ]; do
	echo 'exit 0' | docker run --rm -i --label "$label=bench" "$image" sh >/dev/null || exit 1
	i=$((i + 1))
done
cli=$(( ($(date +%s%N) - start) / n / 1000000 ))
echo "# hot path: runnel client ${ours:-?} ms, docker run --rm ${cli} ms (mean of $n)"
# a loose bound: the target (within 10%) is checked by hand, a shared CI box is noisy
awk -v a="${ours:-0}" -v b="$cli" 'BEGIN { exit !(a > 0 && a <= 2 * b + 100) }' ||
	{ echo "FAIL: the client is much slower than docker run" >&2; exit 1; }
echo "1 passed, 0 failed"
