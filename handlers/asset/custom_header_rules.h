/* Custom headers of customers (CONTRACT section 10): the rules of their
 * names and values, and which stored rows an asset's delivery responses
 * carry. The API resource (api/custom_headers.c) stores them by these
 * rules, dlcs-image sets them on its responses (custom_headers_for), and the
 * nginx include (asset/nginx_include.h) renders them for the files nginx
 * serves itself. */
#ifndef DLCS_ASSET_CUSTOM_HEADER_RULES_H
#define DLCS_ASSET_CUSTOM_HEADER_RULES_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct db;

#define CUSTOM_HEADER_KEY_MAX 100 /* custom_headers.header_key VARCHAR(100) */
/* Bytes ("Key: value\r\n") a customer's custom headers may add to one
 * response. dlcs-image's response headers must fit in nginx's
 * fastcgi_buffer_size (one 4 KB page unless nginx/dlcs.conf says more),
 * else nginx answers 502; the platform's own headers take up to about 1 KB
 * (a 200-character asset id in X-Accel-Redirect, ETag, Content-Type with
 * its profile, the /file headers). */
#define CUSTOM_HEADERS_BYTES_MAX 2500

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
 * reasons are in custom_header_rules.c. */
const char *custom_header_key_problem(const char *key);
/* The two halves of custom_header_key_problem: NULL, or why key is not a
 * plain token nginx can name as a variable; NULL, or why a customer may not
 * set the header key (for a key that is a token, safe to name). */
const char *custom_header_key_syntax(const char *key);
const char *custom_header_key_reserved(const char *key);
/* NULL when value is acceptable: 1-2000 bytes, not only blanks, no control
 * character other than tab (RFC 9110 allows HTAB in a field value), no '$'
 * (nginx would expand a variable in the rendered include). */
const char *custom_header_value_problem(const char *value);

/* Sets key to value in h[0..*n), replacing an earlier value of the same key
 * (case-insensitively) in place. h has room for one more. */
void custom_header_set(struct custom_header *h, size_t *n, const char *key, const char *value);
/* True (after logging) for a stored row of customer c that the rules above
 * refuse: one written before a rule existed, or by hand. It is never sent or
 * rendered, so it cannot keep acting; DELETE .../customHeaders/{id}
 * removes it. */
bool custom_header_row_refused(int c, const char *key, const char *value);

/* The headers of a delivery response for an asset of customer c in space s
 * whose roles are roles_json (stored JSON array text; NULL or "[]": none):
 * customer-wide ones, then the space's, then those of a role the asset
 * holds, then those of the space and a role; within a level in creation
 * order. A later header replaces an earlier one of the same key. Stored
 * rows that the rules above now refuse are skipped (and logged), and so are
 * those past CUSTOM_HEADERS_BYTES_MAX. *out is an arena array of *n
 * headers. 0, or -1 on a database error. */
int custom_headers_for(struct db *db, struct arena *a, int c, int s, const char *roles_json,
		       struct custom_header **out, size_t *n);

#endif
