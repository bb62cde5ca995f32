#!/usr/bin/env bash
# Assembles examples/NAME into DEST as a standalone project: the shared application
# (examples/_app) with the example's own files laid over it, committed to a fresh git
# repository on branch main (runnel derives the pipeline context from git).
# usage: example-project.sh NAME DEST [BRANCH]
set -euo pipefail
name=${1:?usage: example-project.sh NAME DEST [BRANCH]}
dest=${2:?usage: example-project.sh NAME DEST [BRANCH]}
branch=${3:-main}
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/examples/$name"
[ -f "$src/.gitlab-ci.yml" ] || { echo "example-project: no example '$name' in $root/examples" >&2; exit 2; }
rm -rf "$dest"
mkdir -p "$dest"
cp -a "$root/examples/_app/." "$dest/"
cp -a "$src/." "$dest/"
cd "$dest"
export GIT_AUTHOR_NAME="runnel examples" GIT_AUTHOR_EMAIL="examples@runnel.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
git init -q -b "$branch"
git remote add origin "https://gitlab.example.com/examples/$name.git"
git add -A
git commit -q -m "example: $name"
