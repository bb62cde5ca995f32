#!/usr/bin/env bash
# Network-include benchmark: a pipeline of 20 remote: and 5 project: includes (each a file of 5
# jobs extending a hidden job of the main file) served over HTTPS by the include test server
# (tests/servers/include-server.py, a test CA made here with openssl) on 127.0.0.1, every answer
# delayed by DELAY_MS (a far server's round trip). Measured, in alternating rounds so the
# machine's drift hits every figure alike:
#   offline  runnel list with --include-dir holding the same 25 files (no network at all)
#   cold     runnel list with an empty cache: all 25 fetched, concurrently
#   warm     runnel list with the cache filled (project: files at a commit SHA are immutable,
#            remote: files within the TTL): no request at all (the server log is checked)
#   fetch    the slowest of the 25 files fetched alone with curl (a new TLS connection each)
#   together all 25 at once with curl --parallel: what the (Python) server gives concurrently
# Medians over RUNS rounds. Targets (issue 10): cold <= 1.5 x (fetch + offline); warm <=
# offline + 2 ms. gitlab-ci-local is not run side by side: it could fetch the remote: files
# (NODE_EXTRA_CA_CERTS for the test CA) but fetches project: includes with `git archive` over
# ssh, which this server does not speak, so there is no like-for-like figure.
#
#   bench/includes/run.sh [RUNNEL] [RUNS]
#   DELAY_MS=100   the server's delay per answer
# Writes the table to stdout and to bench/includes/RESULTS (with the date and machine).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
RUNNEL=${1:-$SRC/build/src/runnel}
RUNS=${2:-11}
DELAY_MS=${DELAY_MS:-100}
case $RUNNEL in /*) ;; *) RUNNEL=$(pwd)/$RUNNEL ;; esac
for tool in python3 openssl curl git; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is needed" >&2; exit 1; }
done
GCL=
for c in gitlab-ci-local gcl; do
	if command -v "$c" >/dev/null 2>&1; then GCL=$c; break; fi
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/runnel-bench-inc.XXXXXX")
SRV_PID=
cleanup() {
	# (set -e: a killed server's status must not stop the cleanup before rm)
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
	cd / && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$TMP"

# ---- certificates and the server ----
# EC keys: the server is Python, and RSA handshakes would make it, not runnel, the bottleneck
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 \
	-subj /CN=runnel-bench-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
	-extfile san.cnf 2>/dev/null
SHA=0123456789abcdef0123456789abcdef01234567
TOKEN=bench-token
mkdir -p www/r api/g/p/$SHA/ci p inc/project/g/p/$SHA/ci
job_file() { # job_file NAME: 5 jobs extending .base
	for j in 1 2 3 4 5; do printf '%s-%d:\n  extends: .base\n  script: [echo %s]\n' "$1" "$j" "$1"; done
}
for i in $(seq 1 20); do job_file "remote$i" >"www/r/f$i.yml"; done
for i in 1 2 3 4 5; do job_file "project$i" >"api/g/p/$SHA/ci/f$i.yml"; done
python3 "$SRC/tests/servers/include-server.py" --root "$TMP/www" --api-root "$TMP/api" \
	--token "$TOKEN" --delay-ms "$DELAY_MS" --cert srv.pem --key srv.key \
	--port-file "$TMP/port" --log "$TMP/server.log" 2>"$TMP/server.stderr" &
SRV_PID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
P=$(cat "$TMP/port")
BASE=https://127.0.0.1:$P

# ---- the pipeline, and the same files in the --include-dir layout ----
{
	echo "include:"
	for i in $(seq 1 20); do echo "  - remote: $BASE/r/f$i.yml"; done
	for i in 1 2 3 4 5; do
		printf '  - project: g/p\n    ref: %s\n    file: ci/f%d.yml\n' "$SHA" "$i"
	done
	printf '.base:\n  image: alpine:3.19\n  stage: test\nmain-job:\n  script: [x]\n'
} >p/.gitlab-ci.yml
(cd p && git init -q -b main . && git add -A &&
	git -c user.name=b -c user.email=b@example.org commit -q -m bench)
mkdir -p "inc/remote/127.0.0.1:$P/r"
cp www/r/*.yml "inc/remote/127.0.0.1:$P/r/"
cp api/g/p/$SHA/ci/*.yml inc/project/g/p/$SHA/ci/

export SSL_CERT_FILE=$TMP/ca.pem GITLAB_TOKEN=$TOKEN XDG_CACHE_HOME=$TMP/cache NO_COLOR=1
unset https_proxy HTTPS_PROXY http_proxy no_proxy NO_PROXY 2>/dev/null || true
V="--variable CI_SERVER_URL=$BASE"
want=$(cd p && "$RUNNEL" list --include-dir "$TMP/inc" $V | wc -l)
[ "$want" = 127 ] || { echo "offline listing: $want lines, want 127" >&2; exit 1; }

# us CMD...: wall time of CMD in p/ in microseconds (bash's clock, no extra process)
us() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	(cd p && "$@" >/dev/null 2>"$TMP/stderr") || { cat "$TMP/stderr" >&2; return 1; }
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}
# slowest: the slowest of the 25 files fetched one by one with curl, in microseconds
slowest() {
	local max=0 u t
	for u in $(seq 1 20 | sed "s|.*|$BASE/r/f&.yml|") \
		$(seq 1 5 | sed "s|.*|$BASE/api/v4/projects/g%2Fp/repository/files/ci%2Ff&.yml/raw?ref=$SHA|"); do
		t=$(curl -s -o /dev/null --cacert ca.pem -H "PRIVATE-TOKEN: $TOKEN" -w '%{time_total}' "$u")
		t=$(echo "$t * 1000000 / 1" | bc)
		[ "$t" -gt "$max" ] && max=$t
	done
	echo "$max"
}
# together: all 25 at once with curl --parallel (one process, new connections): what this
# server can give concurrently, the floor for any client
together() {
	local args=() u t0 t1
	for u in $(seq 1 20 | sed "s|.*|$BASE/r/f&.yml|") \
		$(seq 1 5 | sed "s|.*|$BASE/api/v4/projects/g%2Fp/repository/files/ci%2Ff&.yml/raw?ref=$SHA|"); do
		args+=("$u" -o /dev/null)
	done
	t0=${EPOCHREALTIME/./}
	curl -s -Z --parallel-max 50 --cacert ca.pem -H "PRIVATE-TOKEN: $TOKEN" "${args[@]}"
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}

: >rounds
us "$RUNNEL" list --include-dir "$TMP/inc" $V >/dev/null # warm-up: page cache, libcurl
for r in $(seq 1 "$RUNS"); do
	off=$(us "$RUNNEL" list --include-dir "$TMP/inc" $V)
	rm -rf "$TMP/cache"
	cold=$(us "$RUNNEL" list $V)
	n0=$(wc -l <server.log)
	warm=$(us "$RUNNEL" list $V)
	[ "$(wc -l <server.log)" = "$n0" ] || { echo "the warm run asked the server" >&2; exit 1; }
	fetch=$(slowest)
	all=$(together)
	echo "$off $cold $warm $fetch $all" >>rounds
done
med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
off=$(awk '{ print $1 }' rounds | med)
cold=$(awk '{ print $2 }' rounds | med)
warm=$(awk '{ print $3 }' rounds | med)
fetch=$(awk '{ print $4 }' rounds | med)
all=$(awk '{ print $5 }' rounds | med)
ms() { echo "scale=1; $1 / 1000" | bc -l; }
{
	echo "# bench/includes/run.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $RUNS rounds, server delay ${DELAY_MS} ms"
	echo "# runnel $("$RUNNEL" version 2>/dev/null | head -1)"
	printf '%-34s %10s\n' figure median_ms
	printf '%-34s %10s\n' "offline (--include-dir)" "$(ms "$off")"
	printf '%-34s %10s\n' "cold (empty cache, 25 fetches)" "$(ms "$cold")"
	printf '%-34s %10s\n' "warm (cache, no request)" "$(ms "$warm")"
	printf '%-34s %10s\n' "slowest single fetch (curl)" "$(ms "$fetch")"
	printf '%-34s %10s\n' "all 25 at once (curl --parallel)" "$(ms "$all")"
	printf 'cold / (slowest fetch + offline): %.2f (target <= 1.5)\n' \
		"$(echo "$cold / ($fetch + $off)" | bc -l)"
	printf 'cold / (curl --parallel + offline): %.2f (the server'"'"'s own concurrency as the floor)\n' \
		"$(echo "$cold / ($all + $off)" | bc -l)"
	printf 'warm - offline: %.1f ms (target <= 2 ms)\n' "$(echo "($warm - $off) / 1000" | bc -l)"
	printf 'sequential estimate (25 x slowest fetch + offline): %.1f ms\n' \
		"$(echo "(25 * $fetch + $off) / 1000" | bc -l)"
	echo "gitlab-ci-local${GCL:+ ($GCL)}: not measured: it fetches project: includes with git"
	echo "  archive over ssh, which the test server does not speak (no like-for-like figure)"
} | tee "$HERE/RESULTS"
