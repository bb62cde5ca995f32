# quay.io/buildah/stable — debian:12-slim plus Debian's buildah 1.28 (and runc),
# vfs storage, chroot isolation, and a `buildah` wrapper that points docker.io
# at runnel's mirror registry (see images/common/containers-mirror).
TAGS=(quay.io/buildah/stable:latest quay.io/buildah/stable:v1.28)
BASE=debian:12-slim
CONFIG=(
  'ENV BUILDAH_ISOLATION=chroot _BUILDAH_STARTED_IN_USERNS='
  'CMD ["/bin/bash"]'
)
recipe() {
  rf_containers_tools buildah
  rf_apk_installed buildah runc fuse-overlayfs containers-common
}
