# registry:2 — Debian's docker-registry (distribution 2.8) as /bin/registry with
# upstream's config and entrypoint; listens on :5000, data in /var/lib/registry.
TAGS=(registry:2 registry:latest registry:2.8)
BASE=alpine:latest
CONFIG=(
  'VOLUME ["/var/lib/registry"]'
  'EXPOSE 5000/tcp'
  'ENTRYPOINT ["/entrypoint.sh"]'
  'CMD ["/etc/docker/registry/config.yml"]'
)
recipe() {
  rf_bin docker-registry
  rf_link docker-registry /usr/bin/registry
  rf_file config.yml /etc/docker/registry/config.yml
  rf_file entrypoint.sh /entrypoint.sh 0755
  rf_dir /var/lib/registry
}
