# node:20 — debian:12-slim plus the host's Node.js 20 and npm, git, curl.
TAGS=(node:20 node:20-bookworm node:lts)
BASE=debian:12-slim
CONFIG=(
  'ENV NODE_VERSION=20 YARN_VERSION='
  'ENTRYPOINT ["docker-entrypoint.sh"]'
  'CMD ["node"]'
)
recipe() {
  rf_node
  rf_git
  rf_bin curl
  rf_ca_certs
  rf_file /images/common/node-entrypoint.sh /usr/local/bin/docker-entrypoint.sh 0755
  rf_apk_installed nodejs npm git curl ca-certificates
}
