#!/bin/sh
# dockerd-entrypoint.sh of the docker:24-dind stand-in. Behaves like upstream
# docker-library/docker dockerd-entrypoint.sh:
#  * DOCKER_TLS_CERTDIR non-empty: (re)generate a CA ($DIR/ca), a server
#    certificate ($DIR/server; SANs: container IPs, hostname, docker, localhost,
#    $DOCKER_TLS_SAN) and a client certificate ($DIR/client/{ca,cert,key}.pem,
#    key world-readable) at every start; dockerd listens on the unix socket and
#    tcp://0.0.0.0:2376 with --tlsverify;
#  * DOCKER_TLS_CERTDIR empty: tcp://0.0.0.0:2375 without TLS;
#  * extra arguments that are flags (a service's `command:`) are appended to
#    dockerd's; a first argument that is not a flag is run instead (through
#    docker-entrypoint.sh, so that DOCKER_HOST gets set as in the CLI image).
# Additions for runnel's offline machines:
#  * registry mirror: no registry is reachable, so dockerd gets
#    --registry-mirror=http://M --insecure-registry=M where M is
#    runnel-mirror-addr (the default gateway:5000, where scripts/start-registry.sh
#    publishes the mirror; RUNNEL_REGISTRY_MIRROR=host:port overrides, =none
#    disables). Skipped when the arguments already name a --registry-mirror.
#  * runc-capfilter: when this container's capability bounding set lacks
#    capabilities (the VM lacks CAP_SYS_RESOURCE), nested --privileged
#    containers need the filtering runtime wrapper, made the default runtime.
set -eu

_tls_san() {
	{
		ip -oneline address 2>/dev/null | awk '{ gsub(/\/.+$/, "", $4); print "IP:" $4 }'
		{
			cat /etc/hostname 2>/dev/null
			echo 'docker'
			echo 'localhost'
			hostname -f 2>/dev/null
			hostname -s 2>/dev/null
		} | sed 's/^/DNS:/'
		[ -z "${DOCKER_TLS_SAN:-}" ] || echo "$DOCKER_TLS_SAN"
	} | grep -v '^DNS:$' | sort -u | xargs printf '%s,' | sed "s/,\$//"
}

# A private key is made only when missing (as the real image does): keys that are already there
# (a volume kept across starts, or seeded by the runner) are reused; certificates are signed
# again on every start so that names, addresses and dates are right. Upstream makes RSA 4096
# keys; the stand-in makes 2048-bit ones: three 4096-bit keys take over 30 s on a busy 2-vCPU
# test machine, longer than a service wait.
_tls_ensure_private() {
	[ -s "$1" ] || openssl genrsa -out "$1" 2048 2>/dev/null
}

_tls_generate_certs() {
	dir="$1"; shift
	# server certificates without a CA key: managed by the user, only checked
	if [ -s "$dir/server/ca.pem" ] && [ -s "$dir/server/cert.pem" ] && [ -s "$dir/server/key.pem" ] &&
		[ ! -s "$dir/ca/key.pem" ]; then
		openssl verify -CAfile "$dir/server/ca.pem" "$dir/server/cert.pem" >/dev/null
		return 0
	fi
	mkdir -p "$dir/ca" "$dir/server" "$dir/client"

	# CA
	_tls_ensure_private "$dir/ca/key.pem"
	openssl req -new -key "$dir/ca/key.pem" -out "$dir/ca/cert.pem" \
		-subj '/CN=docker:dind CA' -x509 -days 825

	# server
	_tls_ensure_private "$dir/server/key.pem"
	openssl req -new -key "$dir/server/key.pem" -out "$dir/server/csr.pem" \
		-subj "/CN=docker:dind server"
	cat > "$dir/server/openssl.cnf" <<-EOCNF
		[ x509_exts ]
		subjectAltName = $(_tls_san)
	EOCNF
	openssl x509 -req -in "$dir/server/csr.pem" -CA "$dir/ca/cert.pem" -CAkey "$dir/ca/key.pem" \
		-CAcreateserial -out "$dir/server/cert.pem" -days 825 \
		-extfile "$dir/server/openssl.cnf" -extensions x509_exts 2>/dev/null
	cp "$dir/ca/cert.pem" "$dir/server/ca.pem"
	openssl verify -CAfile "$dir/server/ca.pem" "$dir/server/cert.pem" >/dev/null

	# client
	_tls_ensure_private "$dir/client/key.pem"
	chmod 0644 "$dir/client/key.pem"
	openssl req -new -key "$dir/client/key.pem" -out "$dir/client/csr.pem" \
		-subj "/CN=docker:dind client"
	cat > "$dir/client/openssl.cnf" <<-'EOCNF'
		[ x509_exts ]
		extendedKeyUsage = clientAuth
	EOCNF
	openssl x509 -req -in "$dir/client/csr.pem" -CA "$dir/ca/cert.pem" -CAkey "$dir/ca/key.pem" \
		-CAcreateserial -out "$dir/client/cert.pem" -days 825 \
		-extfile "$dir/client/openssl.cnf" -extensions x509_exts 2>/dev/null
	cp "$dir/ca/cert.pem" "$dir/client/ca.pem"
	openssl verify -CAfile "$dir/client/ca.pem" "$dir/client/cert.pem" >/dev/null
	chmod 0644 "$dir/client/ca.pem" "$dir/client/cert.pem"
	rm -f "$dir/server/csr.pem" "$dir/server/openssl.cnf" "$dir/client/csr.pem" "$dir/client/openssl.cnf" \
	      "$dir/ca/cert.srl"
}

