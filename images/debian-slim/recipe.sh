# debian:12-slim — bash, dash as /bin/sh, coreutils & friends from the host;
# apt-get/apt are the offline package stand-in (images/common/apk).
TAGS=(debian:12-slim debian:bookworm-slim)
BASE=
CONFIG=('ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["bash"]')
recipe() {
  rf_skeleton
  rf_pkg bash dash coreutils grep sed tar gzip findutils diffutils mawk debianutils \
    hostname sensible-utils libc-bin bsdutils util-linux login passwd ncurses-base procps
  rf_link dash /usr/bin/sh
  rf_link mawk /usr/bin/awk
  rf_path /etc/debian_version /usr/lib/os-release /etc/os-release /etc/bash.bashrc /etc/profile \
    /etc/login.defs /etc/skel/.bashrc /etc/skel/.profile
  rf_text /root/.bashrc <<<'PS1="\\h:\\w\\$ "'
  rf_file /images/common/apk /usr/bin/apt-get 0755
  rf_link apt-get /usr/bin/apt
  rf_apk_installed $(debian_slim_pkgs)
  rf_apk_store_common
}
debian_slim_pkgs() {
  echo bash dash coreutils grep sed tar gzip findutils diffutils mawk debianutils hostname \
    libc-bin libc6 bsdutils util-linux login passwd ncurses-base procps base-files apt dpkg
}
