/* Fuzz target for the job payload parser: any input either fails with an error message or
 * parses; a parsed payload is written (plain, masked, compact) and the plain text must parse
 * again and write the same text (the round trip the executors will rely on). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload/payload-json.h"
#include "payload/payload.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err = ERR_INIT;
	struct payload *pl = payload_from_json((const char *)data, size, &err);
	if (!pl) {
		if (!err.msg || !*err.msg)
			abort(); /* a failure always says why */
		err_release(&err);
		return 0;
	}
	char *first = payload_to_json(pl, 0);
	free(payload_to_json(pl, PAYLOAD_JSON_MASK | PAYLOAD_JSON_COMPACT));
	struct payload *back = payload_from_json(first, strlen(first), &err);
	if (!back)
		abort(); /* what we write, we read */
	char *second = payload_to_json(back, 0);
	if (strcmp(first, second) != 0)
		abort();
	free(first);
	free(second);
	payload_free(back);
	payload_free(pl);
	return 0;
}
