/* The immutable model of one job after includes, extends, !reference, default:, rules and
 * parallel expansion have been applied: what the planner and the executors consume. All
 * pointers are owned by the pipeline's arena. Executors never see YAML: everything a job
 * needs at run time is here. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum job_when {
	WHEN_ON_SUCCESS,
	WHEN_ON_FAILURE,
	WHEN_ALWAYS,
	WHEN_MANUAL,
	WHEN_DELAYED,
	WHEN_NEVER,
};

/* One CI/CD variable as the model knows it (YAML, rules, matrix, predefined, CLI). */
struct var {
	const char *key;
	const char *value;
	bool raw;     /* expand: false */
	bool masked;  /* value must never appear in any log */
	bool file;    /* file-type: exported as a path to a file holding the value */
	bool public_; /* reaches service containers (predefined and YAML variables) */
};

struct var_list {
	struct var *v;
	size_t n, alloc;
};

struct string_list {
	const char **v;
	size_t n;
};

struct image_spec {
	const char *name;              /* NULL when not set; variables not yet expanded */
	struct string_list entrypoint; /* set only when has_entrypoint */
	bool has_entrypoint;
	struct string_list pull_policy; /* always / if-not-present / never; empty = default */
	const char *user;               /* docker:user */
	const char *platform;           /* docker:platform */
	struct srcloc loc;
};

struct service_spec {
	struct image_spec image;
	struct string_list aliases; /* explicit aliases only (split on commas/whitespace) */
	struct string_list command; /* set only when has_command */
	bool has_command;
	struct var_list variables; /* services:variables */
};

struct job_need {
	const char *job; /* name of the needed job instance (parallel already expanded) */
	bool artifacts;  /* default true */
	bool optional;
	struct srcloc loc;
};

enum cache_policy { CACHE_PULL_PUSH, CACHE_PULL, CACHE_PUSH };
enum artifacts_when { ART_ON_SUCCESS, ART_ON_FAILURE, ART_ALWAYS };

struct cache_spec {
	const char *key; /* resolved textual key (before variable expansion), default "default" */
	struct string_list key_files; /* cache:key:files */
	const char *key_prefix;       /* cache:key:prefix */
	struct string_list paths;
	bool untracked;
	const char *policy;       /* raw text (may be $VAR); "pull-push" default */
	enum artifacts_when when; /* default on_success */
	struct string_list fallback_keys;
};

struct artifacts_spec {
	bool present;
	const char *name;
	struct string_list paths;
	struct string_list exclude;
	bool untracked;
	enum artifacts_when when;
	const char *expire_in;
	struct string_list reports_junit;
	struct string_list reports_dotenv;
};

struct retry_spec {
	int max;                 /* 0..2 */
	struct string_list when; /* failure reasons; empty = any */
	int *exit_codes;
	size_t n_exit_codes;
};

struct environment_spec {
	const char *name;
	const char *url;
	const char *action;
	const char *deployment_tier;
};

/* Why a job is (or is not) in the pipeline: for `runnel explain`. */
struct job_decision {
	bool included;
	int rule_index;         /* 0-based index of the matching rule, -1 if none/no rules */
	struct srcloc rule_loc; /* location of the matching rule (or of rules: if none matched) */
	const char *reason;     /* human text: "rule 2 matched", "no rule matched", "except:refs" */
	struct var_list read_vars; /* variables the evaluated expressions read, with values */
};

struct job {
	const char *name;       /* instance name: "test 1/3", "build: [a, b]" */
	const char *group_name; /* name before parallel expansion */
	struct srcloc loc;      /* the job's key */
	const char *stage;
	size_t stage_index; /* index into pipeline->stages */

	struct string_list before_script; /* flattened */
	struct string_list script;
	struct string_list after_script;

	struct image_spec image; /* image.name NULL: no image (shell executor or default) */
	struct service_spec *services;
	size_t n_services;

	struct var_list variables; /* job-level: global YAML (per inherit) + job + matrix + rule
	                            * variables, in precedence order, last occurrence wins */

	enum job_when when;
	const char *start_in; /* for delayed */
	long start_in_seconds;
	bool allow_failure;
	int *allow_failure_exit_codes; /* when allow_failure:exit_codes is set */
	size_t n_allow_failure_exit_codes;

	bool has_needs; /* needs: given (even empty) */
	struct job_need *needs;
	size_t n_needs;
	/* optional needs dropped because their job is not in the pipeline (for explain) */
	struct job_need *dropped_needs;
	size_t n_dropped_needs;
	bool has_dependencies;
	struct string_list dependencies;

	struct retry_spec retry;
	long timeout_seconds; /* 0 = default (runner: 1 h) */
	bool interruptible;
	const char *resource_group;
	const char *coverage; /* regex text, or NULL */
	struct string_list tags;
	struct environment_spec environment;
	struct artifacts_spec artifacts;
	struct cache_spec *caches;
	size_t n_caches;

	int node_index; /* CI_NODE_INDEX, 0 when not parallel */
	int node_total; /* CI_NODE_TOTAL, 1 when not parallel */

	bool is_trigger; /* trigger: jobs are listed but not runnable locally */
	bool manual;     /* when == WHEN_MANUAL */

	struct job_decision decision;
};
