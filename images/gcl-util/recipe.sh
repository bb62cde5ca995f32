# Helper image for gitlab-ci-local side-by-side runs (its --helper-image; upstream
# default docker.io/firecow/gitlab-ci-local-util): gcl only runs sh, chown and
# chmod in it. The alpine stand-in plus rsync and git.
TAGS=(runnel/gcl-util:latest firecow/gitlab-ci-local-util:latest)
BASE=alpine:latest
CONFIG=('CMD ["/bin/sh"]')
recipe() {
  rf_bin rsync
  rf_git
  rf_apk_installed rsync git
}
