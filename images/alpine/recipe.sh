# alpine:latest, alpine:3 — the busybox stand-in plus an offline `apk`
# (images/common/apk) whose store holds a few host packages, Alpine release files.
TAGS=(alpine:latest alpine:3)
BASE=busybox:latest
CONFIG=('ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["/bin/sh"]')
recipe() {
  rf_file /images/common/apk /usr/sbin/apk 0755
  rf_text /etc/alpine-release <<<'3.20.3'
  rf_text /etc/os-release <<'OS'
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20 (runnel offline stand-in)"
HOME_URL="https://alpinelinux.org/"
OS
  rf_dir /etc/apk
  rf_text /etc/apk/repositories <<<'# runnel offline stand-in: no repositories'
  rf_glibc_core
  rf_ca_certs
  rf_apk_installed ca-certificates-bundle libssl3 libcrypto3 alpine-baselayout alpine-keys apk-tools busybox busybox-binsh musl musl-utils \
    libc-utils scanelf ssl_client zlib wget
  rf_apk_store_common
}
