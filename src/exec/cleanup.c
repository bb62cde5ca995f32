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

static json_t *labels_of(json_t *info, const char *kind)
{
	if (!strcmp(kind, "containers"))
		return json_object_get(json_object_get(info, "Config"), "Labels");
	return json_object_get(info, "Labels");
}

static void reap_kind(struct docker_client *c, const char *kind)
{
	struct strvec ids = STRVEC_INIT;
	struct err err = ERR_INIT;
	if (docker_list_by_label(c, kind, "runnel.pipeline", &ids, &err) < 0) {
		log_debug("reap: listing %s: %s", kind, err.msg);
		err_release(&err);
		return;
	}
	for (size_t i = 0; i < ids.n; i++) {
		_cleanup_free_ char *path = NULL;
		if (!strcmp(kind, "containers"))
			path = xasprintf("/containers/%s/json", ids.v[i]);
		else
			path = xasprintf("/%s/%s", kind, ids.v[i]);
		json_t *info = NULL;
		if (docker_request(c, "GET", path, NULL, &info, NULL, &err) < 0) {
			err_release(&err);
			continue;
		}
		bool alive = owner_alive(labels_of(info, kind));
		json_decref(info);
		if (alive)
			continue;
		log_debug("reap: removing stale %s %s", kind, ids.v[i]);
		int r = !strcmp(kind, "containers") ? docker_container_remove(c, ids.v[i], &err)
		        : !strcmp(kind, "networks") ? docker_network_remove(c, ids.v[i], &err)
		                                    : docker_volume_remove(c, ids.v[i], true, &err);
		if (r < 0)
			err_release(&err);
	}
	strvec_release(&ids);
}

static void rm_rf(const char *path)
{
	struct err err = ERR_INIT;
	if (fs_rmtree(path, &err) < 0) {
		log_debug("reap: %s", err.msg);
		err_release(&err);
	}
}

/* Run directories hold an "owner" file: "<pid> <start time>". */
static void reap_dirs(const char *state_dir)
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
		if (pid > 0 && kill((pid_t)pid, 0) == 0 && proc_start_time(pid) == start)
			continue;
		rm_rf(dir);
	}
	closedir(d);
}

void exec_reap_stale(struct docker_client *c, const char *state_dir)
{
	if (c) {
		reap_kind(c, "containers");
		reap_kind(c, "networks");
		reap_kind(c, "volumes");
	}
	if (state_dir)
		reap_dirs(state_dir);
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
		for (size_t i = 0; i < ids.n; i++) {
			int r = k == 0   ? docker_container_remove(c, ids.v[i], &err)
			        : k == 1 ? docker_network_remove(c, ids.v[i], &err)
			                 : docker_volume_remove(c, ids.v[i], true, &err);
			if (r < 0)
				err_release(&err);
		}
		strvec_release(&ids);
	}
}

/* ---- signals ---- */

struct exec_signals {
	pthread_t thread;
	sigset_t set, old;
	int cancel_pipe[2], force_pipe[2];
	exec_signal_fn on_cancel, on_force;
	void *ud;
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

static void *signal_thread(void *p)
{
	struct exec_signals *s = p;
	for (;;) {
		int sig = 0;
		if (sigwait(&s->set, &sig) != 0)
			continue;
		if (sig == SIGUSR2)
			return NULL;
		if (s->count++ == 0) {
			__atomic_store_n(&s->first, sig, __ATOMIC_SEQ_CST);
			poke(s->cancel_pipe[1]);
			if (s->on_cancel)
				s->on_cancel(s->ud, sig);
		} else {
			poke(s->force_pipe[1]);
			if (s->on_force)
				s->on_force(s->ud, sig);
		}
	}
}

struct exec_signals *exec_signals_start(exec_signal_fn on_cancel, exec_signal_fn on_force, void *ud,
                                        struct err *err)
{
	struct exec_signals *s = xcalloc(1, sizeof(*s));
	s->on_cancel = on_cancel;
	s->on_force = on_force;
	s->ud = ud;
	if (pipe2(s->cancel_pipe, O_CLOEXEC) < 0) {
		free(s);
		err_sys(err, errno, "cannot create a pipe");
		return NULL;
	}
	if (pipe2(s->force_pipe, O_CLOEXEC) < 0) {
		close(s->cancel_pipe[0]);
		close(s->cancel_pipe[1]);
		free(s);
		err_sys(err, errno, "cannot create a pipe");
		return NULL;
	}
	/* An inherited SIG_IGN (a shell's background job) would discard the signal even though
	 * it is blocked for sigwait: take the signals back with an empty handler. */
	struct sigaction sa = {.sa_handler = ignore_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&s->set);
	sigaddset(&s->set, SIGINT);
	sigaddset(&s->set, SIGTERM);
	sigaddset(&s->set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s->set, &s->old);
	int r = pthread_create(&s->thread, NULL, signal_thread, s);
	if (r) {
		pthread_sigmask(SIG_SETMASK, &s->old, NULL);
		exec_signals_stop(NULL);
		err_sys(err, r, "cannot start the signal thread");
		close(s->cancel_pipe[0]);
		close(s->cancel_pipe[1]);
		close(s->force_pipe[0]);
		close(s->force_pipe[1]);
		free(s);
		return NULL;
	}
	return s;
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
	pthread_kill(s->thread, SIGUSR2);
	pthread_join(s->thread, NULL);
	pthread_sigmask(SIG_SETMASK, &s->old, NULL);
	close(s->cancel_pipe[0]);
	close(s->cancel_pipe[1]);
	close(s->force_pipe[0]);
	close(s->force_pipe[1]);
	free(s);
}
