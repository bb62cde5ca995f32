/* hashblock: what SHA-1 and SHA-256 share. Both are Merkle-Damgård hashes over 64-byte blocks
 * whose message is padded with 0x80, zeros and the big-endian 64-bit bit count; only the block
 * function and the size of the state differ. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Bytes not yet hashed (less than one block) and the message length so far. */
struct hash_blocks {
	uint64_t len; /* bytes hashed so far */
	unsigned char buf[64];
	size_t buf_len;
};

/* Compresses one 64-byte block into state (the hash's words). */
typedef void (*hash_block_fn)(uint32_t *state, const unsigned char *block);

/* Feeds len bytes, calling fn for each complete block. */
void hash_blocks_update(struct hash_blocks *b, const void *data, size_t len, hash_block_fn fn,
                        uint32_t *state);
/* Pads the message and writes the n state words big-endian to out (4 * n bytes). */
void hash_blocks_final(struct hash_blocks *b, hash_block_fn fn, uint32_t *state, size_t n,
                       unsigned char *out);
