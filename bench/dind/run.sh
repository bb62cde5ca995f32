#!/usr/bin/env bash
# bench/dind/run.sh — Docker-in-Docker jobs end to end: runnel against gitlab-ci-local (`gcl`)
# and against the FLOOR (the same job done by hand with plain docker commands), side by side in
# one run: RUNS rounds, the tools interleaved (the order rotates every round, so a load change
# on the machine hits every side alike), medians, differences and ratios, a Markdown table.
#
#   bench/dind/run.sh [-n RUNS] [-b RUNNEL_BINARY]
#   BENCH_GCL=0        skip gitlab-ci-local even when installed
#   BENCH_SECTIONS=... any of "plain tls cache" (default: all three)
#   BENCH_BASE=auto    base of the Dockerfiles built in DinD: `mirror` (FROM busybox, pulled by
#                      the inner daemon from the runnel-mirror registry), `scratch` (FROM scratch
#                      + a static busybox in the build context: no registry at all), or `auto`:
#                      mirror when a preflight `docker pull busybox` inside a dind works, else
#                      scratch (noted in the output)
#
# The job (a reduced examples/basic-dind build): image docker:24, service docker:24-dind,
#   echo BENCH_T0=<uptime>; docker build -q -t bench-app . (FROM busybox, see BENCH_BASE);
#   docker run --rm bench-app; echo BENCH_T1=...
# The uptime markers (/proc/uptime is not namespaced: the same clock in every container and
# on the host) split every run into pre (command start -> first script line), body (the
# script) and post (last script line -> command exit), for all three tools alike.
#
# Sections and the targets of issue 4:
#   plain  DOCKER_HOST tcp://docker:2375, DOCKER_TLS_CERTDIR "":   runnel <= floor + 0.15 s
#   tls    tcp://docker:2376, DOCKER_TLS_CERTDIR /certs, DOCKER_TLS_VERIFY 1,
#          DOCKER_CERT_PATH /certs/client:                          runnel TLS <= runnel plain + 0.5 s
#          (runnel shares /certs/client by itself; gcl gets `--volume %gcl-cert%:/certs/client`,
#          its per-job certificate volume; the floor a named volume on both containers)
#   ready  runnel --timings column `ready>script` (ms, daemon answering /_ping -> first script
#          line; "n/a" while runnel has no such column):           <= 50 ms
#   cache  --dind-cache, a Dockerfile of 4 RUN steps of 1 s + a COPY: cold (the bench
#          project's cache volume removed first) vs warm unchanged rebuild:
#                                                                   warm build <= 10 % of cold
#          (the floor: a named volume on the dind's /var/lib/docker, removed for cold)
#
# The floor: docker network create; docker run -d --privileged docker:24-dind with the alias
# `docker`; poll /_ping from the host on the container's IP every 50 ms (curl; TLS with the
# client certificates read from the shared volume); docker run --rm the job container with the
# same script (the project bind-mounted); docker rm -f -v the dind, network rm, volume rm.
# Everything the floor creates carries the label runnel.bench-dind=<this run>, and is removed
# on exit, Ctrl-C included. The bench's --dind-cache volumes (project slug runnel-bench-dind-*)
# are removed too. (`runnel cache clear` is not used for "cold": it removes every unused
# runnel.dind-cache volume on the machine, other projects' included.)
set -euo pipefail

RUNS=5
HERE=$(cd "$(dirname "$0")" && pwd)
RUNNEL=${RUNNEL_BIN:-$HERE/../../build/src/runnel}
while getopts n:b:h o; do
	case $o in
	n) RUNS=$OPTARG ;;
	b) RUNNEL=$OPTARG ;;
	*) sed -n '2,43p' "$0"; exit 2 ;;
	esac
