#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine (as root): installs and starts what
# runnel needs (Docker engine, local stand-in images), builds runnel, assembles the seed's
# complete DinD pipeline (examples/complete) as a project and runs it with a local registry.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup-engine.sh
bash scripts/build-images.sh
bash scripts/start-registry.sh
bash scripts/check-tools.sh setup-engine
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
runnel="$root/build/src/runnel"
project=${RUNNEL_DEMO_DIR:-/tmp/runnel-demo}
bash scripts/example-project.sh complete "$project" main
cd "$project"
echo "== runnel list (examples/complete, branch main)"
"$runnel" list
echo "== runnel graph"
"$runnel" graph
echo "== runnel run --registry --privileged"
exec "$runnel" run --registry --privileged "$@"
