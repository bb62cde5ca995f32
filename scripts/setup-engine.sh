#!/usr/bin/env bash
# setup-engine.sh — install everything runnel and its tests need on a Debian 12
# machine and bring up a working Docker engine (idempotent; a few hundred ms when
# everything is already in place).
#
#   scripts/setup-engine.sh            apt packages + dockerd
#   scripts/setup-engine.sh --podman   the same, plus a podman API service on
#                                      unix:///run/runnel-podman.sock
#   scripts/setup-engine.sh --no-apt   skip the package step
#
# Facts about this VM handled here (see also shared/env/setup-docker.sh):
#  * nothing starts dockerd (no systemd): we start it ourselves, logs in
#    /var/log/runnel-dockerd.log;
#  * the capability bounding set lacks CAP_SYS_RESOURCE, so runc refuses every
#    --privileged container: dockerd's default runtime is scripts/runc-capfilter
#    (installed as /usr/local/bin/runc-capfilter), which filters the missing
#    capabilities out of the OCI spec before exec'ing runc;
#  * crun fails on the hybrid cgroup setup: podman is pointed at the same runc
#    wrapper.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
want_podman=0
do_apt=1
for a in "$@"; do
  case "$a" in
    --podman) want_podman=1 ;;
    --no-apt) do_apt=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "setup-engine: unknown argument $a" >&2; exit 2 ;;
  esac
done

log() { printf 'setup-engine: %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }

# ---------------------------------------------------------------- packages
PKGS=(
  # build + test toolchain
  meson ninja-build pkg-config gcc clang clang-format llvm libclang-rt-14-dev
  libyaml-dev libjansson-dev libcurl4-openssl-dev libpcre2-dev libarchive-dev
  libcmocka-dev valgrind git rsync jq curl ca-certificates file
  # the stand-in images' shell and coreutils (lib-rootfs copies it: it must be the static one)
  busybox-static
  # test harnesses: servers and helpers (python3 stdlib), terminals, shells for completion
  python3 tmux zsh fish bash-completion procps psmisc util-linux
  # container engines and tools
  docker.io docker-registry docker-compose containerd runc iptables iproute2
  podman buildah skopeo fuse-overlayfs slirp4netns uidmap
  apache2-utils openssl
  # service stand-ins (postgres:15 / redis:7 images are built from these)
  postgresql-15 redis-server
  # more host binaries the stand-in images copy (rf_bin / rf_pkg in images/*/recipe.sh)
  make openssh-client xz-utils tzdata
  # benchmarks (bench/*/run.sh: GNU time's peak RSS, bc)
  time bc
  # gitlab-ci-local side-by-side comparisons
  nodejs npm
)

missing_pkgs() {
  # dpkg-query prints "install ok installed" for installed packages only.
  local p st
  for p in "$@"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || printf '%s\n' "$p"
  done
}

# nodejs may come from a non-Debian build that also provides npm; don't fight it.
if command -v npm >/dev/null 2>&1; then
  keep=(); for p in "${PKGS[@]}"; do [ "$p" = npm ] || keep+=("$p"); done
  PKGS=("${keep[@]}")
fi

if [ "$do_apt" = 1 ]; then
  mapfile -t need < <(missing_pkgs "${PKGS[@]}")
  if [ "${#need[@]}" -gt 0 ]; then
    log "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
    # apt-get update once, when the lists are absent or older than a day, or
    # when a candidate is unknown.
    stamp=/var/lib/apt/periodic/runnel-update-stamp
    if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ] \
       || ! apt-cache show "${need[@]}" >/dev/null 2>&1; then
      apt-get update -qq
      mkdir -p "$(dirname "$stamp")"; touch "$stamp"
    fi
    # Optional packages (may be absent from some mirrors): install one by one
    # after the mandatory batch.
    opt=(buildah skopeo podman fuse-overlayfs slirp4netns uidmap)
    mand=()
    for p in "${need[@]}"; do
      case " ${opt[*]} " in *" $p "*) ;; *) mand+=("$p") ;; esac
    done
    # Debian's postgresql-15 starts a cluster through policy-rc.d-less
    # service scripts; forbid service starts during install.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    if [ "${#mand[@]}" -gt 0 ]; then
      apt-get install -y -qq --no-install-recommends "${mand[@]}" >/dev/null
    fi
    for p in "${need[@]}"; do
      case " ${opt[*]} " in
        *" $p "*) apt-get install -y -qq --no-install-recommends "$p" >/dev/null \
                    || log "optional package $p not installable; continuing" ;;
      esac
    done
    rm -f /usr/sbin/policy-rc.d; trap - EXIT
  fi
fi

# ---------------------------------------------------------------- runtime wrapper
install -m 0755 "$here/runc-capfilter" /usr/local/bin/runc-capfilter.new
if cmp -s /usr/local/bin/runc-capfilter.new /usr/local/bin/runc-capfilter; then
  rm -f /usr/local/bin/runc-capfilter.new
else
  mv /usr/local/bin/runc-capfilter.new /usr/local/bin/runc-capfilter
fi

# docker CLI plugin so that `docker compose ...` runs Debian's docker-compose (v1).
install_compose_plugin() {
  local dir=$1
  mkdir -p "$dir"
  install -m 0755 "$here/../images/common/docker-compose-plugin" "$dir/docker-compose.new"
  if cmp -s "$dir/docker-compose.new" "$dir/docker-compose"; then rm -f "$dir/docker-compose.new"
  else mv "$dir/docker-compose.new" "$dir/docker-compose"; fi
}
if command -v docker-compose >/dev/null 2>&1; then
  install_compose_plugin /usr/local/lib/docker/cli-plugins
