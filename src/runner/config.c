/* config: the model of config.toml (config.h) read from the TOML tree with a table of the keys
 * runnel knows per section, gitlab-runner's defaults, and the edits register and unregister
 * make to the tree before it is written back. */
#include "runner/config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

enum kind { K_STR, K_INT, K_BOOL, K_STRS, K_TABLE, K_TIME };

/* A key of a section: its TOML type and where it lands in struct runner_entry (or -1). */
struct key_spec {
	const char *name;
	enum kind kind;
	ptrdiff_t off;
};

#define E(f) offsetof(struct runner_entry, f)

static const struct key_spec runner_keys[] = {
    {"name", K_STR, E(name)},
    {"url", K_STR, E(url)},
    {"token", K_STR, E(token)},
    {"executor", K_STR, E(executor)},
    {"shell", K_STR, E(shell)},
    {"id", K_INT, E(id)},
    {"token_obtained_at", K_TIME, E(token_obtained_at)},
    {"token_expires_at", K_TIME, E(token_expires_at)},
    {"limit", K_INT, E(limit)},
    {"request_concurrency", K_INT, E(request_concurrency)},
    {"output_limit", K_INT, E(output_limit)},
    {"builds_dir", K_STR, E(builds_dir)},
    {"cache_dir", K_STR, E(cache_dir)},
    {"tls-ca-file", K_STR, E(tls_ca_file)},
    {"pre_build_script", K_STR, E(pre_build_script)},
    {"post_build_script", K_STR, E(post_build_script)},
    {"environment", K_STRS, E(environment)},
    {"docker", K_TABLE, E(docker)},
};

/* [runners.docker] keys runnel's runner settings implement (exec/settings.h). */
static const struct key_spec docker_keys[] = {
    {"image", K_STR, -1},
    {"privileged", K_BOOL, -1},
    {"services_privileged", K_BOOL, -1},
    {"volumes", K_STRS, -1},
    {"cap_add", K_STRS, -1},
    {"cap_drop", K_STRS, -1},
    {"security_opt", K_STRS, -1},
    {"devices", K_STRS, -1},
    {"extra_hosts", K_STRS, -1},
    {"dns", K_STRS, -1},
    {"network_mode", K_STR, -1},
    {"pull_policy", K_STRS, -1}, /* a string or a list */
    {"allowed_images", K_STRS, -1},
    {"allowed_services", K_STRS, -1},
    {"allowed_pull_policies", K_STRS, -1},
    {"wait_for_services_timeout", K_INT, -1},
    {"services_limit", K_INT, -1},
    {"allowed_privileged_images", K_STRS, -1},
    {"allowed_privileged_services", K_STRS, -1},
};

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_STR:
		return "a string";
	case K_INT:
		return "an integer";
	case K_STRS:
		return "an array of strings";
	case K_TABLE:
		return "a table";
	case K_TIME:
		return "a date-time";
	case K_BOOL:
		return "a boolean";
	}
	return "?";
}

static bool kind_ok(enum kind k, const struct toml_value *v, const char *key)
{
	switch (k) {
	case K_STR:
		return v->type == TOML_STRING;
	case K_INT:
		return v->type == TOML_INT;
	case K_TIME:
		return v->type == TOML_DATETIME || v->type == TOML_STRING;
	case K_TABLE:
		return v->type == TOML_TABLE;
	case K_STRS:
		if (!strcmp(key, "pull_policy") && v->type == TOML_STRING)
			return true;
		if (v->type != TOML_ARRAY)
			return false;
		for (size_t i = 0; i < v->n; i++)
			if (v->items[i]->type != TOML_STRING)
				return false;
		return true;
	case K_BOOL:
		return v->type == TOML_BOOL;
	}
	return false;
}

/* A key set to gitlab-runner's zero value (false, 0, "", []) changes nothing: gitlab-runner
 * writes many of those into every new file, so they are not worth a warning. */
static bool is_zero(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_BOOL:
		return !v->b;
	case TOML_INT:
		return v->i == 0;
	case TOML_STRING:
		return !*v->s;
	case TOML_ARRAY:
		return v->n == 0;
	default:
		return false;
	}
}

static const struct key_spec *find_key(const struct key_spec *specs, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(specs[i].name, k))
			return &specs[i];
	return NULL;
}

static void store(const struct key_spec *ks, const struct toml_value *v, struct runner_entry *r)
{
	char *field = (char *)r + ks->off;
	switch (ks->kind) {
	case K_STR:
	case K_TIME:
		*(const char **)field = v->s;
		break;
	case K_INT:
		*(long long *)field = v->i;
		break;
	case K_STRS:
		for (size_t i = 0; i < v->n; i++)
			strvec_push((struct strvec *)field, v->items[i]->s);
		break;
	case K_TABLE:
		*(const struct toml_value **)field = v;
		break;
	case K_BOOL:
		break;
	}
}

