/* Parsing a job payload from JSON (payload-json.h). Each reader takes the object and the
 * key it reads, so that an error can name the field's whole path: the path of the object
 * being read is kept in the parser (`steps[1]`), the key is added at the error. */
#include "payload/payload-json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "payload/payload.h"
#include "util/strbuf.h"

struct jp {
	struct payload *pl;
	struct strbuf path; /* of the object being read: "", "steps[1]", "services[0].ports[2]" */
	struct err *err;
};

static int fail(struct jp *p, const char *key, const char *what)
{
	if (key)
		return err_set(p->err, ERR_CONFIG, "%s%s%s: expected %s", p->path.buf,
		               p->path.len ? "." : "", key, what);
	return err_set(p->err, ERR_CONFIG, "%s: expected %s", p->path.len ? p->path.buf : "payload",
	               what);
}

/* Enters o[key][index] (index < 0: o[key]); returns the old path length for leave(). */
static size_t enter(struct jp *p, const char *key, long index)
{
	size_t old = p->path.len;
	if (key)
		strbuf_addf(&p->path, "%s%s", old ? "." : "", key);
	if (index >= 0)
		strbuf_addf(&p->path, "[%ld]", index);
	return old;
}

static void leave(struct jp *p, size_t old)
{
	strbuf_setlen(&p->path, old);
}

/* The value of key in o, or NULL when it is absent or null (both are "not set"). */
static json_t *field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return v && !json_is_null(v) ? v : NULL;
}

static int get_str(struct jp *p, json_t *o, const char *key, const char **out)
{
	json_t *v = field(o, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(p, key, "a string");
	*out = payload_strdup(p->pl, json_string_value(v));
	return 0;
}

static int get_bool(struct jp *p, json_t *o, const char *key, bool *out)
{
	json_t *v = field(o, key);
	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(p, key, "a boolean");
	*out = json_is_true(v);
	return 0;
}

static int get_long(struct jp *p, json_t *o, const char *key, long *out)
{
	json_t *v = field(o, key);
	*out = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return fail(p, key, "an integer");
	*out = (long)json_integer_value(v);
	return 0;
}

static int get_strlist(struct jp *p, json_t *o, const char *key, struct payload_strlist *out)
{
	json_t *v = field(o, key), *item;
	size_t i;
	*out = (struct payload_strlist){0};
	if (!v)
		return 0;
	if (!json_is_array(v))
		return fail(p, key, "an array of strings");
	out->v = payload_alloc_array(p->pl, json_array_size(v), sizeof(char *));
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item))
			return fail(p, key, "an array of strings");
		out->v[out->n++] = payload_strdup(p->pl, json_string_value(item));
	}
	out->present = true;
	return 0;
}

/* o[key] as an array (NULL with *n = 0 when absent or null). */
static int get_array(struct jp *p, json_t *o, const char *key, json_t **ret, size_t *n)
{
	json_t *v = field(o, key);
	*ret = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return fail(p, key, "an array");
	*ret = v;
	*n = json_array_size(v);
	return 0;
}

/* o[key] as an object (NULL when absent or null). */
static int get_object(struct jp *p, json_t *o, const char *key, json_t **ret)
{
	json_t *v = field(o, key);
	*ret = NULL;
	if (v && !json_is_object(v))
		return fail(p, key, "an object");
	*ret = v;
	return 0;
}

/* Reads o[key] with fn, the path extended by key; absent or null: nothing to read. */
typedef int (*object_fn)(struct jp *p, json_t *o, void *data);

static int sub_object(struct jp *p, json_t *o, const char *key, object_fn fn, void *data)
{
	json_t *v;
	if (get_object(p, o, key, &v) < 0)
		return -1;
	if (!v)
		return 0;
	size_t old = enter(p, key, -1);
	int r = fn(p, v, data);
	leave(p, old);
	return r;
}

/* Calls each(p, item, i, data) on every item of o[key], which must be objects. */
typedef int (*item_fn)(struct jp *p, json_t *item, size_t i, void *data);

static int each_object(struct jp *p, json_t *o, const char *key, size_t *ret_n, void **ret_items,
                       size_t size, item_fn each)
{
	json_t *arr, *item;
	size_t n, i;
	if (get_array(p, o, key, &arr, &n) < 0)
		return -1;
	char *items = payload_alloc_array(p->pl, n, size);
	json_array_foreach(arr, i, item)
	{
		size_t old = enter(p, key, (long)i);
		int r = json_is_object(item) ? each(p, item, i, items + i * size)
		                             : fail(p, NULL, "an object");
		leave(p, old);
		if (r < 0)
			return -1;
	}
	*ret_items = items;
	*ret_n = n;
	return 0;
}

static int var_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_var *v = data;
	(void)i;
	if (get_str(p, o, "key", &v->key) < 0 || get_str(p, o, "value", &v->value) < 0 ||
	    get_bool(p, o, "public", &v->public_) < 0 || get_bool(p, o, "masked", &v->masked) < 0 ||
	    get_bool(p, o, "file", &v->file) < 0 || get_bool(p, o, "raw", &v->raw) < 0)
		return -1;
	if (!v->key)
		return fail(p, "key", "a string");
	if (!v->value)
		v->value = "";
	return 0;
}

