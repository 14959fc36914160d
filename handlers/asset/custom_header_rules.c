/* The rules of customers' custom headers (asset/custom_header_rules.h):
 * which names and values a customer may set, and which stored rows a
 * delivery response carries. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "asset/custom_header_rules.h"
#include "banned.h"

#define VALUE_MAX_BYTES 2000 /* escaped, it stays under nginx's 4096-byte token limit */

/* Precedence: customer-wide 0, space 1, role 2, space and role 3. */
static const char SQL_FOR_ASSET[] =
	"SELECT role, header_key, header_value FROM custom_headers"
	" WHERE customer_id = ? AND (space_id IS NULL OR space_id = ?)"
	" ORDER BY (space_id IS NOT NULL) + 2 * (role IS NOT NULL), created, id";

/* ---- validation -------------------------------------------------------- */

/* Headers a customer may not set, each with the reason the 400 gives.
 * Compared case-insensitively; a key must also be a plain token (letters,
 * digits, '-'), which RFC 9110 allows and nginx can name as a variable.
 *
 * Every customer's delivery responses, the API and the auth pages share one
 * host, so a header that a browser applies to the whole origin (or keeps
 * for it) would let one customer act on all of them: those are refused,
 * whatever the value. So are the headers of the connection and the message
 * framing (nginx and the FastCGI interface act on some of them: Status,
 * Location, X-Accel-*), and those the platform sets per response.
 *
 * CORS: every delivery response carries Access-Control-Allow-Origin: *
 * (CONTRACT section 8), and IIIF viewers on any site rely on it. A
 * customer's own value would be a second one, which browsers treat as a
 * failure, and CORS is no access control for images anyone can fetch
 * without a browser, so "narrowing" it is refused rather than offered.
 * Allow-Credentials, -Methods, -Headers and -Max-Age would widen what other
 * sites' scripts may do on the shared host (with the readers' cookies once
 * the auth side sets them there): refused with the whole Access-Control-
 * prefix. Access-Control-Expose-Headers stays allowed: it only lets a
 * script that may already read a response read the customer's own headers
 * (a licence header for a viewer, say). */
static const char WHOLE_SITE[] = "acts on the whole site, which every customer and the API share";
static const char REDIRECTS[] = "sends the reader elsewhere from the platform's host";
static const char TRANSPORT[] = "belongs to the connection or the message framing";
static const char PLATFORM[] = "is set by the platform";

static const struct reserved {
	const char *key;
	const char *why;
} RESERVED_KEYS[] = {
	/* kept by browsers for the origin, or applied to all of it */
	{"Accept-CH", WHOLE_SITE},
	{"Alt-Svc", WHOLE_SITE},
	{"Clear-Site-Data", WHOLE_SITE},
	{"Content-Security-Policy", WHOLE_SITE},
	{"Content-Security-Policy-Report-Only", WHOLE_SITE},
	{"Critical-CH", WHOLE_SITE},
	{"Expect-CT", WHOLE_SITE},
	{"NEL", WHOLE_SITE},
	{"Origin-Agent-Cluster", WHOLE_SITE},
	{"Public-Key-Pins", WHOLE_SITE},
	{"Public-Key-Pins-Report-Only", WHOLE_SITE},
	{"Report-To", WHOLE_SITE},
	{"Reporting-Endpoints", WHOLE_SITE},
	{"Service-Worker-Allowed", WHOLE_SITE},
	{"Set-Cookie", WHOLE_SITE},
	{"Set-Cookie2", WHOLE_SITE},
	{"Strict-Transport-Security", WHOLE_SITE},
	/* navigation */
	{"Location", REDIRECTS},
	{"Refresh", REDIRECTS},
	/* hop-by-hop and framing; Status is the FastCGI status line */
	{"Accept-Ranges", TRANSPORT},
	{"Connection", TRANSPORT},
	{"Content-Encoding", TRANSPORT},
	{"Content-Length", TRANSPORT},
	{"Content-Range", TRANSPORT},
	{"Content-Type", TRANSPORT},
	{"Date", TRANSPORT},
	{"HTTP2-Settings", TRANSPORT},
	{"Host", TRANSPORT},
	{"Keep-Alive", TRANSPORT},
	{"Server", TRANSPORT},
	{"Status", TRANSPORT},
	{"TE", TRANSPORT},
	{"Trailer", TRANSPORT},
	{"Transfer-Encoding", TRANSPORT},
	{"Upgrade", TRANSPORT},
	/* per response: validators, authentication, and what keeps a /file
	 * download from running as a page of the host */
	{"Authentication-Info", PLATFORM},
	{"Content-Disposition", PLATFORM},
	{"ETag", PLATFORM},
	{"Last-Modified", PLATFORM},
	{"WWW-Authenticate", PLATFORM},
	{"X-Content-Type-Options", PLATFORM},
	{NULL, NULL},
};

/* Prefixes: Proxy-* and Sec-* are the transport's; nginx acts on X-Accel-*
 * from an upstream; X-DLCS-* is the platform's own; CORS (above). */
