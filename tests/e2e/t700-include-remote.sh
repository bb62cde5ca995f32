#!/bin/sh
# remote: includes over real HTTPS: a test CA made here with openssl, the include server
# (tests/servers/include-server.py) and an HTTPS proxy (tests/servers/connect-proxy.py) as
# their own processes on 127.0.0.1. No container engine needed.
#
# - a real-world corpus configuration (GNOME/librsvg, whose remote: URLs name
#   gitlab.gnome.org and gitlab.freedesktop.org) gives the same `runnel list` and `config` as
#   with --include-dir: the proxy tunnels every CONNECT to the local server, whose certificate
#   names those hosts, so nothing leaves the machine (and https_proxy is honoured)
# - no token is ever sent to a remote: URL, not even after a redirect to another host
# - the cache: used without network, a warning with its age once the TTL is over,
#   --refresh-includes, nothing cached on failure
# - integrity mismatch, 404, a certificate from an unknown CA, a hanging server, a server
#   dripping bytes, a huge answer, a redirect loop: each a configuration error at the include
#   entry naming the URL and the reason
set -u

. "$(dirname "$0")/lib-include.sh"

mkdir -p www/127.0.0.1/ci www/localhost/ci
cp -r "$SRC/tests/fixtures/real-includes/GNOME__librsvg/remote/." www/
printf 'remote-job:\n  script: echo one\n' >www/127.0.0.1/ci/a.yml
printf 'other-host-job:\n  script: echo other\n' >www/localhost/ci/a.yml
start_server srv --root "$T/www" --vhosts --cert "$T/srv.pem" --key "$T/srv.key"
start_server rogue --root "$T/www" --vhosts --cert "$T/rogue.pem" --key "$T/rogue.key"
P=$(cat srv.port)
RP=$(cat rogue.port)
python3 "$SRC/tests/servers/connect-proxy.py" --to "$P" --port-file "$T/proxy.port" \
	--log "$T/proxy.log" 2>"$T/proxy.stderr" &
proxy_pid=$!
PIDS="$PIDS $proxy_pid"
PROXY=http://127.0.0.1:$(wait_port "$T/proxy.port")

# ---- the corpus configuration: network = --include-dir ----
corpus_copy GNOME__librsvg rsvg
if [ -f rsvg/.gitlab-ci.yml ]; then
	repo rsvg
	full=$SRC/tests/fixtures/real-includes/GNOME__librsvg
	mkdir -p partial
	# the project/component stand-ins only: the remote: files come from the network
	cp -r "$full/project" "$full/component" partial/
	V="--variable CI_SERVER_FQDN=gitlab.com"
	for verb in list config; do
		r rsvg "$verb" --include-dir "$full" $V
		cp "$T/out" "$T/want-$verb"
		[ $RC = 0 ] || fail "corpus $verb with --include-dir"
		r https_proxy=$PROXY rsvg "$verb" --include-dir "$T/partial" $V
		check "corpus $verb over the network = with --include-dir" \
			cmp -s "$T/out" "$T/want-$verb"
		check "corpus $verb: no warning or error" test ! -s "$T/err" -a $RC = 0
	done
	check "the proxy was asked for gitlab.gnome.org" \
		has '"CONNECT gitlab.gnome.org:443 HTTP/1.1"' proxy.log
	check "the proxy was asked for gitlab.freedesktop.org" \
		has '"CONNECT gitlab.freedesktop.org:443 HTTP/1.1"' proxy.log
	check "the server got the pinned file path" \
		has '/Infrastructure/freedesktop-ci-templates/-/raw/a4eb2bbf65c482f024cae7ee178b8fe0cfef0537/templates/opensuse.yml' srv.log
	# the cache is fresh: the same answer with the proxy gone, and no warning
	kill "$proxy_pid"
	wait "$proxy_pid" 2>/dev/null
	n_before=$(wc -l <srv.log)
	r https_proxy=$PROXY rsvg list --include-dir "$T/partial" $V
	check "corpus from the cache without network" cmp -s "$T/out" "$T/want-list"
	check "a fresh cache asks nobody" test "$(wc -l <srv.log)" = "$n_before" -a ! -s "$T/err"
	# older than the TTL: fetched again, which fails, so the cache serves with a warning
	find "$T/cache" -type f -exec touch -d '3 hours ago' {} +
	r https_proxy=$PROXY rsvg list --include-dir "$T/partial" $V
	check "stale cache without network: same jobs" cmp -s "$T/out" "$T/want-list"
	check "stale cache: one warning per include naming its age" \
		test "$(grep -c 'served from the cache, fetched 3 hours ago' "$T/err")" = 2
	check "stale cache: the warning points at the include entry" \
		has 'ci/container_builds.yml:5:5: warning: remote include' "$T/err"
	check "stale cache: exit 0" test $RC = 0
else
	say "# corpus GNOME__librsvg not found: corpus cases skipped"
fi

# ---- a small project on 127.0.0.1 ----
mkdir -p p
inc() { # inc PATH [EXTRA-YAML]: the project includes https://127.0.0.1:$P/PATH
	printf 'include:\n  - remote: https://127.0.0.1:%s/%s\n%slocal-job:\n  script: x\n' \
		"$P" "$1" "${2:-}" >p/.gitlab-ci.yml
}
inc ci/a.yml
repo p
r p list
check "remote: over https" has remote-job "$T/out"
check "remote: exit 0, nothing on stderr" test $RC = 0 -a ! -s "$T/err"
check "cached per host and port" test -d "$T/cache/runnel/includes/remote/127.0.0.1_$P"

# https_proxy is used for 127.0.0.1 too, unless no_proxy names it
python3 "$SRC/tests/servers/connect-proxy.py" --to "$P" --port-file "$T/proxy2.port" \
	--log "$T/proxy2.log" 2>"$T/proxy2.stderr" &
