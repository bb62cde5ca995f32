/* gitlab: GitLab REST API URLs and tokens for project: includes (see gitlab.h). */
#include "fetch/gitlab.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

/* RFC 3986 unreserved characters stay, everything else (`/` included) is %XX. */
static void add_encoded(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c))
			strbuf_addch(sb, (char)c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

char *gitlab_file_raw_url(const char *server, const char *project, const char *file,
                          const char *ref)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(server);
	while (n && server[n - 1] == '/')
		n--;
	strbuf_add(&sb, server, n);
	strbuf_addstr(&sb, "/api/v4/projects/");
	add_encoded(&sb, project);
	strbuf_addstr(&sb, "/repository/files/");
	add_encoded(&sb, file);
	strbuf_addstr(&sb, "/raw");
	if (ref) {
		strbuf_addstr(&sb, "?ref=");
		add_encoded(&sb, ref);
	}
	return strbuf_detach(&sb, NULL);
}

char *gitlab_token_header(void)
{
	const char *t = getenv("GITLAB_TOKEN");
	if (t && *t)
		return xasprintf("PRIVATE-TOKEN: %s", t);
	t = getenv("CI_JOB_TOKEN");
	if (t && *t)
		return xasprintf("JOB-TOKEN: %s", t);
	return NULL;
}

bool gitlab_ref_is_sha(const char *ref)
{
	size_t n = ref ? strlen(ref) : 0;
	if (n != 40 && n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)ref[i]))
			return false;
	return true;
}
