#!/bin/sh
# examples/tls-dind: DOCKER_HOST tcp://docker:2376 with the certificates of /certs/client;
# `docker info` and the build succeed over TLS, the service log shows the TLS listener.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project tls-dind)
run_example "$p" --privileged
expect_rc "tls-dind pipeline" 0
expect_job build success 0
expect "docker info answered over TLS" "^build +\| +Server Version:"
expect "image built" "^build +\| Successfully tagged myapp:latest"
svc_log=$(ls "$p"/.runnel/logs/build-service-*.log 2>/dev/null | head -1)
if [ -n "$svc_log" ] && grep -q "2376" "$svc_log" && grep -Eqi "tls" "$svc_log"; then
	pass "service log shows dockerd on 2376 with TLS"
else fail "service log without TLS on 2376 (${svc_log:-no log})"; fi
assert_no_leftovers
test_done
