#!/bin/sh
# examples/registry-cache: the seed sets DOCKER_HOST tcp://docker:2375 but leaves docker:24-dind's
# default DOCKER_TLS_CERTDIR=/certs, so the daemon listens with TLS on 2376 only: the job
# fails as on GitLab (its `docker login` falls back to the client and fails first), and runnel
# says why and that --lenient gets past it. With --lenient the DinD starts without TLS; the
# job logs in itself, so there is no login warning; both tags land in the registry, and a
# second run builds from the pushed cache.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project registry-cache)
sha=$(git -C "$p" rev-parse HEAD)
run_example "$p" --registry --privileged
expect_rc "registry-cache fails on the TLS mismatch" 1
expect_job build failed 1
expect "docker login fell back to the client side (daemon unreachable)" "server gave HTTP response to HTTPS client"
expect "diagnosis: the TLS mismatch behind the failed login, and --lenient" "^build +\| \*\*\* WARNING: the Docker daemon of service 'docker:24-dind' listens with TLS on tcp://docker:2376, not on port 2375.*runnel run --lenient. gets past this"
assert_no_leftovers

run_example "$p" --registry --privileged --lenient
expect_rc "--lenient: registry-cache passes" 0
expect_job build success 0
expect "--lenient TLS warning" "^build +\| WARNING: --lenient: on GitLab this job cannot reach its Docker daemon: DOCKER_HOST is tcp://docker:2375"
expect_not "the job logs in itself: no login warning" "no basic auth credentials"
tags=$(registry_tags "$p" examples/registry-cache)
case " $tags " in *" $sha "*) pass "registry has $sha" ;; *) fail "registry tags '$tags', want $sha" ;; esac
case " $tags " in *" cache "*) pass "registry has cache" ;; *) fail "registry tags '$tags', want cache" ;; esac
assert_no_leftovers "(--lenient)"

# runnel registry ls: the same through runnel's own listing
(cd "$p" && "$RUNNEL" registry ls) >"$T_TMP/ls.out" 2>&1
RC=$?
OUT=$T_TMP/ls.out
expect_rc "registry ls" 0
expect "registry ls: the repository with its commit tag" "^examples/registry-cache( [^ ]+)* $sha( |\$)"
expect "registry ls: and the cache tag" "^examples/registry-cache( [^ ]+)* cache( |\$)"
assert_no_leftovers "(registry ls)"
e=$(make_project noregistry </dev/null)
(cd "$e" && "$RUNNEL" registry ls) >"$T_TMP/ls2.out" 2>&1
RC=$?
OUT=$T_TMP/ls2.out
expect_rc "registry ls without a registry" 0
expect "registry ls says there is none yet" "^No registry for this project yet"
test_done
