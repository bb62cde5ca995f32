/* base64: the standard alphabet of RFC 4648 with `=` padding (registry auth headers, the
 * `integrity: sha256-...` digests of remote includes). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/* Appends the padded base64 form of len bytes of data to out. */
void base64_encode(const void *data, size_t len, struct strbuf *out);
/* Whether c is one of the 64 characters of the alphabet (the padding `=` is not). */
bool base64_is_char(int c);
