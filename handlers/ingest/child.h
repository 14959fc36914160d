/* Running a program of the runner's (ffmpeg, ffprobe) as a child process:
 * no shell, its own working directory, stdout and stderr to files, a time
 * limit, a niceness, and a question asked about every 100 ms while it runs
 * (should it go on?). It dies with the runner: PR_SET_PDEATHSIG kills it if
 * the runner is killed, even with SIGKILL, so no transcode outlives the
 * item's lease or writes into a work directory that another runner's
 * cleanup is removing. No descriptor of the runner's (database connections,
 * the transcode slot's lock) is inherited. */
#ifndef DLCS_INGEST_CHILD_H
#define DLCS_INGEST_CHILD_H

#include <stdbool.h>

struct arena;

struct child_spec {
	const char *path;        /* the program: absolute, or relative to the runner's cwd */
	const char *const *argv; /* NULL-terminated; argv[0] is the name it is shown as */
	const char *cwd;         /* its working directory */
	const char *out_file;    /* its stdout (created, truncated); NULL: /dev/null */
	const char *err_file;    /* its stderr, likewise */
	int nice;                /* 0..19 */
	int timeout_ms;          /* killed after it */
	/* asked about every 100 ms while it runs: false kills it */
	bool (*keep_going)(void *ctx);
	void *ctx;
};

enum child_end {
	CHILD_EXITED,   /* ran to its end: see status */
	CHILD_TIMEOUT,  /* killed after timeout_ms */
	CHILD_STOPPED,  /* killed because keep_going said no */
	CHILD_NO_START, /* could not be started (errno in status) */
};

struct child_result {
	enum child_end end;
	int status; /* exit status (0 success); -N killed by signal N */
	long long ms;
	long long cpu_ms; /* its user + system CPU time (and its children's) */
};

/* The program named by `name`: itself when it holds a '/', else the first
 * executable file of that name in $PATH (arena memory); NULL when none. */
const char *child_find(struct arena *a, const char *name);

/* Runs the program until it ends, times out or is stopped; it is always
 * reaped before this returns. r->end says which. */
void child_run(const struct child_spec *s, struct child_result *r);

#endif