static int port_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_port *port = data;
	(void)i;
	if (get_long(p, o, "number", &port->number) < 0 ||
	    get_str(p, o, "protocol", &port->protocol) < 0 ||
	    get_str(p, o, "name", &port->name) < 0)
		return -1;
	return 0;
}

static int docker_opts(struct jp *p, json_t *o, void *data)
{
	struct payload_image *im = data;
	if (get_str(p, o, "platform", &im->docker_platform) < 0 ||
	    get_str(p, o, "user", &im->docker_user) < 0)
		return -1;
	return 0;
}

/* executor_opts: only docker's options are known (kubernetes' are ignored). */
static int executor_opts(struct jp *p, json_t *o, void *data)
{
	return sub_object(p, o, "docker", docker_opts, data);
}

/* GitLab's older servers send entrypoint and command as one string: a one-item list. */
static int get_cmdlist(struct jp *p, json_t *o, const char *key, struct payload_strlist *out)
{
	json_t *v = field(o, key);
	if (v && json_is_string(v)) {
		out->v = payload_alloc_array(p->pl, 1, sizeof(char *));
		out->v[0] = payload_strdup(p->pl, json_string_value(v));
		out->n = 1;
		out->present = true;
		return 0;
	}
	return get_strlist(p, o, key, out);
}

static int image_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_image *im = data;
	json_t *vars;
	(void)i;
	if (get_str(p, o, "name", &im->name) < 0 || get_str(p, o, "alias", &im->alias) < 0 ||
	    get_cmdlist(p, o, "entrypoint", &im->entrypoint) < 0 ||
	    get_cmdlist(p, o, "command", &im->command) < 0 ||
	    get_strlist(p, o, "pull_policy", &im->pull_policy) < 0 ||
	    each_object(p, o, "ports", &im->n_ports, (void **)&im->ports, sizeof(*im->ports),
	                port_item) < 0 ||
	    get_array(p, o, "variables", &vars, &im->n_variables) < 0 ||
	    each_object(p, o, "variables", &im->n_variables, (void **)&im->variables,
	                sizeof(*im->variables), var_item) < 0)
		return -1;
	im->has_variables = vars != NULL;
	return sub_object(p, o, "executor_opts", executor_opts, im);
}

static int step_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_step *s = data;
	(void)i;
	if (get_str(p, o, "name", &s->name) < 0 || get_strlist(p, o, "script", &s->script) < 0 ||
	    get_long(p, o, "timeout", &s->timeout) < 0 || get_str(p, o, "when", &s->when) < 0 ||
	    get_bool(p, o, "allow_failure", &s->allow_failure) < 0)
		return -1;
	return 0;
}

static int artifact_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_artifact *a = data;
	(void)i;
	a->has_untracked = json_object_get(o, "untracked") != NULL; /* null counts: the archive */
	if (get_str(p, o, "name", &a->name) < 0 || get_bool(p, o, "untracked", &a->untracked) < 0 ||
	    get_strlist(p, o, "paths", &a->paths) < 0 ||
	    get_strlist(p, o, "exclude", &a->exclude) < 0 || get_str(p, o, "when", &a->when) < 0 ||
	    get_str(p, o, "expire_in", &a->expire_in) < 0 ||
	    get_str(p, o, "artifact_type", &a->artifact_type) < 0 ||
	    get_str(p, o, "artifact_format", &a->artifact_format) < 0)
		return -1;
	return 0;
}

static int cache_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_cache *c = data;
	(void)i;
	if (get_str(p, o, "key", &c->key) < 0 || get_bool(p, o, "untracked", &c->untracked) < 0 ||
	    get_str(p, o, "policy", &c->policy) < 0 || get_strlist(p, o, "paths", &c->paths) < 0 ||
	    get_str(p, o, "when", &c->when) < 0 ||
	    get_strlist(p, o, "fallback_keys", &c->fallback_keys) < 0)
		return -1;
	return 0;
}

static int credential_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_credential *c = data;
	(void)i;
	if (get_str(p, o, "type", &c->type) < 0 || get_str(p, o, "url", &c->url) < 0 ||
	    get_str(p, o, "username", &c->username) < 0 ||
	    get_str(p, o, "password", &c->password) < 0)
		return -1;
	return 0;
}

static int artifacts_file(struct jp *p, json_t *o, void *data)
{
	struct payload_dependency *d = data;
	d->has_artifacts_file = true;
	if (get_str(p, o, "filename", &d->artifacts_filename) < 0 ||
	    get_long(p, o, "size", &d->artifacts_size) < 0)
		return -1;
	return 0;
}

static int dependency_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_dependency *d = data;
	(void)i;
	if (get_long(p, o, "id", &d->id) < 0 || get_str(p, o, "name", &d->name) < 0 ||
	    get_str(p, o, "token", &d->token) < 0)
		return -1;
	return sub_object(p, o, "artifacts_file", artifacts_file, d);
}

