/* settings: runner settings under gitlab-runner's [runners.docker] key names, read from YAML
 * files (user level, then project level; a later file overrides the keys it sets) and from the
 * CLI flags that `runnel run` forwards. Unknown keys and wrongly typed values are configuration
 * errors pointing at the file, line and column, as pipeline errors do. */
#include "exec/settings.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/xalloc.h"
#include "yaml/node.h"

void runner_settings_init(struct runner_settings *s)
{
	*s = (struct runner_settings){
	    .services_privileged = -1,
	    .wait_for_services_timeout = 30,
	    .services_limit = -1,
	    .keep_runs = 20,
	};
	struct strvec *lists[] = {&s->volumes,
	                          &s->cap_add,
	                          &s->cap_drop,
	                          &s->security_opt,
	                          &s->devices,
	                          &s->extra_hosts,
	                          &s->dns,
	                          &s->allowed_images,
	                          &s->allowed_services,
	                          &s->allowed_pull_policies,
	                          &s->environment,
	                          &s->allowed_privileged_images,
	                          &s->allowed_privileged_services,
	                          &s->sources};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		strvec_init(lists[i]);
}

void runner_settings_release(struct runner_settings *s)
{
	if (!s)
		return;
	struct strvec *lists[] = {&s->volumes,
	                          &s->cap_add,
	                          &s->cap_drop,
	                          &s->security_opt,
	                          &s->devices,
	                          &s->extra_hosts,
	                          &s->dns,
	                          &s->allowed_images,
	                          &s->allowed_services,
	                          &s->allowed_pull_policies,
	                          &s->environment,
	                          &s->allowed_privileged_images,
	                          &s->allowed_privileged_services,
	                          &s->sources};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		strvec_release(lists[i]);
	free(s->network_mode);
	free(s->pull_policy);
	free(s->default_image);
	runner_settings_init(s);
}

/* ---- value checks shared by files and flags ---- */

static bool pull_policy_valid(const char *p)
{
	return !strcmp(p, "always") || !strcmp(p, "if-not-present") || !strcmp(p, "never");
}

static bool parse_bool_word(const char *v, bool *ret)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) {
		*ret = true;
		return true;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) {
		*ret = false;
		return true;
	}
	return false;
}

/* The integer settings: wait_for_services_timeout (seconds), services_limit and keep_runs
 * (counts). */
static const char *int_unit(const char *name)
{
	if (!strcmp(name, "keep_runs"))
		return "a number of runs";
	return strstr(name, "limit") ? "a number of services" : "a number of seconds";
}

static const char *int_off(const char *name)
{
	if (!strcmp(name, "keep_runs"))
		return "all";
	return strstr(name, "limit") ? "unlimited" : "off";
}

/* ---- YAML files ---- */

/* Where an error in the file points: the caller's path (it outlives the document). */
static struct srcloc loc_in(const char *path, struct srcloc l)
{
	l.file = path;
	return l;
}

enum setting_type { ST_BOOL, ST_TRISTATE, ST_STRING, ST_LIST, ST_INT, ST_PULL, ST_ENV };

struct setting_key {
	const char *name;
	enum setting_type type;
	size_t offset;
};

#define KEY(n, t, field)                                                                           \
	{                                                                                          \
		n, t, offsetof(struct runner_settings, field)                                      \
	}
static const struct setting_key setting_keys[] = {
    KEY("privileged", ST_BOOL, privileged),
    KEY("services_privileged", ST_TRISTATE, services_privileged),
    KEY("volumes", ST_LIST, volumes),
    KEY("cap_add", ST_LIST, cap_add),
    KEY("cap_drop", ST_LIST, cap_drop),
    KEY("security_opt", ST_LIST, security_opt),
    KEY("devices", ST_LIST, devices),
    KEY("extra_hosts", ST_LIST, extra_hosts),
    KEY("dns", ST_LIST, dns),
    KEY("network_mode", ST_STRING, network_mode),
    KEY("pull_policy", ST_PULL, pull_policy),
    KEY("allowed_images", ST_LIST, allowed_images),
    KEY("allowed_services", ST_LIST, allowed_services),
    KEY("allowed_pull_policies", ST_LIST, allowed_pull_policies),
    KEY("wait_for_services_timeout", ST_INT, wait_for_services_timeout),
    KEY("image", ST_STRING, default_image),
    KEY("dind_cache", ST_BOOL, dind_cache),
    KEY("environment", ST_ENV, environment),
    KEY("services_limit", ST_INT, services_limit),
    KEY("allowed_privileged_images", ST_LIST, allowed_privileged_images),
    KEY("allowed_privileged_services", ST_LIST, allowed_privileged_services),
    KEY("keep_runs", ST_INT, keep_runs),
};
#undef KEY

