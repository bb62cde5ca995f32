#!/bin/sh
# node image entrypoint (as upstream): run `node ARGS` when the first argument
# is a flag or not an executable command.
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
