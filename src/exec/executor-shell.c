/* executor-shell: the shell executor. The job runs on the host with bash (else sh) in its own copy
 * of the project under .runnel/builds/<job>/, with the same generated script and variables as in a
 * container. The script is the shell's stdin (a file, so a large script never blocks); the job is
 * its own process group, killed as a whole on timeout or cancel. */
#include "exec/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/report.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/xalloc.h"

#define AFTER_SCRIPT_TIMEOUT_MS (5L * 60 * 1000)
#define KILL_GRACE_MS 3000

struct proc {
	pid_t pid;
	int out, errfd;
};

static const char *host_shell(void)
{
	static const char *const shells[] = {"/usr/local/bin/bash", "/usr/bin/bash", "/bin/bash",
	                                     "/usr/local/bin/sh",   "/usr/bin/sh",   "/bin/sh"};
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (access(shells[i], X_OK) == 0)
			return shells[i];
	return "/bin/sh";
}

/* The script as an unlinked temporary file: the child's stdin. */
static int script_fd(const struct exec_job_ctx *jc, const struct strbuf *script, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("%s/.script-XXXXXX", jc->run->state_dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "cannot create '%s'", path);
	unlink(path);
	if (write(fd, script->buf, script->len) != (ssize_t)script->len ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return err_sys(err, errno, "cannot write the job script");
	}
	return fd;
}

static int spawn(const struct exec_job_ctx *jc, int in, struct proc *p, struct err *err)
{
	int o[2], e[2];
	if (pipe2(o, O_CLOEXEC) < 0)
		return err_sys(err, errno, "cannot create a pipe");
	if (pipe2(e, O_CLOEXEC) < 0) {
		close(o[0]);
		close(o[1]);
		return err_sys(err, errno, "cannot create a pipe");
	}
	const char *sh = host_shell();
	pid_t pid = fork();
	if (pid < 0) {
		close(o[0]);
		close(o[1]);
		close(e[0]);
		close(e[1]);
		return err_sys(err, errno, "cannot fork");
	}
	if (pid == 0) {
		setpgid(0, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(in, 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		if (chdir(jc->host_dir) < 0)
			_exit(1);
		execl(sh, sh, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no race with a kill before the child ran setpgid */
	close(o[1]);
	close(e[1]);
	p->pid = pid;
	p->out = o[0];
	p->errfd = e[0];
	return 0;
}

static bool fd_readable(int fd)
{
	if (fd < 0)
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGTERM);
	for (int i = 0; i < KILL_GRACE_MS / 50; i++) {
		if (kill(-pid, 0) < 0)
			return;
		usleep(50 * 1000);
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			kill(-pid, SIGKILL); /* leftovers of the group */
			return;
		}
	}
	kill(-pid, SIGKILL);
}

enum stop { STOP_NONE, STOP_CANCEL, STOP_TIMEOUT };

/* Streams the child's output until both pipes close; stops the group on cancel/timeout. */
static enum stop pump(struct exec_job_ctx *jc, struct proc *p, int cancel_fd, double deadline)
{
	enum stop stop = STOP_NONE;
	struct pollfd fds[3] = {{.fd = p->out, .events = POLLIN},
	                        {.fd = p->errfd, .events = POLLIN},
	                        {.fd = cancel_fd, .events = POLLIN}};
	char buf[16384];
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		double left = (deadline - exec_now()) * 1000.0;
		if (stop == STOP_NONE && left <= 0) {
			stop = STOP_TIMEOUT;
			kill_group(p->pid);
		}
		int r = poll(fds, 3, stop != STOP_NONE ? 200 : left > 1e9 ? -1 : (int)left + 1);
		if (r < 0 && errno != EINTR)
			break;
		if (stop == STOP_NONE && fds[2].fd >= 0 && (fds[2].revents & POLLIN)) {
			stop = STOP_CANCEL;
			fds[2].fd = -1;
			kill_group(p->pid);
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				report_job_write(jc->log, i + 1, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
			}
		}
	}
	return stop;
}

/* Runs one stage; *ret_code is the shell's status (128+signal when killed). */
static int run_stage(struct exec_job_ctx *jc, bool after, int cancel_fd, double deadline,
                     int *ret_code, enum stop *ret_stop, struct err *err)
{
	struct strbuf script = STRBUF_INIT;
	exec_job_script(jc, after, after ? exec_job_status_word(jc) : NULL, &script);
	int in = script_fd(jc, &script, err);
	strbuf_release(&script);
	if (in < 0)
		return -1;
	struct proc p = {.pid = -1, .out = -1, .errfd = -1};
	int r = spawn(jc, in, &p, err);
	close(in);
	if (r < 0)
		return -1;
	*ret_stop = pump(jc, &p, cancel_fd, deadline);
	int st = 0;
	while (waitpid(p.pid, &st, 0) < 0 && errno == EINTR)
		;
	kill(-p.pid, SIGKILL); /* background children the script left behind */
	*ret_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static void after_stage(struct exec_job_ctx *jc)
{
	if (!jc->job->after_script.n || fd_readable(jc->run->force_fd))
		return;
	int code = 0;
	enum stop stop = STOP_NONE;
	struct err err = ERR_INIT;
	double t = exec_now();
	int r = run_stage(jc, true, jc->run->force_fd,
	                  exec_now() + AFTER_SCRIPT_TIMEOUT_MS / 1000.0, &code, &stop, &err);
	jc->t->after += exec_now() - t;
	if (r < 0)
		report_job_printf(jc->log,
		                  "WARNING: after_script failed, but job will continue "
		                  "unaffected: %s",
		                  err.msg);
	else if (stop == STOP_TIMEOUT)
		report_job_printf(jc->log, "WARNING: after_script failed, but job will continue "
		                           "unaffected: execution took longer than 5m0s seconds");
	else if (code != 0 && stop == STOP_NONE)
		report_job_printf(jc->log,
		                  "WARNING: after_script failed, but job will continue "
		                  "unaffected: exit status %d",
		                  code);
	err_release(&err);
}

static void rm_rf(const char *path)
{
	struct err err = ERR_INIT;
	if (fs_rmtree(path, &err) < 0)
		err_release(&err);
}

int exec_shell_run(struct exec_job_ctx *jc, struct err *err)
{
	report_job_printf(jc->log, "Using Shell executor...");
	/* a fresh copy per job, like a fresh checkout: nothing from an earlier run leaks in */
	rm_rf(jc->host_dir);
	rm_rf(jc->tmp_dir);
	double t = exec_now();
	int r = exec_job_copy_project(jc, jc->host_dir, err);
	jc->t->copy_in += exec_now() - t;
	if (r < 0)
		return -1;
	int code = 0;
	enum stop stop = STOP_NONE;
	t = exec_now();
	r = run_stage(jc, false, jc->run->cancel_fd, jc->deadline, &code, &stop, err);
	jc->t->script += exec_now() - t;
	if (r < 0)
		return -1;
	jc->exit_code = code;
	if (stop == STOP_CANCEL) {
		jc->canceled = true;
		jc->failure = FAILURE_CANCELED;
	} else if (stop == STOP_TIMEOUT) {
		jc->timed_out = true;
		jc->failure = FAILURE_TIMEOUT;
	} else if (code != 0) {
		jc->failure = FAILURE_SCRIPT;
	}
	after_stage(jc);
	rm_rf(jc->tmp_dir);
	return 0;
}
