/* Fuzz target for the addresses of network includes (fetch/addr.c): the same bytes as a
 * remote: URL and as a component: address. Parsing must never crash, and what it accepts
 * must be consistent: a URL has a host and a path starting with `/`, a component a host, a
 * project, a name and a version whose resolution picks a listed release; the bytes are also
 * parsed as a release's semantic version. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/addr.h"
#include "fetch/version.h"
#include "util/err.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct err err = ERR_INIT;
	struct fetch_url u;
	if (fetch_url_parse(s, &u, &err) == 0) {
		if (!u.host || u.path[0] != '/' || u.port < 1 || u.port > 65535)
			abort();
		fetch_url_release(&u);
	}
	err_release(&err);
	struct fetch_component c;
	if (fetch_component_parse(s, &c, &err) == 0) {
		if (!*c.host || !*c.project || !*c.name || !*c.version)
			abort();
		static const char *const released[] = {"1.0.0", "1.2.0", "2.0.0-rc1", "10.1.1"};
		if (c.kind == FETCH_VER_LATEST || c.kind == FETCH_VER_MAJOR ||
		    c.kind == FETCH_VER_MINOR) {
			long i = fetch_version_resolve(&c, released, 4);
			if (i < -1 || i > 3)
				abort();
		}
		fetch_component_release(&c);
	}
	err_release(&err);
	/* the same bytes as a released version's tag */
	struct fetch_semver v;
	if (fetch_semver_parse(s, &v) == 0 && strchr(s, ' '))
		abort();
	free(s);
	return 0;
}
