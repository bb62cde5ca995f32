# aquasec/trivy:latest — the alpine stand-in plus a `trivy` stand-in script
# (no vulnerability database offline; see trivy).
TAGS=(aquasec/trivy:latest aquasec/trivy:0.50.1)
BASE=alpine:latest
CONFIG=(
  'ENTRYPOINT ["trivy"]'
  'CMD []'
)
recipe() {
  rf_file trivy /usr/local/bin/trivy 0755
  rf_bin curl
  rf_apk_installed trivy curl
}
