/* artifacts:reports:dotenv, parsed with GitLab's own rules (Ci::ParseDotenvArtifactService
 * and Ci::JobVariable validations), so a file that works locally works on GitLab:
 *  - the file must be smaller than 5120 bytes (dotenv_size plan limit default) and define
 *    at most 20 variables (dotenv_variables default); a UTF-8 BOM is dropped;
 *  - every line is KEY=VALUE split at the first '='; key and value are stripped of
 *    surrounding whitespace; quotes are NOT removed (GitLab keeps them as part of the value);
 *  - a line without '=' -- blank lines and "# comments" included -- is an error
 *    ("Invalid Format" in GitLab), and so is a key outside [A-Za-z0-9_] or longer than 255;
 *  - a key given twice keeps the last value.
 * The values are not expanded (GitLab stores them with raw: false; they expand like other
 * variables later). Errors name the file and line. */
#include "exec/artifacts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/job.h"
#include "model/vars.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define DOTENV_MAX_SIZE 5120
#define DOTENV_MAX_VARS 20
#define DOTENV_MAX_KEY 255

static bool ruby_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
	       c == '\0';
}

/* Ruby's String#strip on s[*b..*e). */
static void strip(const char *s, size_t *b, size_t *e)
{
	while (*b < *e && ruby_space(s[*b]))
		(*b)++;
	while (*e > *b && ruby_space(s[*e - 1]))
		(*e)--;
}

static bool valid_key(const char *k, size_t len)
{
	if (len == 0 || len > DOTENV_MAX_KEY)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

static int read_small_file(const char *path, struct strbuf *out, struct err *err)
{
	int r = fs_read_file(path, 0, DOTENV_MAX_SIZE - 1, out);
	if (r < 0)
		return err_sys(err, errno,
		               r == -1 ? "cannot open dotenv report '%s'"
		                       : "cannot read dotenv report '%s'",
		               path);
	if (out->len >= DOTENV_MAX_SIZE)
		return err_set(err, ERR_JOB,
		               "dotenv report '%s' is too big: maximum allowable size is %d bytes",
		               path, DOTENV_MAX_SIZE);
	return 0;
}

/* Parses one line (without its '\n') into out. */
static int parse_line(const char *path, unsigned lineno, const char *s, size_t len,
                      struct var_list *out, struct err *err)
{
	const char *eq = memchr(s, '=', len);
	/* a '\r' before '\n' is part of the value in Ruby's regex, then stripped */
	if (!eq)
		return err_set(err, ERR_JOB, "%s:%u: invalid dotenv line (expected KEY=VALUE)",
		               path, lineno);
	size_t kb = 0, ke = (size_t)(eq - s), vb = ke + 1, ve = len;
	strip(s, &kb, &ke);
	strip(s, &vb, &ve);
	if (!valid_key(s + kb, ke - kb))
		return err_set(err, ERR_JOB,
		               "%s:%u: invalid dotenv variable name '%.*s' (only A-Z a-z 0-9 _)",
		               path, lineno, (int)(ke - kb), s + kb);
	_cleanup_free_ char *key = xstrndup(s + kb, ke - kb);
	_cleanup_free_ char *val = xstrndup(s + vb, ve - vb);
	var_list_set_kv(NULL, out, key, val);
	return 0;
}

int dotenv_parse_file(const char *path, struct var_list *out, struct err *err)
{
	struct strbuf text = STRBUF_INIT;
	int rc = read_small_file(path, &text, err);
	struct var_list vars = {0};
	const char *p = text.buf, *end = text.buf + text.len;
	if (text.len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	for (unsigned lineno = 1; rc == 0 && p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		rc = parse_line(path, lineno, p, len, &vars, err);
		p += len + (nl ? 1 : 0);
	}
	if (rc == 0 && vars.n > DOTENV_MAX_VARS)
		rc = err_set(err, ERR_JOB, "dotenv report '%s' cannot have more than %d variables",
		             path, DOTENV_MAX_VARS);
	if (rc == 0)
		var_list_merge(NULL, out, &vars);
	var_list_release(&vars);
	strbuf_release(&text);
	return rc;
}
