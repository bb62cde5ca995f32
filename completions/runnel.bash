# bash completion for runnel(1): the verbs, each verb's options and their values, and the job
# names of the pipeline of the current directory (for run, explain, shell, log and --manual).
# Verbs and options are read from `runnel help` and `runnel VERB --help` of the binary being
# completed, so they never drift from it; job names from `runnel list --json` (parsed here:
# jq may not be installed). Needs nothing from the bash-completion package.

_runnel_verbs() {
	"$1" help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

# One line per option of verb $2: its name, then the name of its argument if it takes one.
_runnel_options() {
	"$1" "$2" --help 2>/dev/null | awk '/^ +-/ {
		n = 0
		for (i = 1; i <= NF && $i ~ /^-/; i++) { sub(/,$/, "", $i); name[++n] = $i }
		arg = (i <= NF && $i ~ /^[A-Z][A-Z0-9_:=.|\[\]-]*$/) ? $i : ""
		for (k = 1; k <= n; k++) print name[k], arg
	}'
}

# The job names, one a line; $1 is runnel, the rest the -C/-f words of the command line.
# `list --json` prints each job object's "name" first, at an indent of four.
_runnel_jobs() {
	local cmd=$1
	shift
	"$cmd" list --json "$@" 2>/dev/null |
		sed -n 's/^    "name": "\(.*\)",\{0,1\}$/\1/p' | sed 's/\\"/"/g; s/\\\\/\\/g'
}

# The run numbers of `runnel runs`.
_runnel_runs() {
	local cmd=$1
	shift
	"$cmd" runs "$@" 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# Sets COMPREPLY to the lines of stdin that start with $1, quoted for the command line.
_runnel_reply_lines() {
	local cur=$1 line q
	COMPREPLY=()
	while IFS= read -r line; do
		[[ -n $line && $line == "$cur"* ]] || continue
		printf -v q '%q' "$line"
		COMPREPLY+=("$q")
	done
}

_runnel() {
	local cmd=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev= verb=${COMP_WORDS[1]} i
	local -a ctx=()
	((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	if ((COMP_CWORD == 1)); then
		_runnel_reply_lines "$cur" < <(_runnel_verbs "$cmd"; printf '%s\n' --help --version)
		return 0
	fi
	# the pipeline the user is pointing at: -C and -f as typed so far
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-C | --cwd | -f | --file) ctx+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
		esac
	done
	local arg
	arg=$(_runnel_options "$cmd" "$verb" | awk -v o="$prev" '$1 == o { print $2; exit }')
	if [[ -n $prev && $prev == -* && -n $arg ]]; then
		case $prev:$arg in
		*:DIR) COMPREPLY=($(compgen -d -- "$cur")) ;;
		*:FILE) COMPREPLY=($(compgen -f -- "$cur")) ;;
		--executor:*) COMPREPLY=($(compgen -W "docker shell" -- "$cur")) ;;
		--format:*) COMPREPLY=($(compgen -W "mermaid dot" -- "$cur")) ;;
		--pull-policy:*) COMPREPLY=($(compgen -W "always if-not-present never" -- "$cur")) ;;
		--source:*)
			COMPREPLY=($(compgen -W "push web trigger schedule api external pipeline chat
				webide merge_request_event external_pull_request_event parent_pipeline" \
				-- "$cur"))
			;;
		--manual:*) _runnel_reply_lines "$cur" < <(_runnel_jobs "$cmd" "${ctx[@]}") ;;
		--run:* | -r:*) _runnel_reply_lines "$cur" < <(_runnel_runs "$cmd" "${ctx[@]}") ;;
		*) COMPREPLY=() ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		_runnel_reply_lines "$cur" < <(_runnel_options "$cmd" "$verb" | awk '{ print $1 }')
		return 0
	fi
	case $verb in
	run | explain | shell | log) _runnel_reply_lines "$cur" < <(_runnel_jobs "$cmd" "${ctx[@]}") ;;
	cache) COMPREPLY=($(compgen -W "clear" -- "$cur")) ;;
	registry) COMPREPLY=($(compgen -W "ls" -- "$cur")) ;;
	*) COMPREPLY=() ;;
	esac
	return 0
}
complete -F _runnel runnel
