# lib-rootfs.sh — shared functions for assembling container root filesystems
# from the host's own Debian files (sourced by scripts/build-images.sh and the
# recipes in images/<name>/recipe.sh). Bash.
#
# A recipe only *declares* content; nothing is copied until rf_materialize:
#
#   rf_bin NAME...           command (looked up in PATH, or an absolute path),
#                            its symlink chain and its ldd closure
#   rf_path PATH...          host file(s) as is (symlink chains followed and kept)
#   rf_elf PATH...           host ELF file(s) plus their ldd closure
#   rf_tree DIR [FINDARGS]   host directory tree (FINDARGS e.g. -not -path '*/test/*');
#                            ldd closure of the shared objects / executables in it
#   rf_pkg PKG...            files of installed Debian packages, without docs,
#                            man pages and locales, plus the ldd closure
#   rf_file SRC DST [MODE]   a file of the repository (SRC relative to the recipe
#                            directory, or to the repository root if it starts with /)
#   rf_text DST [MODE]       a file whose content is read from stdin
#   rf_link TARGET LINK      a symbolic link
#   rf_dir PATH [MODE]       a directory
#   rf_skeleton              merged-/usr top-level links and minimal /etc (base images)
#   rf_apk NAME CMD...       a package for the apk stand-in (images/common/apk): the
#                            declarations in CMD go into /usr/share/runnel-apk/NAME.tar.gz
#                            (less what the image itself holds)
#                            instead of the image; `apk add NAME` unpacks it
#   rf_apk_installed NAME... package names `apk add` treats as already installed
#
# Host paths are recorded in canonical form (directories resolved, so that /lib/x
# becomes /usr/lib/x); images get the merged-/usr links /bin /sbin /lib /lib64
# from rf_skeleton, so both spellings work inside.

