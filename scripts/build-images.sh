#!/usr/bin/env bash
# build-images.sh — build the offline stand-ins of the upstream images that
# runnel's pipelines use, from the host's own Debian binaries (no registry is
# reachable). Idempotent: an image whose inputs did not change is skipped.
#
#   scripts/build-images.sh            build / refresh all images
#   scripts/build-images.sh NAME...    only these recipes (images/NAME/recipe.sh)
#   scripts/build-images.sh --force    rebuild even if up to date
#   scripts/build-images.sh --list     print recipe names and tags
#
# Each images/<name>/recipe.sh sets TAGS (first = primary), BASE (empty: a
# fresh `docker import` of the staged rootfs; else `FROM $BASE` + `COPY . /`
# through the classic builder, sharing the base's layer), CONFIG (Dockerfile
# instructions: ENV/CMD/ENTRYPOINT/EXPOSE/VOLUME/WORKDIR/LABEL...) and a function
# recipe() that declares the content with scripts/lib-rootfs.sh functions.
#
# Up-to-date check: a cheap key (recipe + library files, dpkg database stamp,
# base image id) is kept in /var/lib/runnel-images/<name>.key with the image id;
# if it differs, the content fingerprint (every host file's size and mtime) is
# compared with the image's label runnel-standin.recipe, and only a changed image is
# rebuilt.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RF_ROOT_DIR=$ROOT
# shellcheck source=lib-rootfs.sh
. "$ROOT/scripts/lib-rootfs.sh"
# shellcheck source=../images/common/lib.sh
. "$ROOT/images/common/lib.sh"

# Build order: bases first.
ORDER=(busybox alpine debian-slim docker docker-dind registry node node-alpine
       postgres redis trivy buildah kaniko gcl-util wait-for-it)

STATE=/var/lib/runnel-images
WORK=${RUNNEL_IMAGE_WORK:-/var/tmp/runnel-images}
force=0
list=0
only=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --list) list=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "build-images: unknown option $a" >&2; exit 2 ;;
    *) only+=("$a") ;;
  esac
done

log() { printf 'build-images: %s\n' "$*" >&2; }

load_recipe() {
  unset -f recipe
  TAGS=(); BASE=; CONFIG=()
  # shellcheck disable=SC1090
  . "$ROOT/images/$1/recipe.sh"
  [ "${#TAGS[@]}" -gt 0 ] || { log "$1: recipe sets no TAGS"; exit 1; }
}

if [ "$list" = 1 ]; then
  for n in "${ORDER[@]}"; do load_recipe "$n"; printf '%s %s\n' "$n" "${TAGS[*]}"; done
  exit 0
fi

docker version >/dev/null 2>&1 || { log "docker engine not answering (run scripts/setup-engine.sh)"; exit 1; }
mkdir -p "$STATE" "$WORK"

# Inputs shared by all images (any change here forces the fingerprint check).
common_key=$( { cat "$ROOT/scripts/lib-rootfs.sh" "$ROOT/scripts/build-images.sh" "$ROOT/scripts/runc-capfilter";
                find "$ROOT/images/common" -type f -print0 | sort -z | xargs -0 cat;
                stat -c '%s %Y' /var/lib/dpkg/status; } | sha256sum | cut -c1-64)

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

