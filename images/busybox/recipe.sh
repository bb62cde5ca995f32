# busybox:latest — Debian's static busybox; every applet linked in /usr/bin
# (/bin is a link to it). No bash: `sh` is busybox ash.
TAGS=(busybox:latest)
BASE=
CONFIG=('ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["sh"]')
recipe() {
  rf_skeleton
  rf_bin busybox
  rf_busybox_applets /usr/bin
}
