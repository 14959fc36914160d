/* Installing the custom-headers include (asset/nginx_include.h) into a
 * running nginx: the new text replaces the file only after `nginx -t`
 * accepts the whole configuration with it, and only then is the nginx
 * master told to reload. The runner that renders the include after changes
 * (ingest/headers_renderer.h) and `dlcs-admin render-headers` call this;
 * the API workers never do (they move a change counter on,
 * asset/change_counter.h). */
#ifndef DLCS_ASSET_NGINX_RELOAD_H
#define DLCS_ASSET_NGINX_RELOAD_H

struct arena;
struct config;
struct db;

/* Where the include goes and how nginx is tested and told. */
struct nginx_target {
	const char *include;      /* nginx_custom_headers; NULL or "": nothing is rendered */
	const char *test_command; /* nginx_test_command, run by /bin/sh; "": not tested */
	const char *pid_file;     /* nginx_pid_file; "": nginx is not told */
	/* nginx_reload_command, run by /bin/sh instead of the SIGHUP to
	 * pid_file; "": none */
	const char *reload_command;
};

/* The target the configuration names. */
void nginx_target_from_config(struct nginx_target *t, const struct config *cfg);

enum nginx_outcome {
	NGINX_SAME,      /* the include already had these locations: nothing to reload */
	NGINX_RELOADED,  /* installed, tested, and the master told to reload */
	NGINX_INSTALLED, /* installed and tested; no nginx runs to reload (it reads the file
			    when it starts) */
	NGINX_REFUSED,   /* the test failed: the previous include stays */
	NGINX_FAILED,    /* the table, the file or the signal failed */
};

/* Renders the include from the table and installs it (nginx_include_install),
 * one publisher at a time on this host (an flock of "{include}.lock"), each
 * reading the table after the one before it wrote, so the last file written
 * is the newest. *generation: the custom headers' change counter the
 * rendering includes (-1 when unknown). Logs the outcome in one line. */
enum nginx_outcome nginx_include_publish(struct db *db, struct arena *a,
					 const struct nginx_target *t, long long *generation);

/* Installs text (an include rendered for `what`, e.g. "generation 7", with
 * nlocations locations) at t->include:
 *   - when the file already holds the same locations (its first line, which
 *     names the generation, aside), it is rewritten if that line differs,
 *     and nothing else happens (a reload costs: nginx's old workers close
 *     their clients' kept-alive connections);
 *   - else the text is written to a temporary file, put in place of the
 *     include (the previous one kept aside), and t->test_command is run: it
 *     tests the real configuration, which reads the new include; if it fails
 *     the previous include is put back and its message logged; if it passes
 *     t->reload_command is run, or without one the nginx master in
 *     t->pid_file gets SIGHUP (when one runs; a stale pid file names no
 *     process called nginx and is ignored).
 * When a reload fails, "{include}.unloaded" says so until one succeeds, and
 * the next call reloads even if the locations are the same.
 * A previous include still kept aside (its publisher died during the test)
 * is put back first. The caller holds the lock that nginx_include_publish
 * takes. */
enum nginx_outcome nginx_include_install(struct arena *a, const struct nginx_target *t,
					 const char *text, const char *what, int nlocations);

#endif
