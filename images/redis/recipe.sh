# redis:7 — debian:12-slim plus Debian's redis-server 7.0 and redis-cli;
# without a config file it listens on all interfaces with protected mode off.
TAGS=(redis:7 redis:latest redis:7-bookworm)
BASE=debian:12-slim
CONFIG=(
  'VOLUME /data'
  'WORKDIR /data'
  'EXPOSE 6379/tcp'
  'ENTRYPOINT ["docker-entrypoint.sh"]'
  'CMD ["redis-server"]'
)
recipe() {
  rf_bin redis-server redis-cli redis-benchmark
  rf_users 'redis:x:999:999::/home/redis:/usr/sbin/nologin' 'redis:x:999:'
  rf_dir /data
  rf_file docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh 0755
  rf_apk_installed redis redis-server redis-tools
}
