/* system-id: the identity of one runner host ("runner manager") that GitLab tells apart from
 * other hosts sharing the same runner token, made and kept as gitlab-runner does. */
#pragma once
#include <stddef.h>

#include "util/err.h"

/* "s_" + the first 12 hex digits of HMAC-SHA256(key = machine id, message = "gitlab-runner")
 * for the machine id text (whitespace trimmed). Returns owned text, or NULL for an empty id. */
char *runner_system_id_from_machine_id(const char *machine_id);
/* "r_" + 12 random characters of [0-9A-Za-z] (getrandom). Owned. */
char *runner_system_id_random(void);
/* The id kept in `.runner_system_id` beside config_path: read when the file holds a valid
 * id, else made (from /etc/machine-id or /var/lib/dbus/machine-id, else random) and written
 * there (0600). A file that cannot be written is not an error: *ret_saved is then 0 and the
 * caller warns, as gitlab-runner does. Returns owned text; NULL with err only when an existing
 * file cannot be read. */
char *runner_system_id_load(const char *config_path, int *ret_saved, struct err *err);
/* Whether s is s_/r_ followed by 12 characters of [0-9A-Za-z]. */
int runner_system_id_valid(const char *s);