PIDS="$PIDS $!"
PROXY2=http://127.0.0.1:$(wait_port "$T/proxy2.port")
r "https_proxy=$PROXY2" p list --refresh-includes
check "https_proxy: fetched through the proxy" has "\"CONNECT 127.0.0.1:$P HTTP/1.1\"" proxy2.log
r "https_proxy=$PROXY2" no_proxy=127.0.0.1 p list --refresh-includes
check "no_proxy: fetched directly" test "$(grep -c CONNECT proxy2.log)" = 1 -a $RC = 0

# within the TTL the cache answers; --refresh-includes fetches again
printf 'remote-job-v2:\n  script: echo two\n' >www/127.0.0.1/ci/a.yml
r p list
check "within the TTL: the cached copy" has remote-job "$T/out"
r p list --refresh-includes
check "--refresh-includes: the new copy" has remote-job-v2 "$T/out"
r p list
check "the refreshed copy is cached" has remote-job-v2 "$T/out"

# one level's remote includes are fetched at the same time: the server answers them only
# once both are open together
printf 'barrier-a:\n  script: x\n' >www/127.0.0.1/ci/ba.yml
printf 'barrier-b:\n  script: x\n' >www/127.0.0.1/ci/bb.yml
printf 'include:\n  - remote: https://127.0.0.1:%s/barrier/2/ci/ba.yml\n  - https://127.0.0.1:%s/barrier/2/ci/bb.yml\n' \
	"$P" "$P" >p/.gitlab-ci.yml
r p list
check "one level's includes are fetched concurrently" has barrier-b "$T/out"
check "concurrent fetches keep the include order" \
	test "$(sed -n 2p "$T/out" | cut -d' ' -f1)" = barrier-a

# a fetched file is checked like a local one: the alias bomb stops at the node budget
cp "$SRC/tests/fixtures/lint/robust-alias-bomb/.gitlab-ci.yml" www/127.0.0.1/ci/bomb.yml
inc ci/bomb.yml
r p list
check "alias bomb: exit 3" test $RC = 3
check "alias bomb: the error points into the fetched file under its URL" \
	has "https://127.0.0.1:$P/ci/bomb.yml:6:36: error: the parsed YAML is too big" "$T/err"

# fails: rc 3, message at the include entry naming the URL and why, nothing cached
n_cached() { find "$T/cache" -type f | wc -l; }
expect_error() { # expect_error DESC TEXT
	check "$1: exit 3" test $RC = 3
	check "$1: the message" has "$2" "$T/err"
	check "$1: at the include entry with a caret" \
		has ".gitlab-ci.yml:2:13: error: Remote file \`" "$T/err"
	check "$1: nothing cached" test "$(n_cached)" = "$cached"
}
cached=$(n_cached)

good=$(openssl dgst -sha256 -binary www/127.0.0.1/ci/a.yml | openssl base64 -A)
inc ci/a.yml "    integrity: sha256-$good
"
r p list --refresh-includes
check "integrity that matches" has remote-job-v2 "$T/out"
cached=$(n_cached)
inc ci/a.yml "    integrity: sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
"
r p list
expect_error "integrity mismatch" "failed integrity check! (expected sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=, got sha256-$good)"

inc ci/missing.yml
r p list
expect_error "404" "Remote file \`https://127.0.0.1:$P/ci/missing.yml\` could not be fetched because of HTTP code \`404\` error!"

inc status/401
r p list
expect_error "401" "because of HTTP code \`401\` error!"

printf 'include:\n  - remote: https://127.0.0.1:%s/ci/a.yml\n' "$RP" >p/.gitlab-ci.yml
r p list
expect_error "certificate from an unknown CA" "could not be fetched because of HTTP error! (SSL certificate problem"

inc ci/a.yml
r SSL_CERT_FILE= "CURL_CA_BUNDLE=$T/ca.pem" p list --refresh-includes
check "CURL_CA_BUNDLE names the CA store" has remote-job-v2 "$T/out"
r SSL_CERT_FILE= p list --refresh-includes
check "the system store does not know the test CA" has "SSL certificate problem" "$T/err"

export RUNNEL_INCLUDE_TIMEOUT=2
inc hang
r p list
expect_error "hanging server" "could not be fetched because of a timeout error!"
inc drip
r p list
expect_error "server dripping bytes" "could not be fetched because of a timeout error!"
unset RUNNEL_INCLUDE_TIMEOUT

inc huge
r p list
expect_error "huge answer" "(the answer is over 1048576 bytes)"

inc loop
r p list
expect_error "redirect loop" "(more than 5 redirects)"

inc redirect/3/ci/a.yml
r p list
check "3 redirects are followed" has remote-job-v2 "$T/out"

inc "to?url=https://localhost:$P/ci/a.yml"
r p list
check "a redirect to another host is followed" has other-host-job "$T/out"

inc ci/a.yml
kill "$srv_pid"
wait "$srv_pid" 2>/dev/null
cached=$(n_cached)
inc ci/never-fetched.yml
r p list
expect_error "server down, nothing cached" "could not be fetched because of a socket error! (Failed to connect to 127.0.0.1 port $P"

# no credential of any kind reached the servers or the proxy
for log in srv.log rogue.log proxy.log proxy2.log; do
	[ -f "$log" ] || continue
	check "$log: no token" hasnt secret-token "$log"
	check "$log: no Authorization header" hasnt '"Authorization"' "$log"
	check "$log: no PRIVATE-TOKEN or JOB-TOKEN header" sh -c "! grep -Eiq '\"(private|job)-token\"' $log"
done
check "the other host got a request" has '"Host": "localhost:' srv.log

say "1..$N"
[ "$T_FAILED" = 0 ]
