/* Live job output: each job's bytes are masked, assembled into whole lines per stream, then
 * written with the job-name prefix to the terminal in one write(2) under the report's mutex,
 * so lines of parallel jobs never interleave mid-line (git's run_processes_parallel does the
 * same per task). The same masked lines go raw to the job's log file. Stream 0 carries
 * runnel's own messages, styled like gitlab-runner's (bold green info, yellow WARNING, red
 * ERROR). */
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "model/job.h"
#include "report/report-internal.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* A line longer than this is written in pieces so one job cannot grow a buffer unboundedly. */
#define LINE_MAX_BYTES (64 * 1024)

#define ANSI_RESET "\033[0;m"
#define ANSI_INFO "\033[32;1m"
#define ANSI_WARN "\033[0;33m"
#define ANSI_ERROR "\033[31;1m"

struct report {
	struct report_opts opts;
	char *log_dir;            /* owned copy of opts.log_dir */
	pthread_mutex_t out_lock; /* one write(2) at a time on out_fd */
	pthread_mutex_t files_lock;
	struct strvec log_files; /* log files already opened in this run (later attempts append) */
	bool out_closed;         /* under out_lock: out_fd's reader is gone */
};

struct job_log {
	struct report *r;
	char *name;
	char *log_path; /* owned, NULL without log_dir */
	int log_fd;
	const char *color;      /* ANSI colour of the name prefix, "" without colour */
	pthread_mutex_t lock;   /* the executor may write from several threads */
	struct masker *mask[3]; /* one per stream: a secret never spans two streams */
	struct strbuf line[3];  /* partial line per stream */
	struct strbuf scratch;
};

/* Writes all of buf, retrying on EINTR and short writes. Returns 0, or the errno of the
 * failed write. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Live output, under out_lock. Other errors on the terminal are ignored: the job must go on
 * (the log file still has everything). A reader gone (EPIPE: SIGPIPE is blocked, so the
 * write fails instead of killing us) or a terminal hung up (EIO) is final: nothing more is
 * written there, and the owner hears of it once. */
static void term_write(struct report *r, const char *buf, size_t len)
{
	if (r->out_closed)
		return;
	int e = write_all(r->opts.out_fd, buf, len);
	if (e != EPIPE && e != EIO)
		return;
	r->out_closed = true;
	if (r->opts.on_output_closed)
		r->opts.on_output_closed(r->opts.userdata);
}

struct report *report_new(const struct report_opts *opts, struct err *err)
{
	if (opts->log_dir && mkdir(opts->log_dir, 0755) < 0 && errno != EEXIST)
		return err_sys(err, errno, "cannot create log directory '%s'", opts->log_dir), NULL;
	struct report *r = xcalloc(1, sizeof(*r));
	r->opts = *opts;
	r->log_dir = opts->log_dir ? xstrdup(opts->log_dir) : NULL;
	r->opts.log_dir = r->log_dir;
	pthread_mutex_init(&r->out_lock, NULL);
	pthread_mutex_init(&r->files_lock, NULL);
	strvec_init(&r->log_files);
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->out_lock);
	pthread_mutex_destroy(&r->files_lock);
	strvec_release(&r->log_files);
	free(r->log_dir);
	free(r);
}

bool report_color(const struct report *r)
{
	return r->opts.color;
}

void report_write_locked(struct report *r, const char *buf, size_t len)
{
	pthread_mutex_lock(&r->out_lock);
	term_write(r, buf, len);
	pthread_mutex_unlock(&r->out_lock);
}

char *report_log_file_name(const char *job_name)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = job_name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		/* collapse runs of unsafe characters into one '_' */
		if (!ok && sb.len > 0 && sb.buf[sb.len - 1] == '_')
			continue;
		strbuf_addch(&sb, ok ? c : '_');
	}
	while (sb.len > 1 && sb.buf[sb.len - 1] == '_')
		strbuf_setlen(&sb, sb.len - 1);
	/* a leading '.' would hide the file and ".." would escape log_dir */
	if (sb.len == 0 || sb.buf[0] == '.') {
		struct strbuf t = STRBUF_INIT;
		strbuf_addch(&t, '_');
		strbuf_add(&t, sb.buf, sb.len);
		strbuf_release(&sb);
		sb = t;
	}
	strbuf_addstr(&sb, ".log");
	return strbuf_detach(&sb, NULL);
}

