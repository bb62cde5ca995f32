/* executor-docker: the Docker executor. Per job: image check (pull policy), a network, the project
 * copy bind-mounted at CI_PROJECT_DIR, one build container whose Cmd is the shell probe (the image
 * ENTRYPOINT is kept unless image:entrypoint is given), the main script fed on stdin, then
 * after_script in the same container restarted (as gitlab-runner restarts its build container per
 * stage), and removal of container, network and volume on every path.
 *
 * The project copy (docs/internals/project-copy.md): with a local daemon, the job's project is an
 * overlay volume (local driver, type=overlay) whose lower layer is the run's snapshot and whose
 * upper layer is a fresh directory, so a job gets its own writable copy in O(1) whatever the size
 * of the repository; where the daemon cannot mount overlays, a `cp --reflink=auto` of the snapshot
 * is bind-mounted instead (and later jobs of the run go straight to that). A remote daemon (tcp)
 * sees none of our directories: the copy is then put into the created container through the
 * archive API, and artifacts and reports come back the same way. */
#include "exec/exec.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docker/client.h"
#include "exec/archive-dl.h"
#include "exec/artifacts.h"
#include "exec/script.h"
#include "exec/services.h"
#include "exec/settings.h"
#include "model/vars.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define AFTER_SCRIPT_TIMEOUT_MS (5L * 60 * 1000)

struct djob {
	struct exec_job_ctx *jc;
	struct docker_client *c;
	char *network_id;   /* owned */
	char *container_id; /* owned */
	struct strvec labels;
	struct service_set *services;     /* owned, NULL without services */
	struct services_ctx services_ctx; /* what services_start was given (services_wait too) */
	char *services_prefix;            /* owned: their container name prefix */
	double services_wait_s;           /* spent in wait_for_services (not script time) */
	char *anon_volumes[16];           /* owned: per-job volumes of anonymous settings volumes */
	size_t n_anon;
	/* the last OUTPUT_TAIL bytes of the job's output, for services_diagnose */
	char tail[4096];
	size_t tail_len;
};
#define OUTPUT_TAIL sizeof(((struct djob *)0)->tail)

