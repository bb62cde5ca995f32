/* base64 encoding, RFC 4648 section 4. */
#include "util/base64.h"

#include "util/strbuf.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const void *data, size_t len, struct strbuf *out)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		strbuf_addch(out, alphabet[(v >> 18) & 63]);
		strbuf_addch(out, alphabet[(v >> 12) & 63]);
		strbuf_addch(out, i + 1 < len ? alphabet[(v >> 6) & 63] : '=');
		strbuf_addch(out, i + 2 < len ? alphabet[v & 63] : '=');
	}
}

bool base64_is_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}
