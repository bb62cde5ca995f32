#!/usr/bin/env bash
# test.sh — build and test runnel (the README's test command).
#
#  1. build/       meson setup -Dwerror=true; meson compile; meson test --print-errorlogs
#  2. build-asan/  the same with -Db_sanitize=address,undefined (unit suites:
#                  -De2e=false when that option exists), UBSAN halt_on_error=1
#  3. CI only (CI=true) or RUNNEL_FUZZ=1: build-fuzz/ with clang and
#     -Dfuzzers=true; every fuzzer executable built there runs for
#     RUNNEL_FUZZ_SECONDS (60) seconds; a crash fails. Skipped when the meson
#     option `fuzzers` does not exist or no fuzzer was built.
#
# Prints one closing line "N passed, N failed, N skipped" counted from meson's
# build*/meson-logs/testlog.json (plus one result per fuzzer) and exits non-zero
# when anything failed, including a setup or build step.
#
# Environment: RUNNEL_NO_SETUP=1 (skip step 0), RUNNEL_TEST_ARGS (extra `meson test` args, e.g. "--suite unit"),
# RUNNEL_SKIP_ASAN=1, RUNNEL_FUZZ=0/1, RUNNEL_FUZZ_SECONDS.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# 0. the machine: packages, Docker engine, gitlab-ci-local, stand-in images, mirror registry (idempotent; a few seconds
#    when already done), so this one command works on a fresh Debian 12 machine.
if [ "${RUNNEL_NO_SETUP:-0}" != 1 ]; then
  for step in setup-engine setup-gcl build-images start-registry; do
    printf '\n=== %s\n' "$step"
    if ! bash "scripts/$step.sh"; then
      echo "test.sh: scripts/$step.sh failed"
      echo "0 passed, 1 failed"
      exit 1
    fi
  done
  bash scripts/check-tools.sh setup-engine setup-gcl || { echo "test.sh: scripts/check-tools.sh failed"; echo "0 passed, 1 failed"; exit 1; }
fi

passed=0 failed=0 skipped=0
problems=()

note() { printf '\n=== %s\n' "$*"; }
problem() { problems+=("$1"); failed=$((failed + 1)); printf 'test.sh: FAILED: %s\n' "$1" >&2; }

has_option() { # meson option declared in meson_options.txt / meson.options
  grep -hqE "option\\(\\s*'$1'" meson_options.txt meson.options 2>/dev/null
}

count_log() { # BUILD_DIR: add the results of its testlog.json to the totals
  local log=$1/meson-logs/testlog.json p f s
  [ -s "$log" ] || return 0
  read -r p f s < <(jq -rs '[ .[] | select(type == "object" and has("result")) | .result ] as $r
      | [ ($r | map(select(. == "OK" or . == "EXPECTEDFAIL")) | length),
          ($r | map(select(. == "FAIL" or . == "UNEXPECTEDPASS" or . == "TIMEOUT" or . == "ERROR")) | length),
          ($r | map(select(. == "SKIP")) | length) ] | @tsv' "$log")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  printf 'test.sh: %s: %s passed, %s failed, %s skipped\n' "$1" "$p" "$f" "$s"
}

# configure (if needed), compile, test one build directory
run_build() { # DIR MESON_SETUP_ARGS... -- MESON_TEST_ARGS...
  local dir=$1; shift
  local setup=() targs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  targs=("$@")
  if [ ! -f "$dir/build.ninja" ]; then
    note "meson setup $dir ${setup[*]}"
    rm -rf "$dir"
    if ! meson setup "$dir" "${setup[@]}"; then problem "meson setup $dir"; return 1; fi
  fi
  note "meson compile -C $dir"
  if ! meson compile -C "$dir"; then problem "meson compile -C $dir"; return 1; fi
  note "meson test -C $dir ${targs[*]}"
  rm -f "$dir/meson-logs/testlog.json"
  local rc=0
  meson test -C "$dir" --print-errorlogs "${targs[@]}" || rc=$?
  count_log "$dir"
  # a non-zero exit without failed tests in the log (e.g. no such suite) is
  # only a problem if the log is missing
  if [ "$rc" -ne 0 ] && [ ! -s "$dir/meson-logs/testlog.json" ]; then
    problem "meson test -C $dir exited $rc without a test log"
  fi
  return 0
}

# shellcheck disable=SC2206
extra=(${RUNNEL_TEST_ARGS:-})

# 1. regular build
run_build build -Dwerror=true -- "${extra[@]}"

# 2. ASan + UBSan build, unit suites
if [ "${RUNNEL_SKIP_ASAN:-0}" != 1 ]; then
  asan_setup=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false)
  has_option e2e && asan_setup+=(-De2e=false)
  has_option fuzzers && asan_setup+=(-Dfuzzers=false)
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
  run_build build-asan "${asan_setup[@]}" -- "${extra[@]}"
