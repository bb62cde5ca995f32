#!/bin/sh
# runnel runner register / verify / unregister / list against the coordinator test server
# (tests/servers/gitlab-coordinator.py, its own process on 127.0.0.1), over HTTP and over HTTPS
# with a test CA made here by openssl: the config.toml written and rewritten, the system_id
# kept beside it, the requests the server checked, and no token ever printed. No container
# engine needed. Skips (77) without python3 or openssl.
SRC=${RUNNEL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNNEL=${RUNNEL_BIN:-$SRC/build/src/runnel}
SERVER=$SRC/tests/servers/gitlab-coordinator.py
T_FAILED=0
say() { printf '%s\n' "$*"; }
fail() { say "not ok - $*"; T_FAILED=$((T_FAILED + 1)); }
pass() { say "ok - $*"; }
for tool in python3 openssl; do
	command -v $tool >/dev/null 2>&1 || { say "1..0 # SKIP $tool not found"; exit 77; }
done
[ -x "$RUNNEL" ] || { say "Bail out! no runnel binary at $RUNNEL"; exit 1; }
T=$(mktemp -d /tmp/runnel-t800.XXXXXX)
SRV_PID=
stop_server() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null; SRV_PID=; }
trap 'stop_server; rm -rf "$T"' EXIT

TOKEN=glrt-t800-secret-0123456789
REG=GR1348941t800registration

# start_server DIR [ARGS...]: the server with its state in DIR; sets URL_PORT.
start_server() {
	dir=$1
	shift
	mkdir -p "$dir"
	python3 "$SERVER" --state-dir "$dir" --runner-token "$TOKEN" --registration-token "$REG" \
		--long-poll 1 "$@" >"$dir/server.log" 2>&1 &
	SRV_PID=$!
	i=0
	while [ ! -s "$dir/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$dir/port" ] || { say "Bail out! the coordinator did not start"; cat "$dir/server.log"; exit 1; }
	URL_PORT=$(cat "$dir/port")
}

# control SCHEME WHAT [CAFILE]: POST (or GET for state) to the control API; prints the answer.
control() {
	python3 - "$1" "$2" "${3:-}" <<'EOF'
import json, ssl, sys, urllib.request
scheme_url, what, ca = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca) if ca else None
method = "GET" if what == "state" else "POST"
req = urllib.request.Request(scheme_url + "/_control/" + what, method=method, data=None if method == "GET" else b"")
print(urllib.request.urlopen(req, context=ctx).read().decode())
EOF
}

# r OUTFILE ARGS...: runs runnel runner ARGS; status in $RC.
r() {
	out=$1
	shift
	"$RUNNEL" runner "$@" >"$out" 2>&1
	RC=$?
}
expect() { # expect DESC PATTERN FILE
	if grep -Eq -- "$2" "$3"; then pass "$1"; else fail "$1 (no /$2/ in $3)"; sed 's/^/#   /' "$3"; fi
}
expect_rc() { # expect_rc DESC WANT OUTFILE
	if [ "$RC" -eq "$2" ]; then pass "$1 (exit $2)"; else fail "$1: exit $RC, want $2"; sed 's/^/#   /' "$3"; fi
}
no_secret() { # no_secret DESC FILE SECRET...
	d=$1 f=$2
	shift 2
	for s in "$@"; do
		if grep -qF -- "$s" "$f"; then fail "$d: a token in the output"; sed 's/^/#   /' "$f"; return; fi
	done
	pass "$d: no token in the output"
}
py_json() { # py_json FILE EXPR: evaluates EXPR on the JSON in FILE (as j)
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- over HTTP ----
start_server "$T/srv"
URL=http://127.0.0.1:$URL_PORT
CFG=$T/etc/config.toml

r "$T/o1" register --url "$URL" --token "$TOKEN" --name host-a -c "$CFG" --docker-image alpine:3
expect_rc "register with a runner token" 0 "$T/o1"
expect "register says where it wrote" "Runner 'host-a' registered \\(id 100\\) in $CFG" "$T/o1"
no_secret "register" "$T/o1" "$TOKEN"
expect "the config holds the runner" '^  token = "glrt-t800-secret-0123456789"$' "$CFG"
expect "with its GitLab id" '^  id = 100$' "$CFG"
expect "and when the token was obtained (a TOML date-time)" '^  token_obtained_at = [0-9]{4}-[0-9]{2}-[0-9]{2}T' "$CFG"
expect "and the docker image" '^    image = "alpine:3"$' "$CFG"
expect "the global keys gitlab-runner writes" '^concurrent = 1$' "$CFG"
mode=$(stat -c %a "$CFG")
[ "$mode" = 600 ] && pass "config.toml is 0600" || fail "config.toml mode $mode, want 600"
sid=$(cat "$T/etc/.runner_system_id")
if printf '%s' "$sid" | grep -Eq '^[sr]_[0-9A-Za-z]{12}$'; then pass "system_id kept beside the config ($sid)"; else fail "system_id '$sid'"; fi
if [ -s /etc/machine-id ]; then
	case $sid in s_*) pass "system_id derived from the machine id" ;; *) fail "system_id $sid is not s_" ;; esac
