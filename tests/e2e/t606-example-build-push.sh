#!/bin/sh
# examples/build-push: build logs in and pushes $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA; deploy runs
# only on main (rules). The seed's deploy pulls and pushes without `docker login` (its own
# DinD has no credentials), so it fails like on GitLab with "no basic auth credentials" and
# the diagnosis names the fix and --lenient. With --lenient runnel logs deploy's Docker client
# in beforehand (one warning with the YAML fix) and the registry gets `latest` too.
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
expect "diagnosis: docker login missing, --lenient gets past it" \
	"^deploy +\| \*\*\* WARNING: the registry refused the job's Docker client: it pushes or pulls without .docker login.*runnel run --registry --lenient. gets past this"
expect_not "no lenient warning without --lenient" "WARNING: --lenient"
assert_no_leftovers "(main)"

# --lenient: deploy gets the login GitLab would need in before_script
run_example "$p" --registry --privileged --lenient
expect_rc "--lenient: the pipeline passes" 0
expect_job build success 0
expect_job deploy success 0
expect "--lenient warning names the failure and the fix" \
	"^deploy +\| WARNING: --lenient: on GitLab this job fails with \"no basic auth credentials\": it pushes or pulls [0-9.:]+ without .docker login.* before_script: \[ 'echo \"\\\$CI_REGISTRY_PASSWORD\" \| docker login"
expect_not "build logs in itself: no warning for it" "^build +\| WARNING: --lenient"
tags=$(registry_tags "$p" examples/build-push)
for t in "$sha" latest; do
	case " $tags " in *" $t "*) pass "--lenient: registry has $t" ;;
	*) fail "--lenient: registry tags '$tags', want $t" ;; esac
done
assert_no_leftovers "(main, --lenient)"

p2=$(ex_project build-push feature)
run_example "$p2" --registry --privileged
expect_rc "feature branch: deploy is not part of the pipeline" 0
expect_job build success 0
expect_not "no deploy on a feature branch" "^deploy +\|"
assert_no_leftovers "(feature)"
test_done
