/* hashblock: block buffering and padding shared by sha1.c and sha256.c. */
#include "util/hashblock.h"

#include <string.h>

void hash_blocks_update(struct hash_blocks *b, const void *data, size_t len, hash_block_fn fn,
                        uint32_t *state)
{
	const unsigned char *p = data;
	b->len += len;
	while (len > 0) {
		size_t take = 64 - b->buf_len < len ? 64 - b->buf_len : len;
		memcpy(b->buf + b->buf_len, p, take);
		b->buf_len += take;
		p += take;
		len -= take;
		if (b->buf_len == 64) {
			fn(state, b->buf);
			b->buf_len = 0;
		}
	}
}

void hash_blocks_final(struct hash_blocks *b, hash_block_fn fn, uint32_t *state, size_t n,
                       unsigned char *out)
{
	uint64_t bits = b->len * 8;
	/* 0x80, then zeros up to 56 bytes into a block (one more block when fewer than 8 bytes
	 * are left for the length). */
	b->buf[b->buf_len++] = 0x80;
	if (b->buf_len > 56) {
		memset(b->buf + b->buf_len, 0, 64 - b->buf_len);
		fn(state, b->buf);
		b->buf_len = 0;
	}
	memset(b->buf + b->buf_len, 0, 56 - b->buf_len);
	for (int i = 0; i < 8; i++)
		b->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	fn(state, b->buf);
	b->buf_len = 0;
	for (size_t i = 0; i < n; i++) {
		out[4 * i] = (unsigned char)(state[i] >> 24);
		out[4 * i + 1] = (unsigned char)(state[i] >> 16);
		out[4 * i + 2] = (unsigned char)(state[i] >> 8);
		out[4 * i + 3] = (unsigned char)state[i];
	}
}
