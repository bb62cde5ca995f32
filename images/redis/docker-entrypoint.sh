#!/bin/sh
# redis:7 stand-in entrypoint (as upstream): flags or a *.conf first argument
# are run by redis-server. Upstream's build disables protected mode; Debian's
# binary does not, so without a config file we pass --protected-mode no and
# bind all interfaces.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = 'redis-server' ]; then
  shift
  case "${1:-}" in
    *.conf) ;;
    *) set -- --protected-mode no --bind '*' '-::*' "$@" ;;
  esac
  set -- redis-server "$@"
  umask 0077
fi
exec "$@"