fi

r "$T/o2" register --url "$URL" --registration-token "$REG" --name host-b -c "$CFG" \
	--executor shell --tag-list "docker, linux" --locked=false --access-level ref_protected \
	--maximum-timeout 3600
expect_rc "legacy register" 0 "$T/o2"
no_secret "legacy register" "$T/o2" "$REG"
control "$URL" state >"$T/state.json"
[ "$(py_json "$T/state.json" '[v["tags"] for v in j["runners"].values() if v.get("description") == "host-b"][0]')" = "['docker', 'linux']" ] &&
	pass "the tags reached the server" || fail "tags: $(cat "$T/state.json")"
[ "$(py_json "$T/state.json" '[(v["locked"], v["run_untagged"], v["access_level"], v["maximum_timeout"]) for v in j["runners"].values() if v.get("description") == "host-b"][0]')" = "(False, False, 'ref_protected', 3600)" ] &&
	pass "locked=false, no untagged jobs with tags, access level and timeout sent" || fail "flags: $(cat "$T/state.json")"
[ "$(py_json "$T/state.json" '[v["system_ids"] for v in j["runners"].values() if v.get("description") == "host-b"][0]')" = "['$sid']" ] &&
	pass "the system_id sent with the registration" || fail "system_ids: $(cat "$T/state.json")"
NEWTOK=$(py_json "$T/state.json" '[k for k, v in j["runners"].items() if v.get("description") == "host-b"][0]')
expect "the first runner kept" 'name = "host-a"' "$CFG"
expect "the new one added" 'name = "host-b"' "$CFG"

r "$T/o3" list -c "$CFG"
expect_rc "list" 0 "$T/o3"
expect "list shows the runners" '^host-a +Executor=docker Token=glrt-t800-sec URL=http' "$T/o3"
expect "list shows the second" '^host-b +Executor=shell' "$T/o3"
no_secret "list" "$T/o3" "$TOKEN" "$NEWTOK"

r "$T/o4" verify -c "$CFG"
expect_rc "verify" 0 "$T/o4"
expect "verify checks both" "host-b.*is valid" "$T/o4"

control "$URL" "revoke?token=$TOKEN" >/dev/null
r "$T/o5" verify -c "$CFG"
expect_rc "verify with a revoked token" 3 "$T/o5"
expect "names the runner GitLab refused" "Verifying runner 'host-a' .*is removed" "$T/o5"
expect "with GitLab's answer and the URL" "POST $URL/api/v4/runners/verify: HTTP 403" "$T/o5"
no_secret "verify" "$T/o5" "$TOKEN" "$NEWTOK"
r "$T/o6" verify --delete -c "$CFG"
expect_rc "verify --delete" 0 "$T/o6"
if grep -q 'host-a' "$CFG"; then fail "verify --delete left the refused runner"; else pass "verify --delete removed the refused runner"; fi
expect "and kept the valid one" 'name = "host-b"' "$CFG"

r "$T/o7" register --url "$URL" --token glrt-not-known -c "$CFG"
expect_rc "register with an unknown token" 3 "$T/o7"
expect "says the token is invalid" "runners/verify: HTTP 403.*token is invalid" "$T/o7"

r "$T/o8" unregister --name host-b -c "$CFG"
expect_rc "unregister --name" 0 "$T/o8"
control "$URL" state >"$T/state2.json"
[ "$(py_json "$T/state2.json" "'$NEWTOK' in j['runners']")" = False ] &&
	pass "the legacy runner deleted on the server" || fail "still on the server"
if grep -q '^\[\[runners\]\]' "$CFG"; then fail "unregister left the runner in the config"; else pass "unregister removed it from the config"; fi
r "$T/o9" unregister --name nobody -c "$CFG"
expect_rc "unregister of an unknown name" 3 "$T/o9"

