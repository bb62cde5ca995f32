#!/usr/bin/env bash
# check-images.sh — end-to-end checks of the stand-in images on the local engine
# (what a GitLab job with `services: [docker:24-dind]` does), cleaning up
# everything it creates. Needs setup-engine.sh, build-images.sh and
# start-registry.sh to have run.
#
#   scripts/check-images.sh [CHECK...]    default: all
#   checks: basics tls notls compose buildkit services trivy buildah kaniko
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ID=rcheck-$$
NET=$ID-net
VOL=$ID-certs
TMP=$(mktemp -d /tmp/$ID.XXXX)
pass=0 fail=0
failed=()

cleanup() {
  local c
  for c in $(docker ps -aq --filter "label=runnel-check=$ID"); do docker rm -f -v "$c" >/dev/null 2>&1 || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
  docker volume rm "$VOL" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
ko() { fail=$((fail + 1)); failed+=("$1"); printf 'FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | tail -n 25 | sed 's/^/     /'; return 0; }
check() { # NAME CMD...: run, record
  local name=$1 out; shift
  if out=$("$@" 2>&1); then ok "$name"; else ko "$name" "$out"; fi
}

run() { docker run --label "runnel-check=$ID" "$@"; }

docker network create "$NET" >/dev/null
docker volume create "$VOL" >/dev/null

# Start a dind service as the runner would (alias docker, privileged); wait for its port.
start_dind() { # NAME TLSDIR(or "") [extra dockerd args...]
  local name=$1 tls=$2; shift 2
  local port=2375; [ -n "$tls" ] && port=2376
  local vol=()
  [ -n "$tls" ] && vol=(-v "$VOL:/certs/client")
  run -d --name "$ID-$name" --privileged --network "$NET" --network-alias docker \
    -e "DOCKER_TLS_CERTDIR=$tls" "${vol[@]}" docker:24-dind "$@" >/dev/null
  for _ in $(seq 1 120); do
    if docker exec "$ID-$name" sh -c "netstat -ltn 2>/dev/null | grep -q ':$port '"; then return 0; fi
    sleep 0.5
  done
  docker logs "$ID-$name" 2>&1 | tail -20 >&2
  return 1
}
stop_dind() { docker rm -f -v "$ID-$1" >/dev/null 2>&1 || true; }

# Job container: docker:24 on the same network, the certs volume, a context dir.
job() { # [docker run args...] -- CMD
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
  run --rm --network "$NET" -v "$VOL:/certs/client" -v "$TMP:/ctx" -w /ctx \
    -e DOCKER_TLS_CERTDIR=/certs "${args[@]}" docker:24 sh -c "$*"
}

want() { [ "${#only[@]}" -eq 0 ] || [[ " ${only[*]} " == *" $1 "* ]]; }
only=("$@")

printf 'FROM alpine\nRUN echo hi\n' > "$TMP/Dockerfile"

if want basics; then
  check "busybox/alpine have no bash" run --rm alpine:latest sh -c '! command -v bash && apk add --no-cache bash >/dev/null && bash -c true'
  check "apk fails clearly for unknown packages" sh -c "! docker run --rm --label runnel-check=$ID alpine:latest apk add no-such-pkg"
  check "debian:12-slim bash + apt-get stand-in" run --rm debian:12-slim bash -c 'apt-get update && apt-get install -y curl >/dev/null && curl --version >/dev/null'
  check "node:20 npm test" run --rm node:20 sh -c 'mkdir /app && cd /app && npm init -y >/dev/null && npm pkg set scripts.test="node -e \"process.exit(0)\"" && npm ci --no-audit 2>/dev/null || npm install --no-audit >/dev/null && npm test >/dev/null'
  check "node:20-alpine node runs" run --rm node:20-alpine node -e 'console.log(process.version)'
  check "docker:24 has docker compose" run --rm docker:24 sh -c 'docker --version && docker-compose version && docker compose version'
  check "privileged container on the host engine" run --rm --privileged busybox:latest true
fi

if want tls; then
  if start_dind tls /certs; then
    check "tls: docker info (DOCKER_HOST from entrypoint)" job -- 'test "$DOCKER_HOST" = tcp://docker:2376 && docker info >/dev/null'
    check "tls: docker build FROM alpine via mirror" job -- 'docker build -t hi . && docker run --rm hi echo ran'
    check "tls: nested privileged run" job -- 'docker run --rm --privileged alpine true'
  else ko "tls: dind service did not listen on 2376"; fi
  stop_dind tls
fi

if want notls; then
  if start_dind notls ""; then
    check "notls: docker build + run on 2375" job -e DOCKER_TLS_CERTDIR= -e DOCKER_HOST=tcp://docker:2375 -- \
      'docker info >/dev/null && docker build -t hi . && docker run --rm hi echo ran'
  else ko "notls: dind service did not listen on 2375"; fi
  stop_dind notls
fi

if want compose; then
  cat > "$TMP/docker-compose.test.yml" <<'EOF'
version: '3.8'
services:
  app:
    image: postgres:15
    entrypoint: ["bash", "-c"]
    command:
      - |
        for i in $$(seq 1 60); do
          if pg_isready -h db -U test && PGPASSWORD=test psql -h db -U test -d test -tAc 'select 42' \
             && exec 3<>/dev/tcp/redis/6379 && printf 'PING\r\n' >&3 && read -r -t 2 r <&3 && [ "$${r%?}" = +PONG ]; then
            echo all-services-ok; exit 0
          fi
          sleep 1
        done
        exit 1
    depends_on: [db, redis]
  db:
    image: postgres:15
    environment:
      - POSTGRES_USER=test
      - POSTGRES_PASSWORD=test
      - POSTGRES_DB=test
  redis:
    image: redis:7
EOF
  if start_dind compose ""; then
    check "compose: postgres:15 + redis:7 inside dind" job -e DOCKER_TLS_CERTDIR= -e DOCKER_HOST=tcp://docker:2375 -- \
      'apk add --no-cache docker-compose >/dev/null && docker-compose -f docker-compose.test.yml up -d db redis && docker-compose -f docker-compose.test.yml run --rm app; rc=$?; docker-compose -f docker-compose.test.yml down -v; exit $rc'
  else ko "compose: dind service did not start"; fi
  stop_dind compose
fi

if want buildkit; then
  mkdir -p "$TMP/bk"
  printf 'FROM node:20 AS builder\nWORKDIR /app\nRUN node -e "require(\\"fs\\").writeFileSync(\\"out.txt\\",\\"built\\")"\nFROM node:20-alpine\nCOPY --from=builder /app/out.txt /out.txt\nCMD ["cat", "/out.txt"]\n' > "$TMP/bk/Dockerfile"
  if start_dind bk ""; then
    check "buildkit: DOCKER_BUILDKIT=1 multi-stage FROM node:20 / node:20-alpine" \
      job -e DOCKER_TLS_CERTDIR= -e DOCKER_HOST=tcp://docker:2375 -e DOCKER_BUILDKIT=1 -- \
      'cd bk && docker build --build-arg BUILDKIT_INLINE_CACHE=1 -t app . && docker run --rm app | grep -qx built'
  else ko "buildkit: dind service did not start"; fi
  stop_dind bk
fi

if want services; then
  run -d --name "$ID-pg" --network "$NET" --network-alias postgres -e POSTGRES_USER=u -e POSTGRES_PASSWORD=p -e POSTGRES_DB=d postgres:15 >/dev/null
  run -d --name "$ID-redis" --network "$NET" --network-alias redis redis:7 >/dev/null
  run -d --name "$ID-reg" --network "$NET" --network-alias registry registry:2 >/dev/null
  check "services: postgres:15 reachable by alias, user/db from env" \
    run --rm --network "$NET" postgres:15 bash -c 'for i in $(seq 1 60); do
        [ "$(PGPASSWORD=p psql -h postgres -U u -d d -tAc "select current_user || current_database()" 2>/dev/null)" = ud ] && exit 0
        sleep 0.5; done; exit 1'
  check "services: redis:7 reachable by alias" \
    run --rm --network "$NET" redis:7 sh -c 'for i in $(seq 1 60); do
        [ "$(redis-cli -h redis ping 2>/dev/null)" = PONG ] && exit 0; sleep 0.5; done; exit 1'
  check "services: registry:2 reachable by alias" \
    run --rm --network "$NET" alpine:latest sh -c 'for i in $(seq 1 60); do
        wget -qO- http://registry:5000/v2/ >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1'
  docker rm -f -v "$ID-pg" "$ID-redis" "$ID-reg" >/dev/null 2>&1 || true
fi

if want trivy; then
  check "trivy: --exit-code 1 clean image exits 0" run --rm aquasec/trivy:latest image --exit-code 1 --severity HIGH,CRITICAL alpine:latest
  check "trivy: simulated HIGH finding exits 1" sh -c "docker run --rm --label runnel-check=$ID -e TRIVY_STANDIN_FINDINGS=CVE-2024-0001:HIGH:openssl aquasec/trivy:latest image --exit-code 1 --severity HIGH,CRITICAL alpine:latest; test \$? = 1"
fi

if want buildah && docker image inspect quay.io/buildah/stable >/dev/null 2>&1; then
  check "buildah: bud + push to a registry (privileged)" run --rm --privileged --network "$NET" -v "$TMP:/ctx" -w /ctx \
    -e STORAGE_DRIVER=vfs -e BUILDAH_FORMAT=docker quay.io/buildah/stable sh -c '
      buildah bud -t localhost/hi . && buildah images | grep -q localhost/hi'
fi

if want kaniko && docker image inspect gcr.io/kaniko-project/executor:v1.9.0-debug >/dev/null 2>&1; then
  run -d --name "$ID-kreg" --network "$NET" --network-alias kreg registry:2 >/dev/null
  check "kaniko: executor builds and pushes (unprivileged)" run --rm --network "$NET" -v "$TMP:/ctx" \
    --entrypoint "" gcr.io/kaniko-project/executor:v1.9.0-debug /busybox/sh -c \
    '/kaniko/executor --context /ctx --dockerfile /ctx/Dockerfile --destination kreg:5000/grp/hi:1 --insecure --cache=true --cache-repo=kreg:5000/grp/cache'
  check "kaniko: pushed image is in the registry" run --rm --network "$NET" alpine:latest wget -qO- http://kreg:5000/v2/grp/hi/tags/list
  docker rm -f -v "$ID-kreg" >/dev/null 2>&1 || true
fi

echo "checks: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
