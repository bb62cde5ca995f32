#!/bin/sh
# runnel run, Docker executor: artifacts out of a job's container and into the next job
# (paths, directories, globs, exclude, symlinks, modes, read-only directories), the
# "no matching files" warning, masking of secrets in live output and log files, JUnit counts
# and coverage in the JSON report.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

p=$(make_project artifacts <<'YML'
image: runnel-test/sh:latest
stages: [build, test]
variables:
  OUTDIR: out
build:
  stage: build
  script:
    - mkdir -p out/sub/deep out/ro logs
    - echo app >out/app && chmod 751 out/app
    - echo deep >out/sub/deep/file.txt
    - echo tmp >out/sub/scratch.o
    - ln -s app out/link
    - echo frozen >out/ro/file && chmod 555 out/ro
    - echo log >logs/build.log
    - echo "secret is $SECRET and token glpat-abcdefghijklmnopqrst"
    - printf '<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>' >junit.xml
    - "echo 'Total coverage: 81.5%'"
  coverage: '/Total coverage: \d+\.\d+%/'
  artifacts:
    paths:
      - $OUTDIR/
      - "**/*.log"
      - does-not-exist/
    exclude:
      - "**/*.o"
    reports:
      junit: junit.xml
test:
  stage: test
  script:
    - ls out/app out/sub/deep/file.txt out/link out/ro/file logs/build.log
    - test ! -e out/sub/scratch.o && echo excluded-ok
    - test -L out/link && echo symlink-ok
    - ls -ld out/ro | grep -q '^dr-xr-xr-x' && echo ro-dir-ok
    - ls -l out/app | grep -q '^-rwxr-x--x' && echo mode-ok
    - cat out/ro/file
YML
)
cat >"$T_TMP/vars.yml" <<'EOF'
SECRET:
  value: s3cr3t-V4lue-xyz
  masked: true
EOF
run_runnel "$p" --variables-file "$T_TMP/vars.yml" --report "$T_TMP/report.json"
expect_rc "pipeline with artifacts" 0
expect "warning for a path matching nothing" "does-not-exist: no matching files"
expect "excluded file not passed on" "^test +\| excluded-ok"
expect "symlink kept" "^test +\| symlink-ok"
expect "read-only directory kept" "^test +\| ro-dir-ok"
expect "file mode kept" "^test +\| mode-ok"
expect "content of a read-only dir" "^test +\| frozen"
expect "glpat token redacted" "glpat-\[MASKED\]"
expect_not "glpat token never shown" "glpat-abcdefghijklmnopqrst"
expect "masked variable hidden on the terminal" "secret is \[MASKED\]"
expect_not "masked value never shown" "s3cr3t-V4lue-xyz"
expect_not "masked value never in the log file" "s3cr3t-V4lue-xyz" "$p/.runnel/logs/build.log"
a=$p/.runnel/artifacts/build
[ -f "$a/out/sub/deep/file.txt" ] && [ -f "$a/logs/build.log" ] && [ ! -e "$a/out/sub/scratch.o" ] &&
	pass "artifacts stored on the host" || fail "artifacts on the host: $(cd "$a" 2>/dev/null && find .)"
if [ -f "$T_TMP/report.json" ]; then
	expect "junit counts in the JSON report" '"tests": 2' "$T_TMP/report.json"
	expect "junit failures in the JSON report" '"failures": 1' "$T_TMP/report.json"
	expect "coverage in the JSON report" '"coverage": 81.5' "$T_TMP/report.json"
else
	fail "no JSON report written"
fi
assert_no_leftovers
test_done
