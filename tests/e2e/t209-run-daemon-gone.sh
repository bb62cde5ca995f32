#!/bin/sh
# t209: the Docker daemon dying in the middle of a job gives a clear failure naming the
# endpoint within seconds, never a hang, and the next run against the restarted daemon reaps
# what the dead one left. A second dockerd of our own is started and SIGKILLed (own data
# root, exec root, pid file and socket, its own bridge, no iptables): the shared daemon is never
# touched. Never `--bridge=none`: dockerd then deletes the host's docker0 interface, which
# belongs to the shared daemon and takes every container on its default network offline.
. "$(dirname "$0")/t200-run-lib.sh"
need_engine
command -v dockerd >/dev/null && command -v ip >/dev/null ||
	{ say "1..0 # SKIP no dockerd or ip"; exit 77; }
if [ "$(id -u)" -ne 0 ]; then
	[ "${CI:-}" = true ] && { say "Bail out! a second dockerd needs root"; exit 1; }
	say "1..0 # SKIP a second dockerd needs root"
	exit 77
fi

D2=$T_TMP/d2
SOCK=$D2/docker.sock
H=unix://$SOCK
mkdir -p "$D2"
runtime=
[ -x /usr/local/bin/runc-capfilter ] &&
	runtime='"runtimes": {"runc-capfilter": {"path": "/usr/local/bin/runc-capfilter"}},
	"default-runtime": "runc-capfilter",'
# vfs: no mounts left behind when the daemon is killed; the image is a few MB
printf '{%s "storage-driver": "vfs"}\n' "$runtime" >"$D2/daemon.json"

# Our own bridge in 10.209/16 (outside Docker's default address pools), made before the
# daemon starts (dockerd -b only uses an existing interface) and deleted at the end.
BR=rn209-$$
make_bridge() {
	ip link show "$BR" >/dev/null 2>&1 && return 0
	ip link add name "$BR" type bridge && ip addr add "10.209.$(($$ % 250)).1/24" dev "$BR" &&
		ip link set "$BR" up || { say "Bail out! cannot create bridge $BR"; exit 1; }
}
start_d2() {
	make_bridge
	setsid dockerd --config-file "$D2/daemon.json" --data-root "$D2/data" \
		--exec-root "$D2/exec" --pidfile "$D2/docker.pid" -H "$H" --bridge="$BR" \
		--iptables=false --ip-masq=false >>"$D2/log" 2>&1 </dev/null &
	i=0
	until docker -H "$H" version >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 120 ] && { say "Bail out! second dockerd did not start"; sed 's/^/#   /' "$D2/log"; exit 1; }
		sleep 0.5
	done
}
# Processes of our daemon (dockerd, containerd, shims) are found by our exec root and
# ended one by one.
d2_pids() {
	for c in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$c" | grep -qF "$D2/"; } 2>/dev/null && { d=${c%/cmdline}; echo "${d#/proc/}"; }
	done
}
# The containerd our killed dockerd had started outlives it for a while and would make the
# restarted one time out: a restarted host daemon gets a fresh containerd too.
kill_old_containerd() {
	pid=$(cat "$D2/exec/containerd/containerd.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	i=0
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
}
stop_d2() {
	pid=$(cat "$D2/docker.pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
	fi
	for p in $(d2_pids); do kill -9 "$p" 2>/dev/null; done
	# container mounts (/etc/hosts, shm...) may outlive a killed daemon
	grep -F " $D2/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
}
trap 'stop_d2; cleanup' EXIT

start_d2
docker save "$TEST_IMAGE" | docker -H "$H" load -q >/dev/null ||
	{ say "Bail out! cannot load $TEST_IMAGE into the second daemon"; exit 1; }

p=$(make_project gone <<'YML'
stages: [one, two]
sleeper:
  stage: one
  image: runnel-test/sh:latest
  script: [echo sleeper-started, sleep 60, echo sleeper-done]
  after_script: [echo after-ran]
later:
  stage: two
  image: runnel-test/sh:latest
  when: always
  script: [echo later-ran]
YML
)
OUT=$T_TMP/out.gone
(cd "$p" && DOCKER_HOST=$H RUNNEL_PROJECT_COPY=copy NO_COLOR=1 timeout 90 "$RUNNEL" run \
	>"$OUT" 2>&1; echo $? >"$T_TMP/rc.gone") &
i=0
until grep -q "^sleeper *| sleeper-started" "$OUT" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 240 ] && { fail "the job never started"; sed 's/^/#   /' "$OUT"; test_done; }
	sleep 0.25
done
kill -9 "$(cat "$D2/docker.pid")"
t0=$(date +%s)
while [ ! -s "$T_TMP/rc.gone" ] && [ $(($(date +%s) - t0)) -lt 90 ]; do sleep 0.2; done
dt=$(($(date +%s) - t0))
RC=$(cat "$T_TMP/rc.gone" 2>/dev/null || echo none)
[ "$RC" = 1 ] && pass "runnel exits 1 when the daemon dies" ||
	{ fail "exit status $RC, want 1"; sed 's/^/#   /' "$OUT"; }
[ "$dt" -le 10 ] && pass "and does so within seconds (${dt}s)" || fail "took ${dt}s after the kill"
expect "the job is a system failure naming the endpoint" \
	"^sleeper +\| ERROR: Job failed \(system failure\): .*$SOCK"
expect "the summary says why" "sleeper .*runner_system_failure"
expect "later jobs fail fast naming the endpoint too" "^later +\| ERROR: .*$SOCK"
expect_not "the script did not go on" "sleeper-done"

# The killed daemon's container is still there when it comes back (stopped).
kill_old_containerd
start_d2
left=$(docker -H "$H" ps -aq --filter label=runnel.pipeline | wc -l)
[ "$left" -ge 1 ] && pass "the dead daemon left $left container(s) behind" ||
	fail "no leftover to reap: the test proves nothing"
p2=$(make_project gone2 <<'YML'
quick:
  image: runnel-test/sh:latest
  script: [echo quick-ran]
YML
)
(cd "$p2" && DOCKER_HOST=$H NO_COLOR=1 timeout 60 "$RUNNEL" run >"$T_TMP/out.next" 2>&1)
RC=$?
OUT=$T_TMP/out.next
expect_rc "the next run works" 0
i=0
# the reaper runs beside the pipeline and is joined before exit
left=$(docker -H "$H" ps -aq --filter label=runnel.pipeline | wc -l)
nets=$(docker -H "$H" network ls -q --filter label=runnel.pipeline | wc -l)
vols=$(docker -H "$H" volume ls -q --filter label=runnel.pipeline | wc -l)
[ "$left$nets$vols" = 000 ] && pass "the next run reaped the leftovers" ||
	fail "left: $left containers, $nets networks, $vols volumes"
[ -z "$(ls "$p/.runnel/builds" 2>/dev/null)" ] && pass "no run directory left" ||
	fail "run directories left: $(ls "$p/.runnel/builds")"
test_done
