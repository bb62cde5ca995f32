# docker:24-dind — docker:24 plus the daemon side: dockerd, containerd, runc
# (through runc-capfilter when the capability bounding set needs it), iptables,
# iproute2, mount tools, openssl for the TLS certificates, and an entrypoint
# with upstream's dockerd-entrypoint.sh behaviour plus the offline registry
# mirror (see dockerd-entrypoint.sh).
TAGS=(docker:24-dind docker:dind docker:latest)
BASE=docker:24
CONFIG=(
  'VOLUME /var/lib/docker'
  'EXPOSE 2375/tcp 2376/tcp'
  'ENTRYPOINT ["dockerd-entrypoint.sh"]'
  'CMD []'
)
recipe() {
  rf_bin dockerd docker-proxy containerd containerd-shim containerd-shim-runc-v1 \
    containerd-shim-runc-v2 ctr runc tini
  rf_link /usr/bin/tini /usr/local/bin/docker-init
  rf_pkg iptables
  rf_bin iptables ip6tables iptables-save iptables-restore ip6tables-save ip6tables-restore \
    iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft
  rf_bin ip mount umount mountpoint losetup openssl jq xz
  rf_path /etc/ssl/openssl.cnf /usr/lib/ssl/openssl.cnf
  rf_file /scripts/runc-capfilter /usr/local/bin/runc-capfilter 0755
  rf_file /images/common/runnel-mirror-addr /usr/local/bin/runnel-mirror-addr 0755
  rf_file dockerd-entrypoint.sh /usr/local/bin/dockerd-entrypoint.sh 0755
  rf_file dind /usr/local/bin/dind 0755
  rf_dir /var/lib/docker 0711
  rf_apk_installed iptables ip6tables iproute2 openssl jq xz shadow-uidmap
}
