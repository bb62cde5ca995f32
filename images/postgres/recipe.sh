# postgres:15 — debian:12-slim plus Debian's PostgreSQL 15 server and client,
# with an entrypoint honouring POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB /
# POSTGRES_HOST_AUTH_METHOD / POSTGRES_INITDB_ARGS / PGDATA and
# /docker-entrypoint-initdb.d, listening on 5432 on all interfaces.
TAGS=(postgres:15 postgres:15-bookworm)
BASE=debian:12-slim
CONFIG=(
  'ENV PG_MAJOR=15 PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data LANG=C.UTF-8'
  'VOLUME /var/lib/postgresql/data'
  'EXPOSE 5432/tcp'
  'STOPSIGNAL SIGINT'
  'ENTRYPOINT ["docker-entrypoint.sh"]'
  'CMD ["postgres"]'
)
recipe() {
  rf_tree /usr/lib/postgresql/15 -not -name 'llvmjit*' -not -path '*/bitcode/*' -not -path '*/pgxs/*'
  rf_tree /usr/share/postgresql/15 -not -path '*/man/*'
  rf_pkg tzdata
  [ -d /usr/lib/locale/C.utf8 ] && rf_tree /usr/lib/locale/C.utf8
  rf_users 'postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash' 'postgres:x:999:'
  rf_file docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh 0755
  rf_dir /docker-entrypoint-initdb.d
  rf_dir /var/run/postgresql 2777
  rf_dir /var/lib/postgresql 0755
  rf_apk_installed postgresql postgresql-15 postgresql-client-15
}
