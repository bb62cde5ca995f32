#!/bin/sh
# examples/registry-cache: the seed sets DOCKER_HOST tcp://docker:2375 but leaves docker:24-dind's
# default DOCKER_TLS_CERTDIR=/certs, so the daemon listens with TLS on 2376 only: the job
# fails as on GitLab, and runnel says why and how to fix it (examples/README.md).
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project registry-cache)
run_example "$p" --registry --privileged
expect_rc "registry-cache fails on the TLS mismatch" 1
expect_job build failed 1
expect "docker login fell back to the client side (daemon unreachable)" "server gave HTTP response to HTTPS client"
assert_no_leftovers
test_done
