/* Runner settings, named as gitlab-runner names them in [runners.docker], read from YAML
 * settings files (user: ~/.config/runnel/settings.yml, project: .runnel.yml) and CLI flags
 * (flags win). */
#pragma once
#include <stdbool.h>

#include "util/err.h"
#include "util/strvec.h"

struct runner_settings {
	bool privileged;
	int services_privileged; /* -1 unset (follow privileged), 0/1 */
	struct strvec volumes;   /* "src:dst[:mode]" or "dst" (anonymous per-job volume) */
	struct strvec cap_add, cap_drop, security_opt, devices, extra_hosts, dns;
	char *network_mode; /* NULL = per-job network */
	char *pull_policy;  /* NULL = if-not-present */
	struct strvec allowed_images, allowed_services, allowed_pull_policies;
	long wait_for_services_timeout; /* seconds, default 30, -1 = off */
	char *default_image;            /* [runners.docker] image */
	bool dind_cache;                /* --dind-cache */
	struct strvec environment;      /* [[runners]] environment: "KEY=value" */
	long services_limit;            /* max services per job, -1 = unlimited (default) */
	long keep_runs;                 /* runs kept in .runnel/runs (default 20), -1 all, 0 none */
	/* with privileged on, only images (services) matching one of these run privileged;
	 * empty = all (gitlab-runner's allowed_privileged_images / _services) */
	struct strvec allowed_privileged_images, allowed_privileged_services;
	/* `runnel run --lenient` (no [runners.docker] key): make seed pipelines that fail on
	 * GitLab through DinD wiring mistakes work, with one warning per accommodation */
	bool lenient;
	struct strvec sources; /* paths of the files read, in order; error locations
	                        * (err->loc.file) point into them: print before release */
};

void runner_settings_init(struct runner_settings *s);
void runner_settings_release(struct runner_settings *s);
/* Reads a YAML settings file into s (keys override; a list given replaces the list read
 * before). A missing file is not an error. Keys: privileged, services_privileged, volumes,
 * cap_add, cap_drop, security_opt, devices, extra_hosts, dns, network_mode, pull_policy (string
 * or list: the first is used), allowed_images, allowed_services, allowed_pull_policies,
 * wait_for_services_timeout (seconds, -1 off), image, dind_cache, environment (list of
 * KEY=value or a map), services_limit (-1 unlimited), allowed_privileged_images,
 * allowed_privileged_services, keep_runs (-1 all, 0 none). Unknown keys and bad types:
 * ERR_CONFIG with file:line:col. */
int runner_settings_load(struct runner_settings *s, const char *path, struct err *err);
/* Loads the user-level then the project-level file. */
int runner_settings_load_default(struct runner_settings *s, const char *project_dir,
                                 struct err *err);
/* ~/.config/runnel/settings.yml ($XDG_CONFIG_HOME honoured); owned, NULL without $HOME. */
char *runner_settings_user_path(void);
/* Applies one `runnel run` flag (with or without the leading dashes): --privileged,
 * --services-privileged, --dind-cache (value NULL = true, else true/false/1/0/yes/no),
 * --volume, --cap-add, --cap-drop, --security-opt, --device, --extra-host, --dns (each
 * appends one item to the files' list), --network-mode, --pull-policy,
 * --wait-for-services-timeout, --services-limit (replace), --lenient (like --dind-cache). value is
 * borrowed (copied). ERR_USAGE on an unknown flag or a bad value. */
int runner_settings_apply_flag(struct runner_settings *s, const char *flag, const char *value,
                               struct err *err);
/* The glob of allowed_images: `**` matches across '/', `*` and `?` do not. */
bool runner_settings_glob_match(const char *pattern, const char *name);
/* Whether a container of `image` runs privileged: privileged (services: services_privileged
 * when set, else privileged) and, when allowed_privileged_images/_services is not empty, the
 * image matches one of its globs. s may be NULL (false). */
bool runner_settings_privileged_for(const struct runner_settings *s, const char *image,
                                    bool service);
/* Whether an image or service name is allowed by allowed_images/allowed_services (globs as
 * gitlab-runner: doublestar). */
bool runner_settings_image_allowed(const struct runner_settings *s, const char *image,
                                   bool service);