static bool fd_readable(int fd)
{
	if (fd < 0)
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

static const char *pull_policy(const struct exec_job_ctx *jc)
{
	const struct string_list *pp = &jc->job->image.pull_policy;
	if (pp->n)
		return pp->v[0];
	const struct runner_settings *s = jc->run->settings;
	if (s && s->pull_policy && *s->pull_policy)
		return s->pull_policy;
	return "if-not-present";
}

static void pull_line(void *ud, const char *line)
{
	(void)ud;
	(void)line; /* progress lines are noise in a job log */
}

/* image inspect first: a present image is never pulled under if-not-present. */
static int ensure_image(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	const struct runner_settings *s = jc->run->settings;
	if (s && !runner_settings_image_allowed(s, jc->image, false)) {
		jc->failure = FAILURE_CONFIG;
		return err_set(err, ERR_CONFIG, "the image '%s' is not allowed by allowed_images",
		               jc->image);
	}
	const char *policy = pull_policy(jc);
	bool found = false;
	double t = exec_now();
	int r = 0;
	if (strcmp(policy, "always") &&
	    docker_image_inspect(d->c, jc->image, &found, NULL, err) < 0)
		r = -1;
	else if (!found && !strcmp(policy, "never"))
		r = err_set(err, ERR_ENV,
		            "image '%s' is not present locally and the pull policy is never",
		            jc->image);
	else if (!found) {
		report_job_printf(jc->log, "Pulling docker image %s ...", jc->image);
		struct docker_pull_opts po = DOCKER_PULL_OPTS_INIT;
		po.on_line = pull_line;
		po.cancel_fd = jc->run->cancel_fd; /* Ctrl-C must not wait for a slow pull */
		r = docker_image_pull_opts(d->c, jc->image, &po, err);
	}
	jc->t->pull += exec_now() - t;
	if (r < 0 && fd_readable(jc->run->cancel_fd)) {
		jc->canceled = true;
		jc->failure = FAILURE_CANCELED;
	} else if (r < 0)
		jc->failure = FAILURE_IMAGE_PULL;
	return r;
}

/* services: and default:services on the job's network (or the network_mode one). */
static int start_services(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	if (!jc->job->n_services)
		return 0;
	const struct runner_settings *s = jc->run->settings;
	const char *network = d->network_id;
	if (!network && s && s->network_mode && *s->network_mode)
		network = s->network_mode;
	d->services_prefix = xasprintf("runnel-%s-%s", jc->run->pipeline_id, jc->slug);
	d->services_ctx = (struct services_ctx){
	    .network = network,
	    .labels = d->labels.v,
	    .job_vars = &jc->vars,
	    .settings = s,
	    .log = jc->log,
	    .container_prefix = d->services_prefix,
	    .cancel_fd = jc->run->cancel_fd,
	    .insecure_registry = jc->run->insecure_registry,
	    .job_name = jc->job->name,
	};
	d->services = services_start(d->c, jc->job, &d->services_ctx, err);
	return d->services ? 0 : -1;
}

static int make_network(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	const struct runner_settings *s = jc->run->settings;
	if (s && s->network_mode && *s->network_mode)
		return 0;
	/* Only services need a network of their own (gitlab-runner's default is the default
	 * bridge too); creating and removing one costs ~0.3 s, more than the trivial job. */
	if (!jc->job->n_services)
		return 0;
	double t = exec_now();
	_cleanup_free_ char *name = xasprintf("runnel-%s-%s", jc->run->pipeline_id, jc->slug);
	if (strlen(name) > 63)
		name[63] = '\0';
	int r = docker_network_create(d->c, name, d->labels.v, &d->network_id, err);
	jc->t->network += exec_now() - t;
	return r;
}

/* Below these sizes a copy is cheaper than the daemon's work for an overlay volume (create,
 * mount, unmount, remove: ~50 ms a job; docs/internals/project-copy.md). */
#define OVERLAY_MIN_BYTES (4ULL << 20)
#define OVERLAY_MIN_FILES 400UL

static bool overlay_wanted(const struct exec_job_ctx *jc)
{
	const struct exec_run *run = jc->run;
	/* RUNNEL_PROJECT_COPY=overlay|copy|archive overrides the choice (tests, diagnosis) */
	const char *mode = getenv("RUNNEL_PROJECT_COPY");
	if (!run->docker_local || __atomic_load_n(&run->no_overlay, __ATOMIC_SEQ_CST) ||
	    (mode && !strcmp(mode, "copy")) || exec_job_git_strategy(jc) == EXEC_GIT_EMPTY)
		return false;
	/* Rootful podman mounts the overlay volume, but unmounts it when the container stops,
	 * so the archive API then reads an empty project and the artifacts are lost: copy
	 * (even when overlay is forced: it cannot work there). */
	const char *engine = run->docker ? docker_client_engine(run->docker) : NULL;
	if (engine && !strcmp(engine, "podman"))
		return false;
	if (!(mode && !strcmp(mode, "overlay")) && run->snapshot_bytes < OVERLAY_MIN_BYTES &&
	    run->snapshot_files < OVERLAY_MIN_FILES)
		return false;
	/* ',' and ':' separate overlay mount options and lower layers */
	return !strpbrk(run->snapshot_dir, ",:") && !strpbrk(jc->host_dir, ",:") &&
	       !(run->git_layer && strpbrk(run->git_layer, ",:"));
}

static json_t *labels_json(const struct strvec *labels)
{
	json_t *o = json_object();
	for (size_t i = 0; i < labels->n; i++) {
		const char *eq = strchr(labels->v[i], '=');
		_cleanup_free_ char *k =
		    xstrndup(labels->v[i], eq ? (size_t)(eq - labels->v[i]) : strlen(labels->v[i]));
		json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
	}
	return o;
}

static int make_dir(const char *path, struct err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return err_sys(err, errno, "cannot create '%s'", path);
	return 0;
}

static int make_overlay(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	struct arena *a = &jc->arena;
	jc->upper_dir = arena_printf(a, "%s/upper", jc->host_dir);
	const char *work = arena_printf(a, "%s/work", jc->host_dir);
	if (make_dir(jc->host_dir, err) < 0 || make_dir(jc->upper_dir, err) < 0 ||
	    make_dir(work, err) < 0)
		return -1;
	/* artifacts of dependencies go on top of the snapshot, as if extracted into it; so does
	 * the shallow file of GIT_DEPTH */
	if (exec_job_copy_artifacts(jc, jc->upper_dir, err) < 0 ||
	    exec_job_git_depth(jc, jc->upper_dir, err) < 0)
		return -1;
	const char *name = arena_printf(a, "runnel-%s-%s", jc->run->pipeline_id, jc->slug);
	/* the run's .git is a second lower layer above the files (leftmost is on top) */
	const char *lower = jc->run->snapshot_dir;
	if (jc->run->git_layer && exec_job_git_strategy(jc) == EXEC_GIT_FETCH)
		lower = arena_printf(a, "%s:%s", jc->run->git_layer, lower);
	const char *opts =
	    arena_printf(a, "lowerdir=%s,upperdir=%s,workdir=%s", lower, jc->upper_dir, work);
	json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o}", "Name", name, "Driver",
	                         "local", "DriverOpts", "type", "overlay", "device", "overlay", "o",
	                         opts, "Labels", labels_json(&d->labels));
	int r = docker_request(d->c, "POST", "/volumes/create", body, NULL, NULL, err);
	json_decref(body);
	if (r < 0)
		return -1;
	jc->volume = name;
	jc->overlay = true;
	return 0;
}

