#!/bin/sh
# examples/multi-stage: the seed sets DOCKER_HOST tcp://docker:2375 but leaves docker:24-dind's
# default DOCKER_TLS_CERTDIR=/certs, so the daemon listens with TLS on 2376 only: the job
# fails as on GitLab, and runnel says why and how to fix it (examples/README.md).
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project multi-stage)
run_example "$p" --registry --privileged
expect_rc "multi-stage fails on the TLS mismatch" 1
expect_job build failed 1
expect "diagnosis of the TLS mismatch" "\*\*\* WARNING: the Docker daemon of service 'docker:24-dind' listens with TLS on tcp://docker:2376, not on port 2375"
assert_no_leftovers
test_done