RF_ROOT_DIR=${RF_ROOT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# Per-image state (rf_begin resets it).
rf_begin() { # $1 = work dir for this image, $2 = recipe dir
  RF_WORK=$1
  RF_RECIPE_DIR=$2
  rm -rf "$RF_WORK"
  mkdir -p "$RF_WORK/ops"
  RF_CTX=main
  RF_CTXS=(main)
  : > "$RF_WORK/main.req"
  : > "$RF_WORK/main.elf"
  : > "$RF_WORK/main.ops"
  RF_OPN=0
}

rf_die() { echo "lib-rootfs: $*" >&2; exit 1; }

_rf_req() { printf '%s\n' "$@" >> "$RF_WORK/$RF_CTX.req"; }
_rf_elfreq() { printf '%s\n' "$@" >> "$RF_WORK/$RF_CTX.elf"; }
_rf_op() { printf '%s\n' "$*" >> "$RF_WORK/$RF_CTX.ops"; }

rf_path() { local p; for p in "$@"; do [ -e "$p" ] || [ -L "$p" ] || rf_die "missing host path $p"; done; _rf_req "$@"; }

rf_elf() { rf_path "$@"; _rf_elfreq "$@"; }

rf_bin() {
  local n p
  for n in "$@"; do
    if [[ $n == /* ]]; then p=$n
    else p=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$n") \
           || rf_die "command not found on host: $n"
    fi
    rf_elf "$p"
  done
}

# Shared objects and executables under the given paths (from a file list on stdin).
_rf_elf_candidates() { grep -E '(\.so(\.[0-9.]+)?$|/s?bin/|/libexec/|/lib/postgresql/[0-9]+/bin/|/git-core/)' || true; }

rf_tree() {
  local d=$1; shift
  [ -d "$d" ] || rf_die "missing host directory $d"
  local list; list=$(find "$d" \( -type f -o -type l \) "$@")
  [ -n "$list" ] && printf '%s\n' "$list" >> "$RF_WORK/$RF_CTX.req"
  printf '%s\n' "$list" | _rf_elf_candidates >> "$RF_WORK/$RF_CTX.elf"
}

rf_pkg() {
  local list
  list=$(dpkg-query -L "$@" 2>/dev/null) || rf_die "package(s) not installed: $*"
  list=$(printf '%s\n' "$list" | { grep -Ev '^/usr/share/(doc|man|info|locale|lintian|bug|gtk-doc|bash-completion|zsh)/|^/etc/(init\.d|rc[0-9S]\.d|logrotate\.d|cron\.|systemd)|^/lib/systemd|^/usr/lib/systemd|/__pycache__/|^/\.$' || true; } \
         | while IFS= read -r f; do
             if [ ! -d "$f" ] && { [ -f "$f" ] || [ -L "$f" ]; }; then printf '%s\n' "$f"; fi
           done || true)
  [ -n "$list" ] || return 0
  printf '%s\n' "$list" >> "$RF_WORK/$RF_CTX.req"
  printf '%s\n' "$list" | _rf_elf_candidates >> "$RF_WORK/$RF_CTX.elf"
}

# Installed packages in the dependency closure of $1 (Depends + Pre-Depends)
# whose names match the extended regex $2 (plus $1 itself).
rf_pkg_closure() {
  local root=$1 re=$2 p d
  local -A seen=([$root]=1)
  local -a queue=("$root")
  while [ "${#queue[@]}" -gt 0 ]; do
    p=${queue[0]}; queue=("${queue[@]:1}")
    for d in $(dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$p" 2>/dev/null \
               | tr ',|' '\n\n' | sed 's/(.*//; s/:any//; s/[[:space:]]//g' | grep -E "^($re)\$" | sort -u); do
      [ -n "${seen[$d]:-}" ] && continue
      [ "$(dpkg-query -W -f='${Status}' "$d" 2>/dev/null)" = "install ok installed" ] || continue
      seen[$d]=1; queue+=("$d")
    done
  done
  printf '%s\n' "${!seen[@]}" | sort
}

_rf_src() { case "$1" in /*) printf '%s\n' "$RF_ROOT_DIR$1" ;; *) printf '%s\n' "$RF_RECIPE_DIR/$1" ;; esac; }

rf_file() { # SRC DST [MODE]
  local s; s=$(_rf_src "$1")
  [ -f "$s" ] || rf_die "missing recipe file $s"
  RF_OPN=$((RF_OPN + 1))
  cp "$s" "$RF_WORK/ops/$RF_OPN"
  _rf_op "F $RF_OPN ${3:-0644} $2"
}

rf_text() { # DST [MODE] <content on stdin>
  RF_OPN=$((RF_OPN + 1))
  cat > "$RF_WORK/ops/$RF_OPN"
  _rf_op "F $RF_OPN ${2:-0644} $1"
}

rf_link() { _rf_op "L $1 $2"; }
rf_dir() { _rf_op "D ${2:-0755} $1"; }

# Base /etc/passwd and /etc/group; rf_users [PASSWD-LINE|GROUP-LINE ...] writes
# them with extra entries (a line with 7 fields goes to passwd, 4 to group).
RF_PASSWD='root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'
RF_GROUP='root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
www-data:x:33:
users:x:100:
nogroup:x:65534:'
rf_users() {
  local pw=$RF_PASSWD gr=$RF_GROUP l n
  for l in "$@"; do
    n=$(awk -F: '{print NF}' <<< "$l")
    if [ "$n" = 7 ]; then pw+=$'\n'"$l"; else gr+=$'\n'"$l"; fi
  done
  rf_text /etc/passwd <<< "$pw"
  rf_text /etc/group <<< "$gr"
}

rf_skeleton() {
  rf_dir /usr/bin; rf_dir /usr/sbin; rf_dir /usr/lib; rf_dir /usr/lib64
  rf_link usr/bin /bin; rf_link usr/sbin /sbin; rf_link usr/lib /lib; rf_link usr/lib64 /lib64
  rf_dir /etc; rf_dir /root 0700; rf_dir /tmp 1777; rf_dir /var/tmp 1777
  rf_dir /home; rf_dir /proc; rf_dir /sys; rf_dir /dev; rf_dir /run; rf_dir /mnt
  rf_dir /var/log; rf_dir /var/cache; rf_dir /var/lib; rf_dir /usr/local/bin; rf_dir /opt
  rf_users
  rf_text /etc/shadow 0640 <<'EOF'
root:*:19000:0:99999:7:::
EOF
  rf_text /etc/nsswitch.conf <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
EOF
  rf_text /etc/hosts <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF
  [ -f /etc/protocols ] && rf_path /etc/protocols
  [ -f /etc/services ] && rf_path /etc/services
  return 0
}

# CA bundle so that TLS clients (curl, git, docker, node) work inside.
rf_ca_certs() {
  rf_path /etc/ssl/certs/ca-certificates.crt
  rf_link /etc/ssl/certs/ca-certificates.crt /etc/ssl/cert.pem
}

rf_apk_installed() { local n; for n in "$@"; do _rf_op "I $n"; done; }

rf_apk() { # NAME CMD... (CMD is eval'ed with declarations going to the package)
  local name=$1; shift
  local saved=$RF_CTX
  RF_CTX=apk-$name
  RF_CTXS+=("$RF_CTX")
  : > "$RF_WORK/$RF_CTX.req"; : > "$RF_WORK/$RF_CTX.elf"; : > "$RF_WORK/$RF_CTX.ops"
  eval "$*"
  RF_CTX=$saved
  _rf_op "P $name"
}

# ---------------------------------------------------------------- resolution
# Filter a path list (stdin) down to ELF files (magic \177ELF), in one process.
_rf_only_elf() {
  perl -ne 'chomp; next unless -f $_; open(my $f, "<", $_) or next; my $m; read($f, $m, 4); print "$_\n" if $m eq "\177ELF"'
}

# Canonical host path list (one per line) for context $1, written to $RF_WORK/$1.paths.
_rf_resolve() {
  local ctx=$1
  local -A seen=()
  local -a pending=() out=()
  local libs
  # ldd closure of the ELF requests (ldd handles many files in one run)
  if [ -s "$RF_WORK/$ctx.elf" ]; then
    libs=$(sort -u "$RF_WORK/$ctx.elf" | _rf_only_elf | xargs -r -d '\n' -n 40 -P 4 ldd 2>/dev/null \
           | awk '/=> \// {print $3} /^[ \t]+\/[^ ]+ \(0x/ {print $1}' | sort -u)
  else
    libs=""
  fi
  mapfile -t pending < <({ cat "$RF_WORK/$ctx.req"; [ -n "$libs" ] && printf '%s\n' "$libs"; } | sort -u)
  while [ "${#pending[@]}" -gt 0 ]; do
    # canonicalise the directories of all pending paths in one realpath run
    local -a dirs=() canon=() next=()
    local i p d t
    for p in "${pending[@]}"; do d=${p%/*}; dirs+=("${d:-/}"); done
    mapfile -t canon < <(realpath -m -- "${dirs[@]}")
    [ "${#canon[@]}" -eq "${#pending[@]}" ] || rf_die "realpath failed"
    # symlink targets of all pending paths in one find run ("" for non-links)
    local -a cpaths=() targets=()
    for i in "${!pending[@]}"; do
      d=${canon[$i]}; [ "$d" = / ] && d=""
      cpaths+=("$d/${pending[$i]##*/}")
    done
    mapfile -t targets < <(find "${cpaths[@]}" -maxdepth 0 -printf '%l\n' 2>/dev/null)
    [ "${#targets[@]}" -eq "${#cpaths[@]}" ] || {
      for p in "${cpaths[@]}"; do [ -e "$p" ] || [ -L "$p" ] || rf_die "missing host path $p"; done
      rf_die "find failed"; }
    for i in "${!cpaths[@]}"; do
      p=${cpaths[$i]}
      [ -n "${seen[$p]:-}" ] && continue
      seen[$p]=1
      out+=("$p")
      t=${targets[$i]}
      if [ -n "$t" ]; then
        case "$t" in /*) ;; *) t="${p%/*}/$t" ;; esac
        next+=("$t")
      fi
    done
    pending=("${next[@]}")
  done
  if [ "${#out[@]}" -gt 0 ]; then printf '%s\n' "${out[@]}" | sort -u; fi > "$RF_WORK/$ctx.paths"
  # package contexts leave out what the image itself already has
  if [ "$ctx" != main ] && [ -s "$RF_WORK/main.paths" ]; then
    comm -23 "$RF_WORK/$ctx.paths" "$RF_WORK/main.paths" > "$RF_WORK/$ctx.paths.new"
    mv "$RF_WORK/$ctx.paths.new" "$RF_WORK/$ctx.paths"
  fi
}

# Fingerprint of the declared content: canonical paths with size+mtime, ops
# with the content of recipe files. Prints a sha256.
rf_fingerprint() {
  local ctx
  for ctx in "${RF_CTXS[@]}"; do _rf_resolve "$ctx" || return 1; done
  {
    for ctx in "${RF_CTXS[@]}"; do
      echo "== $ctx"
      xargs -r -d '\n' stat -c '%n %s %Y %a %F' < "$RF_WORK/$ctx.paths"
      cat "$RF_WORK/$ctx.ops"
    done
    (cd "$RF_WORK/ops" && find . -type f -print0 | sort -z | xargs -r -0 sha256sum)
  } | sha256sum | cut -c1-64
}

# /bin/x -> /usr/bin/x etc.: ops always write below /usr, never through (or
# over) the merged-/usr links, which a layered image inherits from its base.
_rf_canon() {
  case "$1" in
    /bin/*|/sbin/*|/lib/*|/lib64/*) printf '/usr%s' "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}

# Copy the host paths and apply the ops of context $1 into directory $2.
_rf_apply() {
  local ctx=$1 dst=$2 line op a b c
  mkdir -p "$dst"
  if [ -s "$RF_WORK/$ctx.paths" ]; then
    sed 's|^/||' "$RF_WORK/$ctx.paths" \
      | tar -C / --no-recursion -cf - -T - | tar -C "$dst" -xpf -
  fi
  while IFS= read -r line; do
    read -r op a b c <<< "$line"
    case "$op" in D|L) b=$(_rf_canon "$b") ;; F) c=$(_rf_canon "$c") ;; esac
    case "$op" in
      D) mkdir -p "$dst$b"; chmod "$a" "$dst$b" ;;
      L) [ -d "$dst${b%/*}" ] || mkdir -p "$dst${b%/*}"
         if [ -e "$dst$b" ] || [ -L "$dst$b" ]; then rm -rf "${dst:?}$b"; fi
         ln -s "$a" "$dst$b" ;;
      F) mkdir -p "$(dirname "$dst$c")"; rm -f "$dst$c"; cp "$RF_WORK/ops/$a" "$dst$c"; chmod "$b" "$dst$c" ;;
      I) mkdir -p "$dst/usr/lib/apk/db"; echo "$a" >> "$dst/usr/lib/apk/db/runnel-installed" ;;
      P) local sub="$RF_WORK/stage-apk-$a"
         _rf_apply "apk-$a" "$sub"
         mkdir -p "$dst/usr/share/runnel-apk"
         tar -C "$sub" --numeric-owner -cf - . | gzip -1 > "$dst/usr/share/runnel-apk/$a.tar.gz"
         rm -rf "$sub" ;;
      *) rf_die "bad op: $line" ;;
    esac
  done < "$RF_WORK/$ctx.ops"
}

# Build the staging root filesystem for everything declared (after rf_fingerprint,
# which resolves the paths). Prints the staging directory.
rf_materialize() {
  local stage="$RF_WORK/rootfs"
  rm -rf "$stage"
  _rf_apply main "$stage"
  printf '%s\n' "$stage"
}