static int set_list(struct strvec *dst, const struct ynode *v, const char *path, const char *key,
                    struct err *err)
{
	if (v->kind != YNODE_SEQ)
		return err_at(err, loc_in(path, v->loc),
		              "setting '%s' must be a list of strings, not %s", key,
		              ynode_kind_name(v->kind));
	for (size_t i = 0; i < v->n; i++)
		if (!ynode_is_scalar(v->items[i]) || v->items[i]->kind == YNODE_NULL)
			return err_at(err, loc_in(path, v->items[i]->loc),
			              "setting '%s' must be a list of strings, item %zu is %s", key,
			              i + 1, ynode_kind_name(v->items[i]->kind));
	/* a file replaces the whole list of a file read before it */
	strvec_release(dst);
	for (size_t i = 0; i < v->n; i++)
		strvec_push(dst, ynode_str(v->items[i]));
	return 0;
}

/* environment: a list of "KEY=value" (gitlab-runner) or a map KEY: value. */
static int set_env(struct strvec *dst, const struct ynode *v, const char *path, struct err *err)
{
	if (v->kind == YNODE_MAP) {
		for (size_t i = 0; i < v->n; i++)
			if (!ynode_is_scalar(v->entries[i].value))
				return err_at(err, loc_in(path, v->entries[i].value->loc),
				              "environment value of '%s' must be a string",
				              v->entries[i].key);
		strvec_release(dst);
		for (size_t i = 0; i < v->n; i++)
			strvec_pushf(dst, "%s=%s", v->entries[i].key,
			             ynode_str(v->entries[i].value));
		return 0;
	}
	if (set_list(dst, v, path, "environment", err) < 0)
		return -1;
	for (size_t i = 0; i < v->n; i++)
		if (!strchr(dst->v[i], '=') || dst->v[i][0] == '=')
			return err_at(err, loc_in(path, v->items[i]->loc),
			              "environment entry '%s' must be KEY=value", dst->v[i]);
	return 0;
}

static int set_string(char **dst, const struct ynode *v, const char *path, const char *key,
                      struct err *err)
{
	if (!ynode_is_scalar(v) || v->kind == YNODE_BOOL)
		return err_at(err, loc_in(path, v->loc), "setting '%s' must be a string, not %s",
		              key, ynode_kind_name(v->kind));
	free(*dst);
	*dst = *ynode_str(v) ? xstrdup(ynode_str(v)) : NULL;
	return 0;
}

/* pull_policy: a string or a list (gitlab-runner tries them in order; the executor uses the
 * first). */
static int set_pull(char **dst, const struct ynode *v, const char *path, struct err *err)
{
	const struct ynode *first = v;
	if (v->kind == YNODE_SEQ) {
		if (!v->n)
			return err_at(err, loc_in(path, v->loc), "setting 'pull_policy' is empty");
		first = v->items[0];
	}
	if (!ynode_is_scalar(first) || !pull_policy_valid(ynode_str(first)))
		return err_at(err, loc_in(path, first->loc),
		              "setting 'pull_policy' must be always, if-not-present or never");
	free(*dst);
	*dst = xstrdup(ynode_str(first));
	return 0;
}

