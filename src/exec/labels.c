/* labels: who owns a Docker object. Every object runnel creates carries labels naming the
 * pipeline, the job and the owning process (pid + host + boot id + process start time, so a
 * reused pid is not mistaken for the owner); reap.c asks them whether the owner is gone. */
#include "exec/exec.h"
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "exec/owner.h"
#include "util/cleanup.h"
#include "util/strvec.h"
#include "util/xalloc.h"

void exec_read_line_file(const char *path, char *buf, size_t size)
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
unsigned long long exec_proc_start_time(long pid)
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

void exec_owner_self(struct owner *o)
{
	if (gethostname(o->host, sizeof(o->host)) < 0)
		o->host[0] = '\0';
	o->host[sizeof(o->host) - 1] = '\0';
	exec_read_line_file("/proc/sys/kernel/random/boot_id", o->boot, sizeof(o->boot));
	o->pid = (long)getpid();
	o->start = exec_proc_start_time(o->pid);
}

void exec_labels(const struct exec_run *run, const char *job_name, struct strvec *out)
{
	struct owner o;
	exec_owner_self(&o);
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
bool exec_owner_alive(json_t *labels)
{
	struct owner me;
	exec_owner_self(&me);
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
	if (start && strtoull(start, NULL, 10) != exec_proc_start_time(p))
		return false; /* pid reused by another process */
	return true;
}

/* Objects of another user (a daemon shared by several users) are theirs to clean; objects
 * of runnel versions without the label count as ours. */
bool exec_owner_other_user(json_t *labels)
{
	const char *uid = json_string_value(json_object_get(labels, "runnel.uid"));
	return uid && strtoul(uid, NULL, 10) != (unsigned long)getuid();
}

bool exec_owner_pid_alive(long pid, unsigned long long start)
{
	return pid > 0 && kill((pid_t)pid, 0) == 0 && exec_proc_start_time(pid) == start;
}
