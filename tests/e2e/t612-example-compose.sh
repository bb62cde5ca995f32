#!/bin/sh
# examples/compose: docker-compose in DinD brings up app + postgres + redis; the integration
# the seed runs `npm test` inside the app container and prints the services' logs.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project compose)
run_example "$p" --registry --privileged
expect_rc "compose pipeline" 0
expect_job integration_test success 0
expect "tests ran in the compose app" "^integration_test +\| unit tests passed: 1"
expect "app listened" "app_1 +\|.* myapp listening on 3000"
expect "postgres accepted connections" "db_1 +\|.*database system is ready to accept connections"
expect "redis was ready" "redis_1 +\|.*Ready to accept connections"
expect "compose down in after_script" "Removing network compose_default"
assert_no_leftovers
test_done
