#!/bin/sh
# registry:2 stand-in entrypoint (same as upstream distribution-library).
set -e
case "$1" in
    *.yaml|*.yml) set -- registry serve "$@" ;;
    serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac
exec "$@"