static int input_item(struct jp *p, json_t *o, size_t i, void *data)
{
	struct payload_input *in = data;
	(void)i;
	if (get_str(p, o, "key", &in->key) < 0)
		return -1;
	json_t *v = field(o, "value");
	if (!v)
		return 0;
	char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	in->value_json = payload_strdup(p->pl, text);
	free(text);
	return 0;
}

static int job_info(struct jp *p, json_t *o, void *data)
{
	struct payload *pl = data;
	if (get_long(p, o, "id", &pl->job_info.id) < 0 ||
	    get_str(p, o, "name", &pl->job_info.name) < 0 ||
	    get_str(p, o, "stage", &pl->job_info.stage) < 0 ||
	    get_long(p, o, "project_id", &pl->job_info.project_id) < 0 ||
	    get_str(p, o, "project_name", &pl->job_info.project_name) < 0)
		return -1;
	return 0;
}

static int git_info(struct jp *p, json_t *o, void *data)
{
	struct payload *pl = data;
	if (get_str(p, o, "repo_url", &pl->git_info.repo_url) < 0 ||
	    get_str(p, o, "ref", &pl->git_info.ref) < 0 ||
	    get_str(p, o, "sha", &pl->git_info.sha) < 0 ||
	    get_str(p, o, "before_sha", &pl->git_info.before_sha) < 0 ||
	    get_str(p, o, "ref_type", &pl->git_info.ref_type) < 0 ||
	    get_strlist(p, o, "refspecs", &pl->git_info.refspecs) < 0 ||
	    get_long(p, o, "depth", &pl->git_info.depth) < 0 ||
	    get_str(p, o, "repo_object_format", &pl->git_info.repo_object_format) < 0 ||
	    get_bool(p, o, "protected", &pl->git_info.protected_) < 0)
		return -1;
	return 0;
}

static int runner_info(struct jp *p, json_t *o, void *data)
{
	struct payload *pl = data;
	if (get_long(p, o, "timeout", &pl->runner_info.timeout) < 0 ||
	    get_str(p, o, "runner_session_url", &pl->runner_info.runner_session_url) < 0)
		return -1;
	return 0;
}

static int features(struct jp *p, json_t *o, void *data)
{
	struct payload *pl = data;
	if (get_bool(p, o, "trace_sections", &pl->features.trace_sections) < 0 ||
	    get_strlist(p, o, "token_mask_prefixes", &pl->features.token_mask_prefixes) < 0 ||
	    get_strlist(p, o, "failure_reasons", &pl->features.failure_reasons) < 0)
		return -1;
	return 0;
}

static int image(struct jp *p, json_t *o, void *data)
{
	return image_item(p, o, 0, data);
}

static int lists(struct jp *p, json_t *root)
{
	struct payload *pl = p->pl;
#define EACH(key, n, v, fn) each_object(p, root, key, &pl->n, (void **)&pl->v, sizeof(*pl->v), fn)
	if (EACH("variables", n_variables, variables, var_item) < 0 ||
	    EACH("steps", n_steps, steps, step_item) < 0 ||
	    EACH("services", n_services, services, image_item) < 0 ||
	    EACH("artifacts", n_artifacts, artifacts, artifact_item) < 0 ||
	    EACH("cache", n_caches, caches, cache_item) < 0 ||
	    EACH("credentials", n_credentials, credentials, credential_item) < 0 ||
	    EACH("dependencies", n_dependencies, dependencies, dependency_item) < 0 ||
	    EACH("inputs", n_inputs, inputs, input_item) < 0)
		return -1;
#undef EACH
	return 0;
}

static int fields(struct jp *p, json_t *root)
{
	struct payload *pl = p->pl;
	if (get_long(p, root, "id", &pl->id) < 0 || get_str(p, root, "token", &pl->token) < 0 ||
	    get_bool(p, root, "allow_git_fetch", &pl->allow_git_fetch) < 0 ||
	    sub_object(p, root, "job_info", job_info, pl) < 0 ||
	    sub_object(p, root, "git_info", git_info, pl) < 0 ||
	    sub_object(p, root, "runner_info", runner_info, pl) < 0 ||
	    sub_object(p, root, "features", features, pl) < 0 ||
	    sub_object(p, root, "image", image, &pl->image) < 0)
		return -1;
	return lists(p, root);
}

struct payload *payload_from_json(const char *text, size_t len, struct err *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je);
	if (!root) {
		err_set(err, ERR_CONFIG, "invalid JSON at line %d, column %d: %s", je.line,
		        je.column, je.text);
		return NULL;
	}
	struct jp p = {.pl = payload_new(), .path = STRBUF_INIT, .err = err};
	int r = json_is_object(root) ? 0 : fail(&p, NULL, "a JSON object");
	if (!r)
		r = fields(&p, root);
	json_decref(root);
	strbuf_release(&p.path);
	if (r < 0) {
		payload_free(p.pl);
		return NULL;
	}
	return p.pl;
}
