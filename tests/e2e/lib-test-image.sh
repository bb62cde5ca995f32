# lib-test-image.sh: the tiny test images of the e2e tests (runnel-test/*), sourced by them.
#
# test_image ENGINE IMAGE PROFILE: makes sure ENGINE (docker or podman) has IMAGE built from
# the host's static busybox for PROFILE:
#   sh        the applets t2xx need, no /etc/passwd, no PATH (runnel-test/sh:latest)
#   busybox1  fewer applets, /etc/passwd and PATH=/bin (runnel-test/busybox:1)
# The image carries a label runnel.test.key: a hash of everything it is made from (the
# busybox binary, the profile's applets and files, this file). An image whose key differs is
# rebuilt, so a broken image never outlives its cause (a dynamic busybox once imported
# without its libraries, an applet added here). Returns 1 with a "Bail out!" line when
# the host has no static busybox: that is a setup defect (scripts/setup-engine.sh installs
# busybox-static), never a reason to skip.

ti_lib_file=${ti_lib_file:-$(cd "$(dirname "$0")" && pwd)/lib-test-image.sh}

ti_applets() {
	case $1 in
	sh)
		echo sh ls cat echo sleep env printf mkdir rm true false test tr seq wc grep sed \
			date kill id pwd cp mv touch head tail sort uname hostname ps xargs find expr awk
		;;
	busybox1) echo sh cat echo ls sleep true false env id mkdir rm cp wc head tr hostname ;;
	*) return 1 ;;
	esac
}

ti_static_busybox() {
	bb=$(command -v busybox 2>/dev/null) || {
		echo "Bail out! no busybox on this host: busybox-static is needed for the test images (scripts/setup-engine.sh installs it)"
		return 1
	}
	if ldd "$bb" >/dev/null 2>&1; then
		echo "Bail out! $bb is dynamically linked: busybox-static is needed for the test images (scripts/setup-engine.sh installs it)"
		return 1
	fi
	printf '%s\n' "$bb"
}

test_image() {
	ti_engine=$1 ti_image=$2 ti_profile=$3
	ti_list=$(ti_applets "$ti_profile") || { echo "Bail out! unknown test image profile $ti_profile"; return 1; }
	ti_bb=$(ti_static_busybox) || { printf '%s\n' "$ti_bb"; return 1; }
	ti_key=$({ sha256sum <"$ti_bb"; echo "$ti_profile $ti_list"; cat "$ti_lib_file"; } |
		sha256sum | cut -c1-32)
	ti_have=$($ti_engine image inspect --format '{{index .Config.Labels "runnel.test.key"}}' \
		"$ti_image" 2>/dev/null)
	[ "$ti_have" = "$ti_key" ] && return 0
	ti_root=$(mktemp -d "${TMPDIR:-/tmp}/runnel-test-image.XXXXXX")
	mkdir -p "$ti_root/bin" "$ti_root/tmp" "$ti_root/etc"
	cp "$ti_bb" "$ti_root/bin/busybox"
	for a in $ti_list; do
		ln -s busybox "$ti_root/bin/$a"
	done
	set -- -c "LABEL runnel.test.key=$ti_key"
	if [ "$ti_profile" = busybox1 ]; then
		echo 'root:x:0:0:root:/root:/bin/sh' >"$ti_root/etc/passwd"
		set -- "$@" -c 'ENV PATH=/bin'
	fi
	tar -C "$ti_root" -c . | $ti_engine import "$@" - "$ti_image" >/dev/null
	ti_rc=$?
	rm -rf "$ti_root"
	[ $ti_rc -eq 0 ] || { echo "Bail out! $ti_engine import of $ti_image failed"; return 1; }
}
