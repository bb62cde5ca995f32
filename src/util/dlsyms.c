/* dlsyms: load a library on demand and resolve its functions into a table (see dlsyms.h). */
#include "util/dlsyms.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int dl_load_table(const char *soname, const struct dl_sym *syms, size_t n, void *table,
                  size_t table_size, char *why, size_t why_len)
{
	void *lib = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
	if (!lib) {
		const char *text = dlerror();
		size_t sl = strlen(soname);
		/* glibc's text starts with the name the caller already prints */
		if (text && strncmp(text, soname, sl) == 0 && strncmp(text + sl, ": ", 2) == 0)
			text += sl + 2;
		snprintf(why, why_len, "%s", text ? text : "unknown error");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(lib, syms[i].name);
		if (!p) {
			snprintf(why, why_len, "symbol '%s' not found", syms[i].name);
			memset(table, 0, table_size);
			dlclose(lib);
			return -1;
		}
		/* dlsym() returns an object pointer; POSIX guarantees it converts to a function
		 * pointer, and memcpy() does that without the cast -Wpedantic rejects */
		memcpy((char *)table + syms[i].off, &p, sizeof(p));
	}
	return 0;
}
