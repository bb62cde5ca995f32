#!/bin/sh
# examples/build-push: build logs in and pushes $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA; deploy runs
# only on main (rules). The seed's deploy pulls and pushes without `docker login` (its own
# DinD has no credentials), so it fails like on GitLab with "no basic auth credentials".
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project build-push main)
sha=$(git -C "$p" rev-parse HEAD)
run_example "$p" --registry --privileged
expect_job build success 0
tags=$(registry_tags "$p" examples/build-push)
case " $tags " in *" $sha "*) pass "registry has examples/build-push:$sha" ;;
*) fail "registry lacks examples/build-push:$sha (tags: $tags)" ;; esac
expect_job deploy failed 1
expect "deploy ran on main, without credentials" "^deploy +\| .*no basic auth credentials"
assert_no_leftovers "(main)"

p2=$(ex_project build-push feature)
run_example "$p2" --registry --privileged
expect_rc "feature branch: deploy is not part of the pipeline" 0
expect_job build success 0
expect_not "no deploy on a feature branch" "^deploy +\|"
assert_no_leftovers "(feature)"
test_done
