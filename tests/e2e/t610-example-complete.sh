#!/bin/sh
# examples/complete (the seed's complete DinD pipeline) under `runnel run --registry
# --privileged`: build/test/integration_test/security_scan/push over TLS DinD, images in the
# local registry, `push` only on main (rules), nothing of the run left behind.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples

p=$(ex_project complete main)
sha=$(git -C "$p" rev-parse HEAD)
run_example "$p" --registry --privileged -j 3
expect_rc "complete pipeline on main" 0
for j in build test integration_test security_scan push; do expect_job "$j" success 0; done
expect "login to the local registry" "^build +\| Login Succeeded"
expect "unit tests ran in the built image" "^test +\| unit tests passed: 1"
expect "compose services answered" "^integration_test +\| integration tests passed: postgres at db answered, redis said \+PONG"
expect "after_script took compose down" "^integration_test +\| Running after script"
tags=$(registry_tags "$p" examples/complete)
for t in "$sha" cache latest main; do
	case " $tags " in *" $t "*) pass "registry has examples/complete:$t" ;;
	*) fail "registry lacks examples/complete:$t (tags: $tags)" ;; esac
done
assert_no_leftovers "(main)"

# feature branch: rules skip push
p2=$(ex_project complete feature)
run_example "$p2" --registry --privileged -j 3 build
expect_rc "build on a feature branch" 0
run_example "$p2" --registry --privileged -j 3
expect_not "push not planned on a feature branch" "^push +\|"
if [ -z "$(job_status push)" ] || [ "$(job_status push)" = skipped ]; then
	pass "push skipped on feature"; else fail "push ran on feature: $(job_status push)"; fi
assert_no_leftovers "(feature)"
test_done
