# node:20-alpine — the alpine stand-in plus the host's Node.js 20 and npm.
TAGS=(node:20-alpine node:lts-alpine)
BASE=alpine:latest
CONFIG=(
  'ENV NODE_VERSION=20 YARN_VERSION='
  'ENTRYPOINT ["docker-entrypoint.sh"]'
  'CMD ["node"]'
)
recipe() {
  rf_node
  rf_file /images/common/node-entrypoint.sh /usr/local/bin/docker-entrypoint.sh 0755
  rf_apk_installed nodejs npm
}