/* The job's project: an overlay volume, else a copy to bind-mount (or to send). */
static int project_copy(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	const char *mode = getenv("RUNNEL_PROJECT_COPY");
	jc->archive = !jc->run->docker_local || (mode && !strcmp(mode, "archive"));
	double t = exec_now();
	int r = !jc->archive && overlay_wanted(jc) ? make_overlay(d, err)
	                                           : exec_job_copy_project(jc, jc->host_dir, err);
	jc->t->copy_in += exec_now() - t;
	return r;
}

/* Whether git in the container may run as another user than the owner of the project files
 * (the user running runnel): a non-root runnel (jobs run as root), or image:docker:user. */
static bool foreign_owner(const struct exec_job_ctx *jc)
{
	const char *u = jc->job->image.user;
	return geteuid() != 0 || (u && *u && strcmp(u, "root") && strcmp(u, "0") &&
	                          strncmp(u, "0:", 2) && strncmp(u, "root:", 5));
}

static void env_of(const struct exec_job_ctx *jc, struct strvec *env)
{
	for (size_t i = 0; i < jc->vars.n; i++) {
		const struct var *v = &jc->vars.v[i];
		if (v->file)
			strvec_pushf(env, "%s=%s/%s", v->key, jc->tmp_dir, v->key);
		else
			strvec_pushf(env, "%s=%s", v->key, v->value ? v->value : "");
	}
	/* git >= 2.35.2 refuses a repository owned by another user ("dubious ownership"); the
	 * runner's checkout belongs to the job's user, ours to runnel's. Trust CI_PROJECT_DIR
	 * through the environment (command scope, which safe.directory honours), unless the
	 * job configures git through these variables itself. */
	if (jc->run->git_layer && foreign_owner(jc) &&
	    !var_list_value(&jc->vars, "GIT_CONFIG_COUNT")) {
		strvec_push(env, "GIT_CONFIG_COUNT=1");
		strvec_push(env, "GIT_CONFIG_KEY_0=safe.directory");
		strvec_pushf(env, "GIT_CONFIG_VALUE_0=%s", jc->project_dir);
	}
}

static void apply_settings(const struct runner_settings *s, struct docker_container_spec *spec)
{
	if (!s)
		return;
	spec->privileged = s->privileged;
	spec->cap_add = s->cap_add.v;
	spec->cap_drop = s->cap_drop.v;
	spec->security_opt = s->security_opt.v;
	spec->devices = s->devices.v;
	spec->extra_hosts = s->extra_hosts.v;
	spec->dns = s->dns.v;
	if (s->network_mode && *s->network_mode)
		spec->network_mode = s->network_mode;
}

/* The i-th settings volume without ':' (an anonymous volume: gitlab-runner gives each job its
 * own; here a named per-job volume removed with the job). */
static const char *anon_target(const struct runner_settings *s, size_t i)
{
	for (size_t k = 0; s && k < s->volumes.n; k++)
		if (!strchr(s->volumes.v[k], ':') && i-- == 0)
			return s->volumes.v[k];
	return NULL;
}

static int make_anon_volumes(struct djob *d, struct err *err)
{
	const struct exec_job_ctx *jc = d->jc;
	const struct runner_settings *s = jc->run->settings;
	for (size_t i = 0;
	     anon_target(s, i) && d->n_anon < sizeof(d->anon_volumes) / sizeof(d->anon_volumes[0]);
	     i++) {
		char *name = xasprintf("runnel-%s-%s-vol%zu", jc->run->pipeline_id, jc->slug, i);
		if (docker_volume_create(d->c, name, d->labels.v, err) < 0) {
			free(name);
			return -1;
		}
		d->anon_volumes[d->n_anon++] = name;
	}
	return 0;
}

