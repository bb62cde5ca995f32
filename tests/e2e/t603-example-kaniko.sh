#!/bin/sh
# examples/kaniko: kaniko builds and pushes to the local registry WITHOUT --privileged.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project kaniko)
sha=$(git -C "$p" rev-parse HEAD)
run_example "$p" --registry
expect_rc "kaniko pipeline, unprivileged" 0
expect_job build success 0
expect "kaniko pushed" "^build +\| .*Pushing image to .*/examples/kaniko:$sha"
tags=$(registry_tags "$p" examples/kaniko)
case " $tags " in *" $sha "*) pass "registry has examples/kaniko:$sha" ;;
*) fail "registry lacks examples/kaniko:$sha (tags: $tags)" ;; esac
assert_no_leftovers
test_done
