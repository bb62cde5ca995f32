# images/common/lib.sh — recipe helpers shared by several images (sourced by
# scripts/build-images.sh after scripts/lib-rootfs.sh).

# Busybox applet links in canonical merged-/usr places (or all in one flat
# directory when $1 is given, as in kaniko's /busybox).
rf_busybox_applets() {
  local flat=${1:-} a
  local bb; bb=$(realpath "$(command -v busybox)")
  if [ -n "$flat" ]; then
    rf_dir "$flat"
    for a in $(busybox --list); do
      [ "$a" = busybox ] && continue
      rf_link "$flat/busybox" "$flat/$a"
    done
    return
  fi
  while IFS= read -r a; do
    case "$a" in
      bin/busybox|*/busybox) continue ;;
      bin/*) a=usr/$a ;;
      sbin/*) a=usr/$a ;;
    esac
    rf_link "$bb" "/$a"
  done < <(busybox --list-full)
}

_rf_marked() { grep -qx "I $1" "$RF_WORK/main.ops" 2>/dev/null; }

# Packages offered by the offline apk / apt-get stand-in (skipping those the
# image marks as installed).
rf_apk_store_common() {
  _rf_marked bash || rf_apk bash 'rf_bin bash'
  _rf_marked curl || rf_apk curl 'rf_bin curl; rf_ca_certs'
  _rf_marked ca-certificates || rf_apk ca-certificates 'rf_ca_certs'
  _rf_marked jq || rf_apk jq 'rf_bin jq'
  _rf_marked openssl || rf_apk openssl 'rf_bin openssl; rf_path /usr/lib/ssl/openssl.cnf'
  _rf_marked make || rf_apk make 'rf_bin make'
  _rf_marked rsync || rf_apk rsync 'rf_bin rsync'
  _rf_marked openssh-client || rf_apk openssh-client 'rf_bin ssh scp ssh-keygen ssh-keyscan ssh-add ssh-agent'
  _rf_marked git || rf_apk git 'rf_git'
  _rf_marked coreutils || rf_apk coreutils 'rf_pkg coreutils'
  _rf_marked findutils || rf_apk findutils 'rf_bin find xargs'
  _rf_marked grep || rf_apk grep 'rf_bin grep'
  _rf_marked sed || rf_apk sed 'rf_bin sed'
  _rf_marked tar || rf_apk tar 'rf_bin tar'
  _rf_marked gzip || rf_apk gzip 'rf_bin gzip'
  return 0
}

rf_git() {
  rf_bin git
  rf_elf /usr/lib/git-core/git /usr/lib/git-core/git-remote-http
  rf_path /usr/lib/git-core/git-remote-https /usr/lib/git-core/git-sh-setup \
    /usr/lib/git-core/git-sh-i18n /usr/lib/git-core/git-submodule
  rf_ca_certs
}

# The pieces of the docker CLI images shared by docker:24 and anything else
# that wants a docker client: CLI, docker-compose v1 (Python), `docker compose`
# plugin.
rf_docker_cli() {
  rf_bin /usr/bin/docker   # Debian docker.io 20.10 CLI: built-in BuildKit client (DOCKER_BUILDKIT=1)
  rf_python_compose
  rf_file /images/common/docker-compose-plugin /usr/libexec/docker/cli-plugins/docker-compose 0755
  rf_ca_certs
}

rf_python_compose() {
  # docker-compose and the Python packages it needs, as installed on the host
  rf_pkg $(rf_pkg_closure docker-compose 'python3.*|libpython3.*')
  rf_bin python3
}

# Default-route gateway from /proc/net/route (no iproute2 needed); used by the
# stand-ins that reach the mirror registry. Installed as /usr/local/bin/runnel-gateway.
rf_gateway_helper() {
  rf_file /images/common/runnel-mirror-addr /usr/local/bin/runnel-mirror-addr 0755
}

# glibc core + zlib + OpenSSL libraries: what Alpine's musl, zlib and
# libssl3/libcrypto3 packages provide there. Keeps the apk store packages small.
rf_glibc_core() {
  local m=/usr/lib/x86_64-linux-gnu
  rf_elf /lib64/ld-linux-x86-64.so.2 $m/libc.so.6 $m/libm.so.6 $m/libresolv.so.2 \
    $m/libpthread.so.0 $m/libdl.so.2 $m/librt.so.1 $m/libz.so.1 $m/libssl.so.3 $m/libcrypto.so.3 \
    $m/libgcc_s.so.1
}

# Node.js + npm (+ npx) from the host's nodejs package.
rf_node() {
  rf_bin node
  rf_tree /usr/lib/node_modules/npm -not -path '*/docs/*' -not -path '*/man/*'
  rf_link ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm
  rf_link ../lib/node_modules/npm/bin/npx-cli.js /usr/bin/npx
}

# buildah / skopeo with /etc/containers configuration: vfs storage, docker.io
# through runnel's mirror (a wrapper in /usr/local/bin writes the mirror
# drop-in before running the real binary in /usr/bin).
rf_containers_tools() {
  local t
  for t in "$@"; do
    rf_bin "$t"
    rf_file /images/common/containers-mirror "/usr/local/bin/$t" 0755
  done
  rf_bin runc
  rf_file /images/common/runnel-mirror-addr /usr/local/bin/runnel-mirror-addr 0755
  rf_path /etc/containers/policy.json /usr/share/containers/containers.conf \
    /usr/share/containers/seccomp.json /etc/containers/registries.conf.d/shortnames.conf
  rf_text /etc/containers/registries.conf <<'CONF'
unqualified-search-registries = ["docker.io"]
CONF
  rf_text /etc/containers/storage.conf <<'CONF'
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
  rf_dir /var/lib/containers/storage
  rf_ca_certs
}
