/* The owner of what a run leaves on the machine (Docker objects, run and temporary
 * directories): a process named by pid, start time, host and boot id, so that a reused pid is
 * not mistaken for the owner. Shared by labels.c, reap.c and temp-dirs.c; not part of the exec
 * API. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct exec_reap_opts;

struct owner {
	char host[256];
	char boot[64];
	long pid;
	unsigned long long start;
};

/* The first line of path into buf (empty when it cannot be read). */
void exec_read_line_file(const char *path, char *buf, size_t size);
/* The start time of process pid (clock ticks since boot, /proc/<pid>/stat field 22), 0 unknown. */
unsigned long long exec_proc_start_time(long pid);
/* This process as an owner. */
void exec_owner_self(struct owner *o);
/* Whether process pid with that start time still runs on this host. */
bool exec_owner_pid_alive(long pid, unsigned long long start);
/* Whether the owner the runnel.* labels (borrowed) name still runs; objects of another host
 * count as alive: we cannot tell. */
bool exec_owner_alive(json_t *labels);
/* Whether the labels name another user as the owner (those objects are left alone). */
bool exec_owner_other_user(json_t *labels);

/* Removes path recursively, logging a failure at debug level (reap.c). */
void exec_reap_rm_rf(const char *path);
/* Removes the temporary directories of dead owners, or with mine those of this process, and
 * names each in o->removed when o is given (temp-dirs.c). */
void exec_reap_temp(const struct exec_reap_opts *o, bool mine);
