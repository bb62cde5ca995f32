/* LD_PRELOAD experiment: a 50 ms poll() that returns early (refused connect) sleeps out the rest
 * of its tick, i.e. services.c's wait loop ticks every 50 ms instead of spinning. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <time.h>

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int (*real)(struct pollfd *, nfds_t, int);
	if (!real)
		real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int r = real(fds, n, timeout);
	if (timeout != 50 || n == 0 || r <= 0)
		return r;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].events != POLLOUT || !(fds[i].revents & (POLLERR | POLLHUP)))
			return r; /* a connect succeeded, or not the probe: keep */
	clock_gettime(CLOCK_MONOTONIC, &b);
	long el = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	if (el < 50) {
		struct timespec s = {0, (50 - el) * 1000000L};
		nanosleep(&s, NULL);
	}
	return r;
}
