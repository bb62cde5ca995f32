/* The monotonic clock (CLOCK_MONOTONIC), the one clock of every deadline, wait and duration in
 * runnel: wall-clock jumps (NTP, a suspended laptop's resync) never shorten a timeout or make
 * a duration negative. */
#pragma once

#include <time.h>

/* Seconds since an arbitrary fixed point (boot), with nanosecond resolution. */
double monotime_s(void);
/* The same in whole milliseconds. */
long monotime_ms(void);
/* The same as a timespec (for pthread_cond_timedwait on a condition whose clock is
 * CLOCK_MONOTONIC). */
void monotime_get(struct timespec *ret_ts);
/* to - from in seconds (negative when to is earlier). */
double monotime_diff_s(const struct timespec *from, const struct timespec *to);
