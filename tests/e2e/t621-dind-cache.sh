#!/bin/sh
# --dind-cache keeps a DinD service's /var/lib/docker in a volume labelled runnel.dind-cache=1
# across runs (an image pulled in run 1 is present in run 2); `runnel cache clear` removes it.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(make_project dindcache <<'YML'
job:
  image: docker:24
  services:
    - docker:24-dind
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: ""
  script:
    - docker image inspect alpine:3 >/dev/null 2>&1 && echo cached-before || echo not-cached
    - docker pull -q alpine:3
YML
)
slug=$(basename "$p")
before=$(docker volume ls -q --filter label=runnel.dind-cache=1 | grep -c "$slug" || true)
run_runnel "$p" --privileged --dind-cache
expect_rc "run 1" 0
expect "run 1 starts empty" "^job +\| not-cached"
vols=$(docker volume ls -q --filter label=runnel.dind-cache=1 | grep "$slug" || true)
if [ -n "$vols" ] && [ "$before" = 0 ]; then pass "cache volume made: $vols"; else
	fail "no runnel.dind-cache volume for $slug"; fi
run_runnel "$p" --privileged --dind-cache
expect_rc "run 2" 0
expect "run 2 sees run 1's image" "^job +\| cached-before"
assert_no_leftovers
(cd "$p" && "$RUNNEL" cache clear) >"$T_TMP/clear.out" 2>&1
expect "cache clear reports the removal" "Removed [1-9][0-9]* DinD cache volume" "$T_TMP/clear.out"
left=$(docker volume ls -q --filter label=runnel.dind-cache=1 | grep "$slug" || true)
if [ -z "$left" ]; then pass "cache volumes removed"; else
	fail "cache volumes left: $left"; docker volume rm -f $left >/dev/null 2>&1; fi
test_done
