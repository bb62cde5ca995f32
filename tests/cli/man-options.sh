#!/bin/sh
# The man page lists what --help lists: for every verb of `runnel help`, the options in the
# verb's `runnel VERB --help` ("options:" and "common options:") must be exactly the option
# lines of its .SS section in runnel(1) (and of COMMON OPTIONS), short and long names alike;
# and the page has a section for every verb and none for a verb that does not exist.
# usage: man-options.sh RUNNEL MANPAGE(.in)
RUNNEL=$1
MAN=$2
[ -x "$RUNNEL" ] && [ -f "$MAN" ] || { echo "Bail out! usage: $0 RUNNEL MANPAGE"; exit 1; }
T=$(mktemp -d /tmp/runnel-man.XXXXXX)
trap 'rm -rf "$T"' EXIT
failed=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

# The option names at the start of the lines of one --help section (after the line $2,
# up to a blank line), one option a line: "-j --concurrency" or "--executor".
help_opts() { # help_opts FILE HEADER
	awk -v h="$2" '
		$0 == h { on = 1; next }
		on && /^$/ { exit }
		on {
			out = ""
			for (i = 1; i <= NF && $i ~ /^-/; i++) { sub(/,$/, "", $i); out = out (out ? " " : "") $i }
			if (out != "") print out
		}' "$1" | sort
}

# The option names of the .TP/.B tag lines between the line matching $2 and the next
# .SS or .SH, in the same form.
man_opts() { # man_opts MANPAGE REGEX
	awk -v re="$2" '
		on && /^\.S[SH] / { exit }
		$0 ~ re { on = 1; next }
		on && tp && /^\.B / {
			line = substr($0, 4)
			gsub(/\\fI[^\\]*\\fR/, "", line)
			gsub(/\\-/, "-", line)
			gsub(/,/, " ", line)
			n = split(line, w, " ")
			out = ""
			for (i = 1; i <= n; i++) if (w[i] ~ /^-/) out = out (out ? " " : "") w[i]
			if (out != "") print out
		}
		{ tp = on && /^\.TP/ }' "$1" | sort
}

compare() { # compare WHAT HELPFILE MANFILE
	if cmp -s "$2" "$3"; then ok "$1"; else
		notok "$1 (< --help, > man page)"
		diff "$2" "$3" | grep '^[<>]' | sed 's/^/#   /'
	fi
}

"$RUNNEL" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' >"$T/verbs"
[ -s "$T/verbs" ] || { echo "Bail out! no verbs in 'runnel help'"; exit 1; }
sed -n 's/^\.SS "runnel \([a-z-]*\).*/\1/p' "$MAN" | sort -u >"$T/man-verbs"
sort "$T/verbs" >"$T/help-verbs"
compare "a section for every verb and only for them" "$T/help-verbs" "$T/man-verbs"

man_opts "$MAN" '^\.SH COMMON OPTIONS' >"$T/man-common"
[ -s "$T/man-common" ] || notok "COMMON OPTIONS lists no option"
while read -r v; do
	"$RUNNEL" "$v" --help >"$T/help-$v" 2>&1 || { notok "runnel $v --help fails"; continue; }
	help_opts "$T/help-$v" "options:" >"$T/h-$v"
	man_opts "$MAN" "^\\.SS \"runnel $v( |\")" >"$T/m-$v"
	compare "$v: the options of --help and of runnel(1)" "$T/h-$v" "$T/m-$v"
	help_opts "$T/help-$v" "common options:" >"$T/hc-$v"
	compare "$v: the common options" "$T/hc-$v" "$T/man-common"
done <"$T/verbs"
[ "$failed" -eq 0 ] || { echo "# $failed failed"; exit 1; }
