#!/bin/sh
# t101: the Docker client against podman's Docker-compatible service (podman system service),
# the same "engine" tests as t100. Podman is optional: skipped when absent, also in CI.
# This machine's quirks (see shared env notes): runc needs the CAP_SYS_RESOURCE-dropping
# wrapper when the bounding set lacks it, and podman's default nofile/nproc rlimits cannot be
# applied without it either, so containers.conf sets the runtime and modest default ulimits.
set -u

command -v podman >/dev/null 2>&1 || { echo "SKIP: no podman"; exit 77; }
bin=${RUNNEL_TEST_DOCKER:-}
if [ -z "$bin" ] && [ -n "${RUNNEL_BIN:-}" ]; then
	bin=$(dirname "$RUNNEL_BIN")/../tests/test-docker
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "FAIL: test-docker not built (set RUNNEL_TEST_DOCKER)" >&2; exit 1; }
. "$(cd "$(dirname "$0")" && pwd)/lib-test-image.sh"

work=$(mktemp -d)
pid=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null
	ids=$(CONTAINERS_CONF=$work/containers.conf podman ps -aq --filter label=com.runnel.test 2>/dev/null)
	[ -z "$ids" ] || CONTAINERS_CONF=$work/containers.conf podman rm -f $ids >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

runtime=runc
[ -x /usr/local/bin/runc-capfilter ] && runtime=/usr/local/bin/runc-capfilter
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "rn-runtime"
[engine.runtimes]
rn-runtime = ["$(command -v $runtime)"]
CONF
export CONTAINERS_CONF="$work/containers.conf"

image=localhost/runnel-test/busybox:1
test_image podman "$image" busybox1 || exit 1

sock=$work/podman.sock
podman system service --time=0 "unix://$sock" >"$work/service.log" 2>&1 &
pid=$!
i=0
until [ -S "$sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "SKIP: podman service did not start"; cat "$work/service.log"; exit 77; }
	sleep 0.1
done

DOCKER_HOST=unix://$sock RUNNEL_DOCKER_E2E=1 RUNNEL_DOCKER_IMAGE=$image "$bin" ||
	{ echo "FAIL: engine tests against podman" >&2; tail -20 "$work/service.log"; exit 1; }
echo "1 passed, 0 failed"
