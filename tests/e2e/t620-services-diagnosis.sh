#!/bin/sh
# Services wired into `runnel run`: a service that never becomes ready (warning, the job goes
# on), DinD without --privileged (diagnosis says how to turn it on), a TLS mismatch (2375
# against a TLS daemon), a DNS name that does not resolve; services are removed every time.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples

p=$(make_project notready <<'YML'
job:
  image: docker:24
  services:
    - name: docker:24
      alias: silent
      command: ["sleep", "600"]
  script:
    - echo job-went-on
YML
)
run_runnel "$p" --wait-for-services-timeout 3
expect_rc "a service that never listens does not fail the job" 0
expect "warning block for the service" "^job +\| \*\*\* WARNING: Service runnel-.*-svc-0 probably didn't start properly"
expect "job continued" "^job +\| job-went-on"
assert_no_leftovers "(not ready)"

p=$(make_project unpriv <<'YML'
job:
  image: docker:24
  services:
    - docker:24-dind
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: ""
  script:
    - docker info
YML
)
run_runnel "$p" --wait-for-services-timeout 10
expect_rc "dind without privileged fails" 1
expect "diagnosis: privileged" "\*\*\* WARNING: .*privileged"
expect "diagnosis says how" "\-\-privileged|privileged = true|privileged: true"
assert_no_leftovers "(unprivileged dind)"

p=$(make_project tlsmismatch <<'YML'
job:
  image: docker:24
  services:
    - docker:24-dind
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: "/certs"
  script:
    - docker info
YML
)
run_runnel "$p" --privileged
expect_rc "2375 against a TLS daemon fails" 1
expect "diagnosis: TLS mismatch" "\*\*\* WARNING: .*(2376|TLS)"
assert_no_leftovers "(TLS mismatch)"

p=$(make_project nodns <<'YML'
job:
  image: docker:24
  services:
    - name: redis:7
      alias: cache
  variables:
    DOCKER_HOST: tcp://dockerd-nowhere:2375
  script:
    - docker info
YML
)
run_runnel "$p"
expect_rc "an unresolvable DOCKER_HOST fails" 1
expect "diagnosis: name does not resolve" "\*\*\* WARNING: .*dockerd-nowhere.*(resolve|alias)"
assert_no_leftovers "(DNS)"
test_done
