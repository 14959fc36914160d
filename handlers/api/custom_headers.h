/* Custom headers of customers (CONTRACT section 10): the API resource, the
 * headers an asset's delivery responses carry, and their nginx rendering. */
#ifndef DLCS_CUSTOM_HEADERS_H
#define DLCS_CUSTOM_HEADERS_H

#include <stddef.h>

struct arena;
struct config;
struct db;

struct custom_header {
	const char *key; /* as the customer spelled it; compare case-insensitively */
	const char *value;
};

/* NULL when key is acceptable as a custom header name, else why not (for a
 * 400 that names 'key'): 1-100 characters of A-Z a-z 0-9 '-' starting with
 * a letter or digit (an RFC 9110 token that nginx can name as a variable),
 * and not a header that acts on the whole site (Set-Cookie,
 * Strict-Transport-Security, Clear-Site-Data, Alt-Svc,
 * Content-Security-Policy, NEL, ...), redirects (Location, Refresh), belongs
 * to the connection or the framing (Connection, Content-Length, Status,
 * Proxy-*, ...), or is set by the platform (validators, CORS, X-Accel-*,
 * Content-Disposition, ...); compared case-insensitively. The list and its
 * reasons are in custom_headers.c. */
const char *custom_header_key_problem(const char *key);
/* NULL when value is acceptable: 1-2000 bytes, not only blanks, no control
 * character other than tab (RFC 9110 allows HTAB in a field value), no '$'
 * (nginx would expand a variable in the rendered include). */
const char *custom_header_value_problem(const char *value);

/* The headers of a delivery response for an asset of customer c in space s
 * whose roles are roles_json (stored JSON array text; NULL or "[]": none):
 * customer-wide ones, then the space's, then those of a role the asset
 * holds, then those of the space and a role; within a level in creation
 * order. A later header replaces an earlier one of the same key. Stored
 * rows that the rules above now refuse are skipped (and logged). *out is an
 * arena array of *n headers. 0, or -1 on a database error. */
int custom_headers_for(struct db *db, struct arena *a, int c, int s, const char *roles_json,
		       struct custom_header **out, size_t *n);

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