done
case $RUNNEL in /*) ;; *) RUNNEL=$(pwd)/$RUNNEL ;; esac
SECTIONS=${BENCH_SECTIONS:-plain tls cache}
JOB_IMAGE=docker:24
DIND_IMAGE=docker:24-dind

die() { echo "dind/run.sh: $*" >&2; exit 2; }
[ -x "$RUNNEL" ] || die "no runnel binary at $RUNNEL (use -b)"
for img in $JOB_IMAGE $DIND_IMAGE; do
	docker image inspect "$img" >/dev/null 2>&1 || die "image $img missing (bash scripts/build-images.sh)"
done
command -v curl >/dev/null || die "curl is needed (the floor polls /_ping with it)"
GCL=
if [ "${BENCH_GCL:-1}" != 0 ]; then
	for c in gcl gitlab-ci-local; do
		if command -v "$c" >/dev/null 2>&1; then GCL=$c; break; fi
	done
fi

ID=$$-$(date +%s)
LABEL=runnel.bench-dind=$ID
CACHE_SLUG=runnel-bench-dind-$$ # CI_PROJECT_PATH_SLUG of the cache project
TMP=$(mktemp -d "${TMPDIR:-/tmp}/runnel-bench-dind.XXXXXX")
export NO_COLOR=1 FORCE_COLOR=0 GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.org GIT_COMMITTER_NAME=b \
	GIT_COMMITTER_EMAIL=b@example.org

cleanup() {
	local ids
	ids=$(docker ps -aq --filter "label=$LABEL" 2>/dev/null || true)
	[ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1 || true
	ids=$(docker network ls -q --filter "label=$LABEL" 2>/dev/null || true)
	[ -z "$ids" ] || docker network rm $ids >/dev/null 2>&1 || true
	ids=$(docker volume ls -q --filter "label=$LABEL" 2>/dev/null || true)
	[ -z "$ids" ] || docker volume rm -f $ids >/dev/null 2>&1 || true
	drop_cache_volumes
	rm -rf "$TMP"
}
# the bench project's --dind-cache volumes (runnel-dind-cache-<slug>-<slot>) and lock files
drop_cache_volumes() {
	local v
	for v in $(docker volume ls -q --filter label=runnel.dind-cache=1 2>/dev/null); do
		case $v in runnel-dind-cache-$CACHE_SLUG-*) docker volume rm -f "$v" >/dev/null 2>&1 || true ;; esac
	done
	rm -f "${XDG_CACHE_HOME:-$HOME/.cache}/runnel/dind-cache/$CACHE_SLUG"-*.lock 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
up() { cut -d' ' -f1 /proc/uptime; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
fmt_diff() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "n/a" || b == "n/a") print "n/a"; else printf "%+.2f s", a - b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "n/a" || b == "n/a" || b <= 0) print "n/a"; else printf "%.2f", a / b}'; }
s2() { awk -v a="$1" 'BEGIN {if (a == "n/a" || a == "") print "n/a"; else printf "%.2f s", a}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- the projects ----

# project NAME HOST_VARS...: a git repository with the Dockerfile and a .gitlab-ci.yml whose
# job has the given variables (lines "KEY: VALUE")
SCRIPT_LINES='    - echo "BENCH_T0=$(cut -d" " -f1 /proc/uptime)"
    - docker build -q -t bench-app .
    - docker run --rm bench-app
    - echo "BENCH_T1=$(cut -d" " -f1 /proc/uptime)"'
# the same script for the floor's `sh -c`
FLOOR_SCRIPT='set -e
echo "BENCH_T0=$(cut -d" " -f1 /proc/uptime)"
docker build -q -t bench-app .
docker run --rm bench-app
echo "BENCH_T1=$(cut -d" " -f1 /proc/uptime)"'
CACHE_SCRIPT_LINES='    - echo "BENCH_T0=$(cut -d" " -f1 /proc/uptime)"
    - docker build -q -t bench-cache .
    - echo "BENCH_T1=$(cut -d" " -f1 /proc/uptime)"'
CACHE_FLOOR_SCRIPT='set -e
echo "BENCH_T0=$(cut -d" " -f1 /proc/uptime)"
docker build -q -t bench-cache .
echo "BENCH_T1=$(cut -d" " -f1 /proc/uptime)"'

project() { # project DIR REMOTE_PATH SCRIPT_LINES VARIABLE_LINES
	local d=$1
	mkdir -p "$d"
	{
		printf 'build:\n  image: %s\n  services:\n    - %s\n  variables:\n' "$JOB_IMAGE" "$DIND_IMAGE"
		printf '%s\n' "$4" | sed 's/^/    /'
		printf '  script:\n%s\n' "$3"
	} >"$d/.gitlab-ci.yml"
	(cd "$d" && git init -q -b main . && git add -A && git commit -q -m bench &&
		git remote add origin "git@gitlab.com:$2.git")
}
PLAIN_VARS='DOCKER_HOST: tcp://docker:2375
DOCKER_TLS_CERTDIR: ""'
TLS_VARS='DOCKER_HOST: tcp://docker:2376
DOCKER_TLS_CERTDIR: "/certs"
DOCKER_TLS_VERIFY: 1
DOCKER_CERT_PATH: "/certs/client"'

# preflight: can a dind pull its FROM through the mirror?
mirror_works() {
	local n=rbd-$ID-probe i=0 ok=1
	docker network create --label "$LABEL" "$n" >/dev/null
	docker run -d --privileged --label "$LABEL" --name "$n" --network "$n" \
		-e DOCKER_TLS_CERTDIR= "$DIND_IMAGE" >/dev/null
	until docker exec "$n" docker version >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 150 ] || break
		sleep 0.2
	done
	docker exec "$n" timeout 30 docker pull -q busybox >/dev/null 2>&1 || ok=0
	docker rm -f -v "$n" >/dev/null
	docker network rm "$n" >/dev/null
	[ $ok = 1 ]
}
BASE=${BENCH_BASE:-auto}
if [ "$BASE" = auto ]; then
	if mirror_works; then BASE=mirror; else
		BASE=scratch
		echo "note: docker pull busybox fails inside docker:24-dind (the runnel-mirror registry is" \
			"not reachable from the dind's network): building FROM scratch + a static busybox" >&2
	fi
fi
# dockerfile DIR "RUN-COMMAND"...: FROM the base, one RUN per argument ("COPY ..." verbatim),
# CMD printing /msg
dockerfile() {
	local d=$1 c
	shift
	mkdir -p "$d"
	if [ "$BASE" = scratch ]; then
		local cid
		cid=$(docker create --label "$LABEL" busybox:latest)
		docker cp -q "$cid:/bin/busybox" "$d/busybox"
		docker rm "$cid" >/dev/null
		printf 'FROM scratch\nCOPY busybox /bin/busybox\n' >"$d/Dockerfile"
	else
		printf 'FROM busybox\n' >"$d/Dockerfile"
	fi
	for c in "$@"; do
		case $c in
		COPY*) echo "$c" ;;
		*) if [ "$BASE" = scratch ]; then
			printf 'RUN ["/bin/busybox", "sh", "-c", "%s"]\n' "$c"
		else
			printf 'RUN %s\n' "$c"
		fi ;;
		esac
	done >>"$d/Dockerfile"
	if [ "$BASE" = scratch ]; then
		echo 'CMD ["/bin/busybox", "cat", "/msg"]' >>"$d/Dockerfile"
	else
		echo 'CMD ["cat", "/msg"]' >>"$d/Dockerfile"
	fi
}
dockerfile "$TMP/plain" 'echo built > /msg'
dockerfile "$TMP/tls" 'echo built > /msg'
project "$TMP/plain" bench/dind-plain "$SCRIPT_LINES" "$PLAIN_VARS"
project "$TMP/tls" bench/dind-tls "$SCRIPT_LINES" "$TLS_VARS"
mkdir -p "$TMP/cache"
printf 'hello\n' >"$TMP/cache/msg.txt"
# (/bin/busybox sh: in the scratch image there is no /bin/sh for the shell form of RUN)
dockerfile "$TMP/cache" 'sleep 1 && echo one > /one' 'sleep 1 && echo two > /two' \
	'sleep 1 && echo three > /three' 'COPY msg.txt /msg.txt' \
	'sleep 1 && cat /one /two /three /msg.txt > /msg'
project "$TMP/cache" "runnel-bench/dind-$$" "$CACHE_SCRIPT_LINES" "$PLAIN_VARS"

# ---- one run of each side ----
# Every run appends "wall pre body post ok" to $TMP/<side>.runs; runnel runs append their
# --timings columns ("name=value ...") to $TMP/<side>.timings.

# record SIDE START_EPOCH START_UPTIME END_EPOCH END_UPTIME OUTPUT_FILE RC
record() {
	local side=$1 s=$2 su=$3 e=$4 eu=$5 out=$6 rc=$7 t0 t1 pre=n/a body=n/a post=n/a
	t0=$(sed -n 's/.*BENCH_T0=\([0-9][0-9.]*\).*/\1/p' "$out" | tail -1)
	t1=$(sed -n 's/.*BENCH_T1=\([0-9][0-9.]*\).*/\1/p' "$out" | tail -1)
	if [ -n "$t0" ] && [ -n "$t1" ]; then
		pre=$(sub "$t0" "$su") body=$(sub "$t1" "$t0") post=$(sub "$eu" "$t1")
	fi
	local ok=1
	[ "$rc" = 0 ] && [ -n "$t1" ] || ok=0
	if [ $ok = 0 ]; then
		echo "  $side: FAILED (exit $rc); output kept in $TMP/failed-$side-$(basename "$out")" >&2
		cp "$out" "$TMP/failed-$side-$(basename "$out")" 2>/dev/null || true
		tail -5 "$out" | sed 's/^/    /' >&2
	fi
	echo "$(sub "$e" "$s") $pre $body $post $ok" >>"$TMP/$side.runs"
}

