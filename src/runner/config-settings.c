/* config-settings: see config-settings.h. One table maps each list key to its strvec, so the
 * supported keys here and in config.c's docker_keys stay one list each to compare. */
#include "runner/config-settings.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exec/settings.h"
#include "runner/config.h"
#include "runner/toml.h"
#include "util/xalloc.h"

#define S(f) offsetof(struct runner_settings, f)

static const struct {
	const char *key;
	size_t off;
} list_keys[] = {
    {"volumes", S(volumes)},
    {"cap_add", S(cap_add)},
    {"cap_drop", S(cap_drop)},
    {"security_opt", S(security_opt)},
    {"devices", S(devices)},
    {"extra_hosts", S(extra_hosts)},
    {"dns", S(dns)},
    {"allowed_images", S(allowed_images)},
    {"allowed_services", S(allowed_services)},
    {"allowed_pull_policies", S(allowed_pull_policies)},
    {"allowed_privileged_images", S(allowed_privileged_images)},
    {"allowed_privileged_services", S(allowed_privileged_services)},
};

static void set_list(struct strvec *sv, const struct toml_value *v)
{
	strvec_release(sv);
	for (size_t i = 0; i < v->n; i++)
		strvec_push(sv, v->items[i]->s);
}

static void set_string(char **field, const char *s)
{
	free(*field);
	*field = xstrdup(s);
}

void runner_entry_apply_settings(const struct runner_entry *r, struct runner_settings *s)
{
	const struct toml_value *d = r->docker, *v;
	if (r->environment.n) {
		strvec_release(&s->environment);
		for (size_t i = 0; i < r->environment.n; i++)
			strvec_push(&s->environment, r->environment.v[i]);
	}
	if (!d)
		return;
	for (size_t i = 0; i < sizeof(list_keys) / sizeof(list_keys[0]); i++)
		if ((v = toml_get(d, list_keys[i].key)))
			set_list((struct strvec *)((char *)s + list_keys[i].off), v);
	if ((v = toml_get(d, "image")))
		set_string(&s->default_image, v->s);
	if ((v = toml_get(d, "network_mode")))
		set_string(&s->network_mode, v->s);
	/* a string or a list; the executors take the first policy, as runner_settings does */
	if ((v = toml_get(d, "pull_policy")) && (v->type == TOML_STRING || v->n > 0))
		set_string(&s->pull_policy, v->type == TOML_STRING ? v->s : v->items[0]->s);
	if ((v = toml_get(d, "privileged")))
		s->privileged = v->b;
	if ((v = toml_get(d, "services_privileged")))
		s->services_privileged = v->b;
	if ((v = toml_get(d, "wait_for_services_timeout")))
		s->wait_for_services_timeout = (long)v->i;
	if ((v = toml_get(d, "services_limit")))
		s->services_limit = (long)v->i;
}
