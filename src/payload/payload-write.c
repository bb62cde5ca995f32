/* Writing a payload as JSON, field by field in the order of GitLab's
 * API::Entities::Ci::JobRequest::Response, nulls where GitLab sends nulls; and the masking
 * pass of `runnel payload` (payload-json.h). */
#include "payload/payload-json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "payload/payload.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* A JSON string for s; bytes that are not valid UTF-8 (a commit message in Latin-1) become
 * '?' rather than losing the field. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *c = xstrdup(s);
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

static json_t *str_or_null(const char *s)
{
	return s ? jstr(s) : json_null();
}

static json_t *strlist(const struct payload_strlist *l)
{
	if (!l->present)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, jstr(l->v[i]));
	return a;
}

/* An absent list written as [] (fields GitLab always sends as arrays). */
static json_t *strlist_empty(const struct payload_strlist *l)
{
	return l->present ? strlist(l) : json_array();
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

static json_t *var_json(const struct payload_var *v, bool flags)
{
	json_t *o = json_object();
	set(o, "key", jstr(v->key));
	set(o, "value", jstr(v->value ? v->value : ""));
	if (!flags)
		return o;
	set(o, "public", json_boolean(v->public_));
	set(o, "masked", json_boolean(v->masked));
	/* file and raw only when true, as Ci::Variables::Collection::Item#to_runner_variable */
	if (v->file)
		set(o, "file", json_true());
	if (v->raw)
		set(o, "raw", json_true());
	return o;
}

static json_t *vars_json(const struct payload_var *v, size_t n, bool flags)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, var_json(&v[i], flags));
	return a;
}

