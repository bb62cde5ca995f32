#!/bin/sh
# Runner settings for services (issue 4), named as gitlab-runner names them in
# [runners.docker]: services_limit (a job over it fails before anything starts),
# allowed_privileged_images / allowed_privileged_services (privileged only for matching
# images; the dind diagnosis names the setting), CI_DEBUG_SERVICES (service logs stream into
# the job's output as "[service:<alias>] line"), and the --timings columns `services` and
# `ready>script`.
. "$(dirname "$0")/t600-example-lib.sh"
need_examples

# ---- services_limit
p=$(make_project limit <<'YML'
job:
  image: docker:24
  services:
    - name: redis:7
      alias: one
    - name: redis:7
      alias: two
  script:
    - echo should-not-run
YML
)
printf 'services_limit: 1\n' >"$p/.runnel.yml"
run_runnel "$p"
expect_rc "a job over services_limit fails" 1
expect "the message names the limit" "^job +\| .*the job has 2 services, more than services_limit allows \(1\)"
expect_not "no service was started" "Starting service"
expect_not "the script did not run" "^job +\| should-not-run"
run_runnel "$p" --services-limit 2
expect_rc "--services-limit 2 lets it run" 0
expect "script ran" "^job +\| should-not-run"
assert_no_leftovers "(services_limit)"

# ---- allowed_privileged_images: the job container is privileged only when it matches
p=$(make_project privimg <<'YML'
docker-job:
  image: docker:24
  script:
    - grep CapEff /proc/self/status
alpine-job:
  image: alpine:latest
  script:
    - grep CapEff /proc/self/status
YML
)
printf 'allowed_privileged_images: ["docker:*"]\n' >"$p/.runnel.yml"
run_runnel "$p" --privileged
expect_rc "both jobs pass" 0
# Docker's default set is 00000000a80425fb; privileged has (nearly) all of them
expect "alpine does not match: default capabilities" "^alpine-job +\| CapEff:[[:space:]]+00000000a80425fb"
expect_not "docker:24 matches: privileged, more than the default" "^docker-job +\| CapEff:[[:space:]]+00000000a80425fb"
expect "docker:24 printed its capabilities" "^docker-job +\| CapEff:[[:space:]]+[0-9a-f]{16}"
assert_no_leftovers "(allowed_privileged_images)"

# ---- allowed_privileged_services: dind left out runs unprivileged, diagnosis names it
p=$(make_project privsvc <<'YML'
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
printf 'allowed_privileged_services: ["postgres:*"]\n' >"$p/.runnel.yml"
run_runnel "$p" --privileged --wait-for-services-timeout 10
expect_rc "dind outside allowed_privileged_services fails" 1
expect "diagnosis names allowed_privileged_services" "\*\*\* WARNING: service 'docker:24-dind' .*matches no pattern of allowed_privileged_services"
assert_no_leftovers "(allowed_privileged_services)"

# ---- CI_DEBUG_SERVICES
p=$(make_project debugsvc <<'YML'
variables:
  CI_DEBUG_SERVICES: "true"
job:
  image: docker:24
  services:
    - name: redis:7
      alias: cache
  script:
    - sleep 1
    - echo done
quiet:
  image: docker:24
  variables:
    CI_DEBUG_SERVICES: "false"
  services:
    - name: redis:7
      alias: store
  script:
    - echo quiet-done
YML
)
run_runnel "$p"
expect_rc "CI_DEBUG_SERVICES job passes" 0
expect "redis log lines prefixed with the aliases" "^job +\| \[service:redis-cache\] .*Ready to accept connections"
expect_not "no service lines without CI_DEBUG_SERVICES" "^quiet +\| \[service:"
assert_no_leftovers "(CI_DEBUG_SERVICES)"

# ---- --lenient, the reverse TLS mistake: tcp://docker:2376 against a DinD with TLS off
p=$(make_project tlsreverse <<'YML'
job:
  image: docker:24
  services:
    - docker:24-dind
  variables:
    DOCKER_HOST: tcp://docker:2376
    DOCKER_TLS_CERTDIR: ""
  script:
    - docker version --format '{{.Server.Version}}'
YML
)
run_runnel "$p" --privileged
expect_rc "2376 against a plain daemon fails" 1
expect "diagnosis says --lenient gets past it" "\*\*\* WARNING: the Docker daemon of service 'docker:24-dind' listens without TLS on tcp://docker:2375.*runnel run --lenient. gets past this by starting the service with TLS"
run_runnel "$p" --privileged --lenient
expect_rc "--lenient: TLS turned on, the job connects" 0
expect "--lenient warning with the fix" "^job +\| WARNING: --lenient: on GitLab this job cannot reach its Docker daemon: DOCKER_HOST is tcp://docker:2376 \(TLS\) but service 'docker:24-dind' starts without TLS.*Fix for GitLab: variables: \{ DOCKER_HOST: \"tcp://docker:2375\" \}"
expect "the daemon answered over TLS" "^job +\| [0-9]+\.[0-9]+"
assert_no_leftovers "(--lenient, 2376)"

# ---- --timings: services and ready>script
p=$(make_project timings <<'YML'
dind:
  image: docker:24
  services:
    - docker:24-dind
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: ""
  script:
    - docker version --format '{{.Server.Version}}'
plain:
  image: docker:24
  script:
    - echo plain
YML
)
run_runnel "$p" --privileged --timings
expect_rc "timings run passes" 0
# the columns by header name, as bench/dind/run.sh reads them
cols=$(awk '$1 == "JOB" && / total/ {for (i = 2; i <= NF; i++) h[$i] = i; next}
	h["services"] && ($1 == "dind" || $1 == "plain") {print $1, $h["services"], $h["ready>script"]}' "$OUT")
dind_svc=$(printf '%s\n' "$cols" | awk '$1 == "dind" {print $2}')
dind_rs=$(printf '%s\n' "$cols" | awk '$1 == "dind" {print $3}')
plain_svc=$(printf '%s\n' "$cols" | awk '$1 == "plain" {print $2}')
plain_rs=$(printf '%s\n' "$cols" | awk '$1 == "plain" {print $3}')
if awk -v s="$dind_svc" 'BEGIN {exit !(s > 0.1 && s < 60)}'; then pass "dind: services column $dind_svc s"
else fail "dind: services column '$dind_svc' (table: $cols)"; fi
case $dind_rs in '' | *[!0-9]*) fail "dind: ready>script '$dind_rs' is no number of ms" ;;
*) if [ "$dind_rs" -lt 30000 ]; then pass "dind: ready>script $dind_rs ms"
	else fail "dind: ready>script $dind_rs ms"; fi ;; esac
if [ "$plain_svc" = 0.000 ] && [ "$plain_rs" = - ]; then pass "plain job: services 0.000, ready>script -"
else fail "plain job: services '$plain_svc', ready>script '$plain_rs'"; fi
# aligned: every row as long as the header
w=$(awk '$1 == "JOB" && / total/ {n = length($0); on = 1; next} on && NF {if (length($0) != n) bad = 1} END {print bad ? "ragged" : "aligned"}' "$OUT")
if [ "$w" = aligned ]; then pass "timings table aligned"; else fail "timings table is ragged"; sed 's/^/#   /' "$OUT" | tail -5; fi
assert_no_leftovers "(timings)"
test_done