/* `runnel run --registry` serves plain HTTP where GitLab's registry speaks HTTPS: daemonless
 * builders (buildah, podman, the kaniko stand-in: containers/image) learn that it is insecure
 * from a registries.conf drop-in mounted into every job container. Written once per run
 * (atomically: jobs run in parallel). Returns the host path (arena) or NULL. */
static const char *registries_conf(struct exec_job_ctx *jc)
{
	const struct exec_run *run = jc->run;
	if (!run->insecure_registry || !run->docker_local || !run->run_dir)
		return NULL;
	const char *path = arena_printf(&jc->arena, "%s/registries.conf", run->run_dir);
	if (access(path, F_OK) == 0)
		return path;
	_cleanup_free_ char *tmp = xasprintf("%s.%s", path, jc->slug);
	_cleanup_fclose_ FILE *f = fopen(tmp, "we");
	if (!f)
		return NULL;
	fprintf(f, "[[registry]]\nlocation = \"%s\"\ninsecure = true\n", run->insecure_registry);
	if (fflush(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return NULL;
	}
	return path;
}

static int make_container(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	const struct image_spec *img = &jc->job->image;
	struct strvec env = STRVEC_INIT, entry = STRVEC_INIT, binds = STRVEC_INIT;
	char *aliases[] = {"build", NULL};
	env_of(jc, &env);
	for (size_t i = 0; img->has_entrypoint && i < img->entrypoint.n; i++)
		strvec_push(&entry, img->entrypoint.v[i]);
	if (img->has_entrypoint && !entry.n)
		strvec_push(&entry, ""); /* entrypoint: [""] clears the image's */
	struct docker_mount m = {.source = jc->overlay ? jc->volume : jc->host_dir,
	                         .target = jc->project_dir,
	                         .bind = !jc->overlay};
	size_t n_mounts = jc->archive ? 0 : 1;
	const struct runner_settings *s = jc->run->settings;
	for (size_t i = 0; s && i < s->volumes.n; i++)
		if (strchr(s->volumes.v[i], ':'))
			strvec_push(&binds, s->volumes.v[i]);
	for (size_t i = 0; i < d->n_anon; i++)
		strvec_pushf(&binds, "%s:%s", d->anon_volumes[i], anon_target(s, i));
	services_job_binds(d->services, &binds);
	const char *rc = registries_conf(jc);
	if (rc)
		strvec_pushf(&binds,
		             "%s:/etc/containers/registries.conf.d/zz-runnel-registry.conf:ro", rc);
	_cleanup_free_ char *host = xasprintf("runner-%s", jc->slug);
	if (strlen(host) > 63)
		host[63] = '\0';
	struct docker_container_spec spec = {
	    .image = jc->image,
	    .cmd = script_shell_probe_argv(),
	    .entrypoint = img->has_entrypoint ? entry.v : NULL,
	    .entrypoint_set = img->has_entrypoint,
	    .env = env.v,
	    .labels = d->labels.v,
	    .user = img->user,
	    .hostname = host,
	    .open_stdin = true,
	    .network = d->network_id,
	    .network_aliases = d->network_id ? aliases : NULL,
	    .mounts = n_mounts ? &m : NULL,
	    .n_mounts = n_mounts,
	    .binds = binds.n ? binds.v : NULL,
	};
	apply_settings(s, &spec);
	/* services.c (issue 4): allowed_privileged_images, the --lenient docker login
	 * (registry.c) and TLS client settings, --timings service columns; may grow env/binds */
	services_job_container(d->services, jc, &spec, &env, &binds);
	double t = exec_now();
	int r = docker_container_create(d->c, &spec, &d->container_id, err);
	jc->t->create += exec_now() - t;
	strvec_release(&env);
	strvec_release(&entry);
	strvec_release(&binds);
	return r;
}

/* ---- remote daemon: the archive API ---- */

/* A tar holding only the directories of CI_PROJECT_DIR, to put at "/": the archive API wants
 * an existing destination directory. */
static int put_dirs(struct djob *d, struct err *err)
{
	if (exec_archive_load(err) < 0)
		return -1;
	const char *dir = d->jc->project_dir;
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	size_t cap = 10240 + 512 * 16, used = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	archive_write_open_memory(a, buf, cap, &used);
	_cleanup_free_ char *p = xstrdup(dir + 1);
	for (char *s = p;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, p);
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		archive_write_header(a, e);
		archive_entry_free(e);
		*s = c;
		if (!c)
			break;
	}
	archive_write_close(a);
	archive_write_free(a);
	return docker_container_put_archive(d->c, d->container_id, "/", buf, used, err);
}

