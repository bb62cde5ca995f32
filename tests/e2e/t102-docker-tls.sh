#!/bin/sh
# t102: the Docker client over tcp:// with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH with
# ca.pem/cert.pem/key.pem): a TLS-terminating proxy on 127.0.0.1 that requires a client
# certificate stands in front of the local engine's unix socket, and t100's engine tests run
# through it, hijacked attach with the stdin half-close included. Exit 77 without an engine,
# openssl or python3 (except CI=true for the engine).
set -u

skip() {
	if [ "${CI:-}" = true ] && [ "${2:-}" = engine ]; then
		echo "FAIL (CI requires it): $1" >&2
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

sock=/var/run/docker.sock
[ -S "$sock" ] && docker version >/dev/null 2>&1 || skip "no Docker engine at $sock" engine
command -v openssl >/dev/null 2>&1 || skip "no openssl"
command -v python3 >/dev/null 2>&1 || skip "no python3"
bin=${RUNNEL_TEST_DOCKER:-}
if [ -z "$bin" ] && [ -n "${RUNNEL_BIN:-}" ]; then
	bin=$(dirname "$RUNNEL_BIN")/../tests/test-docker
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "FAIL: test-docker not built (set RUNNEL_TEST_DOCKER)" >&2; exit 1; }
image=runnel-test/busybox:1
. "$(cd "$(dirname "$0")" && pwd)/lib-test-image.sh"
test_image docker "$image" busybox1 || exit 1

work=$(mktemp -d)
pid=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null
	ids=$(docker ps -aq --filter label=com.runnel.test)
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
	nets=$(docker network ls -q --filter label=com.runnel.test)
	[ -z "$nets" ] || docker network rm $nets >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A CA, a server certificate for 127.0.0.1 and a client certificate.
cd "$work" || exit 1
{
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rn-test-ca -keyout ca-key.pem -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr
	printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout key.pem -out client.csr
	printf 'extendedKeyUsage=clientAuth\n' >client.ext
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem
} >openssl.log 2>&1 || { cat openssl.log; echo "FAIL: certificates" >&2; exit 1; }

cat >proxy.py <<'PY'
# TLS in front of a unix socket, one thread per connection (an SSL object is never used from
# two threads). A TLS-side EOF (the client's half-close) becomes a write shutdown towards the
# daemon; the daemon's EOF ends the connection with close_notify, as Go's tls.Conn.Close does.
import os, select, socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("server.pem", "server-key.pem")
ctx.load_verify_locations("ca.pem")
ctx.verify_mode = ssl.CERT_REQUIRED
# The client half-closes TCP under TLS for stdin EOF, as the docker CLI does; Go's TLS (dockerd)
# takes an EOF at a record boundary as a clean EOF, OpenSSL 3 only with this option.
ctx.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open("port.tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename("port.tmp", "port")

def recv_tls(t):
    try:
        d = t.recv(65536)
        while d and t.pending():
            d += t.recv(t.pending())
        return d
    except ssl.SSLWantReadError:
        return None
    except (OSError, ssl.SSLError):
        return b""

def serve(c):
    c.settimeout(60)
    try:
        t = ctx.wrap_socket(c, server_side=True)
    except (OSError, ssl.SSLError):
        c.close()
        return
    u = socket.socket(socket.AF_UNIX)
    u.connect(sys.argv[1])
    up_open = True
    while True:
        r, _, _ = select.select([t, u] if up_open else [u], [], [], 60)
        if not r:
            break
        if t in r:
            d = recv_tls(t)
            if d == b"":
                up_open = False
                u.shutdown(socket.SHUT_WR)
            elif d:
                u.sendall(d)
        if u in r:
            d = u.recv(65536)
            if not d:
                break
            t.sendall(d)
    try:
        t.unwrap()
    except (OSError, ssl.SSLError, ValueError):
        pass
    t.close()
    u.close()

while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 proxy.py "$sock" >proxy.log 2>&1 &
pid=$!
i=0
until [ -f port ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat proxy.log; echo "FAIL: proxy did not start" >&2; exit 1; }
	sleep 0.1
done
port=$(cat port)

DOCKER_HOST=tcp://127.0.0.1:$port DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$work \
	RUNNEL_DOCKER_E2E=1 RUNNEL_DOCKER_IMAGE=$image "$bin" ||
	{ cat proxy.log; echo "FAIL: engine tests over TLS" >&2; exit 1; }

# with a certificate the CA did not sign the handshake fails: a connection error naming the endpoint
mkdir nocert && cp ca.pem nocert/ &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stranger \
		-keyout nocert/key.pem -out nocert/cert.pem >>openssl.log 2>&1
out=$(DOCKER_HOST=tcp://127.0.0.1:$port DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$work/nocert \
	RUNNEL_DOCKER_E2E=1 RUNNEL_DOCKER_IMAGE=$image "$bin" 2>&1)
echo "$out" | grep -q "tcp://127.0.0.1:$port" || { echo "$out" | tail; echo "FAIL: bad cert not reported" >&2; exit 1; }
echo "1 passed, 0 failed"
