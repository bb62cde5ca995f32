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
expect "diagnosis: Docker Hub is not there offline, whatever the options" \
	"\*\*\* WARNING: the name 'registry-1.docker.io' does not resolve in the job: an image name without a registry host means Docker Hub \(docker.io\), which runnel cannot reach offline.*--lenient included"
assert_no_leftovers

# --lenient does not invent a Docker Hub: the push still fails, with the same diagnosis
run_example "$p" --privileged --lenient
expect_rc "--lenient: the Docker Hub push still fails" 1
expect_job build failed 1
expect "--lenient: same Docker Hub diagnosis" "\*\*\* WARNING: the name 'registry-1.docker.io' does not resolve in the job: an image name without a registry host means Docker Hub"
expect_not "--lenient: nothing to accommodate here" "WARNING: --lenient"
assert_no_leftovers "(--lenient)"
test_done