static json_t *ports_json(const struct payload_image *im)
{
	json_t *a = json_array();
	for (size_t i = 0; i < im->n_ports; i++) {
		json_t *o = json_object();
		set(o, "number", json_integer(im->ports[i].number));
		if (im->ports[i].protocol)
			set(o, "protocol", jstr(im->ports[i].protocol));
		if (im->ports[i].name)
			set(o, "name", jstr(im->ports[i].name));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *executor_opts_json(const struct payload_image *im)
{
	json_t *o = json_object();
	if (!im->docker_platform && !im->docker_user)
		return o;
	json_t *d = json_object();
	if (im->docker_platform)
		set(d, "platform", jstr(im->docker_platform));
	if (im->docker_user)
		set(d, "user", jstr(im->docker_user));
	set(o, "docker", d);
	return o;
}

static json_t *image_json(const struct payload_image *im, bool service)
{
	if (!im->name && !service)
		return json_null();
	json_t *o = json_object();
	set(o, "name", str_or_null(im->name));
	if (service)
		set(o, "alias", str_or_null(im->alias));
	if (service)
		set(o, "command", strlist(&im->command));
	set(o, "entrypoint", strlist(&im->entrypoint));
	set(o, "executor_opts", executor_opts_json(im));
	set(o, "ports", ports_json(im));
	set(o, "pull_policy", strlist(&im->pull_policy));
	if (service)
		set(o, "variables",
		    im->has_variables ? vars_json(im->variables, im->n_variables, false)
		                      : json_null());
	return o;
}

static json_t *steps_json(const struct payload *pl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pl->n_steps; i++) {
		const struct payload_step *s = &pl->steps[i];
		json_t *o = json_object();
		set(o, "name", str_or_null(s->name));
		set(o, "script", strlist_empty(&s->script));
		set(o, "timeout", json_integer(s->timeout));
		set(o, "when", str_or_null(s->when));
		set(o, "allow_failure", json_boolean(s->allow_failure));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *artifacts_json(const struct payload *pl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pl->n_artifacts; i++) {
		const struct payload_artifact *r = &pl->artifacts[i];
		json_t *o = json_object();
		if (r->name || r->has_untracked)
			set(o, "name", str_or_null(r->name));
		if (r->has_untracked)
			set(o, "untracked", json_boolean(r->untracked));
		set(o, "paths", strlist_empty(&r->paths));
		if (r->exclude.present)
			set(o, "exclude", strlist(&r->exclude));
		set(o, "when", str_or_null(r->when));
		if (r->expire_in || r->has_untracked)
			set(o, "expire_in", str_or_null(r->expire_in));
		set(o, "artifact_type", str_or_null(r->artifact_type));
		set(o, "artifact_format", str_or_null(r->artifact_format));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *caches_json(const struct payload *pl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pl->n_caches; i++) {
		const struct payload_cache *c = &pl->caches[i];
		json_t *o = json_object();
		set(o, "key", str_or_null(c->key));
		set(o, "untracked", json_boolean(c->untracked));
		set(o, "policy", str_or_null(c->policy));
		set(o, "paths", strlist_empty(&c->paths));
		set(o, "when", str_or_null(c->when));
		set(o, "fallback_keys", strlist_empty(&c->fallback_keys));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *credentials_json(const struct payload *pl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pl->n_credentials; i++) {
		const struct payload_credential *c = &pl->credentials[i];
		json_t *o = json_object();
		set(o, "type", str_or_null(c->type));
		set(o, "url", str_or_null(c->url));
		set(o, "username", str_or_null(c->username));
		set(o, "password", str_or_null(c->password));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *dependencies_json(const struct payload *pl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pl->n_dependencies; i++) {
		const struct payload_dependency *d = &pl->dependencies[i];
		json_t *o = json_object();
		set(o, "id", json_integer(d->id));
		set(o, "name", str_or_null(d->name));
		set(o, "token", str_or_null(d->token));
		if (d->has_artifacts_file) {
			json_t *f = json_object();
			set(f, "filename", str_or_null(d->artifacts_filename));
			set(f, "size", json_integer(d->artifacts_size));
			set(o, "artifacts_file", f);
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *info_json(const struct payload *pl, json_t *root)
{
	json_t *ji = json_object();
	set(ji, "id", json_integer(pl->job_info.id));
	set(ji, "name", str_or_null(pl->job_info.name));
	set(ji, "stage", str_or_null(pl->job_info.stage));
	set(ji, "project_id", json_integer(pl->job_info.project_id));
	set(ji, "project_name", str_or_null(pl->job_info.project_name));
	set(root, "job_info", ji);
	json_t *gi = json_object();
	set(gi, "repo_url", str_or_null(pl->git_info.repo_url));
	set(gi, "ref", str_or_null(pl->git_info.ref));
	set(gi, "sha", str_or_null(pl->git_info.sha));
	set(gi, "before_sha", str_or_null(pl->git_info.before_sha));
	set(gi, "ref_type", str_or_null(pl->git_info.ref_type));
	set(gi, "refspecs", strlist_empty(&pl->git_info.refspecs));
	set(gi, "depth", json_integer(pl->git_info.depth));
	if (pl->git_info.repo_object_format)
		set(gi, "repo_object_format", jstr(pl->git_info.repo_object_format));
	set(gi, "protected", json_boolean(pl->git_info.protected_));
	set(root, "git_info", gi);
	json_t *ri = json_object();
	set(ri, "timeout", json_integer(pl->runner_info.timeout));
	set(ri, "runner_session_url", str_or_null(pl->runner_info.runner_session_url));
	set(root, "runner_info", ri);
	return root;
}

static json_t *inputs_json(const struct payload *pl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pl->n_inputs; i++) {
		json_t *o = json_object();
		set(o, "key", str_or_null(pl->inputs[i].key));
		json_t *v = pl->inputs[i].value_json
		                ? json_loads(pl->inputs[i].value_json, JSON_DECODE_ANY, NULL)
		                : NULL;
		set(o, "value", v ? v : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *payload_json(const struct payload *pl)
{
	json_t *root = json_object();
	set(root, "id", json_integer(pl->id));
	set(root, "token", str_or_null(pl->token));
	set(root, "allow_git_fetch", json_boolean(pl->allow_git_fetch));
	info_json(pl, root);
	set(root, "variables", vars_json(pl->variables, pl->n_variables, true));
	set(root, "steps", steps_json(pl));
	set(root, "image", image_json(&pl->image, false));
	json_t *services = json_array();
	for (size_t i = 0; i < pl->n_services; i++)
		json_array_append_new(services, image_json(&pl->services[i], true));
	set(root, "services", services);
	set(root, "artifacts", artifacts_json(pl));
	set(root, "cache", caches_json(pl));
	set(root, "credentials", credentials_json(pl));
	set(root, "dependencies", dependencies_json(pl));
	json_t *f = json_object();
	set(f, "trace_sections", json_boolean(pl->features.trace_sections));
	set(f, "token_mask_prefixes", strlist_empty(&pl->features.token_mask_prefixes));
	set(f, "failure_reasons", strlist_empty(&pl->features.failure_reasons));
	set(root, "features", f);
	if (pl->n_inputs)
		set(root, "inputs", inputs_json(pl));
	return root;
}

/* ---- masking ------------------------------------------------------------------------------ */

struct secrets {
	const char **v;
	size_t n;
};

/* Replaces every occurrence of each secret (longest first, as the runner's masker) in s. */
static char *mask_text(const char *s, const struct secrets *sec)
{
	struct strbuf sb = STRBUF_INIT;
	while (*s) {
		size_t hit = 0;
		for (size_t i = 0; i < sec->n && !hit; i++)
			if (!strncmp(s, sec->v[i], strlen(sec->v[i])))
				hit = strlen(sec->v[i]);
		if (hit) {
			strbuf_addstr(&sb, "[MASKED]");
			s += hit;
		} else {
			strbuf_addch(&sb, *s++);
		}
	}
	return strbuf_detach(&sb, NULL);
}

static void mask_tree(json_t *j, const struct secrets *sec)
{
	const char *key;
	json_t *v;
	size_t i;
	if (json_is_object(j)) {
		json_object_foreach(j, key, v) mask_tree(v, sec);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) mask_tree(v, sec);
	} else if (json_is_string(j)) {
		char *m = mask_text(json_string_value(j), sec);
		json_string_set(j, m);
		free(m);
	}
}

static int by_length_desc(const void *a, const void *b)
{
	size_t la = strlen(*(const char *const *)a), lb = strlen(*(const char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

static void mask_payload(const struct payload *pl, json_t *root)
{
	struct secrets sec = {.v = xcalloc(pl->n_variables + 1, sizeof(char *))};
	if (pl->token && *pl->token)
		sec.v[sec.n++] = pl->token;
	for (size_t i = 0; i < pl->n_variables; i++)
		if (pl->variables[i].masked && pl->variables[i].value && *pl->variables[i].value)
			sec.v[sec.n++] = pl->variables[i].value;
	qsort(sec.v, sec.n, sizeof(*sec.v), by_length_desc);
	if (sec.n)
		mask_tree(root, &sec);
	free(sec.v);
}

char *payload_to_json(const struct payload *pl, unsigned flags)
{
	json_t *root = payload_json(pl);
	if (flags & PAYLOAD_JSON_MASK)
		mask_payload(pl, root);
	size_t jf = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	jf |= (flags & PAYLOAD_JSON_COMPACT) ? JSON_COMPACT : JSON_INDENT(2);
	char *text = json_dumps(root, jf);
	json_decref(root);
	if (!text) /* jansson fails only on allocation (or invalid UTF-8, which we never add) */
		abort();
	char *ret = xstrdup(text);
	free(text);
	return ret;
}
