#!/bin/sh
# `meson install` puts runnel, runnel(1) and the three completions where man and the shells
# look (under the prefix), and what it installs works: the page renders with every section,
# bash registers the completion function, zsh's file is a #compdef, fish loads its file.
# usage: install.sh BUILDDIR PREFIX
BUILD=$1 PREFIX=$2
command -v meson >/dev/null || { echo "1..0 # SKIP no meson on PATH"; exit 77; }
T=$(mktemp -d /tmp/runnel-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
failed=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
if ! meson install -C "$BUILD" --no-rebuild --quiet --destdir "$T" >"$T/log" 2>&1; then
	echo "Bail out! meson install failed"
	sed 's/^/#   /' "$T/log"
	exit 1
fi
R=$T$PREFIX
for f in bin/runnel share/man/man1/runnel.1 share/bash-completion/completions/runnel \
	share/zsh/site-functions/_runnel share/fish/vendor_completions.d/runnel.fish; do
	[ -f "$R/$f" ] && ok "installed $f" || notok "no $f under $PREFIX"
done
if command -v man >/dev/null; then
	MANWIDTH=100 man -l "$R/share/man/man1/runnel.1" 2>"$T/man.err" >"$T/man.txt"
	for s in NAME SYNOPSIS COMMANDS "COMMON OPTIONS" SETTINGS FILES "EXIT STATUS"; do
		grep -q "^$s" "$T/man.txt" || notok "runnel(1) has no $s section"
	done
	grep -Eq "runnel [0-9]+\.[0-9]+\.[0-9]+" "$T/man.txt" && ok "runnel(1) renders, with the version" ||
		notok "runnel(1) shows no version"
	[ -s "$T/man.err" ] && { notok "man warns"; sed 's/^/#   /' "$T/man.err"; }
fi
if command -v bash >/dev/null; then
	out=$(bash --norc -c '. "$1" && complete -p runnel' bash "$R/share/bash-completion/completions/runnel")
	[ "$out" = "complete -F _runnel runnel" ] && ok "bash registers _runnel" || notok "bash: $out"
fi
head -1 "$R/share/zsh/site-functions/_runnel" | grep -qx '#compdef runnel' && ok "zsh: #compdef runnel" ||
	notok "zsh file does not start with #compdef runnel"
if command -v fish >/dev/null; then
	fish --no-config -c "source '$R/share/fish/vendor_completions.d/runnel.fish'" 2>"$T/fish.err" &&
		[ ! -s "$T/fish.err" ] && ok "fish loads its completions" ||
		{ notok "fish cannot load its completions"; sed 's/^/#   /' "$T/fish.err"; }
fi
[ "$failed" -eq 0 ] || { echo "# $failed failed"; exit 1; }