static int set_one(struct runner_settings *s, const struct setting_key *k, const struct ynode *v,
                   const char *path, struct err *err)
{
	char *field = (char *)s + k->offset;
	switch (k->type) {
	case ST_BOOL:
	case ST_TRISTATE:
		if (v->kind != YNODE_BOOL)
			return err_at(err, loc_in(path, v->loc),
			              "setting '%s' must be true or false, not %s", k->name,
			              ynode_kind_name(v->kind));
		if (k->type == ST_BOOL)
			*(bool *)(void *)field = v->v.b;
		else
			*(int *)(void *)field = v->v.b ? 1 : 0;
		return 0;
	case ST_INT:
		if (v->kind != YNODE_INT || v->v.i < -1 || v->v.i > LONG_MAX / 1000)
			return err_at(err, loc_in(path, v->loc),
			              "setting '%s' must be %s (-1 = %s)", k->name,
			              int_unit(k->name), int_off(k->name));
		*(long *)(void *)field = (long)v->v.i;
		return 0;
	case ST_STRING:
		return set_string((char **)(void *)field, v, path, k->name, err);
	case ST_PULL:
		return set_pull((char **)(void *)field, v, path, err);
	case ST_LIST:
		return set_list((struct strvec *)(void *)field, v, path, k->name, err);
	case ST_ENV:
		return set_env((struct strvec *)(void *)field, v, path, err);
	}
	return 0;
}

static int check_pull_policies(const struct runner_settings *s, const char *path, struct err *err)
{
	for (size_t i = 0; i < s->allowed_pull_policies.n; i++)
		if (!pull_policy_valid(s->allowed_pull_policies.v[i]))
			return err_set(err, ERR_CONFIG,
			               "%s: allowed_pull_policies: unknown pull policy '%s'", path,
			               s->allowed_pull_policies.v[i]);
	return 0;
}

static int apply_doc(struct runner_settings *s, const struct ynode *root, const char *path,
                     struct err *err)
{
	if (!root)
		return 0; /* an empty file sets nothing */
	if (root->kind != YNODE_MAP)
		return err_at(err, loc_in(path, root->loc), "settings must be a map of keys");
	for (size_t i = 0; i < root->n; i++) {
		const struct ymap_entry *e = &root->entries[i];
		const struct setting_key *k = NULL;
		for (size_t j = 0; j < sizeof(setting_keys) / sizeof(setting_keys[0]); j++)
			if (!strcmp(setting_keys[j].name, e->key))
				k = &setting_keys[j];
		if (!k)
			return err_at(err, loc_in(path, e->key_loc), "unknown setting '%s'",
			              e->key);
		if (set_one(s, k, e->value, path, err) < 0)
			return -1;
	}
	return check_pull_policies(s, path, err);
}

int runner_settings_load(struct runner_settings *s, const char *path, struct err *err)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	/* locations in errors point into s->sources, which lives as long as s */
	const char *stored = strvec_push(&s->sources, path);
	struct yload_opts o = YLOAD_OPTS_INIT;
	struct ydoc *doc = ydoc_load_file(stored, &o, err);
	if (!doc)
		return -1;
	int r = apply_doc(s, doc->root, stored, err);
	ydoc_free(doc);
	return r;
}

char *runner_settings_user_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/runnel/settings.yml", xdg);
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	return xasprintf("%s/.config/runnel/settings.yml", home);
}

int runner_settings_load_default(struct runner_settings *s, const char *project_dir,
                                 struct err *err)
{
	_cleanup_free_ char *user = runner_settings_user_path();
	if (user && runner_settings_load(s, user, err) < 0)
		return -1;
	if (!project_dir)
		return 0;
	_cleanup_free_ char *proj = xasprintf("%s/.runnel.yml", project_dir);
	return runner_settings_load(s, proj, err);
}

/* ---- CLI flags ---- */

struct flag_def {
	const char *name;
	enum setting_type type;
	size_t offset;
};

#define FLAG(n, t, field)                                                                          \
	{                                                                                          \
		n, t, offsetof(struct runner_settings, field)                                      \
	}
static const struct flag_def flag_defs[] = {
    FLAG("privileged", ST_BOOL, privileged),
    FLAG("services-privileged", ST_TRISTATE, services_privileged),
    FLAG("volume", ST_LIST, volumes),
    FLAG("cap-add", ST_LIST, cap_add),
    FLAG("cap-drop", ST_LIST, cap_drop),
    FLAG("security-opt", ST_LIST, security_opt),
    FLAG("device", ST_LIST, devices),
    FLAG("network-mode", ST_STRING, network_mode),
    FLAG("pull-policy", ST_PULL, pull_policy),
    FLAG("dind-cache", ST_BOOL, dind_cache),
    FLAG("wait-for-services-timeout", ST_INT, wait_for_services_timeout),
    FLAG("extra-host", ST_LIST, extra_hosts),
    FLAG("dns", ST_LIST, dns),
    FLAG("services-limit", ST_INT, services_limit),
    FLAG("lenient", ST_BOOL, lenient),
};
#undef FLAG

