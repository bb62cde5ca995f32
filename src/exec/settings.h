/* Runner settings, named as gitlab-runner names them in [runners.docker], read from YAML
 * settings files (user: ~/.config/runnel/settings.yml, project: .runnel.yml) and CLI flags
 * (flags win). */
#pragma once
#include <stdbool.h>

#include "util/err.h"
#include "util/strvec.h"

struct runner_settings {
	bool privileged;
	int services_privileged;     /* -1 unset (follow privileged), 0/1 */
	struct strvec volumes;       /* "src:dst[:mode]" or "dst" (anonymous per-job volume) */
	struct strvec cap_add, cap_drop, security_opt, devices, extra_hosts, dns;
	char *network_mode;          /* NULL = per-job network */
	char *pull_policy;           /* NULL = if-not-present */
	struct strvec allowed_images, allowed_services, allowed_pull_policies;
	long wait_for_services_timeout; /* seconds, default 30, -1 = off */
	char *default_image;         /* [runners.docker] image */
	bool dind_cache;             /* --dind-cache */
	struct strvec environment;   /* [[runners]] environment: "KEY=value" */
};

void runner_settings_init(struct runner_settings *s);
void runner_settings_release(struct runner_settings *s);
/* Reads a YAML settings file into s (keys override). A missing file is not an error. */
int runner_settings_load(struct runner_settings *s, const char *path, struct err *err);
/* Loads the user-level then the project-level file. */
int runner_settings_load_default(struct runner_settings *s, const char *project_dir,
				 struct err *err);
/* Whether an image or service name is allowed by allowed_images/allowed_services (globs as
 * gitlab-runner: doublestar). */
bool runner_settings_image_allowed(const struct runner_settings *s, const char *image,
				   bool service);
