# gcr.io/kaniko-project/executor:v1.9.0-debug — a kaniko look-alike: busybox in
# /busybox (no /bin/sh, as upstream's debug image), /kaniko/executor (a script
# that builds Dockerfiles with buildah: vfs storage, RUN steps executed with
# chroot(2) inside the unpacked rootfs, as kaniko itself does), DOCKER_CONFIG
# /kaniko/.docker. Works in an unprivileged container (default capabilities
# and seccomp profile); see executor for what is supported.
TAGS=(gcr.io/kaniko-project/executor:v1.9.0-debug gcr.io/kaniko-project/executor:debug)
BASE=
CONFIG=(
  'ENV PATH=/usr/local/bin:/kaniko:/busybox HOME=/root USER=root SSL_CERT_DIR=/kaniko/ssl/certs DOCKER_CONFIG=/kaniko/.docker/ DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs'
  'WORKDIR /workspace'
  'ENTRYPOINT ["/kaniko/executor"]'
)
recipe() {
  rf_dir /usr/bin; rf_dir /usr/sbin; rf_dir /usr/lib; rf_dir /usr/lib64
  rf_link usr/lib /lib; rf_link usr/lib64 /lib64
  rf_dir /root 0700; rf_dir /tmp 1777; rf_dir /var/tmp 1777; rf_dir /proc; rf_dir /sys; rf_dir /dev
  rf_dir /run; rf_dir /workspace 0777; rf_dir /etc
  rf_users
  rf_text /etc/nsswitch.conf <<<'hosts: files dns'
  rf_bin busybox
  rf_busybox_applets /busybox
  rf_link /usr/bin/busybox /busybox/busybox
  rf_bin buildah chroot env
  rf_path /etc/containers/policy.json /etc/containers/registries.conf.d/shortnames.conf \
    /usr/share/containers/containers.conf
  rf_text /etc/containers/registries.conf <<'CONF'
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
CONF
  rf_text /etc/containers/storage.conf <<'CONF'
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
  rf_file /images/common/runnel-mirror-addr /usr/local/bin/runnel-mirror-addr 0755
  rf_file executor /kaniko/executor 0755
  rf_file dfparse.awk /kaniko/dfparse.awk 0644
  rf_dir /kaniko/.docker 0777
  rf_path /etc/ssl/certs/ca-certificates.crt
  rf_link /etc/ssl/certs/ca-certificates.crt /kaniko/ssl/certs/ca-certificates.crt
}