# no arguments, or the first one is a flag: run dockerd
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	dockerSocket='unix:///var/run/docker.sock'
	case "${DOCKER_HOST:-}" in
		unix://*) dockerSocket="$DOCKER_HOST" ;;
	esac

	if [ -n "${DOCKER_TLS_CERTDIR:-}" ] \
		&& _tls_generate_certs "$DOCKER_TLS_CERTDIR" \
		&& [ -s "$DOCKER_TLS_CERTDIR/server/ca.pem" ] \
		&& [ -s "$DOCKER_TLS_CERTDIR/server/cert.pem" ] \
		&& [ -s "$DOCKER_TLS_CERTDIR/server/key.pem" ] \
	; then
		set -- dockerd \
			--host="$dockerSocket" \
			--host=tcp://0.0.0.0:2376 \
			--tlsverify \
			--tlscacert "$DOCKER_TLS_CERTDIR/server/ca.pem" \
			--tlscert "$DOCKER_TLS_CERTDIR/server/cert.pem" \
			--tlskey "$DOCKER_TLS_CERTDIR/server/key.pem" \
			"$@"
	else
		set -- dockerd \
			--host="$dockerSocket" \
			--host=tcp://0.0.0.0:2375 \
			--tls=false \
			"$@"
	fi
fi

if [ "$1" = 'dockerd' ]; then
	# offline registry mirror (unless the arguments configure one)
	case " $* " in
		*" --registry-mirror"*) ;;
		*)
			if mirror=$(runnel-mirror-addr); then
				# (http:// form: dockerd 20.10 strips it for the classic puller, and BuildKit
				# only uses plain HTTP for insecure registries given with the scheme)
				set -- "$@" "--registry-mirror=http://$mirror" "--insecure-registry=http://$mirror"
			fi
			;;
	esac
	# capability filtering runtime when the bounding set is incomplete
	bnd=$(awk '/^CapBnd:/{print $2}' /proc/self/status)
	case " $* " in
		*" --default-runtime"*|*" --add-runtime"*) ;;
		*)
			last=$(cat /proc/sys/kernel/cap_last_cap 2>/dev/null || echo 40)
			if [ -n "$bnd" ] && [ $((0x$bnd)) -ne $(( (1 << (last + 1)) - 1 )) ]; then
				set -- "$@" --add-runtime "runc-capfilter=/usr/local/bin/runc-capfilter" --default-runtime runc-capfilter
			fi
			;;
	esac

	# remove a stale PID file so dockerd can start after an unclean stop
	find /run /var/run -iname 'docker*.pid' -delete 2>/dev/null || :
	set -- docker-init -- "$@"

	if ! iptables -nL > /dev/null 2>&1; then
		modprobe ip_tables 2>/dev/null || :
	fi
	set -- "$(command -v dind)" "$@"
else
	# not dockerd: pass it through docker-entrypoint.sh so DOCKER_HOST gets set
	set -- docker-entrypoint.sh "$@"
fi

exec "$@"
