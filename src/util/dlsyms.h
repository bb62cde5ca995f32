/* dlsyms: a shared library loaded on first use and a table of its functions resolved by name.
 * libcurl (docker/curl.c) and libarchive (exec/archive-dl.c) are loaded this way, so that the
 * verbs that never need them do not map them and their dependency chains at start-up. */
#pragma once
#include <stddef.h>

/* One function of the table: its name and where its pointer goes (offsetof in the table). */
struct dl_sym {
	const char *name;
	size_t off;
};

/* dlopen(soname, RTLD_LAZY | RTLD_LOCAL) (lazy: the chain's functions bind on first call
 * instead of relocating everything at load; local: its symbols stay out of the global
 * namespace; never closed once loaded), then the address of each of the n syms is stored at
 * (char *)table + off. Returns 0, or -1 with the reason in why (why_len bytes, without the
 * soname that glibc's text starts with): the library is then closed and table zeroed
 * (table_size bytes). Not thread-safe: callers run it once (pthread_once). */
int dl_load_table(const char *soname, const struct dl_sym *syms, size_t n, void *table,
                  size_t table_size, char *why, size_t why_len);