static const char *job_color(const char *name)
{
	static const char *const palette[] = {"\033[36m", "\033[33m", "\033[35m", "\033[34m",
	                                      "\033[32m", "\033[96m", "\033[93m", "\033[95m"};
	/* FNV-1a: the same job keeps its colour across retries and runs */
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return palette[h % (sizeof(palette) / sizeof(palette[0]))];
}

/* Opens the job's log file: truncated on the first attempt of this run, appended to by
 * retries so every attempt stays readable. */
static int open_log_file(struct report *r, struct job_log *jl, struct err *err)
{
	_cleanup_free_ char *fname = report_log_file_name(jl->name);
	jl->log_path = xasprintf("%s/%s", r->log_dir, fname);
	pthread_mutex_lock(&r->files_lock);
	bool seen = strvec_find(&r->log_files, jl->log_path) >= 0;
	if (!seen)
		strvec_push(&r->log_files, jl->log_path);
	pthread_mutex_unlock(&r->files_lock);
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (seen ? O_APPEND : O_TRUNC);
	jl->log_fd = open(jl->log_path, flags, 0644);
	if (jl->log_fd < 0)
		return err_sys(err, errno, "cannot open job log '%s'", jl->log_path);
	return 0;
}

struct job_log *report_job_open(struct report *r, const char *job_name,
                                const struct var_list *masked, struct err *err)
{
	struct job_log *jl = xcalloc(1, sizeof(*jl));
	jl->r = r;
	jl->name = xstrdup(job_name);
	jl->log_fd = -1;
	jl->color = r->opts.color ? job_color(job_name) : "";
	pthread_mutex_init(&jl->lock, NULL);
	for (int i = 0; i < 3; i++)
		strbuf_init(&jl->line[i], 0);
	strbuf_init(&jl->scratch, 0);

	struct strvec secrets = STRVEC_INIT;
	report_collect_secrets(masked, &secrets);
	for (int i = 0; i < 3; i++)
		jl->mask[i] = masker_new((const char *const *)secrets.v, secrets.n);
	strvec_release(&secrets);

	if (r->log_dir && open_log_file(r, jl, err) < 0) {
		report_job_close(jl);
		return NULL;
	}
	return jl;
}

const char *report_job_log_path(const struct job_log *jl)
{
	return jl ? jl->log_path : NULL;
}

/* Appends the terminal prefix of one line: [time] name-padded | */
static void add_prefix(const struct job_log *jl, struct strbuf *out)
{
	const struct report *r = jl->r;
	if (r->opts.timestamps) {
		struct timeval tv;
		struct tm tm;
		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		strbuf_addf(out, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		            (long)(tv.tv_usec / 1000));
	}
	size_t w = r->opts.name_width;
	size_t nlen = strlen(jl->name);
	strbuf_addstr(out, jl->color);
	strbuf_addstr(out, jl->name);
	for (size_t i = nlen; i < w; i++)
		strbuf_addch(out, ' ');
	strbuf_addstr(out, r->opts.color ? "\033[0m | " : " | ");
}

/* Appends one finished line (without its '\n') in terminal form. */
static void add_terminal_line(const struct job_log *jl, const char *line, size_t len,
                              struct strbuf *out)
{
	add_prefix(jl, out);
	strbuf_add(out, line, len);
	/* a colour left open by the job must not bleed into the next job's prefix */
	if (jl->r->opts.color && memchr(line, '\033', len))
		strbuf_addstr(out, "\033[0m");
	strbuf_addch(out, '\n');
}

/* Emits the complete lines of a stream buffer (all of it when `all`), to the terminal in one
 * write under the lock and raw to the log file. Caller holds jl->lock. */