# timed SIDE DIR CMD...: runs CMD in DIR, output to a file, and records it
timed() {
	local side=$1 dir=$2 out s su e eu rc=0
	shift 2
	out=$TMP/out.$side.$(date +%s%N)
	s=$(now) su=$(up)
	(cd "$dir" && "$@") >"$out" 2>&1 || rc=$?
	# Ctrl-C reaches the tools too; runnel exits 130 by itself, and bash then skips the INT
	# trap (the child "handled" the signal): stop here, the EXIT trap cleans up
	case $rc in 130 | 143) exit "$rc" ;; esac
	e=$(now) eu=$(up)
	record "$side" "$s" "$su" "$e" "$eu" "$out" "$rc"
	LAST_OUT=$out
}

# runnel's --timings table: the header line holding "total", then the job's row
timings_of() { # OUTPUT_FILE SIDE
	awk '$1 == "JOB" && / total/ {n = NF; for (i = 2; i <= NF; i++) h[i] = $i; getline;
		line = ""; for (i = 2; i <= n; i++) line = line h[i] "=" $i " "; print line; exit}' "$1" \
		>>"$TMP/$2.timings"
}

runnel_side() { # SIDE DIR EXTRA_ARGS...
	local side=$1 dir=$2
	shift 2
	timed "$side" "$dir" "$RUNNEL" run --privileged --timings "$@"
	timings_of "$LAST_OUT" "$side"
}

