/* reap: what makes a run leave nothing behind even when it could not clean up itself (a
 * SIGKILLed run): the Docker objects, run directories and temporary directories of owners that
 * are gone are removed by a later run or by `runnel cleanup`; a run's own objects are removed
 * by pipeline id. */
#include "exec/exec.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "docker/client.h"
#include "exec/owner.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static json_t *labels_of(json_t *info, const char *kind)
{
	if (!strcmp(kind, "containers"))
		return json_object_get(json_object_get(info, "Config"), "Labels");
	return json_object_get(info, "Labels");
}

/* "container runnel-...-job (pipeline P of /the/project)" for the list of what was removed */
static void note_removed(const struct exec_reap_opts *o, const char *kind, json_t *info,
                         const char *id)
{
	if (!o || !o->removed)
		return;
	const char *name = json_string_value(json_object_get(info, "Name"));
	if (name && *name == '/')
		name++;
	json_t *labels = labels_of(info, kind);
	const char *pipeline = json_string_value(json_object_get(labels, "runnel.pipeline"));
	const char *project = json_string_value(json_object_get(labels, "runnel.project"));
	strvec_pushf(o->removed, "%.*s %s (pipeline %s%s%s)", (int)strlen(kind) - 1, kind,
	             name && *name ? name : id, pipeline ? pipeline : "?", project ? " of " : "",
	             project ? project : "");
}

static int remove_object(struct docker_client *c, const char *kind, const char *id, struct err *err)
{
	if (!strcmp(kind, "containers"))
		return docker_container_remove(c, id, err);
	if (!strcmp(kind, "networks"))
		return docker_network_remove(c, id, err);
	return docker_volume_remove(c, id, true, err);
}

static void reap_one(struct docker_client *c, const char *kind, const char *id,
                     const struct exec_reap_opts *o)
{
	struct err err = ERR_INIT;
	_cleanup_free_ char *path = !strcmp(kind, "containers")
	                                ? xasprintf("/containers/%s/json", id)
	                                : xasprintf("/%s/%s", kind, id);
	json_t *info = NULL;
	if (docker_request(c, "GET", path, NULL, &info, NULL, &err) < 0) {
		err_release(&err);
		return;
	}
	json_t *labels = labels_of(info, kind);
	if (exec_owner_alive(labels) || exec_owner_other_user(labels)) {
		json_decref(info);
		return;
	}
	log_debug("reap: removing stale %s %s", kind, id);
	if (remove_object(c, kind, id, &err) < 0)
		err_release(&err);
	else
		note_removed(o, kind, info, id);
	json_decref(info);
}

static int reap_kind(struct docker_client *c, const char *kind, const struct exec_reap_opts *o,
                     struct err *err)
{
	struct strvec ids = STRVEC_INIT;
	_cleanup_free_ char *label = o && o->project_dir
	                                 ? xasprintf("runnel.project=%s", o->project_dir)
	                                 : xstrdup("runnel.pipeline");
	if (docker_list_by_label(c, kind, label, &ids, err) < 0)
		return -1;
	for (size_t i = 0; i < ids.n; i++)
		reap_one(c, kind, ids.v[i], o);
	strvec_release(&ids);
	return 0;
}

void exec_reap_rm_rf(const char *path)
{
	struct err err = ERR_INIT;
	if (fs_rmtree(path, &err) < 0) {
		log_debug("reap: %s", err.msg);
		err_release(&err);
	}
}

/* Run directories hold an "owner" file: "<pid> <start time>". */
static void reap_dirs(const char *state_dir, const struct exec_reap_opts *o)
{
	_cleanup_free_ char *builds = xasprintf("%s/builds", state_dir);
	DIR *d = opendir(builds);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = xasprintf("%s/%s", builds, e->d_name);
		_cleanup_free_ char *ownf = xasprintf("%s/owner", dir);
		char line[128];
		exec_read_line_file(ownf, line, sizeof(line));
		long pid = 0;
		unsigned long long start = 0;
		if (sscanf(line, "%ld %llu", &pid, &start) != 2)
			continue; /* not a run dir (shell executor job copy) */
		if (exec_owner_pid_alive(pid, start))
			continue;
		exec_reap_rm_rf(dir);
		if (o && o->removed)
			strvec_pushf(o->removed, "run directory %s", dir);
	}
	closedir(d);
}

int exec_reap(struct docker_client *c, const struct exec_reap_opts *o, struct err *err)
{
	static const char *const kinds[] = {"containers", "networks", "volumes"};
	if (o && o->state_dir)
		reap_dirs(o->state_dir, o);
	exec_reap_temp(o, false);
	/* containers first: a network or volume in use cannot be removed */
	for (size_t k = 0; c && k < 3; k++)
		if (reap_kind(c, kinds[k], o, err) < 0)
			return -1;
	return 0;
}

void exec_reap_stale(struct docker_client *c, const char *state_dir)
{
	struct exec_reap_opts o = {.state_dir = state_dir};
	struct err err = ERR_INIT;
	if (exec_reap(c, &o, &err) < 0) {
		log_debug("reap: %s", err.msg);
		err_release(&err);
	}
}

void exec_remove_pipeline(struct docker_client *c, const char *pipeline_id)
{
	static const char *const kinds[] = {"containers", "networks", "volumes"};
	_cleanup_free_ char *label = xasprintf("runnel.pipeline=%s", pipeline_id);
	for (size_t k = 0; k < 3; k++) {
		struct strvec ids = STRVEC_INIT;
		struct err err = ERR_INIT;
		if (docker_list_by_label(c, kinds[k], label, &ids, &err) < 0) {
			err_release(&err);
			continue;
		}
		for (size_t i = 0; i < ids.n; i++)
			if (remove_object(c, kinds[k], ids.v[i], &err) < 0)
				err_release(&err);
		strvec_release(&ids);
	}
}

bool exec_container_removed(struct docker_client *c, const char *id)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/json", id);
	long status = 0;
	json_t *info = NULL;
	struct err err = ERR_INIT;
	if (docker_request(c, "GET", path, NULL, &info, &status, &err) < 0) {
		err_release(&err);
		return status == 404;
	}
	/* `docker rm -f` marks the removal before it kills: the job's attach may end (and we ask)
	 * before the container is gone */
	const char *st =
	    json_string_value(json_object_get(json_object_get(info, "State"), "Status"));
	bool removing = st && (!strcmp(st, "removing") || !strcmp(st, "dead"));
	json_decref(info);
	return removing;
}
