#!/bin/sh
# The main paths under valgrind: no invalid access, no uninitialised read, no definite or
# indirect leak, in the verbs that read a pipeline (on the seed's complete pipeline and on a
# broken file), in a shell-executor run, in a Docker run with a service, artifacts, a failing
# job and after_script, and in a run cancelled with Ctrl-C. Slow (valgrind), so one file.
. "$(dirname "$0")/t200-run-lib.sh"
command -v valgrind >/dev/null || {
	[ "${CI:-}" = true ] && { say "Bail out! valgrind missing in CI"; exit 1; }
	say "1..0 # SKIP no valgrind"
	exit 77
}
need_engine
snapshot_objects
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# vg DESC DIR ARGS...: runs runnel under valgrind in DIR; valgrind's own report in $VG.
vg() {
	desc=$1 dir=$2
	shift 2
	VG=$T_TMP/vglog.$T_COUNT
	OUT=$T_TMP/out.$T_COUNT
	T_COUNT=$((T_COUNT + 1))
	(cd "$dir" && NO_COLOR=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$VG" "$RUNNEL" "$@") >"$OUT" 2>&1
	RC=$?
	# 99: valgrind found errors; 126/127: nothing ran
	if [ "$RC" -lt 99 ] && [ -f "$VG" ] && [ ! -s "$VG" ]; then
		pass "$desc: valgrind clean (exit $RC)"
	else
		fail "$desc: valgrind reported errors (exit $RC)"
		sed 's/^/#   /' "$VG" | head -60
	fi
}

complete=$T_TMP/complete
bash "$SRC/scripts/example-project.sh" complete "$complete" >/dev/null 2>&1 ||
	{ say "Bail out! cannot assemble examples/complete"; exit 1; }
for verb in list "list --json" config "graph --format dot" "explain build" lint; do
	# shellcheck disable=SC2086 # the verb's words
	vg "$verb" "$complete" $verb
done

broken=$(make_project broken <<'YML'
a:
  script: [echo]
  needs: [nope]
b: {extends: .missing, script: x}
YML
)
vg "lint of an invalid file" "$broken" lint
expect_rc "the invalid file is rejected" 3

p=$(make_project vg-run <<'YML'
image: runnel-test/sh:latest
make:
  stage: build
  services:
    - name: runnel-test/sh:latest
      alias: side
      command: ["sleep", "60"]
  script:
    - echo built > out.txt
  artifacts: {paths: [out.txt]}
use:
  script:
    - cat out.txt
    - exit 3
  after_script:
    - echo after-ran
YML
)
vg "docker run" "$p" run
expect "the artifact reached the next job" '^use +\| built$'
expect "after_script ran after the failure" '^use +\| after-ran$'
vg "shell run" "$p" run --executor shell make
expect "the shell job ran" '^make +build +success'

p=$(make_project vg-cancel <<'YML'
image: runnel-test/sh:latest
slow:
  script: [sleep 60]
  after_script: [echo cancel-after]
YML
)
(
	cd "$p" && NO_COLOR=1 exec valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--log-file="$T_TMP/cancel.vglog" "$RUNNEL" run
) >"$T_TMP/out-cancel" 2>&1 &
pid=$!
i=0
until grep -q '\$ sleep 60' "$T_TMP/out-cancel" 2>/dev/null || [ $i -ge 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -INT $pid
wait $pid
RC=$?
if [ "$RC" -eq 130 ] && [ -f "$T_TMP/cancel.vglog" ] && [ ! -s "$T_TMP/cancel.vglog" ]; then pass "Ctrl-C: exit 130, valgrind clean"; else
	fail "Ctrl-C: exit $RC, valgrind report:"
	cat "$T_TMP/cancel.vglog" "$T_TMP/out-cancel" 2>&1 | sed 's/^/#   /' | head -60
fi
expect "after_script ran on cancel" 'cancel-after' "$T_TMP/out-cancel"
assert_no_leftovers
test_done
