#!/bin/sh
# Shared helpers of the `runnel run` end-to-end tests (t2xx-run-*.sh source this file).
# Run on its own it is the first test of the series: it checks the engine and builds the
# tiny local test image (busybox, `docker import`; nothing is ever pulled).
#
# Helpers: need_engine, make_project (stdin = .gitlab-ci.yml), run_runnel, expect,
# expect_not, snapshot_objects / assert_no_leftovers, test_done.

RUNNEL=${RUNNEL_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/src/runnel}
TEST_IMAGE=runnel-test/sh:latest
T_FAILED=0
T_COUNT=0
T_TMP=$(mktemp -d /tmp/runnel-e2e.XXXXXX)

say() { printf '%s\n' "$*"; }
fail() { say "not ok - $*"; T_FAILED=$((T_FAILED + 1)); }
pass() { say "ok - $*"; }

need_engine() {
	if ! docker version >/dev/null 2>&1; then
		if [ "${CI:-}" = true ]; then
			say "Bail out! no container engine in CI"
			exit 1
		fi
		say "1..0 # SKIP no container engine"
		exit 77
	fi
	[ -x "$RUNNEL" ] || { say "Bail out! no runnel binary at $RUNNEL"; exit 1; }
	ensure_image
}

# A static busybox rootfs imported as an image, rebuilt when what it is made from changes.
ti_lib_file=$(cd "$(dirname "$0")" && pwd)/lib-test-image.sh
. "$ti_lib_file"
ensure_image() {
	test_image docker "$TEST_IMAGE" sh || exit 1
}

# make_project NAME < .gitlab-ci.yml: a committed git repository; prints its path.
make_project() {
	d=$T_TMP/$1
	mkdir -p "$d"
	cat >"$d/.gitlab-ci.yml"
	(
		cd "$d" && git init -q && echo tracked >tracked.txt &&
			git add . && git -c user.email=t@e.st -c user.name=t commit -qm init
	) >/dev/null 2>&1
	printf '%s\n' "$d"
}

# run_runnel DIR ARGS...: runs `runnel run` in DIR; output in $OUT (file), status in $RC.
run_runnel() {
	dir=$1
	shift
	OUT=$T_TMP/out.$T_COUNT
	T_COUNT=$((T_COUNT + 1))
	(cd "$dir" && NO_COLOR=1 "$RUNNEL" run "$@") >"$OUT" 2>&1
	RC=$?
}

expect() { # expect DESC PATTERN [FILE]: grep -E
	if grep -Eq -- "$2" "${3:-$OUT}"; then pass "$1"; else
		fail "$1 (no /$2/ in ${3:-$OUT})"
		sed 's/^/#   /' "${3:-$OUT}"
	fi
}
expect_not() {
	if grep -Eq -- "$2" "${3:-$OUT}"; then
		fail "$1 (/$2/ found in ${3:-$OUT})"
		sed 's/^/#   /' "${3:-$OUT}"
	else pass "$1"; fi
}
expect_rc() { # expect_rc DESC WANT
	if [ "$RC" -eq "$2" ]; then pass "$1 (exit $2)"; else
		fail "$1: exit $RC, want $2"
		sed 's/^/#   /' "$OUT"
	fi
}

runnel_objects() {
	{
		docker ps -aq --no-trunc --filter label=runnel.pipeline
		docker network ls -q --no-trunc --filter label=runnel.pipeline
		docker volume ls -q --filter label=runnel.pipeline
	} 2>/dev/null | sort
}
owner_label() { # owner_label KEY ID: a label of a container, network or volume
	# (an inspect of the wrong kind still prints an empty line: dropped)
	{
		docker container inspect -f "{{index .Config.Labels \"$1\"}}" "$2" ||
			docker network inspect -f "{{index .Labels \"$1\"}}" "$2" ||
			docker volume inspect -f "{{index .Labels \"$1\"}}" "$2"
	} 2>/dev/null | sed '/^$/d'
}
owner_pid() { owner_label runnel.pid "$1"; }
object_exists() { # a container, network or volume of that id or name is on the engine
	docker container inspect "$1" >/dev/null 2>&1 ||
		docker network inspect "$1" >/dev/null 2>&1 ||
		docker volume inspect "$1" >/dev/null 2>&1
}
# Objects that existed before the test, objects of processes still running (another run on
# the same engine) and objects of projects outside this test's T_TMP are not ours: every
# runnel this test started has exited by now.
snapshot_objects() { runnel_objects >"$T_TMP/before"; }
assert_no_leftovers() {
	runnel_objects >"$T_TMP/after"
	left=
	for id in $(comm -13 "$T_TMP/before" "$T_TMP/after"); do
		pid=$(owner_pid "$id")
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
		# another test's project (tests of other checkouts may share the engine): not ours
		case $(owner_label runnel.project "$id") in "$T_TMP"/* | "") ;; *) continue ;; esac
		object_exists "$id" || continue # removed meanwhile (another run's cleanup)
		left="$left $id"
	done
	if [ -z "$left" ]; then pass "nothing labelled runnel.pipeline left${1:+ $1}"; else
		fail "leftovers labelled runnel.pipeline${1:+ $1}:$left"
		for id in $left; do
			docker inspect -f '#   {{.Name}} {{.Config.Labels}} {{.State.Status}}' "$id" 2>/dev/null ||
				docker network inspect -f '#   {{.Name}} {{.Labels}}' "$id" 2>/dev/null ||
				docker volume inspect -f '#   {{.Name}} {{.Labels}}' "$id" 2>/dev/null
		done
	fi
}

cleanup() {
	if [ -f "$T_TMP/before" ]; then
		runnel_objects >"$T_TMP/after"
		for id in $(comm -13 "$T_TMP/before" "$T_TMP/after"); do
			pid=$(owner_pid "$id")
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
			case $(owner_label runnel.project "$id") in "$T_TMP"/* | "") ;; *) continue ;; esac
			docker rm -f "$id" >/dev/null 2>&1 || docker network rm "$id" >/dev/null 2>&1 ||
				docker volume rm -f "$id" >/dev/null 2>&1
		done
	fi
	rm -rf "$T_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

test_done() {
	if [ "$T_FAILED" -ne 0 ]; then
		say "# $T_FAILED failed"
		exit 1
	fi
	exit 0
}

# Executed (not sourced): check the helpers themselves.
case $0 in
*t200-run-lib.sh)
	need_engine
	snapshot_objects
	docker image inspect "$TEST_IMAGE" >/dev/null 2>&1 && pass "test image $TEST_IMAGE"
	p=$(make_project lib <<'YML'
job:
  image: runnel-test/sh:latest
  script: [echo lib-ok]
YML
)
	run_runnel "$p"
	expect_rc "trivial pipeline" 0
	expect "job output" "^job +\| lib-ok"
	assert_no_leftovers
	test_done
	;;
esac
