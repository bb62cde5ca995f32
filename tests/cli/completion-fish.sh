#!/bin/sh
# The fish completion (completions/runnel.fish) for real: sourced into fish, which completes
# command lines with `complete -C` as it would on Tab, in a project with a .gitlab-ci.yml.
. "$(dirname "$0")/completion-lib.sh"
command -v fish >/dev/null || { echo "1..0 # SKIP no fish"; exit 77; }

# check DESC LINE EXPECTED: the candidates (without descriptions) are exactly EXPECTED
check() {
	(cd "$T/proj" && HOME=$T/home fish --no-config -c \
		'source $argv[1]; complete -C"$argv[2]"' "$COMPL/runnel.fish" "$2") |
		cut -f1 | sort >"$T/got"
	printf '%s\n' "$3" | sort >"$T/want"
	if cmp -s "$T/got" "$T/want"; then ok "$1"; else
		notok "$1"
		diff "$T/want" "$T/got" | sed 's/^/#   /'
	fi
}
check "verbs by prefix" "runnel ru" "run
runs"
check "an option by prefix" "runnel run --conc" "--concurrency"
check "log options" "runnel log --fa" "--failed"
check "job names for run" "runnel run " "build-app
unit-test
deploy 1/2"
check "job names by prefix for explain" "runnel explain un" "unit-test"
check "values of --executor" "runnel run --executor " "docker
shell"
check "jobs for --manual" "runnel run --manual bu" "build-app"
done_testing