fi

# 3. fuzzers (CI)
fuzz=${RUNNEL_FUZZ:-}
[ -z "$fuzz" ] && { [ "${CI:-}" = true ] && fuzz=1 || fuzz=0; }
if [ "$fuzz" = 1 ]; then
  if ! has_option fuzzers; then
    note "fuzzers: meson option 'fuzzers' not defined; skipped"
  elif ! command -v clang >/dev/null; then
    note "fuzzers: clang not installed; skipped"
  else
    dir=build-fuzz
    if [ ! -f "$dir/build.ninja" ]; then
      note "meson setup $dir (clang, -Dfuzzers=true)"
      rm -rf "$dir"
      fsetup=(-Dfuzzers=true -Dwerror=true -Db_lundef=false -Db_sanitize=address,undefined)
      has_option tests && fsetup+=(-Dtests=false)
      has_option e2e && fsetup+=(-De2e=false)
      CC=clang CXX=clang++ meson setup "$dir" "${fsetup[@]}" || problem "meson setup $dir"
    fi
    if [ -f "$dir/build.ninja" ]; then
      note "meson compile -C $dir"
      if meson compile -C "$dir"; then
        # libFuzzer binaries only (they carry the driver's flag names)
        mapfile -t fuzzers < <(find "$dir" -path "$dir/meson-*" -prune -o -type f -executable \
                                 \( -path '*/fuzz/*' -o -name 'fuzz*' \) -print | sort \
                               | while read -r f; do grep -aqs -- 'max_total_time' "$f" && echo "$f"; done)
        [ "${#fuzzers[@]}" -gt 0 ] || note "fuzzers: none built; skipped"
        secs=${RUNNEL_FUZZ_SECONDS:-60}
        for f in "${fuzzers[@]}"; do
          name=$(basename "$f")
          # a seed corpus in tests/fuzz/corpus/<name> (read-only input) if present
          work=$(mktemp -d "/tmp/runnel-fuzz-$name.XXXX")
          seeds=()
          for c in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}" "tests/fuzz/corpus/${name#fuzz-}" "tests/fuzz/$name.corpus"; do
            [ -d "$c" ] && seeds+=("$c")
          done
          note "fuzz $name for ${secs}s"
          if ( cd "$work" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                 "$ROOT/$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/" \
                 "$work" "${seeds[@]/#/$ROOT/}" ) > "$work.log" 2>&1; then
            passed=$((passed + 1))
            grep -E 'INFO: seed corpus|^Done [0-9]+ runs' "$work.log" | tail -n 2
          else
            tail -n 60 "$work.log"
            artifacts=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' \
                          -o -name 'timeout-*' -o -name 'oom-*' \) | head -n 5)
            if [ -n "$artifacts" ]; then
              mkdir -p "$ROOT/build-fuzz/artifacts"
              cp $artifacts "$ROOT/build-fuzz/artifacts/" 2>/dev/null || true
              echo "test.sh: crash inputs kept in build-fuzz/artifacts/"
            fi
            problem "fuzzer $name"
          fi
          rm -rf "$work" "$work.log"
        done
      else
        problem "meson compile -C $dir"
      fi
    fi
  fi
fi

if [ "${#problems[@]}" -gt 0 ]; then
  printf '\ntest.sh: problems:\n'; printf '  %s\n' "${problems[@]}"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