static const struct reserved RESERVED_PREFIXES[] = {
	{"Proxy-", TRANSPORT},         /* Proxy-Authenticate, Proxy-Connection... */
	{"Sec-", TRANSPORT},           /* Sec-WebSocket-Accept... */
	{"X-Accel-", PLATFORM},        /* X-Accel-Redirect, -Buffering, -Limit-Rate... */
	{"X-DLCS-", PLATFORM},         /* the platform's own */
	{"Access-Control-", PLATFORM}, /* CORS, but for the exception below */
	{NULL, NULL},
};
static const char *const PREFIX_EXCEPTIONS[] = {"Access-Control-Expose-Headers", NULL};

static bool in_list_ci(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (str_ieq(*list, s))
			return true;
	return false;
}

const char *custom_header_key_syntax(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > CUSTOM_HEADER_KEY_MAX)
		return "must be 1-100 characters";
	if (!isalnum((unsigned char)key[0]))
		return "must start with a letter or a digit";
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)key[i]) && key[i] != '-')
			return "may only hold letters, digits and '-'";
	return NULL;
}

const char *custom_header_key_reserved(const char *key)
{
	for (const struct reserved *r = RESERVED_KEYS; r->key; r++)
		if (str_ieq(r->key, key))
			return r->why;
	if (in_list_ci(PREFIX_EXCEPTIONS, key))
		return NULL;
	for (const struct reserved *r = RESERVED_PREFIXES; r->key; r++)
		if (strncasecmp(key, r->key, strlen(r->key)) == 0)
			return r->why;
	return NULL;
}

const char *custom_header_key_problem(const char *key)
{
	const char *why = custom_header_key_syntax(key);
	return why ? why : custom_header_key_reserved(key);
}

const char *custom_header_value_problem(const char *value)
{
	if (!value)
		return "must not be empty";
	size_t n = strlen(value);
	if (n > VALUE_MAX_BYTES)
		return "must be at most 2000 bytes";
	if (strspn(value, " \t") == n)
		return "must not be empty";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "must not contain control characters (CR, LF, ...)";
		if (c == '$')
			return "must not contain '$' (nginx would read it as a variable)";
	}
	return NULL;
}

/* ---- the headers of a response ----------------------------------------- */

/* Sets key to value in h[0..*n), replacing an earlier value of the same key
 * (case-insensitively) in place. h has room for one more. */
static void header_set(struct custom_header *h, size_t *n, const char *key, const char *value)
{
	for (size_t i = 0; i < *n; i++) {
		if (str_ieq(h[i].key, key)) {
			h[i].key = key;
			h[i].value = value;
			return;
		}
	}
	h[*n].key = key;
	h[*n].value = value;
	(*n)++;
}

static bool has_role(yajl_val roles, const char *role)
{
	if (!roles || !YAJL_IS_ARRAY(roles))
		return false;
	for (size_t i = 0; i < roles->u.array.len; i++) {
		yajl_val v = roles->u.array.values[i];
		if (YAJL_IS_STRING(v) && strcmp(v->u.string, role) == 0)
			return true;
	}
	return false;
}

/* True (after logging) for a stored row that the rules refuse: one written
 * before a rule existed, or by hand. It is never sent or rendered, so it
 * cannot keep acting; DELETE .../customHeaders/{id} removes it. */
static bool stored_row_refused(int c, const char *key, const char *value)
{
	const char *why = custom_header_key_problem(key);
	const char *vwhy = why ? NULL : custom_header_value_problem(value);
	if (!why && !vwhy)
		return false;
	log_warn("custom headers: customer %d: stored header %s skipped: %s %s", c,
		 custom_header_key_syntax(key) ? "(invalid name)" : key, why ? "name" : "value",
		 why ? why : vwhy);
	return true;
}

void custom_header_set(struct custom_header *h, size_t *n, const char *key, const char *value)
{
	header_set(h, n, key, value);
}

bool custom_header_row_refused(int c, const char *key, const char *value)
{
	return stored_row_refused(c, key, value);
}

int custom_headers_for(struct db *db, struct arena *a, int c, int s, const char *roles_json,
		       struct custom_header **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_rows *r = db_query(db, a, SQL_FOR_ASSET, "ii", c, s);
	if (!r)
		return -1;
	yajl_val roles = NULL;
	if (roles_json) {
		roles = json_parse(a, roles_json, strlen(roles_json), NULL);
	}
	struct custom_header *h = arena_alloc(a, (r->n + 1) * sizeof *h);
	for (size_t i = 0; i < r->n; i++) {
		const char *role = db_str(r, i, 0), *key = db_str(r, i, 1),
			   *value = db_str(r, i, 2);
		if (role && !has_role(roles, role))
			continue;
		if (stored_row_refused(c, key, value))
			continue;
		header_set(h, n, key, value);
	}
	/* Rows stored before the budget existed: what does not fit is left out
	 * (the most specific, last), rather than making nginx answer 502. */
	size_t bytes = 0, fit = 0;
	while (fit < *n &&
	       (bytes += strlen(h[fit].key) + strlen(h[fit].value) + 4) <= CUSTOM_HEADERS_BYTES_MAX)
		fit++;
	if (fit < *n) {
		log_warn("custom headers: customer %d: %zu header(s) from %s on skipped: more than "
			 "%d bytes",
			 c, *n - fit, h[fit].key, CUSTOM_HEADERS_BYTES_MAX);
		*n = fit;
	}
	*out = h;
	return 0;
}
