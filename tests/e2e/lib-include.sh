#!/bin/sh
# Shared by the network-include tests (t700-include-remote.sh, t701-include-project.sh): a
# test CA and certificates made with openssl, the test servers (tests/servers/) as their own
# processes on 127.0.0.1, TAP helpers, and `r` to run runnel. Sourced, never run alone (its
# name does not match the t[0-9]*.sh pattern meson registers).


RUNNEL=${RUNNEL_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/src/runnel}
SRC=${RUNNEL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T_FAILED=0
N=0

say() { printf '%s\n' "$*"; }
for tool in python3 openssl git; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		say "1..0 # SKIP $tool not installed"
		exit 77
	fi
done
[ -x "$RUNNEL" ] || { say "Bail out! no runnel binary at $RUNNEL"; exit 1; }

T=$(mktemp -d "/tmp/runnel-$(basename "$0" .sh).XXXXXX")
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE # a reader that goes away (| head) still gets the cleanup

pass() { N=$((N + 1)); say "ok $N - $1"; }
fail() {
	N=$((N + 1))
	T_FAILED=$((T_FAILED + 1))
	say "not ok $N - $1"
	[ -f "$T/out" ] && sed 's/^/#   out: /' "$T/out"
	[ -f "$T/err" ] && sed 's/^/#   err: /' "$T/err"
}
check() { # check DESC COMMAND...: passes when the command succeeds
	desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}
has() { grep -Fq -- "$1" "$2"; }
hasnt() { ! grep -Fq -- "$1" "$2"; }

# ---- the test CA and certificates ----
cd "$T" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
	-subj /CN=runnel-t700-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:gitlab.gnome.org,DNS:gitlab.freedesktop.org,DNS:gitlab.com\n' \
	>san.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
	-extfile san.cnf 2>/dev/null
# a certificate for the right name, from a CA nobody trusts
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
[ -s srv.pem ] && [ -s rogue.pem ] || { say "Bail out! openssl could not make certificates"; exit 1; }

# wait_port FILE: the server writes its port once it listens (readiness, not a time limit)
wait_port() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ] || { say "Bail out! a test server did not start"; exit 1; }
	cat "$1"
}

# start_server NAME ARGS...: include-server.py with its own port file and request log
start_server() {
	name=$1
	shift
	python3 "$SRC/tests/servers/include-server.py" --port-file "$T/$name.port" \
		--log "$T/$name.log" "$@" 2>"$T/$name.stderr" &
	PIDS="$PIDS $!"
	eval "${name}_pid=$!"
	wait_port "$T/$name.port" >/dev/null
}

unset no_proxy NO_PROXY http_proxy HTTPS_PROXY ALL_PROXY all_proxy CURL_CA_BUNDLE SSL_CERT_DIR \
	RUNNEL_INCLUDE_TIMEOUT 2>/dev/null
export XDG_CACHE_HOME="$T/cache" SSL_CERT_FILE="$T/ca.pem" NO_COLOR=1
# tokens in the environment must never reach a remote: URL
export GITLAB_TOKEN=glpat-t700-secret-token CI_JOB_TOKEN=t700-job-secret-token
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# no glab login of the machine's user is read
export GLAB_CONFIG_DIR="$T/no-glab"

# r [VAR=VALUE...] DIR ARGS...: runnel in DIR with those variables set (values without
# spaces); stdout in $T/out, stderr in $T/err, status in $RC
r() {
	envs=
	while :; do
		case $1 in
		*=*) envs="$envs $1" && shift ;;
		*) break ;;
		esac
	done
	dir=$1
	shift
	# shellcheck disable=SC2086 # envs are words on purpose
	(cd "$dir" && env $envs "$RUNNEL" "$@") >"$T/out" 2>"$T/err"
	RC=$?
}

repo() { # repo DIR: a committed git repository of what DIR holds
	(cd "$1" && git init -q && git add -A &&
		git -c user.email=t@e.st -c user.name=t commit -qm init) >/dev/null 2>&1
}

# corpus_copy NAME DEST: a real-world corpus project (shared/corpus/real/NAME) copied to DEST.
corpus_copy() {
	cp -r "/work/shared/corpus/real/$1" "$2" 2>/dev/null ||
		cp -r "$SRC/../shared/corpus/real/$1" "$2" 2>/dev/null
}

# component_standins FIXTURE DEST: the gitlab.com components of a real-includes fixture
# (FIXTURE/component/gitlab.com/PATH@VERSION) laid out as the include server serves a
# project's files at a ref: DEST/PATH/VERSION/...
component_standins() {
	for d in "$1"/component/gitlab.com/*/*/*@* "$1"/component/gitlab.com/*/*@*; do
		[ -d "$d" ] || continue
		rel=${d#"$1"/component/gitlab.com/}
		mkdir -p "$2/${rel%@*}/${rel##*@}"
		cp -r "$d/." "$2/${rel%@*}/${rel##*@}/"
	done
}