build_one() {
  local name=$1 t0 key own base_id cur_id stage fp label tag
  t0=$(date +%s.%N)
  load_recipe "$name"
  base_id=""
  if [ -n "$BASE" ]; then
    base_id=$(image_id "$BASE")
    [ -n "$base_id" ] || { log "$name: base image $BASE missing"; return 1; }
  fi
  # own inputs: base, tags, config, recipe directory, how content is laid down
  own=$( { echo "$base_id"; printf '%s\n' "${TAGS[@]}" "${CONFIG[@]}";
           find "$ROOT/images/$name" -type f -print0 | sort -z | xargs -0 cat;
           declare -f _rf_apply rf_materialize; } | sha256sum | cut -c1-64)
  key=$(echo "$common_key $own" | sha256sum | cut -c1-64)
  cur_id=$(image_id "${TAGS[0]}")
  if [ "$force" = 0 ] && [ -n "$cur_id" ] && [ -f "$STATE/$name.key" ] \
     && [ "$(cat "$STATE/$name.key")" = "$key $cur_id" ]; then
    ensure_tags "$cur_id"
    return 0
  fi

  rf_begin "$WORK/$name" "$ROOT/images/$name"
  recipe
  rf_fingerprint > "$RF_WORK/fingerprint" || return 1
  fp=$(echo "$(cat "$RF_WORK/fingerprint") $own" | sha256sum | cut -c1-64)
  label=""
  [ -n "$cur_id" ] && label=$(docker image inspect --format '{{index .Config.Labels "runnel-standin.recipe"}}' "$cur_id" 2>/dev/null || true)
  if [ "$force" = 0 ] && [ "$label" = "$fp" ]; then
    ensure_tags "$cur_id"
    echo "$key $cur_id" > "$STATE/$name.key"
    rm -rf "${WORK:?}/$name"
    log "$name: up to date (${TAGS[*]})"
    return 0
  fi

  stage=$(rf_materialize)
  # (image labels are inherited by containers: keep them out of runnel.* keys)
  local -a labels=("LABEL runnel-standin.recipe=$fp" "LABEL runnel-standin.name=$name")
  if [ -z "$BASE" ]; then
    local -a ch=()
    local c
    for c in "${CONFIG[@]}" "${labels[@]}"; do ch+=(--change "$c"); done
    tar -C "$stage" --numeric-owner -cf - . | docker import "${ch[@]}" - "${TAGS[0]}" >/dev/null
  else
    {
      echo "FROM $BASE"
      # COPY of an empty context is an error; keep a marker file
      echo "COPY . /"
      printf '%s\n' "${CONFIG[@]}" "${labels[@]}"
    } > "$WORK/$name/Dockerfile"
    mkdir -p "$stage/etc"
    echo "$name" > "$stage/etc/runnel-standin"
    local out
    if ! out=$(DOCKER_BUILDKIT=0 docker build -q --network none -f "$WORK/$name/Dockerfile" \
                 -t "${TAGS[0]}" "$stage" 2>&1); then
      printf '%s\n' "$out" >&2; log "$name: docker build failed"; return 1
    fi
  fi
  local old_id=$cur_id
  cur_id=$(image_id "${TAGS[0]}")
  ensure_tags "$cur_id"
  echo "$key $cur_id" > "$STATE/$name.key"
  rm -rf "${WORK:?}/$name"
  # drop the image this one replaced, if nothing else refers to it
  if [ -n "$old_id" ] && [ "$old_id" != "$cur_id" ] \
     && [ "$(docker image inspect --format '{{len .RepoTags}}' "$old_id" 2>/dev/null)" = 0 ]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true
  fi
  log "$name: built ${TAGS[*]} ($(docker image inspect --format '{{.Size}}' "$cur_id" | awk '{printf "%.0f MB", $1/1e6}'), $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}'))"
}

ensure_tags() {
  local id=$1 t
  for t in "${TAGS[@]:1}"; do
    [ "$(image_id "$t")" = "$id" ] || docker tag "$id" "$t"
  done
}

names=("${ORDER[@]}")
[ "${#only[@]}" -gt 0 ] && names=("${only[@]}")
for n in "${names[@]}"; do
  [ -f "$ROOT/images/$n/recipe.sh" ] || { log "no recipe images/$n/recipe.sh"; exit 1; }
done

# Which recipe provides which tag, and each recipe's base recipe (if built here).
declare -A provider=() base_of=() state=()
for n in "${ORDER[@]}"; do load_recipe "$n"; for t in "${TAGS[@]}"; do provider[$t]=$n; done; done
for n in "${names[@]}"; do
  load_recipe "$n"
  b=""
  [ -n "$BASE" ] && b=${provider[$BASE]:-}
  base_of[$n]=$b
  state[$n]=pending
done

# Build in waves: an image starts once its base is built; up to $JOBS at once
# (the work is mostly dockerd's, which overlaps well).
JOBS=${RUNNEL_IMAGE_JOBS:-3}
logs=$WORK/logs
mkdir -p "$logs"
failed=0
declare -A pid_of=()
running=0
while :; do
  progress=0
  for n in "${names[@]}"; do
    [ "${state[$n]}" = pending ] || continue
    b=${base_of[$n]}
    if [ -n "$b" ] && [ -n "${state[$b]:-}" ]; then
      case "${state[$b]}" in
        done) ;;
        failed) state[$n]=failed; log "$n: skipped (base $b failed)"; failed=1; continue ;;
        *) continue ;;
      esac
    fi
    [ "$running" -lt "$JOBS" ] || break
    ( build_one "$n" ) > "$logs/$n.log" 2>&1 &
    pid_of[$n]=$!
    state[$n]=running
    running=$((running + 1))
    progress=1
  done
  [ "$running" -gt 0 ] || break
  # wait for one build to finish
  wait -n || true
  for n in "${names[@]}"; do
    [ "${state[$n]}" = running ] || continue
    if ! kill -0 "${pid_of[$n]}" 2>/dev/null; then
      if wait "${pid_of[$n]}"; then state[$n]=done; else state[$n]=failed; failed=1; fi
      cat "$logs/$n.log" >&2
      [ "${state[$n]}" = failed ] && log "$n: FAILED"
      running=$((running - 1))
    fi
  done
done
rm -rf "$logs"
exit "$failed"
