#!/bin/sh
# Shared helpers of the examples' end-to-end tests (t6NN-example-*.sh source this file; it
# sources t200-run-lib.sh for run_runnel, expect, assert_no_leftovers...). Run on its own it
# checks what the examples need: the engine, the stand-in images and the runnel-mirror.
#
# Helpers: need_examples, ex_project NAME [BRANCH], job_status JOB, job_exit JOB,
# registry_volume DIR, registry_tags DIR REPO (prints "tag tag ...").

T_LIB_DIR=$(cd "$(dirname "$0")" && pwd)
. "$T_LIB_DIR/t200-run-lib.sh"
T_ROOT=${RUNNEL_SRCDIR:-$(cd "$T_LIB_DIR/../.." && pwd)}

need_examples() {
	need_engine
	for img in docker:24 docker:24-dind registry:2 node:20 postgres:15 redis:7 \
		aquasec/trivy:latest; do
		docker image inspect "$img" >/dev/null 2>&1 && continue
		if [ "${CI:-}" = true ]; then say "Bail out! stand-in image $img missing"; exit 1; fi
		say "1..0 # SKIP stand-in image $img missing (scripts/build-images.sh)"
		exit 77
	done
	if [ "$(docker inspect -f '{{.State.Running}}' runnel-mirror 2>/dev/null)" != true ]; then
		if [ "${CI:-}" = true ]; then say "Bail out! runnel-mirror not running"; exit 1; fi
		say "1..0 # SKIP runnel-mirror not running (scripts/start-registry.sh)"
		exit 77
	fi
	snapshot_objects
}

# ex_project NAME [BRANCH]: assembles examples/NAME in a fresh directory; prints its path.
ex_project() {
	d=$T_TMP/ex-$1-${2:-main}
	bash "$T_ROOT/scripts/example-project.sh" "$1" "$d" "${2:-main}" >/dev/null || return 1
	printf '%s\n' "$d"
}

# job_status JOB / job_exit JOB: from the JSON report written by run_runnel ... --report R.
job_status() { jq -r --arg j "$1" '.jobs[] | select(.name == $j) | .status' "$REPORT"; }
job_exit() { jq -r --arg j "$1" '.jobs[] | select(.name == $j) | .exit_code' "$REPORT"; }
expect_job() { # expect_job JOB STATUS [EXIT]
	st=$(job_status "$1")
	if [ "$st" = "$2" ]; then pass "job $1: $2"; else
		fail "job $1: status '$st', want '$2'"
		sed 's/^/#   /' "$OUT" | tail -40
	fi
	if [ -n "${3:-}" ]; then
		ec=$(job_exit "$1")
		if [ "$ec" = "$3" ]; then pass "job $1: exit code $3"; else
			fail "job $1: exit code '$ec', want '$3'"
		fi
	fi
}

# The registry storage volume `runnel run --registry` kept for the project in DIR.
registry_volume() {
	base=$(basename "$1" | tr 'A-Z' 'a-z')
	docker volume ls -q --filter label=runnel.registry=1 --filter "name=runnel-registry-$base-" |
		head -1
}

# registry_tags DIR REPO: the tags of REPO (e.g. examples/complete) in the project's registry
# volume, read through a throwaway registry:2 container (no auth) and its HTTP API.
registry_tags() {
	vol=$(registry_volume "$1")
	[ -n "$vol" ] || return 1
	cid=$(docker run -d --rm -v "$vol:/var/lib/registry" registry:2) || return 1
	ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
	tags=
	i=0
	while [ $i -lt 50 ]; do
		if tags=$(curl -fsS "http://$ip:5000/v2/$2/tags/list" 2>/dev/null); then break; fi
		sleep 0.1
		i=$((i + 1))
	done
	docker rm -f "$cid" >/dev/null 2>&1
	printf '%s\n' "$tags" | jq -r '.tags // [] | sort | join(" ")'
}

# registry volumes made by this test's projects go with it
ex_cleanup_volumes() {
	for d in "$T_TMP"/ex-*; do
		[ -d "$d" ] || continue
		v=$(registry_volume "$d")
		[ -n "$v" ] && docker volume rm -f "$v" >/dev/null 2>&1
	done
}

trap 'ex_cleanup_volumes; cleanup' EXIT

run_example() { # run_example DIR ARGS...: run_runnel with a JSON report in $REPORT
	REPORT=$T_TMP/report.$T_COUNT.json
	d=$1
	shift
	run_runnel "$d" --report "$REPORT" "$@"
}

case "$0" in
*t600-example-lib.sh)
	need_examples
	pass "engine, stand-in images and runnel-mirror present"
	test_done
	;;
esac
