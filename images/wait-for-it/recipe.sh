# Service wait image for gitlab-ci-local (its --wait-image; upstream default
# docker.io/sumina46/wait-for-it): `wait-for-it HOST:PORT [-t SECONDS]`.
TAGS=(runnel/wait-for-it:latest sumina46/wait-for-it:latest)
BASE=alpine:latest
CONFIG=('ENTRYPOINT ["wait-for-it"]' 'CMD []')
recipe() {
  rf_file wait-for-it /usr/local/bin/wait-for-it 0755
}
