#!/usr/bin/env bash
# start-registry.sh — run (idempotently) the mirror registry that stands in for
# Docker Hub on this offline machine, and push the stand-in images into it
# under their Docker Hub names.
#
#  * container `runnel-mirror` from registry:2 (label runnel.infra=1, restart
#    unless-stopped), port 5000 published on all host interfaces, data in the
#    named volume runnel-mirror-data;
#  * every stand-in tag whose image id differs from what was last pushed is
#    pushed as 127.0.0.1:5000/library/<name>:<tag> (or <org>/<name>:<tag>);
#    the push log is /var/lib/runnel-images/mirror-pushed.
#
# Consumers:
#  * the docker:24-dind stand-in passes --registry-mirror=http://<gateway>:5000
#    (+ --insecure-registry) to its dockerd: a container's default gateway is
#    the host side of its bridge network, where the published port answers, so
#    `FROM node:20` / `docker pull alpine` inside DinD pull from here;
#  * the host dockerd (scripts/setup-engine.sh) has registry-mirrors
#    http://127.0.0.1:5000, so `docker pull alpine` on the host works too.
#
# Usage: scripts/start-registry.sh [--no-push]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=runnel-mirror
PORT=${RUNNEL_MIRROR_PORT:-5000}
STATE=/var/lib/runnel-images
push=1
[ "${1:-}" = --no-push ] && push=0

log() { printf 'start-registry: %s\n' "$*" >&2; }

docker image inspect registry:2 >/dev/null 2>&1 || {
  log "registry:2 missing: run scripts/build-images.sh first"; exit 1; }

running=$(docker inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null || true)
want_image=$(docker image inspect --format '{{.Id}}' registry:2)
have_image=$(docker inspect --format '{{.Image}}' "$NAME" 2>/dev/null || true)
if [ -n "$have_image" ] && [ "$have_image" != "$want_image" ]; then
  log "registry:2 was rebuilt; recreating $NAME (data volume kept)"
  docker rm -f "$NAME" >/dev/null
  running=""
fi
if [ "$running" = false ]; then
  docker start "$NAME" >/dev/null
elif [ -z "$running" ]; then
  docker run -d --name "$NAME" --label runnel.infra=1 --restart unless-stopped \
    -p "0.0.0.0:$PORT:5000" -v runnel-mirror-data:/var/lib/registry \
    -e REGISTRY_STORAGE_DELETE_ENABLED=true registry:2 >/dev/null
fi
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null || {
  log "mirror not answering on :$PORT"; docker logs --tail 20 "$NAME" >&2; exit 1; }

if [ "$push" = 1 ]; then
  # Docker Hub names of every stand-in tag (recipes' TAGS), except registries
  # other than Docker Hub (quay.io/..., gcr.io/...), which a mirror can't serve.
  mapfile -t tags < <(cd "$ROOT" && bash scripts/build-images.sh --list | awk '{for (i = 2; i <= NF; i++) print $i}')
  mkdir -p "$STATE"
  touch "$STATE/mirror-pushed"
  # the log is only valid for this registry's data: reset when the volume is new
  vol_id=$(docker volume inspect --format '{{.CreatedAt}}' runnel-mirror-data)
  if [ "$(head -n1 "$STATE/mirror-pushed")" != "volume $vol_id" ]; then
    echo "volume $vol_id" > "$STATE/mirror-pushed"
  fi
  for t in "${tags[@]}"; do
    first=${t%%/*}
    case "$t" in */*) case "$first" in *.*|*:*) continue ;; esac ;; esac
    id=$(docker image inspect --format '{{.Id}}' "$t" 2>/dev/null) || continue
    case "$t" in */*) repo=$t ;; *) repo=library/$t ;; esac
    # skip when pushed already and still present in the registry
    if grep -qx "$repo $id" "$STATE/mirror-pushed" \
       && curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
            "http://127.0.0.1:$PORT/v2/${repo%:*}/manifests/${repo##*:}"; then
      continue
    fi
    dst=127.0.0.1:$PORT/$repo
    docker tag "$id" "$dst"
    if out=$(docker push "$dst" 2>&1); then
      log "pushed $repo"
      grep -v "^$repo " "$STATE/mirror-pushed" > "$STATE/mirror-pushed.new" || true
      echo "$repo $id" >> "$STATE/mirror-pushed.new"
      mv "$STATE/mirror-pushed.new" "$STATE/mirror-pushed"
    else
      printf '%s\n' "$out" >&2; log "push of $repo failed"; docker rmi "$dst" >/dev/null 2>&1 || true; exit 1
    fi
    docker rmi "$dst" >/dev/null 2>&1 || true
  done
fi
log "mirror ready: http://127.0.0.1:$PORT (from containers: http://<their gateway>:$PORT)"