/* Checks the keys of table t against specs; unknown ones join c->unsupported as
 * "<where>.<key>". With r set, known values are stored into it. */
static int check_section(struct runner_config *c, const struct toml_value *t, const char *where,
                         const struct key_spec *specs, size_t n, struct runner_entry *r,
                         struct err *err)
{
	for (size_t i = 0; i < t->nkv; i++) {
		const struct toml_kv *kv = &t->kv[i];
		const struct key_spec *ks = find_key(specs, n, kv->key);
		if (!ks) {
			if (!is_zero(kv->v))
				strvec_pushf(&c->unsupported, "%s%s%s", where, *where ? "." : "",
				             kv->key);
			continue;
		}
		if (!kind_ok(ks->kind, kv->v, kv->key))
			return err_at(err, kv->v->loc, "'%s%s%s' must be %s", where,
			              *where ? "." : "", kv->key, kind_name(ks->kind));
		if (r && ks->off >= 0)
			store(ks, kv->v, r);
	}
	return 0;
}

static int check_runner(struct runner_config *c, const struct toml_value *t, size_t idx,
                        struct err *err)
{
	struct runner_entry *r = &c->runners[idx];
	memset(r, 0, sizeof(*r));
	strvec_init(&r->environment);
	r->request_concurrency = RUNNER_DEFAULT_REQUEST_CONCURRENCY;
	r->output_limit = RUNNER_DEFAULT_OUTPUT_LIMIT;
	r->loc = t->loc;
	c->n = idx + 1;
	_cleanup_free_ char *where = xasprintf("runners[%zu]", idx);
	if (check_section(c, t, where, runner_keys, sizeof(runner_keys) / sizeof(runner_keys[0]), r,
	                  err) < 0)
		return -1;
	if (r->executor && strcmp(r->executor, "docker") && strcmp(r->executor, "shell"))
		return err_at(err, toml_get(t, "executor")->loc,
		              "executor '%s' is not supported (runnel has docker and shell)",
		              r->executor);
	if (r->docker) {
		_cleanup_free_ char *dw = xasprintf("%s.docker", where);
		if (check_section(c, r->docker, dw, docker_keys,
		                  sizeof(docker_keys) / sizeof(docker_keys[0]), NULL, err) < 0)
			return -1;
	}
	if (r->request_concurrency < 1)
		r->request_concurrency = RUNNER_DEFAULT_REQUEST_CONCURRENCY;
	if (r->output_limit <= 0)
		r->output_limit = RUNNER_DEFAULT_OUTPUT_LIMIT;
	return 0;
}

static const struct key_spec global_keys[] = {
    {"concurrent", K_INT, -1},
    {"check_interval", K_INT, -1},
    {"shutdown_timeout", K_INT, -1},
    {"log_level", K_STR, -1},
};

static void clear_model(struct runner_config *c)
{
	for (size_t i = 0; i < c->n; i++)
		strvec_release(&c->runners[i].environment);
	free(c->runners);
	c->runners = NULL;
	c->n = 0;
	strvec_release(&c->unsupported);
	c->concurrent = 1;
	c->check_interval = 0;
	c->shutdown_timeout = RUNNER_DEFAULT_SHUTDOWN_TIMEOUT;
	c->log_level = NULL;
}

/* Builds the model from c->doc.root. */
static int build_model(struct runner_config *c, struct err *err)
{
	clear_model(c);
	const struct toml_value *root = c->doc.root;
	struct toml_value *runners = toml_get(root, "runners");
	for (size_t i = 0; i < root->nkv; i++) {
		if (!strcmp(root->kv[i].key, "runners"))
			continue;
		const struct key_spec *ks = find_key(global_keys, 4, root->kv[i].key);
		if (!ks && !is_zero(root->kv[i].v))
			strvec_push(&c->unsupported, root->kv[i].key);
		if (ks && !kind_ok(ks->kind, root->kv[i].v, ks->name))
			return err_at(err, root->kv[i].v->loc, "'%s' must be %s", ks->name,
			              kind_name(ks->kind));
	}
	const struct toml_value *v;
	if ((v = toml_get(root, "concurrent")))
		c->concurrent = v->i;
	if ((v = toml_get(root, "check_interval")))
		c->check_interval = v->i;
	if ((v = toml_get(root, "shutdown_timeout")))
		c->shutdown_timeout = v->i;
	if ((v = toml_get(root, "log_level")))
		c->log_level = v->s;
	if (!runners)
		return 0;
	if (runners->type != TOML_ARRAY || !runners->aot)
		return err_at(err, runners->loc,
		              "'runners' must be an array of tables ([[runners]])");
	c->runners = xcalloc(runners->n, sizeof(*c->runners));
	for (size_t i = 0; i < runners->n; i++)
		if (check_runner(c, runners->items[i], i, err) < 0)
			return -1;
	return 0;
}

