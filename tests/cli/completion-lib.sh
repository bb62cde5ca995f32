#!/bin/sh
# Shared by the completion tests (sourced): the runnel binary on PATH as `runnel`, a project
# with a .gitlab-ci.yml, and ok/not-ok helpers. Env: RUNNEL_BIN, RUNNEL_SRCDIR (meson).
RUNNEL=${RUNNEL_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/src/runnel}
SRC=${RUNNEL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
COMPL=$SRC/completions
[ -x "$RUNNEL" ] || { echo "Bail out! no runnel binary at $RUNNEL"; exit 1; }
T=$(mktemp -d /tmp/runnel-compl.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/proj" "$T/home"
ln -s "$RUNNEL" "$T/bin/runnel"
PATH=$T/bin:$PATH
export PATH
# a job name with a space and a slash (a parallel instance) checks the quoting
cat >"$T/proj/.gitlab-ci.yml" <<'YML'
build-app:
  stage: build
  script: [echo build]
unit-test:
  stage: test
  script: [echo test]
"deploy 1/2":
  stage: deploy
  script: [echo deploy]
YML
FAILED=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
done_testing() {
	[ "$FAILED" -eq 0 ] || { echo "# $FAILED failed"; exit 1; }
	exit 0
}
