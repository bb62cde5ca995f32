#!/bin/sh
# examples/socket-binding: the host engine's socket bound into the job (--volume); the image
# is built by the host daemon. `docker push myapp` targets Docker Hub, unreachable offline
# (and not pushable without credentials on gitlab.com either): the job fails at that step.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project socket-binding)
tag=runnel-e2e-sb-$$
docker image inspect myapp:latest >/dev/null 2>&1 && docker tag myapp:latest "$tag" 2>/dev/null
run_example "$p" --volume /var/run/docker.sock:/var/run/docker.sock
expect_rc "socket-binding fails at the Docker Hub push" 1
expect_job build failed 1
expect "built by the host daemon" "^build +\| Successfully tagged myapp:latest"
if docker image inspect myapp:latest >/dev/null 2>&1; then pass "myapp:latest is in the host engine"
else fail "myapp:latest missing from the host engine"; fi
expect "push went to Docker Hub" "^build +\| The push refers to repository \[docker.io/library/myapp\]"
docker rmi myapp:latest >/dev/null 2>&1
docker image inspect "$tag" >/dev/null 2>&1 && docker tag "$tag" myapp:latest && docker rmi "$tag" >/dev/null
assert_no_leftovers
test_done
