/* signals: Ctrl-C/SIGTERM (and SIGHUP, SIGQUIT, SIGPIPE) are taken by a watcher thread
 * (sigwait on a signalfd), which turns them into readable pipes the executors poll: the first
 * cancels, the second forces. */
#include "exec/exec.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/log.h"
#include "util/xalloc.h"

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
