/* libcurl loaded on first use: the one symbol table of the functions runnel calls (see
 * util/libcurl.h). */
#define CURL_DISABLE_TYPECHECK
#include "util/libcurl.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/dlsyms.h"

#ifndef DK_LIBCURL_SONAME
#define DK_LIBCURL_SONAME "libcurl.so.4"
#endif

const char lcurl_soname[] = DK_LIBCURL_SONAME;

static struct lcurl_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[512]; /* why loading failed, set once */

_Static_assert(sizeof(void *) == sizeof(api.easy_init), "function pointers fit in void *");

#define SYM(n)                                                                                     \
	{                                                                                          \
		"curl_" #n, offsetof(struct lcurl_api, n)                                          \
	}
static const struct dl_sym syms[] = {
    SYM(global_init),   SYM(easy_init),      SYM(easy_setopt),      SYM(easy_perform),
    SYM(easy_getinfo),  SYM(easy_cleanup),   SYM(easy_strerror),    SYM(easy_send),
    SYM(easy_recv),     SYM(multi_init),     SYM(multi_add_handle), SYM(multi_remove_handle),
    SYM(multi_perform), SYM(multi_poll),     SYM(multi_info_read),  SYM(multi_cleanup),
    SYM(slist_append),  SYM(slist_free_all),
};
#undef SYM

static void load_once(void)
{
	if (dl_load_table(DK_LIBCURL_SONAME, syms, sizeof(syms) / sizeof(syms[0]), &api,
	                  sizeof(api), load_error, sizeof(load_error)) < 0)
		return;
	CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "curl_global_init failed: %s",
		         api.easy_strerror(rc));
		return;
	}
	loaded = true;
}

const struct lcurl_api *lcurl_load(struct err *err)
{
	pthread_once(&once, load_once);
	if (!loaded) {
		err_set(err, ERR_ENV, "cannot load %s: %s", DK_LIBCURL_SONAME, load_error);
		return NULL;
	}
	return &api;
}
