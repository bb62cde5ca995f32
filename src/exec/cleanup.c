/* cleanup: what makes a run leave nothing behind. Every Docker object carries labels naming
 * the pipeline, the job and the owning process (pid + host + boot id + process start time, so
 * a reused pid is not mistaken for the owner); a later run removes the objects of owners that
 * are gone (a SIGKILLed run). Ctrl-C/SIGTERM are taken by a watcher thread (sigwait), which
 * turns them into readable pipes the executors poll: the first cancels, the second forces. */
#include "exec/exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docker/client.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* ---- owner identity ---- */

static void read_line_file(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Start time of a process in clock ticks since boot (field 22 of /proc/pid/stat), or 0. */
static unsigned long long proc_start_time(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: fields count from the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long v = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
		if (++field == 22) {
			v = strtoull(tok, NULL, 10);
			break;
		}
	return v;
}

struct owner {
	char host[256];
	char boot[64];
	long pid;
	unsigned long long start;
};

static void owner_self(struct owner *o)
{
	if (gethostname(o->host, sizeof(o->host)) < 0)
		o->host[0] = '\0';
	o->host[sizeof(o->host) - 1] = '\0';
	read_line_file("/proc/sys/kernel/random/boot_id", o->boot, sizeof(o->boot));
	o->pid = (long)getpid();
	o->start = proc_start_time(o->pid);
}

void exec_labels(const struct exec_run *run, const char *job_name, struct strvec *out)
{
	struct owner o;
	owner_self(&o);
	strvec_pushf(out, "runnel.pipeline=%s", run->pipeline_id);
	if (job_name)
		strvec_pushf(out, "runnel.job=%s", job_name);
	strvec_pushf(out, "runnel.pid=%ld", o.pid);
	strvec_pushf(out, "runnel.host=%s", o.host);
	strvec_pushf(out, "runnel.boot=%s", o.boot);
	strvec_pushf(out, "runnel.start=%llu", o.start);
	/* `runnel cleanup` of one project finds its objects by this label */
	if (run->project_dir)
		strvec_pushf(out, "runnel.project=%s", run->project_dir);
	strvec_pushf(out, "runnel.uid=%lu", (unsigned long)getuid());
}

/* Whether the process described by the labels still runs. Objects of another host (shared
 * daemon) are left alone: we cannot tell. */
static bool owner_alive(json_t *labels)
{
	struct owner me;
	owner_self(&me);
	const char *host = json_string_value(json_object_get(labels, "runnel.host"));
	const char *boot = json_string_value(json_object_get(labels, "runnel.boot"));
	const char *pid = json_string_value(json_object_get(labels, "runnel.pid"));
	const char *start = json_string_value(json_object_get(labels, "runnel.start"));
	if (!pid)
		return false;
	if (host && strcmp(host, me.host))
		return true;
	if (boot && *me.boot && strcmp(boot, me.boot))
		return false; /* rebooted since: the owner is gone */
	long p = strtol(pid, NULL, 10);
	if (p <= 0 || (kill((pid_t)p, 0) < 0 && errno == ESRCH))
		return false;
	if (start && strtoull(start, NULL, 10) != proc_start_time(p))
		return false; /* pid reused by another process */
	return true;
}

/* Objects of another user (a daemon shared by several users) are theirs to clean; objects
 * of runnel versions without the label count as ours. */
static bool owner_other_user(json_t *labels)
{
	const char *uid = json_string_value(json_object_get(labels, "runnel.uid"));
	return uid && strtoul(uid, NULL, 10) != (unsigned long)getuid();
}

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
	if (owner_alive(labels) || owner_other_user(labels)) {
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

static void rm_rf(const char *path)
{
	struct err err = ERR_INIT;
	if (fs_rmtree(path, &err) < 0) {
		log_debug("reap: %s", err.msg);
		err_release(&err);
	}
}

static bool pid_alive(long pid, unsigned long long start)
{
	return pid > 0 && kill((pid_t)pid, 0) == 0 && proc_start_time(pid) == start;
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
		read_line_file(ownf, line, sizeof(line));
		long pid = 0;
		unsigned long long start = 0;
		if (sscanf(line, "%ld %llu", &pid, &start) != 2)
			continue; /* not a run dir (shell executor job copy) */
		if (pid_alive(pid, start))
			continue;
		rm_rf(dir);
		if (o && o->removed)
			strvec_pushf(o->removed, "run directory %s", dir);
	}
	closedir(d);
}

static const char *tmp_root(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

char *exec_temp_dir(const char *what, struct err *err)
{
	struct owner o;
	owner_self(&o);
	/* the owner in the name: exec_reap_stale removes it once its process is gone */
	char *path = xasprintf("%s/runnel.%ld.%llu.%s.XXXXXX", tmp_root(), o.pid, o.start, what);
	if (!mkdtemp(path)) {
		err_sys(err, errno, "cannot create a temporary directory in '%s'", tmp_root());
		free(path);
		return NULL;
	}
	return path;
}

/* Temporary directories of dead owners (mine: those of this process). */
static void reap_temp(const struct exec_reap_opts *o, bool mine)
{
	struct owner me;
	owner_self(&me);
	DIR *d = opendir(tmp_root());
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid = 0;
		unsigned long long start = 0;
		int n = 0;
		if (sscanf(e->d_name, "runnel.%ld.%llu.%n", &pid, &start, &n) != 2 || n == 0)
			continue;
		if (mine ? pid != me.pid || start != me.start : pid_alive(pid, start))
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", tmp_root(), e->d_name);
		struct stat st;
		if (lstat(path, &st) < 0 || st.st_uid != getuid())
			continue;
		rm_rf(path);
		if (o && o->removed)
			strvec_pushf(o->removed, "temporary directory %s", path);
	}
	closedir(d);
}

int exec_reap(struct docker_client *c, const struct exec_reap_opts *o, struct err *err)
{
	static const char *const kinds[] = {"containers", "networks", "volumes"};
	if (o && o->state_dir)
		reap_dirs(o->state_dir, o);
	reap_temp(o, false);
	/* containers first: a network or volume in use cannot be removed */
	for (size_t k = 0; c && k < 3; k++)
		if (reap_kind(c, kinds[k], o, err) < 0)
			return -1;
	return 0;
}

void exec_remove_own_temp(void)
{
	reap_temp(NULL, true);
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

/* ---- signals ---- */

/* The watcher thread reads the signals from a signalfd and, with EXEC_SIGNALS_WATCH_OUTPUT,
 * polls stdout and stderr when they are pipes or sockets: a pipe whose reader is gone
 * reports POLLERR at once, before runnel writes to it again (`runnel run | less`, then q).
 * ctl_pipe wakes it: 'q' stops it, 'p' is a closed output seen by a writer (EPIPE). */
struct exec_signals {
	pthread_t thread;
	sigset_t set, old;
	int sig_fd;
	int ctl_pipe[2], cancel_pipe[2], force_pipe[2];
	exec_signal_fn on_cancel, on_force;
	void *ud;
	unsigned flags;
	int first;
	int count;
};

static void ignore_signal(int sig)
{
	(void)sig;
}

static void poke(int fd)
{
	char c = 1;
	(void)!write(fd, &c, 1);
}

/* SIGHUP (the terminal went away) and SIGPIPE (the output went away) come in bursts: a shell
 * forwards its SIGHUP to its jobs after the kernel's, every writer sees the closed pipe. Only
 * a signal somebody sends again on purpose escalates to the abort. */
static bool escalates(int sig)
{
	return sig == SIGINT || sig == SIGTERM || sig == SIGQUIT;
}

static void deliver(struct exec_signals *s, int sig)
{
	if (s->count == 0) {
		s->count++;
		__atomic_store_n(&s->first, sig, __ATOMIC_SEQ_CST);
		poke(s->cancel_pipe[1]);
		if (s->on_cancel)
			s->on_cancel(s->ud, sig);
	} else if (escalates(sig)) {
		s->count++;
		poke(s->force_pipe[1]);
		if (s->on_force)
			s->on_force(s->ud, sig);
	}
}

/* stdout/stderr worth watching: only pipes and sockets report their reader's end. */
static int watched_fd(const struct exec_signals *s, int fd)
{
	struct stat st;
	if (!(s->flags & EXEC_SIGNALS_WATCH_OUTPUT) || fstat(fd, &st) < 0)
		return -1;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ? fd : -1;
}

/* One wake-up of the watcher. Returns false when told to stop. */
static bool signal_step(struct exec_signals *s, struct pollfd *pfd)
{
	if (poll(pfd, 4, -1) < 0)
		return true; /* EINTR */
	if (pfd[0].revents) {
		struct signalfd_siginfo si;
		if (read(s->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			deliver(s, (int)si.ssi_signo);
	}
	if (pfd[1].revents) {
		char c = 0;
		if (read(s->ctl_pipe[0], &c, 1) == 1 && c == 'q')
			return false;
		if (c == 'p')
			deliver(s, SIGPIPE);
	}
	for (int i = 2; i < 4; i++)
		if (pfd[i].fd >= 0 && (pfd[i].revents & (POLLERR | POLLHUP))) {
			pfd[i].fd = -1; /* reported once: a closed pipe stays closed */
			deliver(s, SIGPIPE);
		}
	return true;
}

static void *signal_thread(void *p)
{
	struct exec_signals *s = p;
	/* events 0: POLLERR/POLLHUP are always reported, and a writable pipe is no event */
	struct pollfd pfd[4] = {
	    {.fd = s->sig_fd, .events = POLLIN},
	    {.fd = s->ctl_pipe[0], .events = POLLIN},
	    {.fd = watched_fd(s, 1), .events = 0},
	    {.fd = watched_fd(s, 2), .events = 0},
	};
	while (signal_step(s, pfd))
		;
	return NULL;
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static void signals_free(struct exec_signals *s)
{
	if (s->sig_fd >= 0)
		close(s->sig_fd);
	close_pair(s->ctl_pipe);
	close_pair(s->cancel_pipe);
	close_pair(s->force_pipe);
	free(s);
}

static const int taken_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};

/* Blocks the taken signals (the threads created later inherit the mask) and opens the
 * signalfd. SIGPIPE blocked in every thread makes a write to a closed pipe fail with EPIPE;
 * the signal the kernel raises then is pending on the writing thread only, which the
 * signalfd of this thread does not read: only `kill -PIPE` reaches it. */
static int take_signals(struct exec_signals *s, struct err *err)
{
	/* An inherited SIG_IGN (a shell's background job, nohup) would discard the signal even
	 * though it is blocked: take the signals back with an empty handler, which exec()
	 * resets to the default in children (SIG_IGN would stay). */
	struct sigaction sa = {.sa_handler = ignore_signal};
	sigemptyset(&sa.sa_mask);
	sigemptyset(&s->set);
	for (size_t i = 0; i < sizeof(taken_signals) / sizeof(taken_signals[0]); i++) {
		sigaction(taken_signals[i], &sa, NULL);
		sigaddset(&s->set, taken_signals[i]);
	}
	pthread_sigmask(SIG_BLOCK, &s->set, &s->old);
	s->sig_fd = signalfd(-1, &s->set, SFD_CLOEXEC);
	if (s->sig_fd < 0) {
		pthread_sigmask(SIG_SETMASK, &s->old, NULL);
		return err_sys(err, errno, "cannot create a signalfd");
	}
	return 0;
}

struct exec_signals *exec_signals_start(exec_signal_fn on_cancel, exec_signal_fn on_force, void *ud,
                                        unsigned flags, struct err *err)
{
	struct exec_signals *s = xcalloc(1, sizeof(*s));
	s->on_cancel = on_cancel;
	s->on_force = on_force;
	s->ud = ud;
	s->flags = flags;
	s->sig_fd = -1;
	s->ctl_pipe[0] = s->ctl_pipe[1] = s->cancel_pipe[0] = s->cancel_pipe[1] = -1;
	s->force_pipe[0] = s->force_pipe[1] = -1;
	if (pipe2(s->ctl_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(s->cancel_pipe, O_CLOEXEC) < 0 || pipe2(s->force_pipe, O_CLOEXEC) < 0) {
		err_sys(err, errno, "cannot create a pipe");
		signals_free(s);
		return NULL;
	}
	if (take_signals(s, err) < 0) {
		signals_free(s);
		return NULL;
	}
	int r = pthread_create(&s->thread, NULL, signal_thread, s);
	if (r) {
		pthread_sigmask(SIG_SETMASK, &s->old, NULL);
		err_sys(err, r, "cannot start the signal thread");
		signals_free(s);
		return NULL;
	}
	return s;
}

void exec_signals_raise(struct exec_signals *s, int signo)
{
	if (!s)
		return;
	/* async-signal-safe and lock-free: callable from any thread, with any lock held */
	char c = signo == SIGPIPE ? 'p' : 0;
	if (c)
		(void)!write(s->ctl_pipe[1], &c, 1);
	else
		kill(getpid(), signo);
}

int exec_signals_cancel_fd(const struct exec_signals *s)
{
	return s->cancel_pipe[0];
}

int exec_signals_force_fd(const struct exec_signals *s)
{
	return s->force_pipe[0];
}

int exec_signals_received(const struct exec_signals *s)
{
	return __atomic_load_n(&s->first, __ATOMIC_SEQ_CST);
}

void exec_signals_stop(struct exec_signals *s)
{
	if (!s)
		return;
	char c = 'q';
	(void)!write(s->ctl_pipe[1], &c, 1);
	pthread_join(s->thread, NULL);
	/* signals that came after the watcher stopped stay pending until the mask is restored:
	 * drain them, their run is over */
	struct signalfd_siginfo si;
	int fl = fcntl(s->sig_fd, F_GETFL);
	fcntl(s->sig_fd, F_SETFL, fl | O_NONBLOCK);
	while (read(s->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	pthread_sigmask(SIG_SETMASK, &s->old, NULL);
	signals_free(s);
}
