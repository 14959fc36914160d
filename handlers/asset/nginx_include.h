/* The nginx include of the customers' custom headers (nginx_custom_headers):
 * the responses nginx makes itself (open tiles and stored sizes, and the
 * files the application answers with X-Accel-Redirect) carry them too. The
 * API renders it after every change of a customer's headers, dlcs-admin
 * render-headers on demand. */
#ifndef DLCS_ASSET_NGINX_INCLUDE_H
#define DLCS_ASSET_NGINX_INCLUDE_H

struct arena;
struct config;
struct db;

/* Writes the nginx include for every customer's headers to `path`
 * atomically (a temporary file renamed over it): locations for the tiles
 * and thumbnails nginx serves itself, and the header list of the internal
 * location that serves the application's X-Accel-Redirect files. 0, or -1
 * after logging. */
int custom_headers_render(struct db *db, struct arena *a, const char *path);

/* After a change: renders to the configured nginx_custom_headers path (one
 * renderer at a time, under an flock of "{path}.lock") and, when the text
 * changed, sends SIGHUP to the nginx master whose pid is in nginx_pid_file
 * (if set; a stale pid file is ignored). 0 (also when nothing is
 * configured), or -1 after logging. */
int custom_headers_publish(struct db *db, struct arena *a, const struct config *cfg);

#endif
