#!/bin/sh
# examples/parallel-builds: three jobs from one template (extends), run in parallel, each
# pushes its image to the local registry.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples
p=$(ex_project parallel-builds)
sha=$(git -C "$p" rev-parse HEAD)
run_example "$p" --registry --privileged -j 3
expect_rc "parallel-builds pipeline" 0
for s in api worker frontend; do
	expect_job "build_$s" success 0
	tags=$(registry_tags "$p" "examples/parallel-builds/$s")
	case " $tags " in *" $sha "*) pass "registry has parallel-builds/$s:$sha" ;;
	*) fail "registry lacks parallel-builds/$s:$sha (tags: $tags)" ;; esac
done
assert_no_leftovers
test_done
