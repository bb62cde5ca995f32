/* SHA-1 (FIPS 180-4), for content ids where Git or GitLab use SHA-1 (blob ids, cache keys);
 * not for security. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "util/hashblock.h"

struct sha1_ctx {
	uint32_t h[5];
	struct hash_blocks blocks;
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
/* Writes the 20-byte digest; c must be re-initialised before reuse. */
void sha1_final(struct sha1_ctx *c, unsigned char out[20]);
/* Writes the 40 lowercase hex digits of the digest and a NUL into hex[41]. */
void sha1_hex(const unsigned char digest[20], char hex[41]);
