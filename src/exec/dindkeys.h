/* dindkeys: the private keys of TLS DinD services, kept between runs.
 *
 * With DOCKER_TLS_CERTDIR set, the docker:dind entrypoint generates three RSA private keys (CA,
 * server, client; 4096 bits) unless they already exist, then signs fresh certificates with them
 * on every start (so that names and addresses are right). Generating the keys is most of the
 * time a TLS DinD takes over a plain one. runnel keeps the keys the first TLS DinD of this user
 * generated (mode 0600, ${XDG_CACHE_HOME:-~/.cache}/runnel/dind-tls/) and puts them into every
 * later TLS DinD service before it starts: the entrypoint then only signs certificates. The keys
 * never leave this machine; `runnel cache clear` removes them. Problems only cost the speed-up:
 * nothing here fails a job. */
#pragma once

struct docker_client;

/* The cache folder (owned), or NULL without $HOME and $XDG_CACHE_HOME. */
char *dindkeys_dir(void);
/* Puts the cached keys into the created, not yet started, service container at
 * <certdir>/{ca,server,client}/key.pem (the client one lands in the job's shared certificate
 * volume mounted there). Does nothing while the cache is incomplete. */
void dindkeys_seed(struct docker_client *c, const char *container_id, const char *certdir);
/* Once the service's daemon answered: copies the three keys out of it into the cache when the
 * cache does not hold them yet. */
void dindkeys_harvest(struct docker_client *c, const char *container_id, const char *certdir);
