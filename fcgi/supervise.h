/* Supervised worker pools. spawn-fcgi starts ONE process per pool; that
 * process keeps N workers running on the listening socket it was handed on
 * fd 0, forking each one and replacing a worker that dies (a crash, kill -9,
 * out of memory) at once, without touching its siblings. Every death is
 * logged on one line:
 *
 *   supervisor: worker 4242 died (killed by signal 9, KILL); replaced by 4250
 *
 * Crash loops are rate-limited: after more than `burst` deaths within
 * `window_ms`, each further replacement waits, starting at `backoff_ms` and
 * doubling up to `backoff_max_ms` (logged on the death's line, and again
 * when the replacement starts), so the supervisor never spins.
 *
 * SIGTERM or SIGINT to the supervisor is passed to every worker (each
 * finishes the request in hand), and the supervisor returns once they are
 * gone, killing any still there after `stop_timeout_ms`. Workers get SIGTERM
 * if the supervisor itself dies (PR_SET_PDEATHSIG), so none is orphaned.
 *
 * Everything that must not be shared across fork (database connections,
 * threads, GraphicsMagick, per-worker caches) is made by the worker
 * function, in the child. The supervisor keeps its own state on its stack
 * and waits for signals with sigtimedwait(): it installs no handler. */
#ifndef DLCS_SUPERVISE_H
#define DLCS_SUPERVISE_H

struct config;
struct settings_table;

/* A worker that exits with this status (EX_CONFIG) found its configuration
 * unusable: every replacement would fail alike, so the supervisor stops the
 * pool and returns this status instead of replacing it. */
#define SUPERVISE_EXIT_CONFIG 78

struct supervise_opts {
	int workers;              /* how many to keep running, 1..SUPERVISE_MAX_WORKERS */
	int (*worker)(void *ctx); /* runs one worker in a child; returns its exit status */
	void *ctx;
	/* Crash-loop limits and the stop timeout; 0 takes the default. */
	int burst;           /* deaths allowed within window_ms before back-off (5) */
	int window_ms;       /* 10000 */
	int backoff_ms;      /* the first back-off (500), doubled per further death */
	int backoff_max_ms;  /* its cap (30000) */
	int stop_timeout_ms; /* after SIGTERM, SIGKILL to the workers still there (10000) */
};

#define SUPERVISE_MAX_WORKERS 1024

/* Keeps o->workers children running o->worker(o->ctx) until SIGTERM or
 * SIGINT. Returns the exit status for main(): 0 after a clean stop, 1 when a
 * worker had to be killed or the pool could not be started,
 * SUPERVISE_EXIT_CONFIG when a worker said its configuration is unusable. */
int supervise_run(const struct supervise_opts *o);

/* What a program's worker function gets: read-only, loaded before the fork. */
struct worker_env {
	struct config *cfg;      /* owned by supervise_program */
	const char *config_path; /* the file cfg came from, NULL when none */
	const char *argv0;       /* the program's argv[0] */
};

/* The main() of a FastCGI program (dlcs-api, dlcs-image, dlcs-runner):
 * reads the command line (-c FILE, default $DLCS_CONFIG; -w N, the number
 * of workers, default 1; -w 0 runs one worker in this process, without a
 * supervisor, e.g. under a debugger), loads the configuration against the
 * framework's settings and the program's (settings, NULL: none), and runs
 * worker(env) in each of N supervised children. --help and --version are
 * answered on stdout first, touching nothing (status 0). Returns main()'s status (2
 * on a bad command line, 1 when the configuration cannot be read,
 * SUPERVISE_EXIT_CONFIG when it is refused: an unknown key, a bad value,
 * logged with its line, before any worker is forked). */
int supervise_program(int argc, char **argv, const char *program,
		      const struct settings_table *settings,
		      int (*worker)(const struct worker_env *env));

#endif
