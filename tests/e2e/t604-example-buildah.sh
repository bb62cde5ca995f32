#!/bin/sh
# examples/buildah: buildah bud + push (vfs) with the least privilege that suffices,
# --security-opt seccomp=unconfined (examples/README.md), to the local registry.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project buildah)
sha=$(git -C "$p" rev-parse HEAD)
run_example "$p" --registry --security-opt seccomp=unconfined
expect_rc "buildah pipeline" 0
expect_job build success 0
tags=$(registry_tags "$p" examples/buildah)
case " $tags " in *" $sha "*) pass "registry has examples/buildah:$sha" ;;
*) fail "registry lacks examples/buildah:$sha (tags: $tags)" ;; esac
assert_no_leftovers
test_done
