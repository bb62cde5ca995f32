#!/bin/sh
# examples/compose: docker-compose in DinD brings up app + postgres + redis; the seed runs
# `npm test` inside the app container and prints the services' logs.
#
# Every check waits for what it asserts or reads what the job itself ordered. What a service
# writes to its log on its own schedule (postgres' "ready to accept connections") may come
# after the job's `docker-compose logs` ran, so it is never asserted; that the services answer
# is asserted by a second run in which the app's integration test polls them (test:integration
# retries for 30 s) and says what they answered.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples

p=$(ex_project compose)
run_example "$p" --registry --privileged
expect_rc "compose pipeline" 0
expect_job integration_test success 0
expect "tests ran in the compose app" "^integration_test +\| unit tests passed: 1"
for svc in db redis app; do
	expect "compose created $svc" "Creating compose_${svc}_1 +\.\.\. done"
done
expect "compose logs attached to the app" "Attaching to .*compose_app_1"
expect "compose logs read db and redis" "Attaching to (.*compose_(db|redis)_1){2}"
expect "compose down in after_script" "Removing network compose_default"
assert_no_leftovers

# The same stack, the app's integration test instead of the unit test: it retries until
# PostgreSQL accepts a connection and Redis answers PING.
p=$(ex_project compose integration)
sed -i 's/exec -T app npm test$/exec -T app npm run test:integration/' "$p/.gitlab-ci.yml"
grep -q 'npm run test:integration' "$p/.gitlab-ci.yml" || fail "the integration variant was not made"
(cd "$p" && git -c user.email=t@e.st -c user.name=t commit -qam "integration variant")
run_example "$p" --registry --privileged
expect_rc "compose integration pipeline" 0
expect_job integration_test success 0
expect "postgres and redis answered the app" \
	"^integration_test +\| integration tests passed: postgres at db answered, redis said \+PONG"
assert_no_leftovers
test_done
