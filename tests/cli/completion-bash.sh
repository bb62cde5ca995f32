#!/bin/sh
# The bash completion (completions/runnel.bash) for real: sourced into bash, its function
# called with COMP_WORDS/COMP_CWORD as readline would, in a project with a .gitlab-ci.yml.
. "$(dirname "$0")/completion-lib.sh"
command -v bash >/dev/null || { echo "1..0 # SKIP no bash"; exit 77; }

# complete WORD...: the last word is the one being completed; prints COMPREPLY, one a line
complete_words() {
	(cd "$T/proj" && bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_runnel
		printf "%s\n" "${COMPREPLY[@]}"' bash "$COMPL/runnel.bash" "$@")
}

# check DESC EXPECTED-LINES WORD...: COMPREPLY holds every expected line
check() {
	desc=$1 want=$2
	shift 2
	complete_words "$@" >"$T/got"
	missing=$(printf '%s\n' "$want" | while IFS= read -r w; do
		grep -qxF -- "$w" "$T/got" || printf '%s ' "$w"; done)
	if [ -z "$missing" ]; then ok "$desc"; else
		notok "$desc: missing $missing"
		sed 's/^/#   got: /' "$T/got"
	fi
}
# check_exact DESC EXPECTED-LINES WORD...: COMPREPLY is exactly these lines, in any order
check_exact() {
	desc=$1 want=$2
	shift 2
	complete_words "$@" | sort >"$T/got"
	printf '%s\n' "$want" | sort >"$T/want"
	if cmp -s "$T/got" "$T/want"; then ok "$desc"; else
		notok "$desc"
		diff "$T/want" "$T/got" | sed 's/^/#   /'
	fi
}

check "verbs" "run
list
lint
explain
runs
log
--version" runnel ""
check_exact "verbs by prefix" "run
runs" runnel ru
check "run options" "--concurrency
--executor
--no-needs
--file
--cwd
--help" runnel run -
check_exact "an option by prefix" "--concurrency" runnel run --conc
check_exact "log options by prefix" "--failed
--file" runnel log --f
check_exact "job names for run (quoted)" 'build-app
unit-test
deploy\ 1/2' runnel run ""
check_exact "job names by prefix for explain" "unit-test" runnel explain un
check_exact "job names for log" 'build-app
unit-test
deploy\ 1/2' runnel log ""
check_exact "job names for run --manual" "build-app" runnel run --manual bu
check_exact "values of --executor" "docker
shell" runnel run --executor ""
check_exact "values of graph --format" "dot" runnel graph --format d
check_exact "no job names for list" "" runnel list ""
# the pipeline of -C DIR, not of the current directory
mkdir -p "$T/other"
printf 'other-job:\n  script: [true]\n' >"$T/other/.gitlab-ci.yml"
check_exact "jobs of the -C directory" "other-job" runnel run -C "$T/other" ""
# run numbers for log --run, from `runnel runs`
(cd "$T/proj" && runnel run --executor shell build-app >/dev/null 2>&1)
check_exact "run numbers for log --run" "1" runnel log --run ""
done_testing
