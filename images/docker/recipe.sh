# docker:24 — the alpine stand-in plus the docker CLI (Debian's docker.io),
# docker-compose (Debian's v1.29, also as `docker compose` through a CLI plugin)
# and the upstream client entrypoint logic (docker-entrypoint.sh).
TAGS=(docker:24 docker:24-cli docker:cli)
BASE=alpine:latest
CONFIG=(
  'ENV DOCKER_VERSION=20.10.24 DOCKER_TLS_CERTDIR=/certs'
  'ENTRYPOINT ["docker-entrypoint.sh"]'
  'CMD ["sh"]'
)
recipe() {
  rf_docker_cli
  rf_file docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh 0755
  rf_dir /certs 1777
  rf_dir /certs/client 1777
  rf_apk_installed docker docker-cli docker-compose docker-cli-compose python3 py3-pip \
    ca-certificates
}
