/* Networks and volumes (per-job networks for services, cache volumes), and listing objects by
 * label so that leftovers of killed runs can be reaped. */
#include <stdlib.h>
#include <string.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/strvec.h"
#include "util/xalloc.h"

int docker_network_create(struct docker_client *c, const char *name, char *const *labels,
                          char **ret_id, struct err *err)
{
	_cleanup_free_ char *what = xasprintf("cannot create network '%s'", name);
	json_t *body = json_pack("{s:s, s:s, s:b, s:o}", "Name", name, "Driver", "bridge",
	                         "CheckDuplicate", 1, "Labels", dk_label_object(labels));
	return dk_post_for_id(c, "/networks/create", what, body, ret_id, err);
}

/* DELETE that treats a missing object as done (reaping may race with another reaper). */
static int delete_object(struct docker_client *c, const char *path, const char *what,
                         struct err *err)
{
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "DELETE";
	rq.path = path;
	rq.what = what;
	rq.accept[0] = 404;
	return dk_do(c, &rq, NULL, NULL, err);
}

int docker_network_remove(struct docker_client *c, const char *id_or_name, struct err *err)
{
	_cleanup_free_ char *e = dk_escape(id_or_name);
	_cleanup_free_ char *path = xasprintf("/networks/%s", e);
	_cleanup_free_ char *what = xasprintf("cannot remove network '%s'", id_or_name);
	return delete_object(c, path, what, err);
}

int docker_volume_create(struct docker_client *c, const char *name, char *const *labels,
                         struct err *err)
{
	_cleanup_free_ char *what = xasprintf("cannot create volume '%s'", name);
	json_t *body = json_pack("{s:s, s:o}", "Name", name, "Labels", dk_label_object(labels));
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "POST";
	rq.path = "/volumes/create";
	rq.what = what;
	rq.json = body;
	int r = dk_do(c, &rq, NULL, NULL, err);
	json_decref(body);
	return r;
}

int docker_volume_remove(struct docker_client *c, const char *name, bool force, struct err *err)
{
	_cleanup_free_ char *e = dk_escape(name);
	_cleanup_free_ char *path = xasprintf("/volumes/%s%s", e, force ? "?force=true" : "");
	_cleanup_free_ char *what = xasprintf("cannot remove volume '%s'", name);
	return delete_object(c, path, what, err);
}

int docker_list_by_label(struct docker_client *c, const char *kind, const char *label,
                         struct strvec *out, struct err *err)
{
	const char *base = !strcmp(kind, "containers") ? "/containers/json?all=true&"
	                   : !strcmp(kind, "networks") ? "/networks?"
	                   : !strcmp(kind, "volumes")  ? "/volumes?"
	                                               : NULL;
	if (!base)
		return err_set(err, ERR_INTERNAL, "unknown object kind '%s'", kind);
	_cleanup_free_ char *filter = dk_label_filter(label);
	_cleanup_free_ char *path = xasprintf("%sfilters=%s", base, filter);
	_cleanup_free_ char *what = xasprintf("cannot list %s with label '%s'", kind, label);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "GET";
	rq.path = path;
	rq.what = what;
	json_t *ans = NULL;
	if (dk_do(c, &rq, &ans, NULL, err) < 0)
		return -1;
	int r = docker_parse_id_list(ans, kind, out);
	json_decref(ans);
	if (r < 0)
		return err_set(err, ERR_ENV, "%s at %s: unexpected answer", what, c->endpoint);
	return 0;
}
