/* NULL-terminated arrays of owned strings, for argv and environment lists (git's strvec). */
#pragma once
#include <stddef.h>

struct strvec {
	char **v; /* owned, NULL-terminated; never NULL after any call */
	size_t n;
	size_t alloc;
};

/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define STRVEC_INIT { .v = strvec_empty, .n = 0, .alloc = 0 }
/* clang-format on */
extern char *strvec_empty[];

void strvec_init(struct strvec *sv);
/* Appends a copy of s. Returns the stored copy (owned by sv). */
const char *strvec_push(struct strvec *sv, const char *s);
/* Appends s, taking ownership. */
void strvec_push_take(struct strvec *sv, char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strvec_release(struct strvec *sv);
/* Index of the first element equal to s, or -1. */
long strvec_find(const struct strvec *sv, const char *s);
