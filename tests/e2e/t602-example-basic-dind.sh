#!/bin/sh
# examples/basic-dind: tcp://docker:2375, TLS off. The image is built in the DinD; the
# seed's `docker push myapp` targets Docker Hub (docker.io/library/myapp), which is not
# reachable offline (and not pushable without credentials on gitlab.com either): the job
# fails at that step, like GitLab would, with runnel's DNS diagnosis (examples/README.md).
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project basic-dind)
run_example "$p" --privileged
expect_rc "basic-dind pipeline fails at the Docker Hub push" 1
expect_job build failed 1
expect "docker info over 2375" "^build +\| +Server Version:"
expect "image built" "^build +\| Successfully tagged myapp:latest"
expect "push went to Docker Hub" "^build +\| The push refers to repository \[docker.io/library/myapp\]"
expect "diagnosis of the unresolvable name" "\*\*\* WARNING: the name 'registry-1.docker.io' does not resolve"
assert_no_leftovers
test_done