gcl_side() { # SIDE DIR EXTRA_ARGS...
	local side=$1 dir=$2
	shift 2
	timed "$side" "$dir" "$GCL" --privileged "$@" build
	rm -rf "$dir/.gitlab-ci-local"
}

# The floor: MODE plain|tls, DIR, SCRIPT, [DIND_VOLUME for /var/lib/docker]
floor_job() {
	local mode=$1 dir=$2 script=$3 vol=${4:-} n ip port env_args=() dind_args=() ca i
	n=rbd-$ID-$RANDOM
	docker network create --label "$LABEL" "$n" >/dev/null
	if [ "$mode" = tls ]; then
		docker volume create --label "$LABEL" "$n-certs" >/dev/null
		dind_args=(-e DOCKER_TLS_CERTDIR=/certs -v "$n-certs:/certs/client")
		env_args=(-e DOCKER_HOST=tcp://docker:2376 -e DOCKER_TLS_VERIFY=1
			-e DOCKER_CERT_PATH=/certs/client -v "$n-certs:/certs/client")
		port=2376
	else
		dind_args=(-e DOCKER_TLS_CERTDIR=)
		env_args=(-e DOCKER_HOST=tcp://docker:2375)
		port=2375
	fi
	[ -z "$vol" ] || dind_args+=(-v "$vol:/var/lib/docker")
	docker run -d --privileged --label "$LABEL" --name "$n-dind" --network "$n" \
		--network-alias docker "${dind_args[@]}" "$DIND_IMAGE" >/dev/null
	ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$n\").IPAddress}}" "$n-dind")
	ca=
	if [ "$mode" = tls ]; then
		ca=$(docker volume inspect -f '{{.Mountpoint}}' "$n-certs")
		[ -r "$ca" ] || { mkdir -p "$TMP/$n"; ca=$TMP/$n; }
	fi
	i=0
	while :; do
		if [ "$mode" = tls ]; then
			[ "$ca" != "$TMP/$n" ] || docker cp -q "$n-dind:/certs/client/." "$ca" >/dev/null 2>&1 || true
			[ -s "$ca/key.pem" ] && curl -fsS -m 2 --cacert "$ca/ca.pem" --cert "$ca/cert.pem" \
				--key "$ca/key.pem" "https://$ip:$port/_ping" >/dev/null 2>&1 && break
		else
			curl -fsS -m 2 "http://$ip:$port/_ping" >/dev/null 2>&1 && break
		fi
		i=$((i + 1))
		[ $i -lt 1200 ] || { echo "floor: dind never answered" >&2; break; }
		sleep 0.05
	done
	echo "BENCH_READY=$(up)"
	docker run --rm --label "$LABEL" --network "$n" "${env_args[@]}" \
		-v "$dir:/builds/bench" -w /builds/bench "$JOB_IMAGE" sh -c "$script"
	local rc=$?
	docker rm -f -v "$n-dind" >/dev/null
	docker network rm "$n" >/dev/null
	[ "$mode" != tls ] || docker volume rm "$n-certs" >/dev/null
	return $rc
}
floor_side() { # SIDE MODE DIR SCRIPT [VOLUME]
	local side=$1
	shift
	timed "$side" "$2" floor_job "$@"
	# the floor's own ready>script: daemon answering -> first script line (ms)
	local r t0
	r=$(sed -n 's/^BENCH_READY=//p' "$LAST_OUT")
	t0=$(sed -n 's/.*BENCH_T0=\([0-9][0-9.]*\).*/\1/p' "$LAST_OUT" | tail -1)
	[ -z "$r" ] || [ -z "$t0" ] || awk -v a="$t0" -v b="$r" 'BEGIN {printf "%.0f\n", (a - b) * 1000}' >>"$TMP/$side.ready"
}

