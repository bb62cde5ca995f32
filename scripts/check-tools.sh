#!/usr/bin/env bash
# check-tools.sh — after the setup steps: is every external command and host file that
# scripts/, images/, tests/ and bench/ use there? The list is the table in docs/setup.md
# (between its tools-table markers), the one source of truth for the doc and this check.
#
#   scripts/check-tools.sh [STEP...]   check the rows of `base` and of these setup steps
#                                      (setup-engine, setup-gcl; default: all of them)
#   scripts/check-tools.sh --list      print the parsed rows: step, need, package, commands
#
# A row: | `cmd` `/abs/path` ... | package [(via PKG)] | base? | step [, optional] | used by |
#  * a command is looked up on PATH (plus the sbin directories), an absolute path (a glob
#    allowed) must exist;
#  * a missing required entry is printed with its package and setup step, and the exit
#    status is 1; a missing optional one is only a warning;
#  * every setup-engine row must name a package of setup-engine.sh's PKGS (the PKGS entry
#    that brings it, in "(via PKG)", when it comes as a dependency), and every PKGS entry
#    must have a row, and the doc's packages-by-purpose table must list PKGS exactly: a tool
#    added without its install step or its row fails here.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOC=$ROOT/docs/setup.md
STEPS=(setup-engine setup-gcl)

log() { printf 'check-tools: %s\n' "$*" >&2; }

list=0
want=()
for a in "$@"; do
  case "$a" in
    --list) list=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    setup-engine|setup-gcl) want+=("$a") ;;
    *) log "unknown argument $a (steps: ${STEPS[*]})"; exit 2 ;;
  esac
done
[ "${#want[@]}" -gt 0 ] || want=("${STEPS[@]}")

[ -f "$DOC" ] || { log "no $DOC"; exit 1; }

# Rows as "step<TAB>need<TAB>installer<TAB>package<TAB>entries" (entries space-separated).
rows() {
  awk -F'|' '
    /<!-- tools-table:begin -->/ { on = 1; next }
    /<!-- tools-table:end -->/ { on = 0 }
    !on || !/^\|/ || $2 ~ /^[ -]*$/ || $2 ~ /^ *command *$/ { next }
    {
      entries = ""; s = $2
      while (match(s, /`[^`]+`/)) {
        entries = entries (entries ? " " : "") substr(s, RSTART + 1, RLENGTH - 2)
        s = substr(s, RSTART + RLENGTH)
      }
      pkg = $3; gsub(/^ +| +$/, "", pkg)
      inst = pkg; sub(/ .*/, "", inst)
      if (match(pkg, /\(via [^)]+\)/)) inst = substr(pkg, RSTART + 5, RLENGTH - 6)
      step = $5; gsub(/^ +| +$/, "", step)
      need = step ~ /optional/ ? "optional" : "required"
      sub(/[ ,].*/, "", step)
      printf "%s\t%s\t%s\t%s\t%s\n", step, need, inst, pkg, entries
    }' "$DOC"
}

mapfile -t table < <(rows)
[ "${#table[@]}" -gt 0 ] || { log "no rows between the tools-table markers of $DOC"; exit 1; }
if [ "$list" = 1 ]; then printf '%s\n' "${table[@]}"; exit 0; fi

# setup-engine.sh's PKGS entries (comments and line breaks dropped).
mapfile -t pkgs < <(sed -n '/^PKGS=(/,/^)/p' "$ROOT/scripts/setup-engine.sh" |
                    sed 's/#.*//; s/^PKGS=(//; s/)$//' | tr -s ' \t' '\n' | sed '/^$/d')
declare -A in_pkgs=() has_row=()
for p in "${pkgs[@]}"; do in_pkgs[$p]=1; done

SEARCH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
present() {
  case "$1" in
    /*) compgen -G "$1" >/dev/null ;;
    *) PATH=$SEARCH type -P "$1" >/dev/null ;;
  esac
}

bad=0 missing=0 optional=0 checked=0
for r in "${table[@]}"; do
  IFS=$'\t' read -r step need inst pkg entries <<< "$r"
  case "$step" in
    base|setup-engine|setup-gcl) ;;
    *) log "docs/setup.md: row of $entries: unknown setup step '$step'"; bad=1; continue ;;
  esac
  if [ "$step" = setup-engine ]; then
    has_row[$inst]=1
    case "$inst" in
      repo:) ;;   # a file of this repository that setup-engine.sh installs
      *) [ -n "${in_pkgs[$inst]:-}" ] || {
           log "docs/setup.md: $entries: package $inst is not in scripts/setup-engine.sh PKGS"; bad=1; } ;;
    esac
  fi
  [ "$step" = base ] || [[ " ${want[*]} " == *" $step "* ]] || continue
  for e in $entries; do
    checked=$((checked + 1))
    present "$e" && continue
    if [ "$need" = optional ]; then
      log "optional, missing: $e (package $pkg, $step)"; optional=$((optional + 1))
    else
      log "MISSING: $e (package $pkg, $step)"; missing=$((missing + 1))
    fi
  done
done
for p in "${pkgs[@]}"; do
  [ -n "${has_row[$p]:-}" ] || { log "scripts/setup-engine.sh installs $p, which has no row in docs/setup.md"; bad=1; }
done
# The doc's packages-by-purpose table lists PKGS exactly.
doc_pkgs=$(awk -F'|' '/<!-- pkgs:begin -->/ { on = 1; next } /<!-- pkgs:end -->/ { on = 0 }
                      on && /^\|/ && $3 !~ /^ *(packages|-+) *$/ { print $3 }' "$DOC" |
           tr -s ' \t' '\n' | sed '/^$/d' | sort)
if [ "$doc_pkgs" != "$(printf '%s\n' "${pkgs[@]}" | sort)" ]; then
  log "docs/setup.md's packages-by-purpose table differs from PKGS (< doc, > PKGS):"
  diff <(printf '%s\n' "$doc_pkgs") <(printf '%s\n' "${pkgs[@]}" | sort) | grep '^[<>]' >&2 || true
  bad=1
fi

if [ "$missing" -gt 0 ]; then
  log "$missing of $checked required commands and files missing (steps: base ${want[*]})"
  exit 1
fi
[ "$bad" = 0 ] || { log "docs/setup.md and scripts/setup-engine.sh disagree (see above)"; exit 1; }
note=""
[ "$optional" = 0 ] || note="; $optional optional missing"
log "all $checked required commands and files present (steps: base ${want[*]}$note)"
