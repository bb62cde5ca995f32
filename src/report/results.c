/* Results read back from a finished job: coverage (GitLab's `coverage:` regex over the job
 * log) and JUnit counts (artifacts:reports:junit) by a small streaming scan. */
#include "report/report.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcre2.h>

#include "util/cleanup.h"
#include "util/strbuf.h"

/* ---- coverage ---- */

/* Drops ANSI CSI sequences (ESC [ ... final byte) so colours do not split the numbers. */
static void strip_ansi(struct strbuf *line)
{
	size_t w = 0;
	for (size_t i = 0; i < line->len; i++) {
		if (line->buf[i] == '\033' && i + 1 < line->len && line->buf[i + 1] == '[') {
			i += 2;
			while (i < line->len && !((unsigned char)line->buf[i] >= 0x40 &&
			                          (unsigned char)line->buf[i] <= 0x7e))
				i++;
			continue;
		}
		line->buf[w++] = line->buf[i];
	}
	strbuf_setlen(line, w);
}

/* First number \d+(\.\d+)? in s[0..len). */
static bool first_number(const char *s, size_t len, double *ret)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			continue;
		struct strbuf num = STRBUF_INIT;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			strbuf_addch(&num, s[i++]);
		if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
			strbuf_addch(&num, s[i++]);
			while (i < len && s[i] >= '0' && s[i] <= '9')
				strbuf_addch(&num, s[i++]);
		}
		*ret = strtod(num.buf, NULL);
		strbuf_release(&num);
		return true;
	}
	return false;
}

/* GitLab scans every match of the line and keeps the last one ("matches.flatten.last"): with
 * capture groups that is the last group of the last match. */
static bool line_coverage(const pcre2_code *re, pcre2_match_data *md, const struct strbuf *line,
                          double *ret)
{
	size_t off = 0;
	bool found = false;
	size_t ms = 0, me = 0;
	while (off <= line->len) {
		int rc = pcre2_match(re, (PCRE2_SPTR)line->buf, line->len, off, 0, md, NULL);
		if (rc <= 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		int pick = rc > 1 ? rc - 1 : 0;
		if (ov[2 * pick] != PCRE2_UNSET) {
			ms = ov[2 * pick];
			me = ov[2 * pick + 1];
		} else {
			ms = ov[0];
			me = ov[1];
		}
		found = true;
		off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
	}
	return found && first_number(line->buf + ms, me - ms, ret);
}

static pcre2_code *compile_coverage(const char *regex)
{
	size_t len = strlen(regex);
	/* "/re/" as written in .gitlab-ci.yml; flags after the closing slash are ignored */
	if (len >= 2 && regex[0] == '/') {
		const char *end = strrchr(regex, '/');
		if (end > regex) {
			regex++;
			len = (size_t)(end - regex);
		}
	}
	int ecode;
	PCRE2_SIZE eoff;
	return pcre2_compile((PCRE2_SPTR)regex, len, 0, &ecode, &eoff, NULL);
}

int report_coverage(const char *regex, const char *log_path, double *ret)
{
	if (!regex || !log_path)
		return 0;
	pcre2_code *re = compile_coverage(regex);
	if (!re)
		return -1;
	_cleanup_fclose_ FILE *f = fopen(log_path, "re");
	if (!f) {
		pcre2_code_free(re);
		return -1;
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	struct strbuf line = STRBUF_INIT;
	bool found = false;
	double best = 0, v;
	int c;
	do {
		c = getc(f);
		if (c != EOF && c != '\n') {
			strbuf_addch(&line, c);
			continue;
		}
		strip_ansi(&line);
		if (line_coverage(re, md, &line, &v)) {
			best = v;
			found = true;
		}
		strbuf_reset(&line);
	} while (c != EOF);
	strbuf_release(&line);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	if (found)
		*ret = best;
	return found ? 1 : 0;
}

/* ---- JUnit ---- */

enum xml_state { X_TEXT, X_TAG, X_COMMENT, X_CDATA, X_PI };

struct junit_scan {
	enum xml_state st;
	char name[16]; /* start of the current tag ("testcase", "/testcase", "!--", ...) */
	size_t nlen;
	bool name_done;
	char prev[2]; /* last two bytes, to find "-->" / "]]>" / "?>" */
	char quote;   /* inside an attribute value of a tag */
	bool in_case, case_failed;
	unsigned tests, failures;
};

static void tag_begin(struct junit_scan *s)
{
	s->st = X_TAG;
	s->nlen = 0;
	s->name_done = false;
	s->quote = 0;
}

static bool name_is(const struct junit_scan *s, const char *n)
{
	return s->nlen == strlen(n) && memcmp(s->name, n, s->nlen) == 0;
}

/* A tag's name is known: count testcases and failed ones. */
static void tag_named(struct junit_scan *s)
{
	s->name_done = true;
	if (name_is(s, "testcase")) {
		s->tests++;
		s->in_case = true;
		s->case_failed = false;
	} else if (name_is(s, "/testcase")) {
		s->in_case = false;
	} else if ((name_is(s, "failure") || name_is(s, "error")) && s->in_case &&
	           !s->case_failed) {
		s->failures++;
		s->case_failed = true;
	}
}

static void tag_char(struct junit_scan *s, char c)
{
	if (!s->name_done) {
		bool sep = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/';
		if (sep && !(c == '/' && s->nlen == 0)) {
			tag_named(s);
		} else if (s->nlen < sizeof(s->name)) {
			s->name[s->nlen++] = c;
			if (s->nlen == 3 && memcmp(s->name, "!--", 3) == 0) {
				s->st = X_COMMENT;
				return;
			}
			if (s->nlen == 8 && memcmp(s->name, "![CDATA[", 8) == 0) {
				s->st = X_CDATA;
				return;
			}
			if (s->nlen == 1 && c == '?') {
				s->st = X_PI;
				return;
			}
			return;
		}
	}
	if (s->quote) {
		if (c == s->quote)
			s->quote = 0;
		return;
	}
	if (c == '"' || c == '\'') {
		s->quote = c;
	} else if (c == '>') {
		/* <testcase .../> ends the test case at once */
		if (s->prev[1] == '/' && name_is(s, "testcase"))
			s->in_case = false;
		s->st = X_TEXT;
	}
}

static void junit_byte(struct junit_scan *s, char c)
{
	switch (s->st) {
	case X_TEXT:
		if (c == '<')
			tag_begin(s);
		break;
	case X_TAG:
		tag_char(s, c);
		break;
	case X_COMMENT:
		if (c == '>' && s->prev[0] == '-' && s->prev[1] == '-')
			s->st = X_TEXT;
		break;
	case X_CDATA:
		if (c == '>' && s->prev[0] == ']' && s->prev[1] == ']')
			s->st = X_TEXT;
		break;
	case X_PI:
		if (c == '>' && s->prev[1] == '?')
			s->st = X_TEXT;
		break;
	}
	s->prev[0] = s->prev[1];
	s->prev[1] = c;
}

int report_junit_summary(const char *xml_path, unsigned *tests, unsigned *failures, struct err *err)
{
	_cleanup_close_ int fd = open(xml_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "cannot open JUnit report '%s'", xml_path);
	struct junit_scan s = {.st = X_TEXT};
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "cannot read JUnit report '%s'", xml_path);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			junit_byte(&s, buf[i]);
	}
	*tests += s.tests;
	*failures += s.failures;
	return 0;
}