static int put_project(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	double t = exec_now();
	_cleanup_free_ char *path = xasprintf("%s/.tar-XXXXXX", jc->run->state_dir);
	_cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "cannot create '%s'", path);
	unlink(path);
	int r = put_dirs(d, err);
	if (r == 0)
		r = artifacts_tar_dir(jc->host_dir, fd, err);
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = err_sys(err, errno, "cannot rewind the project archive");
	if (r == 0)
		r = docker_container_put_archive_fd(d->c, d->container_id, jc->project_dir, fd,
		                                    err);
	jc->t->copy_in += exec_now() - t;
	return r;
}

/* The report files (dotenv, junit) of a job on a remote daemon, fetched into host_dir where
 * job.c reads them. */
static void fetch_reports(struct djob *d)
{
	struct exec_job_ctx *jc = d->jc;
	const struct artifacts_spec *a = &jc->job->artifacts;
	size_t n = a->reports_dotenv.n + a->reports_junit.n;
	if (!n)
		return;
	const char **paths = arena_alloc(&jc->arena, n * sizeof(*paths));
	/* (memcpy from a NULL list is undefined even for 0 bytes) */
	for (size_t i = 0; i < a->reports_dotenv.n; i++)
		paths[i] = a->reports_dotenv.v[i];
	for (size_t i = 0; i < a->reports_junit.n; i++)
		paths[a->reports_dotenv.n + i] = a->reports_junit.v[i];
	struct artifacts_spec rs = {.present = true, .paths = {paths, n}, .when = ART_ALWAYS};
	struct string_list warnings = {0};
	struct err err = ERR_INIT;
	size_t count = 0;
	if (artifacts_collect_container(d->c, d->container_id, jc->project_dir, &rs, &jc->vars,
	                                jc->host_dir, &count, &warnings, &err) < 0)
		err_release(&err);
	artifacts_warnings_release(&warnings);
}

static void on_output(void *ud, int stream, const char *data, size_t len)
{
	struct djob *d = ud;
	services_job_output(d->services); /* --timings: ready>script (NULL-safe) */
	report_job_write(d->jc->log, stream, data, len);
	if (!d->services)
		return;
	if (len >= OUTPUT_TAIL) {
		memcpy(d->tail, data + len - OUTPUT_TAIL, OUTPUT_TAIL);
		d->tail_len = OUTPUT_TAIL;
		return;
	}
	if (d->tail_len + len > OUTPUT_TAIL) {
		size_t drop = d->tail_len + len - OUTPUT_TAIL;
		memmove(d->tail, d->tail + drop, d->tail_len - drop);
		d->tail_len -= drop;
	}
	memcpy(d->tail + d->tail_len, data, len);
	d->tail_len += len;
}

/* After a failed script: why the services may be the cause, as one warning. */
static void diagnose(struct djob *d)
{
	if (!d->services)
		return;
	_cleanup_free_ char *tail = xstrndup(d->tail, d->tail_len);
	struct strbuf sb = STRBUF_INIT;
	services_diagnose(d->c, d->services, tail, &sb);
	if (sb.len)
		report_job_printf(d->jc->log, "*** WARNING: %s", sb.buf);
	strbuf_release(&sb);
}

/* The job container runs; its shell waits for the script on stdin. The services were started
 * before the container was created: wait for them now, so that create and start overlapped
 * the wait and the script begins the moment the services (a DinD daemon) answer. */
static void wait_for_services(void *ud)
{
	struct djob *d = ud;
	double t = exec_now();
	services_wait(d->c, d->services, &d->services_ctx);
	d->services_wait_s += exec_now() - t;
}

/* Runs one stage in the (re)started container. Returns -1 only for Docker errors; the script's
 * outcome is in *ret_code / *ret_timed_out / *ret_canceled. */