# unregister --all-runners with a glrt- token: this host stops being a manager of it
control "$URL" "add-runner?token=glrt-t800-two" >/dev/null
r "$T/o10" register --url "$URL" --token glrt-t800-two --name m1 -c "$CFG"
r "$T/o11" unregister --all-runners -c "$CFG"
expect_rc "unregister --all-runners" 0 "$T/o11"
control "$URL" state >"$T/state3.json"
[ "$(py_json "$T/state3.json" "j['runners']['glrt-t800-two']['system_ids']")" = "[]" ] &&
	pass "a created runner loses this host as a manager (DELETE /runners/managers)" ||
	fail "managers: $(cat "$T/state3.json")"

# a config.toml with keys runnel does not support: one warning naming them all
cat >"$T/unsupported.toml" <<EOF
concurrent = 2
listen_address = ":9252"
[[runners]]
  name = "x"
  url = "$URL"
  token = "$TOKEN"
  executor = "docker"
  clone_url = "https://mirror"
  [runners.docker]
    tls_verify = false
    network_mtu = 1400
EOF
r "$T/o12" list -c "$T/unsupported.toml"
expect_rc "list with unsupported keys" 0 "$T/o12"
expect "one warning names every unsupported key" "warning: .*unsupported.toml: keys runnel does not support \\(ignored\\): listen_address, runners\\[0\\]\\.clone_url, runners\\[0\\]\\.docker\\.network_mtu$" "$T/o12"
[ "$(grep -c warning "$T/o12")" = 1 ] && pass "a single warning" || fail "several warnings"

# malformed TOML: file:line:col with the key
printf 'concurrent = 2\n[[runners]]\n  name = "x\n' >"$T/bad.toml"
r "$T/o13" list -c "$T/bad.toml"
expect_rc "a malformed config" 3 "$T/o13"
expect "the error points at the line and column, with the key" "bad.toml:3:[0-9]+: error: key 'name': unterminated string" "$T/o13"
printf 'concurrent = "many"\n' >"$T/bad2.toml"
r "$T/o14" list -c "$T/bad2.toml"
expect "a type error points at the value" "bad2.toml:1:14: error: 'concurrent' must be an integer" "$T/o14"
r "$T/o15" list -c "$T/none.toml"
expect_rc "a missing config" 4 "$T/o15"

control "$URL" state >"$T/state4.json"
[ "$(py_json "$T/state4.json" 'j["problems"]')" = "[]" ] && pass "the server found nothing wrong in any request" ||
	fail "server problems: $(py_json "$T/state4.json" 'j["problems"]')"
grep -q '"runner-token"' "$T/srv/requests.log" && pass "RUNNER-TOKEN header sent" || fail "no RUNNER-TOKEN header"
stop_server

# ---- over HTTPS with a test CA ----
P=$T/pki
mkdir -p "$P"
(
	cd "$P" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=runnel-test-ca &&
		openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext.cnf &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf
) >"$P/log" 2>&1 || { say "Bail out! openssl failed"; cat "$P/log"; exit 1; }
start_server "$T/srv-tls" --tls-cert "$P/srv.pem" --tls-key "$P/srv.key"
URL=https://127.0.0.1:$URL_PORT
CFG2=$T/etc2/config.toml
r "$T/t1" register --url "$URL" --token "$TOKEN" --name tls -c "$CFG2"
expect_rc "HTTPS register without the CA" 4 "$T/t1"
expect "names the URL and the certificate problem" "POST $URL/api/v4/runners/verify: .*(certificate|SSL)" "$T/t1"
r "$T/t2" register --url "$URL" --token "$TOKEN" --name tls -c "$CFG2" --tls-ca-file "$P/ca.pem"
expect_rc "HTTPS register with --tls-ca-file" 0 "$T/t2"
expect "the CA kept in the config" "^  tls-ca-file = \"$P/ca.pem\"$" "$CFG2"
r "$T/t3" verify -c "$CFG2"
expect_rc "HTTPS verify uses the config's tls-ca-file" 0 "$T/t3"
r "$T/t4" unregister --name tls -c "$CFG2"
expect_rc "HTTPS unregister" 0 "$T/t4"
control "$URL" state "$P/ca.pem" >"$T/state5.json"
[ "$(py_json "$T/state5.json" 'j["problems"]')" = "[]" ] && pass "no problem over HTTPS" ||
	fail "server problems: $(cat "$T/state5.json")"
stop_server

[ "$T_FAILED" -eq 0 ] || { say "# $T_FAILED failed"; exit 1; }
exit 0
