/* The payload's lifecycle and lookups; payload.h has the struct. */
#include "payload/payload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct payload *payload_new(void)
{
	struct payload *pl = xcalloc(1, sizeof(*pl));
	arena_init(&pl->arena);
	return pl;
}

void payload_free(struct payload *pl)
{
	if (!pl)
		return;
	arena_release(&pl->arena);
	free(pl);
}

const struct payload_var *payload_var_get(const struct payload *pl, const char *key)
{
	for (size_t i = pl->n_variables; i-- > 0;)
		if (!strcmp(pl->variables[i].key, key))
			return &pl->variables[i];
	return NULL;
}

void *payload_alloc_array(struct payload *pl, size_t n, size_t size)
{
	/* arena_alloc(0) may alias; one element at least keeps every array distinct */
	return arena_alloc(&pl->arena, (n ? n : 1) * size);
}

const char *payload_strdup(struct payload *pl, const char *s)
{
	return s ? arena_strdup(&pl->arena, s) : NULL;
}

void payload_new_job_token(char *buf, size_t size)
{
	unsigned char raw[10];
	FILE *f = fopen("/dev/urandom", "r");
	if (!f || fread(raw, 1, sizeof(raw), f) != sizeof(raw))
		memset(raw, 0x5a, sizeof(raw));
	if (f)
		fclose(f);
	size_t o = (size_t)snprintf(buf, size, "glcbt-");
	for (size_t i = 0; i < sizeof(raw) && o + 2 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%02x", raw[i]);
}