static int apply_flag_value(struct runner_settings *s, const struct flag_def *f, const char *value,
                            struct err *err)
{
	char *field = (char *)s + f->offset;
	bool b;
	if (f->type == ST_BOOL || f->type == ST_TRISTATE) {
		if (!parse_bool_word(value, &b))
			return err_set(err, ERR_USAGE,
			               "option '--%s' takes true or false, not '%s'", f->name,
			               value);
		if (f->type == ST_BOOL)
			*(bool *)(void *)field = b;
		else
			*(int *)(void *)field = b;
		return 0;
	}
	if (!value || !*value)
		return err_set(err, ERR_USAGE, "option '--%s' needs a value", f->name);
	if (f->type == ST_LIST) {
		strvec_push((struct strvec *)(void *)field,
		            value); /* flags add to the files' list */
		return 0;
	}
	if (f->type == ST_INT) {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || *end || v < -1 || v > LONG_MAX / 1000)
			return err_set(err, ERR_USAGE, "option '--%s' takes %s, not '%s'", f->name,
			               int_unit(f->name), value);
		*(long *)(void *)field = v;
		return 0;
	}
	if (f->type == ST_PULL && !pull_policy_valid(value))
		return err_set(err, ERR_USAGE,
		               "option '--pull-policy' must be always, if-not-present or never, "
		               "not '%s'",
		               value);
	char **str = (char **)(void *)field;
	free(*str);
	*str = xstrdup(value);
	return 0;
}

int runner_settings_apply_flag(struct runner_settings *s, const char *flag, const char *value,
                               struct err *err)
{
	const char *name = flag;
	while (*name == '-')
		name++;
	for (size_t i = 0; i < sizeof(flag_defs) / sizeof(flag_defs[0]); i++)
		if (!strcmp(flag_defs[i].name, name))
			return apply_flag_value(s, &flag_defs[i], value, err);
	return err_set(err, ERR_USAGE, "unknown runner option '%s'", flag);
}

/* ---- allowed_images / allowed_services ---- */

/* doublestar-style glob: `**` crosses '/', `*` and `?` do not. */
static bool glob_match(const char *pat, const char *s)
{
	for (; *pat; pat++, s++) {
		if (pat[0] == '*' && pat[1] == '*') {
			pat += 2;
			if (*pat == '/' && glob_match(pat + 1, s))
				return true; /* "a/(double star)/b" also matches "a/b" */
			for (;; s++) {
				if (glob_match(pat, s))
					return true;
				if (!*s)
					return false;
			}
		}
		if (*pat == '*') {
			for (;; s++) {
				if (glob_match(pat + 1, s))
					return true;
				if (!*s || *s == '/')
					return false;
			}
		}
		if (!*s || (*pat == '?' ? *s == '/' : *pat != *s))
			return false;
	}
	return !*s;
}

bool runner_settings_glob_match(const char *pattern, const char *name)
{
	return glob_match(pattern, name);
}

bool runner_settings_image_allowed(const struct runner_settings *s, const char *image, bool service)
{
	const struct strvec *l = service ? &s->allowed_services : &s->allowed_images;
	if (!l->n)
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (glob_match(l->v[i], image))
			return true;
	return false;
}

bool runner_settings_privileged_for(const struct runner_settings *s, const char *image,
                                    bool service)
{
	if (!s)
		return false;
	bool on = s->privileged;
	if (service && s->services_privileged >= 0)
		on = s->services_privileged == 1;
	const struct strvec *l =
	    service ? &s->allowed_privileged_services : &s->allowed_privileged_images;
	if (!on || !l->n)
		return on;
	for (size_t i = 0; i < l->n; i++)
		if (glob_match(l->v[i], image))
			return true;
	return false;
}
