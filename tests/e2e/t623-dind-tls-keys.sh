#!/bin/sh
# TLS DinD private keys kept between runs (src/exec/dindkeys.h): the first TLS DinD's keys are
# copied into ${XDG_CACHE_HOME}/runnel/dind-tls (0600), and the next TLS DinD starts with them
# (its entrypoint only signs new certificates), so the job's client key is the cached one while
# TLS still verifies end to end.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
XDG_CACHE_HOME=$T_TMP/cache
export XDG_CACHE_HOME
keys=$XDG_CACHE_HOME/runnel/dind-tls
p=$(make_project dindkeys <<'YML'
job:
  image: docker:24
  services:
    - docker:24-dind
  variables:
    DOCKER_HOST: tcp://docker:2376
    DOCKER_TLS_CERTDIR: /certs
    DOCKER_TLS_VERIFY: "1"
    DOCKER_CERT_PATH: /certs/client
  script:
    - docker version --format 'server={{.Server.Version}}'
    - echo "client-key=$(sha256sum /certs/client/key.pem | cut -c1-64)"
YML
)
run_runnel "$p" --privileged
expect_rc "run 1" 0
expect "run 1 talks TLS to the daemon" "^job +\| server=[0-9]"
for k in ca client server; do
	f=$keys/$k-key.pem
	if [ -s "$f" ] && [ "$(stat -c %a "$f")" = 600 ]; then pass "$k key kept (0600)"; else
		fail "$k key not kept in $keys"; ls -la "$keys" 2>&1 | sed 's/^/#   /'; fi
done
[ "$(stat -c %a "$keys")" = 700 ] && pass "key folder is 0700" || fail "key folder mode $(stat -c %a "$keys")"
first=$(sed -n 's/^job *| client-key=//p' "$OUT")
cached=$(sha256sum "$keys/client-key.pem" | cut -c1-64)
[ "$first" = "$cached" ] && pass "the kept client key is run 1's" || fail "run 1 key $first, kept $cached"

run_runnel "$p" --privileged
expect_rc "run 2" 0
expect "run 2 talks TLS to the daemon" "^job +\| server=[0-9]"
second=$(sed -n 's/^job *| client-key=//p' "$OUT")
[ "$second" = "$cached" ] && pass "run 2's service started with the kept keys" ||
	fail "run 2 client key $second, kept $cached"
assert_no_leftovers
(cd "$p" && "$RUNNEL" cache clear) >"$T_TMP/clear.out" 2>&1
expect "cache clear names the key folder" "Removed $keys" "$T_TMP/clear.out"
[ ! -e "$keys" ] && pass "cache clear removed the kept keys" || fail "keys left in $keys"
test_done
