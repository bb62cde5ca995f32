/* config-settings: a [[runners]] entry of config.toml as the runner settings the executors
 * read (exec/settings.h), the way gitlab-runner applies its [runners.docker] section to the
 * jobs it runs. */
#pragma once

struct runner_entry;
struct runner_settings;

/* Sets in s (initialised; keys present replace what s holds, lists are replaced whole) the
 * [runners.docker] keys of r and its environment. Types were checked when the config was
 * loaded (runner_config_load), so this cannot fail. */
void runner_entry_apply_settings(const struct runner_entry *r, struct runner_settings *s);