static int run_stage(struct djob *d, const char *script, int cancel_fd, long timeout_ms,
                     int *ret_code, bool *ret_timed_out, bool *ret_canceled, struct err *err)
{
	struct docker_run_io io = {
	    .input = script,
	    .input_len = strlen(script),
	    .on_output = on_output,
	    .userdata = d,
	    .cancel_fd = cancel_fd,
	    .timeout_ms = timeout_ms,
	    .started = d->services ? wait_for_services : NULL,
	};
	*ret_canceled = false;
	*ret_timed_out = false;
	int r =
	    docker_container_run_attached(d->c, d->container_id, &io, ret_code, ret_timed_out, err);
	if (r < 0 && fd_readable(cancel_fd)) {
		err_release(err);
		*ret_canceled = true;
		return 0;
	}
	return r;
}

static int main_stage(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	struct strbuf script = STRBUF_INIT;
	exec_job_script(jc, false, NULL, &script);
	int code = -1;
	bool timed_out = false, canceled = false;
	double t = exec_now();
	d->services_wait_s = 0;
	int r = run_stage(d, script.buf, jc->run->cancel_fd, exec_job_ms_left(jc), &code,
	                  &timed_out, &canceled, err);
	jc->t->script += exec_now() - t - d->services_wait_s;
	strbuf_release(&script);
	if (r < 0)
		return -1;
	jc->canceled = canceled;
	jc->timed_out = timed_out;
	jc->exit_code = code;
	if (canceled)
		jc->failure = FAILURE_CANCELED;
	else if (timed_out)
		jc->failure = FAILURE_TIMEOUT;
	else if (code != 0)
		jc->failure = FAILURE_SCRIPT;
	return 0;
}

/* after_script: fresh shell, same container, CI_JOB_STATUS set, 5 minutes, failure is only a
 * warning. Only the second Ctrl-C interrupts it. */
static void after_stage(struct djob *d)
{
	struct exec_job_ctx *jc = d->jc;
	if (!jc->job->after_script.n || fd_readable(jc->run->force_fd))
		return;
	struct strbuf script = STRBUF_INIT;
	exec_job_script(jc, true, exec_job_status_word(jc), &script);
	int code = -1;
	bool timed_out = false, canceled = false;
	struct err err = ERR_INIT;
	double t = exec_now();
	int r = run_stage(d, script.buf, jc->run->force_fd, AFTER_SCRIPT_TIMEOUT_MS, &code,
	                  &timed_out, &canceled, &err);
	jc->t->after += exec_now() - t;
	strbuf_release(&script);
	if (r < 0)
		report_job_printf(jc->log,
		                  "WARNING: after_script failed, but job will continue "
		                  "unaffected: %s",
		                  err.msg);
	else if (timed_out)
		report_job_printf(jc->log, "WARNING: after_script failed, but job will continue "
		                           "unaffected: execution took longer than 5m0s seconds");
	else if (code != 0 && !canceled)
		report_job_printf(jc->log,
		                  "WARNING: after_script failed, but job will continue "
		                  "unaffected: exit code %d",
		                  code);
	err_release(&err);
}

/* Whether the engine answers 404 for path: the object was removed (not: the daemon is gone,
 * which is another error). */
static bool network_lost(struct docker_client *c, const char *path)
{
	long status = 0;
	struct err err = ERR_INIT;
	if (docker_request(c, "GET", path, NULL, NULL, &status, &err) == 0)
		return false;
	err_release(&err);
	return status == 404;
}

/* After the main stage (or a Docker error before its end): a job container, network or
 * service removed by someone else (`docker rm -f`) makes the job fail saying so, not with the
 * bare exit code 137 of the kill that came with the removal. Returns -1 with err set (and the
 * earlier error, a consequence, dropped) when something was removed, else 0. */
static int check_vanished(struct djob *d, bool failed, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	struct strbuf what = STRBUF_INIT;
	_cleanup_free_ char *npath =
	    d->network_id ? xasprintf("/networks/%s", d->network_id) : NULL;
	if (failed && d->container_id && exec_container_removed(d->c, d->container_id))
		strbuf_addf(&what, "the job's container '%.12s' was removed outside runnel %s",
		            d->container_id, "(docker rm?)");
	else if (failed && npath && network_lost(d->c, npath))
		strbuf_addf(&what, "the job's network '%.12s' was removed outside runnel %s",
		            d->network_id, "(docker network rm?)");
	else
		services_vanished(d->c, d->services, &what);
	if (!what.len)
		return 0;
	if (err_is_set(err)) {
		log_debug("%s: %s", jc->job->name, err->msg);
		err_release(err);
	}
	err_set(err, ERR_ENV, "%s", what.buf);
	strbuf_release(&what);
	jc->failure = FAILURE_SYSTEM;
	return -1;
}