# ---- statistics ----

col() { # SIDE N: median of column N of the side's runs (successful ones)
	[ -s "$TMP/$1.runs" ] || { echo n/a; return; }
	awk -v c="$2" '$5 == 1 && $c != "n/a" {print $c}' "$TMP/$1.runs" | median
}
range() { # SIDE: "min-max" of the wall times of the successful runs
	[ -s "$TMP/$1.runs" ] || { echo n/a; return; }
	awk '$5 == 1 {print $1}' "$TMP/$1.runs" | sort -g | awk 'NR == 1 {a = $1} {b = $1} END {if (NR) printf "%.2f-%.2f", a, b; else print "n/a"}'
}
fails() { [ -s "$TMP/$1.runs" ] && awk '$5 == 0' "$TMP/$1.runs" | wc -l || echo 0; }
tcol() { # SIDE NAME: median of a --timings column
	[ -s "$TMP/$1.timings" ] || { echo n/a; return; }
	local v
	v=$(tr ' ' '\n' <"$TMP/$1.timings" | sed -n "s/^$2=//p" | median)
	echo "${v:-n/a}"
}
tnames() { head -1 "$TMP/$1.timings" 2>/dev/null | tr ' ' '\n' | sed -n 's/=.*//p'; }

# rounds SIDE_FN...: RUNS rounds; round i starts with the i-th function (rotation)
rounds() {
	local fns=("$@") i=0 j k
	k=${#fns[@]}
	while [ $i -lt "$RUNS" ]; do
		printf '  round %d/%d (load %s)\n' $((i + 1)) "$RUNS" "$(load)" >&2
		for ((j = 0; j < k; j++)); do
			"${fns[$(((i + j) % k))]}"
		done
		i=$((i + 1))
	done
}

row() { # LABEL SIDE [REF_SIDE]
	local w pre body post f ref
	w=$(col "$2" 1) pre=$(col "$2" 2) body=$(col "$2" 3) post=$(col "$2" 4) f=$(fails "$2")
	if [ -n "${3:-}" ]; then
		ref=$(col "$3" 1)
		echo "| $1 | $(s2 "$w") | $(range "$2") | $(fmt_diff "$w" "$ref") | $(ratio "$w" "$ref") | $(s2 "$pre") | $(s2 "$body") | $(s2 "$post") | $f |"
	else
		echo "| $1 | $(s2 "$w") | $(range "$2") | | | $(s2 "$pre") | $(s2 "$body") | $(s2 "$post") | $f |"
	fi
}
HEAD='| side | wall (median) | min-max | vs floor | ratio | pre: start -> 1st script line | script | post: last line -> exit | failed runs |
|---|---|---|---|---|---|---|---|---|'

# ---- sections ----

s_floor_plain() { floor_side floor-plain plain "$TMP/plain" "$FLOOR_SCRIPT"; }
s_runnel_plain() { runnel_side runnel-plain "$TMP/plain"; }
s_gcl_plain() { gcl_side gcl-plain "$TMP/plain"; }
s_floor_tls() { floor_side floor-tls tls "$TMP/tls" "$FLOOR_SCRIPT"; }
s_runnel_tls() { runnel_side runnel-tls "$TMP/tls"; }
s_gcl_tls() { gcl_side gcl-tls "$TMP/tls" --volume %gcl-cert%:/certs/client; }

CACHE_VOL=rbd-$ID-floor-cache
s_cache_runnel() {
	drop_cache_volumes
	runnel_side runnel-cold "$TMP/cache" --dind-cache
	runnel_side runnel-warm "$TMP/cache" --dind-cache
}
s_cache_floor() {
	docker volume rm -f "$CACHE_VOL" >/dev/null 2>&1 || true
	docker volume create --label "$LABEL" "$CACHE_VOL" >/dev/null
	floor_side floor-cold plain "$TMP/cache" "$CACHE_FLOOR_SCRIPT" "$CACHE_VOL"
	floor_side floor-warm plain "$TMP/cache" "$CACHE_FLOOR_SCRIPT" "$CACHE_VOL"
}

echo "# DinD benchmark: $RUNS runs per figure (median), $(nproc) CPUs, docker $(docker version -f '{{.Server.Version}}' 2>/dev/null)," \
	"$("$RUNNEL" --version 2>/dev/null | head -1)${GCL:+, gitlab-ci-local $("$GCL" --version 2>/dev/null | tail -1)}"
echo "load average at start: $(load); Dockerfiles built FROM $([ "$BASE" = scratch ] && echo 'scratch + static busybox (no registry)' || echo 'busybox (pulled by the dind from runnel-mirror)')"

want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

# plain and TLS in the same rounds: their difference is a target, and the machine's load drifts
fns=()
if want plain; then
	fns+=(s_floor_plain s_runnel_plain)
	[ -z "$GCL" ] || fns+=(s_gcl_plain)
fi
if want tls; then
	fns+=(s_floor_tls s_runnel_tls)
	[ -z "$GCL" ] || fns+=(s_gcl_tls)
fi
if [ ${#fns[@]} -gt 0 ]; then
	echo "sections plain/tls..." >&2
	rounds "${fns[@]}"
fi
if want cache; then
	echo "section cache..." >&2
	rounds s_cache_runnel s_cache_floor
fi
LOAD_END=$(load)

if want plain || want tls; then
	echo
	echo "## (1) plain DinD (tcp://docker:2375) and (2) TLS DinD (tcp://docker:2376, /certs/client)"
	echo
	echo "$HEAD"
	if want plain; then
		row "floor, plain" floor-plain
		row "runnel, plain" runnel-plain floor-plain
		[ -z "$GCL" ] || row "gcl --privileged, plain" gcl-plain floor-plain
	fi
	if want tls; then
		row "floor, TLS" floor-tls
		row "runnel, TLS" runnel-tls floor-tls
		[ -z "$GCL" ] || row "gcl --privileged --volume %gcl-cert%:/certs/client, TLS" gcl-tls floor-tls
	fi
	echo
	echo "| target | measured | met |"
	echo "|---|---|---|"
	met() { awk -v v="$1" -v l="$2" 'BEGIN {if (v == "n/a") print "n/a"; else print (v <= l ? "yes" : "no")}'; }
	if want plain; then
		d=$(awk -v a="$(col runnel-plain 1)" -v b="$(col floor-plain 1)" 'BEGIN {if (a == "n/a" || b == "n/a") print "n/a"; else printf "%.3f", a - b}')
		echo "| plain DinD within 0.15 s of the floor | runnel - floor = ${d} s | $(met "$d" 0.15) |"
	fi
	if want plain && want tls; then
		d=$(awk -v a="$(col runnel-tls 1)" -v b="$(col runnel-plain 1)" 'BEGIN {if (a == "n/a" || b == "n/a") print "n/a"; else printf "%.3f", a - b}')
		f=$(awk -v a="$(col floor-tls 1)" -v b="$(col floor-plain 1)" 'BEGIN {if (a == "n/a" || b == "n/a") print "n/a"; else printf "%.3f", a - b}')
		echo "| TLS within 0.5 s of plain | runnel TLS - plain = ${d} s (floor: ${f} s) | $(met "$d" 0.5) |"
	fi
	if want plain; then
		r=$(tcol runnel-plain 'ready>script')
		[ "$r" = n/a ] || r="$r ms"
		echo "| script start within 50 ms of the daemon answering | runnel ready>script (plain) = $r; floor (docker run of the job container) = $(median 2>/dev/null <"$TMP/floor-plain.ready" || echo n/a) ms | $(met "${r% ms}" 50) |"
	fi
fi

if want cache; then
	echo
	echo "## (4) --dind-cache: cold vs warm unchanged rebuild (4 RUN steps of 1 s + COPY)"
	echo
	echo "| side | wall (median) | min-max | docker build (script) | pre | post | failed runs |"
	echo "|---|---|---|---|---|---|---|"
	for s in runnel-cold runnel-warm floor-cold floor-warm; do
		echo "| $s | $(s2 "$(col $s 1)") | $(range $s) | $(s2 "$(col $s 3)") | $(s2 "$(col $s 2)") | $(s2 "$(col $s 4)") | $(fails $s) |"
	done
	echo
	echo "warm/cold docker build: runnel $(ratio "$(col runnel-warm 3)" "$(col runnel-cold 3)") (target <= 0.10)," \
		"floor $(ratio "$(col floor-warm 3)" "$(col floor-cold 3)"); warm/cold whole job: runnel" \
		"$(ratio "$(col runnel-warm 1)" "$(col runnel-cold 1)")"
fi

echo
echo "## runnel --timings (medians, seconds; ready>script in ms)"
echo
for s in runnel-plain runnel-tls runnel-cold runnel-warm; do
	[ -s "$TMP/$s.timings" ] || continue
	names=$(tnames "$s")
	if [ -z "${printed_head:-}" ]; then
		echo "| run | $(echo $names | sed 's/ / | /g') | total - sum (services: create, start, wait; run setup) |"
		echo "|---$(for _ in $names; do printf '|---'; done)|---|"
		printed_head=1
	fi
	line="| $s |"
	sum=0
	for nm in $names; do
		v=$(tcol "$s" "$nm")
		line="$line $v |"
		case $nm in total | 'ready>script') ;; *) sum=$(awk -v a="$sum" -v b="$v" 'BEGIN {print a + (b == "n/a" ? 0 : b)}') ;; esac
	done
	echo "$line $(sub "$(tcol "$s" total)" "$sum") |"
done
[ -n "${printed_head:-}" ] || echo "(no runnel timings)"
echo
echo "load average at end: $LOAD_END"
