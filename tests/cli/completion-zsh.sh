#!/bin/sh
# The zsh completion (completions/_runnel) for real: an interactive zsh in a tmux pane, with
# compinit and the completions folder on fpath, in a project with a .gitlab-ci.yml; the test
# types a command line and Tab, and reads the screen (the listed choices or the completed
# line).
. "$(dirname "$0")/completion-lib.sh"
command -v zsh >/dev/null || { echo "1..0 # SKIP no zsh"; exit 77; }
command -v tmux >/dev/null || { echo "1..0 # SKIP no tmux"; exit 77; }

SOCK=$T/tmux.sock # inside $T: removed with it (tmux leaves its socket file behind)
unset TMUX # our own server, also when the tests run inside tmux
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
cat >"$T/home/.zshrc" <<EOF2
fpath=("$COMPL" \$fpath)
autoload -Uz compinit && compinit -u -d "$T/home/.zcompdump"
unsetopt BEEP
PROMPT='ready%% '
cd "$T/proj"
EOF2
tm -f /dev/null new-session -d -x 200 -y 50 \
	"env -i HOME=$T/home ZDOTDIR=$T/home TERM=xterm PATH=$PATH zsh -i"

# wait_for PATTERN: polls the screen (up to 20 s) until a line matches (grep -E)
wait_for() {
	n=0
	while [ $n -lt 100 ]; do
		tm capture-pane -p >"$T/screen" 2>/dev/null
		grep -Eq -- "$1" "$T/screen" && return 0
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}
# wait_cleared: polls until the screen is only the prompt (the last case's output is gone)
wait_cleared() {
	n=0
	while [ $n -lt 100 ]; do
		tm capture-pane -p | grep -v '^ *$' >"$T/screen" 2>/dev/null
		[ "$(cat "$T/screen")" = "ready%" ] && return 0
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}
wait_for '^ready% ?$' || { echo "Bail out! zsh did not start"; tm capture-pane -p; exit 1; }

# try DESC LINE PATTERN...: on a cleared screen, types LINE and Tab; every PATTERN must show
try() {
	desc=$1 line=$2
	shift 2
	tm send-keys C-u 'clear' Enter
	wait_cleared
	tm send-keys -l -- "$line"
	tm send-keys Tab
	bad=
	for pat in "$@"; do
		wait_for "$pat" || bad="$bad /$pat/"
	done
	if [ -z "$bad" ]; then ok "$desc"; else
		notok "$desc: not on screen:$bad"
		sed 's/^/#   /' "$T/screen" | grep -v '^# *$'
	fi
}

try "verbs with their descriptions" "runnel " \
	'^run +-- run the pipeline' '^runs +-- list the past runs' '^log +-- ' '^explain +-- ' \
	'--version'
try "a verb by prefix" "runnel expl" '^ready% runnel explain ?$'
try "run options" "runnel run --" '--concurrency +-- run at most N jobs' '--executor' \
	'--file +-- pipeline file' '--no-needs'
try "an option by prefix" "runnel log --fa" '^ready% runnel log --failed ?$'
try "job names for run" "runnel run " 'build-app' 'unit-test' 'deploy\\ 1/2'
try "a job name by prefix for explain" "runnel explain un" '^ready% runnel explain unit-test ?$'
try "a job name with a space, quoted" "runnel log dep" '^ready% runnel log deploy\\ 1/2 ?$'
try "values of --executor" "runnel run --executor sh" '^ready% runnel run --executor shell ?$'
try "jobs for --manual" "runnel run --manual bu" '^ready% runnel run --manual build-app ?$'
(cd "$T/proj" && runnel run --executor shell build-app >/dev/null 2>&1)
try "run numbers for log --run" "runnel log --run " '^ready% runnel log --run 1 ?$'
done_testing