void runner_config_init(struct runner_config *c)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->unsupported);
	clear_model(c);
}

void runner_config_release(struct runner_config *c)
{
	clear_model(c);
	toml_doc_release(&c->doc);
}

int runner_config_parse(struct runner_config *c, const char *path, const char *text, size_t len,
                        struct err *err)
{
	toml_doc_release(&c->doc);
	if (toml_parse(path, text, len, &c->doc, err) < 0)
		return -1;
	c->exists = true;
	return build_model(c, err);
}

int runner_config_load(struct runner_config *c, const char *path, bool missing_ok, struct err *err)
{
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	if (fs_read_file(path, 0, 4u << 20, &sb) != 0) {
		if (errno == ENOENT && missing_ok) {
			toml_doc_release(&c->doc);
			c->doc.path = xstrdup(path);
			c->doc.root = toml_new(TOML_TABLE);
			c->exists = false;
			return build_model(c, err);
		}
		return err_sys(err, errno, "cannot read '%s'", path);
	}
	return runner_config_parse(c, path, sb.buf, sb.len, err);
}

long long runner_config_interval(const struct runner_config *c)
{
	return c->check_interval > 0 ? c->check_interval : RUNNER_DEFAULT_CHECK_INTERVAL;
}

static struct toml_value *runners_array(struct toml_value *root)
{
	struct toml_value *a = toml_get(root, "runners");
	if (!a) {
		a = toml_new(TOML_ARRAY);
		a->aot = true;
		toml_set(root, "runners", a);
	}
	return a;
}

static void set_str(struct toml_value *t, const char *k, const char *v)
{
	if (v)
		toml_set(t, k, toml_new_string(v));
}

int runner_config_add(struct runner_config *c, const struct runner_new *r, struct err *err)
{
	struct toml_value *root = c->doc.root;
	if (!toml_get(root, "concurrent"))
		toml_set(root, "concurrent", toml_new_int(1));
	if (!toml_get(root, "check_interval"))
		toml_set(root, "check_interval", toml_new_int(0));
	struct toml_value *a = runners_array(root);
	if (a->type != TOML_ARRAY)
		return err_set(err, ERR_CONFIG, "'runners' is not an array of tables");
	struct toml_value *t = toml_new(TOML_TABLE);
	set_str(t, "name", r->name);
	set_str(t, "url", r->url);
	if (r->id)
		toml_set(t, "id", toml_new_int(r->id));
	set_str(t, "token", r->token);
	if (r->token_obtained_at) {
		struct toml_value *d = toml_new(TOML_DATETIME);
		d->s = xstrdup(r->token_obtained_at);
		toml_set(t, "token_obtained_at", d);
	}
	if (r->token_expires_at) {
		struct toml_value *d = toml_new(TOML_DATETIME);
		d->s = xstrdup(r->token_expires_at);
		toml_set(t, "token_expires_at", d);
	}
	set_str(t, "tls-ca-file", r->tls_ca_file);
	set_str(t, "executor", r->executor);
	if (r->limit)
		toml_set(t, "limit", toml_new_int(r->limit));
	if (r->request_concurrency > 1)
		toml_set(t, "request_concurrency", toml_new_int(r->request_concurrency));
	if (r->docker_image) {
		struct toml_value *d = toml_new(TOML_TABLE);
		set_str(d, "image", r->docker_image);
		toml_set(t, "docker", d);
	}
	toml_push(a, t);
	return build_model(c, err);
}

int runner_config_remove(struct runner_config *c, size_t i, struct err *err)
{
	struct toml_value *a = toml_get(c->doc.root, "runners");
	assert(a && a->type == TOML_ARRAY && i < a->n);
	toml_remove(a, i);
	if (a->n == 0)
		toml_unset(c->doc.root, "runners");
	return build_model(c, err);
}

int runner_config_save(const struct runner_config *c, const char *path, struct err *err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return err_sys(err, errno, "cannot create '%s'", dir);
	}
	_cleanup_(strbuf_release) struct strbuf out = STRBUF_INIT;
	toml_write(c->doc.root, &out);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(err, errno, "cannot create '%s'", tmp);
	size_t off = 0;
	while (off < out.len) {
		ssize_t w = write(fd, out.buf + off, out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return err_sys(err, e, "cannot write '%s'", tmp);
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		unlink(tmp);
		return err_sys(err, errno, "cannot write '%s'", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return err_sys(err, e, "cannot replace '%s'", path);
	}
	return 0;
}

char *runner_config_default_path(void)
{
	if (geteuid() == 0)
		return xstrdup("/etc/gitlab-runner/config.toml");
	const char *home = getenv("HOME");
	if (!home || !*home)
		return xstrdup("config.toml");
	return xasprintf("%s/.gitlab-runner/config.toml", home);
}
