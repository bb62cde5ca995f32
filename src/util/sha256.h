/* SHA-256 (FIPS 180-4), for the few places GitLab derives names from a SHA-256 digest (the
 * CI_ENVIRONMENT_SLUG suffix); not for security. Small and portable, so the model needs no
 * crypto library (mapping libcrypto cost every process ~3M instructions at start-up). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "util/hashblock.h"

struct sha256_ctx {
	uint32_t h[8];
	struct hash_blocks blocks;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Writes the 32-byte digest; c must be re-initialised before reuse. */
void sha256_final(struct sha256_ctx *c, unsigned char out[32]);
/* One-shot digest of len bytes at data. */
void sha256(const void *data, size_t len, unsigned char out[32]);
