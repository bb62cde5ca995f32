#!/bin/sh
# examples/multi-stage: the seed sets DOCKER_HOST tcp://docker:2375 but leaves docker:24-dind's
# default DOCKER_TLS_CERTDIR=/certs, so the daemon listens with TLS on 2376 only: the job
# fails as on GitLab, and runnel says why, how to fix it and that --lenient gets past it
# (examples/README.md). With --lenient the DinD starts without TLS and the job's Docker client
# is logged in (the seed pushes without `docker login`): one warning each, image pushed.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project multi-stage)
sha=$(git -C "$p" rev-parse HEAD)
run_example "$p" --registry --privileged
expect_rc "multi-stage fails on the TLS mismatch" 1
expect_job build failed 1
expect "diagnosis of the TLS mismatch" "\*\*\* WARNING: the Docker daemon of service 'docker:24-dind' listens with TLS on tcp://docker:2376, not on port 2375"
expect "the diagnosis mentions --lenient" "\*\*\* WARNING: the Docker daemon .*runnel run --lenient. gets past this by starting the service without TLS"
assert_no_leftovers

run_example "$p" --registry --privileged --lenient
expect_rc "--lenient: multi-stage passes" 0
expect_job build success 0
expect "--lenient TLS warning with the YAML fix" \
	"^build +\| WARNING: --lenient: on GitLab this job cannot reach its Docker daemon: DOCKER_HOST is tcp://docker:2375 \(no TLS\) but service 'docker:24-dind' starts with TLS .*Fix for GitLab: variables: \{ DOCKER_TLS_CERTDIR: \"\" \}"
expect "--lenient login warning" "^build +\| WARNING: --lenient: on GitLab this job fails with \"no basic auth credentials\""
expect "production stage built" "^build +\| .*\[production"
tags=$(registry_tags "$p" examples/multi-stage)
case " $tags " in *" $sha "*) pass "registry has examples/multi-stage:$sha" ;;
*) fail "registry lacks examples/multi-stage:$sha (tags: $tags)" ;; esac
assert_no_leftovers "(--lenient)"
test_done
