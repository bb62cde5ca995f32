/* monotime: the monotonic clock, read in one place (see monotime.h). */
#include "util/monotime.h"

void monotime_get(struct timespec *ret_ts)
{
	/* cannot fail for CLOCK_MONOTONIC with a valid pointer (Linux >= 2.6) */
	clock_gettime(CLOCK_MONOTONIC, ret_ts);
}

double monotime_s(void)
{
	struct timespec t;
	monotime_get(&t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

long monotime_ms(void)
{
	struct timespec t;
	monotime_get(&t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

double monotime_diff_s(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}
