#!/bin/sh
# Checks the direction of dependencies between the modules of src/ (STYLE.md section 2,
# docs/internals/layout.md): a file in src/Y/ may include its own module's headers and the
# headers of any module on a LOWER level; modules on one level are peers and must not include
# each other. Every '#include "..."' line of src/*/*.c and src/*/*.h is read; a bare include
# ("internal.h") must name a file of the including file's own folder, so that a cross-module
# include cannot hide behind the include path. Every folder of src/ must be in the matrix.
#
# usage: check-includes.sh SRC_DIR   (exit 0 when clean; 1 and one line per violation)
set -eu
src=${1:?usage: check-includes.sh SRC_DIR}
cd "$src"

# The matrix, highest level first; names on one line are peers. fetch (the network side of
# includes) sits with vcs, runner (runner mode, the HTTP coordinator) between cli and exec.
levels='cli
runner
exec
docker report plan vcs fetch
payload
model
yaml
util'

files=$(find . -mindepth 2 -maxdepth 2 -type f \( -name '*.c' -o -name '*.h' \) | sort)
dirs=$(find . -mindepth 1 -maxdepth 1 -type d | sort)
# shellcheck disable=SC2086 # word splitting of the file list is wanted (no spaces in src/)
printf '%s\n' "$levels" | awk -v dirs="$dirs" '
	NR == FNR { for (i = 1; i <= NF; i++) level[$i] = NR; next }
	FNR == 1 {
		if (!done_dirs) {
			n = split(dirs, d, "\n")
			for (i = 1; i <= n; i++) {
				m = d[i]; sub(/^\.\//, "", m)
				if (!(m in level)) {
					printf "src/%s/: module not in the layering matrix (add it to tests/layering/check-includes.sh and docs/internals/layout.md)\n", m
					bad = 1
				}
			}
			done_dirs = 1
		}
		path = FILENAME; sub(/^\.\//, "", path)
		mod = path; sub(/\/.*/, "", mod)
	}
	/^[ \t]*#[ \t]*include[ \t]*"/ {
		t = $0; sub(/^[^"]*"/, "", t); sub(/".*/, "", t)
		if (t !~ /\//) {
			if (t == "version.h")	# generated in the build directory
				next
			if (system("test -f \"" mod "/" t "\"") != 0) {
				printf "src/%s:%d: includes \"%s\" without a module folder and it is not a file of src/%s/\n", path, FNR, t, mod
				bad = 1
			}
			next
		}
		to = t; sub(/\/.*/, "", to)
		if (to == mod || !(mod in level))
			next
		if (!(to in level)) {
			printf "src/%s:%d: includes \"%s\" of \"%s\", a module not in the layering matrix\n", path, FNR, t, to
			bad = 1
		} else if (level[to] == level[mod]) {
			printf "src/%s:%d: includes \"%s\": %s and %s are peers and must not include each other\n", path, FNR, t, mod, to
			bad = 1
		} else if (level[to] < level[mod]) {
			printf "src/%s:%d: includes \"%s\": %s is below %s (dependencies point down only)\n", path, FNR, t, mod, to
			bad = 1
		}
	}
	END { exit bad }
' - $files