fi

# ---------------------------------------------------------------- dockerd
daemon_json=/etc/docker/daemon.json
mkdir -p /etc/docker
want=$(jq -n '{
  "runtimes": {"runc-capfilter": {"path": "/usr/local/bin/runc-capfilter"}},
  "default-runtime": "runc-capfilter",
  "registry-mirrors": ["http://127.0.0.1:5000"],
  "storage-driver": "overlay2"
}')
if [ -s "$daemon_json" ]; then
  merged=$(jq -S --argjson w "$want" '. * $w' "$daemon_json")
else
  merged=$(jq -S -n --argjson w "$want" '$w')
fi
config_changed=0
if [ "$merged" != "$(jq -S . "$daemon_json" 2>/dev/null || true)" ]; then
  printf '%s\n' "$merged" > "$daemon_json"
  config_changed=1
fi

docker_ok() { timeout 10 docker version >/dev/null 2>&1; }

stop_dockerd() {
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  log "stopping dockerd (pid $pid) to apply $daemon_json"
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  log "dockerd pid $pid did not stop"; return 1
}

start_dockerd() {
  log "starting dockerd"
  # setsid: survive the calling shell; the machine has no init system for it.
  setsid dockerd >>/var/log/runnel-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 120); do docker_ok && return 0; sleep 0.5; done
  log "dockerd did not come up; tail of /var/log/runnel-dockerd.log:"
  tail -n 30 /var/log/runnel-dockerd.log >&2
  return 1
}

daemon_matches() {
  [ "$(docker info --format '{{.DefaultRuntime}} {{.Driver}} {{range .RegistryConfig.Mirrors}}{{.}}{{end}}' 2>/dev/null)" \
    = "runc-capfilter overlay2 http://127.0.0.1:5000/" ]
}

if docker_ok; then
  if [ "$config_changed" = 1 ] || ! daemon_matches; then
    # runtimes, default-runtime and registry-mirrors are live-reloadable:
    # try SIGHUP first so that running containers survive; restart otherwise.
    pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    if [ -n "$pid" ]; then
      log "reloading dockerd configuration (SIGHUP)"
      kill -HUP "$pid" 2>/dev/null || true
      for _ in $(seq 1 10); do daemon_matches && break; sleep 0.3; done
    fi
    daemon_matches || { stop_dockerd; start_dockerd; }
  fi
else
  # A stale pid file from a killed daemon makes dockerd refuse to start.
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    # running but not answering yet (just started by someone else): wait
    for _ in $(seq 1 60); do docker_ok && break; sleep 0.5; done
  fi
  docker_ok || start_dockerd
fi

# ---------------------------------------------------------------- smoke test
# A --privileged container is what the capability problem breaks; check it with
# the smallest image we can make without a registry (a static-less busybox-ish
# rootfs: /bin/true + its libraries), unless a stand-in image already exists.
smoke_image=""
for img in busybox:latest alpine:latest runnel/smoke:1; do
  if docker image inspect "$img" >/dev/null 2>&1; then smoke_image=$img; break; fi
done
if [ -z "$smoke_image" ]; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/bin"
  cp /bin/true "$tmp/bin/true"
  for l in $(ldd /bin/true | grep -o '/[^ ]*'); do
    mkdir -p "$tmp$(dirname "$l")"; cp -L "$l" "$tmp$l"
  done
  tar -C "$tmp" -c . | docker import --change 'CMD ["/bin/true"]' - runnel/smoke:1 >/dev/null
  rm -rf "$tmp"
  smoke_image=runnel/smoke:1
fi
if ! out=$(docker run --rm --privileged --entrypoint /bin/true "$smoke_image" 2>&1); then
  log "privileged container smoke test failed: $out"
  exit 1
fi
log "docker engine ready ($(docker info --format '{{.ServerVersion}} {{.Driver}} runtime={{.DefaultRuntime}}'))"

# ---------------------------------------------------------------- podman (optional)
if [ "$want_podman" = 1 ]; then
  command -v podman >/dev/null 2>&1 || { log "podman not installed"; exit 1; }
  conf=/etc/runnel/containers.conf
  mkdir -p /etc/runnel
  cat > "$conf.new" <<'CONF'
# containers.conf for runnel's podman API service (CONTAINERS_CONF=this file).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
# crun fails on this machine's hybrid cgroup hierarchy; use runc through the
# capability-filtering wrapper (the bounding set lacks CAP_SYS_RESOURCE).
runtime = "runc-capfilter"
cgroup_manager = "cgroupfs"
events_logger = "file"

[engine.runtimes]
runc-capfilter = ["/usr/local/bin/runc-capfilter"]
CONF
  if cmp -s "$conf.new" "$conf"; then rm -f "$conf.new"; else mv "$conf.new" "$conf"; fi
  sock=/run/runnel-podman.sock
  podman_ok() { timeout 10 curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; }
  if ! podman_ok; then
    rm -f "$sock"
    log "starting podman system service on unix://$sock"
    CONTAINERS_CONF=$conf setsid podman system service --time=0 "unix://$sock" \
      >>/var/log/runnel-podman.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do podman_ok && break; sleep 0.5; done
    podman_ok || { log "podman service did not come up; see /var/log/runnel-podman.log"; exit 1; }
  fi
  log "podman API ready: DOCKER_HOST=unix://$sock (CONTAINERS_CONF=$conf)"
fi