static void emit_lines(struct job_log *jl, int stream, bool all)
{
	struct strbuf *lb = &jl->line[stream];
	struct strbuf *term = &jl->scratch;
	size_t start = 0, raw_end = 0;
	strbuf_reset(term);
	while (start < lb->len) {
		const char *nl = memchr(lb->buf + start, '\n', lb->len - start);
		size_t end;
		if (nl)
			end = (size_t)(nl - lb->buf);
		else if (all || lb->len - start >= LINE_MAX_BYTES)
			end = lb->len;
		else
			break;
		add_terminal_line(jl, lb->buf + start, end - start, term);
		start = nl ? end + 1 : end;
		raw_end = start;
	}
	if (term->len) {
		pthread_mutex_lock(&jl->r->out_lock);
		term_write(jl->r, term->buf, term->len);
		pthread_mutex_unlock(&jl->r->out_lock);
	}
	if (jl->log_fd >= 0 && raw_end > 0) {
		(void)write_all(jl->log_fd, lb->buf, raw_end);
		/* a partial last line flushed at close still ends the file with a newline */
		if (all && lb->buf[raw_end - 1] != '\n')
			(void)write_all(jl->log_fd, "\n", 1);
	}
	if (raw_end == lb->len) {
		strbuf_reset(lb);
	} else if (raw_end > 0) {
		memmove(lb->buf, lb->buf + raw_end, lb->len - raw_end);
		strbuf_setlen(lb, lb->len - raw_end);
	}
}

void report_job_write(struct job_log *jl, int stream, const char *data, size_t len)
{
	if (!jl || len == 0)
		return;
	if (stream < 0 || stream > 2)
		stream = 1;
	pthread_mutex_lock(&jl->lock);
	masker_feed(jl->mask[stream], data, len, &jl->line[stream]);
	if (memchr(data, '\n', len) || jl->line[stream].len >= LINE_MAX_BYTES)
		emit_lines(jl, stream, false);
	pthread_mutex_unlock(&jl->lock);
}

static const char *message_style(const char *msg)
{
	if (strncmp(msg, "WARNING:", 8) == 0 || strncmp(msg, "*** WARNING:", 12) == 0)
		return ANSI_WARN;
	if (strncmp(msg, "ERROR:", 6) == 0)
		return ANSI_ERROR;
	return ANSI_INFO;
}

/* Stream 0: every line of msg gets gitlab-runner's styling in the log file, and on the
 * terminal too when colour is on. */
static void emit_message(struct job_log *jl, const char *msg, size_t len)
{
	struct strbuf term = STRBUF_INIT, raw = STRBUF_INIT;
	const char *style = message_style(msg);
	const char *p = msg, *end = msg + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		strbuf_addf(&raw, "%s%.*s" ANSI_RESET "\n", style, (int)l, p);
		add_prefix(jl, &term);
		if (jl->r->opts.color)
			strbuf_addf(&term, "%s%.*s" ANSI_RESET "\n", style, (int)l, p);
		else
			strbuf_addf(&term, "%.*s\n", (int)l, p);
		p += l + (nl ? 1 : 0);
	}
	pthread_mutex_lock(&jl->r->out_lock);
	term_write(jl->r, term.buf, term.len);
	pthread_mutex_unlock(&jl->r->out_lock);
	if (jl->log_fd >= 0)
		(void)write_all(jl->log_fd, raw.buf, raw.len);
	strbuf_release(&term);
	strbuf_release(&raw);
}

void report_job_vprintf(struct job_log *jl, const char *fmt, va_list ap)
{
	if (!jl)
		return;
	struct strbuf text = STRBUF_INIT, masked = STRBUF_INIT;
	strbuf_vaddf(&text, fmt, ap);
	strbuf_rtrim(&text);
	pthread_mutex_lock(&jl->lock);
	masker_feed(jl->mask[0], text.buf, text.len, &masked);
	masker_flush(jl->mask[0], &masked);
	emit_message(jl, masked.buf, masked.len);
	pthread_mutex_unlock(&jl->lock);
	strbuf_release(&text);
	strbuf_release(&masked);
}

void report_job_printf(struct job_log *jl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_job_vprintf(jl, fmt, ap);
	va_end(ap);
}

void report_job_close(struct job_log *jl)
{
	if (!jl)
		return;
	pthread_mutex_lock(&jl->lock);
	for (int s = 1; s <= 2; s++) {
		masker_flush(jl->mask[s], &jl->line[s]);
		emit_lines(jl, s, true);
	}
	pthread_mutex_unlock(&jl->lock);
	for (int i = 0; i < 3; i++) {
		masker_free(jl->mask[i]);
		strbuf_release(&jl->line[i]);
	}
	strbuf_release(&jl->scratch);
	if (jl->log_fd >= 0)
		close(jl->log_fd);
	pthread_mutex_destroy(&jl->lock);
	free(jl->log_path);
	free(jl->name);
	free(jl);
}