static void remove_all(struct djob *d)
{
	struct err err = ERR_INIT;
	double t = exec_now();
	if (d->container_id && docker_container_remove(d->c, d->container_id, &err) < 0)
		err_release(&err);
	if (d->services) {
		const char *path = report_job_log_path(d->jc->log);
		_cleanup_free_ char *dir = path ? xstrdup(path) : NULL;
		services_stop(d->c, d->services, dir ? dirname(dir) : d->jc->run->state_dir);
		d->services = NULL;
	}
	for (size_t i = 0; i < d->n_anon; i++)
		if (docker_volume_remove(d->c, d->anon_volumes[i], true, &err) < 0)
			err_release(&err);
	if (d->network_id && docker_network_remove(d->c, d->network_id, &err) < 0)
		err_release(&err);
	if (d->jc->volume && docker_volume_remove(d->c, d->jc->volume, true, &err) < 0)
		err_release(&err);
	d->jc->t->remove += exec_now() - t;
}

static int prepare(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	if (ensure_image(d, err) < 0 || make_network(d, err) < 0)
		return -1;
	if (start_services(d, err) < 0 || make_anon_volumes(d, err) < 0)
		return -1;
	if (project_copy(d, err) < 0 || make_container(d, err) < 0)
		return -1;
	return jc->archive ? put_project(d, err) : 0;
}

/* The daemon could not mount the overlay when starting the container (rootless engine,
 * podman, upper dir on an overlayfs...): copy instead, for this job and the rest of the run. */
static int overlay_fallback(struct djob *d, struct err *err)
{
	struct exec_job_ctx *jc = d->jc;
	log_debug("overlay volume not usable, copying the project: %s", err->msg);
	err_release(err);
	__atomic_store_n(&jc->run->no_overlay, 1, __ATOMIC_SEQ_CST);
	struct err e2 = ERR_INIT;
	if (docker_container_remove(d->c, d->container_id, &e2) < 0)
		err_release(&e2);
	free(d->container_id);
	d->container_id = NULL;
	if (docker_volume_remove(d->c, jc->volume, true, &e2) < 0)
		err_release(&e2);
	jc->volume = NULL;
	jc->overlay = false;
	if (project_copy(d, err) < 0 || make_container(d, err) < 0)
		return -1;
	return main_stage(d, err);
}

static bool is_mount_failure(const struct exec_job_ctx *jc, const struct err *err)
{
	return jc->overlay && err->msg && strstr(err->msg, "mount") && jc->exit_code < 0;
}

int exec_docker_run(struct exec_job_ctx *jc, struct err *err)
{
	struct djob d = {.jc = jc, .labels = STRVEC_INIT};
	report_job_printf(jc->log, "Using Docker executor with image %s ...", jc->image);
	d.c = docker_client_clone(jc->run->docker, err);
	if (!d.c)
		return -1;
	exec_labels(jc->run, jc->job->name, &d.labels);
	int r = prepare(&d, err);
	if (r == 0)
		r = main_stage(&d, err);
	if (r < 0 && is_mount_failure(jc, err))
		r = overlay_fallback(&d, err);
	if (!jc->canceled && (d.container_id || d.services) &&
	    check_vanished(&d, r < 0 || jc->failure != FAILURE_NONE, err) < 0)
		r = -1;
	if (r == 0 && jc->failure == FAILURE_SCRIPT)
		diagnose(&d);
	if (r == 0 || (jc->canceled && d.container_id))
		after_stage(&d);
	if (r == 0 && (jc->overlay || jc->archive) && !fd_readable(jc->run->force_fd)) {
		double t = exec_now();
		if (jc->archive)
			fetch_reports(&d);
		exec_job_collect_artifacts(jc, d.c, d.container_id);
		jc->t->copy_out += exec_now() - t;
	}
	remove_all(&d);
	docker_client_free(d.c);
	free(d.services_prefix);
	free(d.network_id);
	free(d.container_id);
	for (size_t i = 0; i < d.n_anon; i++)
		free(d.anon_volumes[i]);
	strvec_release(&d.labels);
	return r;
}
