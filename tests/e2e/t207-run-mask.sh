#!/bin/sh
# A masked variable's value never appears in the live output nor in any log file, even when
# printed in pieces of one line; it still reaches the job unmasked.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
snapshot_objects

SECRET=s3cr3t-Value-0123456789
p=$(make_project mask <<'YML'
leak:
  image: runnel-test/sh:latest
  script:
    - echo "token is $MY_SECRET"
    - printf '%s' "$MY_SECRET" | wc -c
    - printf 'prefix-%s-suffix\n' "$MY_SECRET" >&2
    - '[ "$MY_SECRET" = "s3cr3t-Value-0123456789" ] && echo unmasked-inside'
YML
)
cat >"$T_TMP/vars.yml" <<EOF2
MY_SECRET:
  value: $SECRET
  masked: true
EOF2
run_runnel "$p" --variables-file "$T_TMP/vars.yml" --log-dir "$T_TMP/logs"
expect_rc "job passes" 0
expect "value masked in output" "token is \[MASKED\]"
expect "value masked on stderr" "prefix-\[MASKED\]-suffix"
expect "the job sees the real value" "unmasked-inside"
expect_not "secret absent from the output" "$SECRET"
found=$(grep -rl -- "$SECRET" "$T_TMP/logs" "$p/.runnel" 2>/dev/null)
[ -z "$found" ] && pass "secret absent from every log file" || fail "secret in $found"
assert_no_leftovers
test_done
