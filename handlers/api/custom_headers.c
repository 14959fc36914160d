/* A customer's custom headers (vocab:CustomHeader): {key, value} pairs that
 * delivery responses carry, for every space of the customer or one
 * (`space`), for every asset or only those holding a role (`role`).
 *
 * Two places apply them. dlcs-image sets them on its own responses
 * (custom_headers_for). nginx serves the open tiles and stored thumbnails
 * itself, so for those the headers are rendered into an nginx include
 * (custom_headers_render) after every change, and nginx is told to reload.
 * Role-specific headers concern restricted assets only, which nginx never
 * serves from its fast path, so the rendering leaves them to the
 * application.
 *
 * The include holds:
 *   - three regex locations, for the tiles, the stored sizes of /iiif-img
 *     and those of /thumbs, of each customer (and of each space) that has
 *     headers, placed before the generic fast-path locations of
 *     nginx/dlcs.conf (the first matching regex location wins): the same
 *     fast paths plus that customer's headers (add_header in a location
 *     replaces the inherited list, so CORS and Cache-Control are repeated);
 *   - the internal location for the application's X-Accel-Redirect files.
 *     nginx drops an upstream's own headers when it follows X-Accel-Redirect
 *     (it keeps Content-Type, Cache-Control, Expires, Content-Disposition,
 *     Set-Cookie, Accept-Ranges), so every key any customer uses is added
 *     back from the application's response ($upstream_http_<key>; an empty
 *     variable adds nothing). This is why keys are limited to letters,
 *     digits and '-': each must map to an nginx variable name.
 *
 * Values are written as nginx double-quoted strings ('"' and '\' escaped).
 * nginx expands "$name" in add_header values and has no escape for '$', so
 * values containing '$' are refused by the API. Control characters (CR, LF,
 * NUL...) are refused too: they would split or end the header. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "api/common.h"
#include "config.h"
#include "api/custom_headers.h"
#include "db.h"
#include "api/handlers.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "str.h"
#include "banned.h"

#define KEY_MAX         100  /* custom_headers.header_key VARCHAR(100) */
#define VALUE_MAX_BYTES 2000 /* escaped, it stays under nginx's 4096-byte token limit */
#define ROLE_MAX        500  /* custom_headers.role VARCHAR(500) */
#define HEADERS_MAX     100  /* per customer: the nginx include stays small */
/* Bytes ("Key: value\r\n") a customer's custom headers may add to one
 * response. dlcs-image's response headers must fit in nginx's
 * fastcgi_buffer_size (one 4 KB page unless nginx/dlcs.conf says more),
 * else nginx answers 502; the platform's own headers take up to about 1 KB
 * (a 200-character asset id in X-Accel-Redirect, ETag, Content-Type with
 * its profile, the /file headers). */
#define HEADERS_BYTES_MAX 2500
/* Alternatives of customers or spaces in one generated location regex; the
 * whole regex must stay under nginx's 4096-byte token limit. */
#define ALT_MAX_BYTES 2500

/* Cache lifetime of images (delivery.md); keep in step with nginx/dlcs.conf. */
#define IMAGE_CACHE_CONTROL "public, max-age=31536000"

#define CH_COLS "id, header_key, header_value, space_id, role"
enum { COL_ID, COL_KEY, COL_VALUE, COL_SPACE, COL_ROLE };

enum {
	SQL_CH_COUNT,
	SQL_CH_LIST,
	SQL_CH_GET,
	SQL_CH_LOCK_CUSTOMER,
	SQL_CH_INSERT,
	SQL_CH_UPDATE,
	SQL_CH_DELETE,
	SQL_CH_SPACE_EXISTS,
	SQL_CH_SIZES,
	SQL_CH_FOR_ASSET,
	SQL_CH_RENDER,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_CH_COUNT] = "SELECT COUNT(*) FROM custom_headers WHERE customer_id = ?",
	[SQL_CH_LIST] = "SELECT " CH_COLS " FROM custom_headers WHERE customer_id = ?"
			" ORDER BY created, id LIMIT ? OFFSET ?",
	[SQL_CH_GET] = "SELECT " CH_COLS " FROM custom_headers WHERE customer_id = ? AND id = ?",
	/* Serialises creators of one customer's headers, so the limit holds. */
	[SQL_CH_LOCK_CUSTOMER] = "SELECT id FROM customers WHERE id = ? FOR UPDATE",
	[SQL_CH_INSERT] = "INSERT INTO custom_headers (id, customer_id, space_id, role, header_key,"
			  " header_value, created) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	[SQL_CH_UPDATE] = "UPDATE custom_headers SET space_id = ?, role = ?, header_key = ?,"
			  " header_value = ? WHERE customer_id = ? AND id = ?",
	[SQL_CH_DELETE] = "DELETE FROM custom_headers WHERE customer_id = ? AND id = ?",
	[SQL_CH_SPACE_EXISTS] = "SELECT 1 FROM spaces WHERE customer_id = ? AND id = ?",
	/* The bytes of the customer's headers by space (NULL: customer-wide),
	 * but for the one a PUT replaces. */
	[SQL_CH_SIZES] = "SELECT space_id, SUM(LENGTH(header_key) + LENGTH(header_value) + 4)"
			 " FROM custom_headers WHERE customer_id = ? AND id <> ? GROUP BY space_id",
	/* Precedence: customer-wide 0, space 1, role 2, space and role 3. */
	[SQL_CH_FOR_ASSET] =
		"SELECT role, header_key, header_value FROM custom_headers"
		" WHERE customer_id = ? AND (space_id IS NULL OR space_id = ?)"
		" ORDER BY (space_id IS NOT NULL) + 2 * (role IS NOT NULL), created, id",
	/* Everything the include needs, one customer after the other, each
	 * customer's customer-wide headers first, then by space. */
	[SQL_CH_RENDER] =
		"SELECT h.customer_id, c.name, h.space_id, h.role, h.header_key,"
		" h.header_value FROM custom_headers h"
		" JOIN customers c ON c.id = h.customer_id"
		" ORDER BY h.customer_id, h.space_id IS NOT NULL, h.space_id, h.created, h.id",
};

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

/* Headers nginx keeps from the application's response when it follows
 * X-Accel-Redirect: no need to add them back. */
static const char *const ACCEL_KEPT[] = {"Cache-Control", "Content-Disposition", "Expires", NULL};
/* Headers the /dlcs-storage/ location takes back from the application's
 * response for every file (nginx/dlcs.conf): never a second time. */
static const char *const ACCEL_PASSED[] = {"X-Content-Type-Options", "Content-Security-Policy",
					   NULL};

static bool in_list_ci(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (str_ieq(*list, s))
			return true;
	return false;
}

/* NULL, or why key is not a plain token nginx can name as a variable. */
static const char *key_syntax_problem(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > KEY_MAX)
		return "must be 1-100 characters";
	if (!isalnum((unsigned char)key[0]))
		return "must start with a letter or a digit";
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)key[i]) && key[i] != '-')
			return "may only hold letters, digits and '-'";
	return NULL;
}

/* NULL, or why a customer may not set the header key. */
static const char *key_reserved(const char *key)
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
	const char *why = key_syntax_problem(key);
	return why ? why : key_reserved(key);
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

/* Code points of a UTF-8 string (the JSON parser has validated it). */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* ---- the resource ------------------------------------------------------ */

static void ch_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	const char *id = db_str(r, i, COL_ID);
	resource_begin(w, req_url(rq, "/customers/%d/customHeaders/%s", (int)rq->ints[0], id),
		       "vocab:CustomHeader");
	jw_kstr(w, "id", id);
	jw_kstr(w, "key", db_str(r, i, COL_KEY));
	jw_kstr(w, "value", db_str(r, i, COL_VALUE));
	if (!db_isnull(r, i, COL_SPACE))
		jw_kint(w, "space", db_int(r, i, COL_SPACE));
	jw_kstr_opt(w, "role", db_str(r, i, COL_ROLE));
	jw_obj_end(w);
}

struct ch_input {
	const char *key, *value, *role; /* role NULL: every asset */
	bool has_space;
	int space;
};

static int ch_read(struct req *rq, int c, struct ch_input *in)
{
	static const char *const allowed[] = {"@context", "@id",   "@type", "id", "key",
					      "value",    "space", "role",  NULL};
	const char *why;
	long long space = 0;
	bool has_role = false;
	int st;
	memset(in, 0, sizeof *in);
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str_req(rq, rq->json, "key", &in->key)) ||
	    (st = jin_str_req(rq, rq->json, "value", &in->value)) ||
	    (st = jin_int(rq, rq->json, "space", 0, INT_MAX, &space, &in->has_space)) ||
	    (st = jin_str(rq, rq->json, "role", &in->role, &has_role)))
		return st;
	if ((why = key_syntax_problem(in->key)))
		return req_fail(rq, 400, "'key' %s", why);
	if ((why = key_reserved(in->key))) /* a plain token by now: safe to name */
		return req_fail(rq, 400, "'key' %s is not allowed: it %s", in->key, why);
	if ((why = custom_header_value_problem(in->value)))
		return req_fail(rq, 400, "'value' %s", why);
	if (has_role && (in->role[0] == '\0' || utf8_len(in->role) > ROLE_MAX))
		return req_fail(rq, 400, "'role' must be 1-%d characters", ROLE_MAX);
	if (!has_role)
		in->role = NULL;
	in->space = (int)space;
	if (in->has_space) {
		struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_CH_SPACE_EXISTS], "ii",
					     c, in->space);
		if (!r)
			return req_db_fail(rq, "looking up the space");
		if (r->n == 0)
			return req_fail(rq, 400, "'space' %d does not exist in customer %d",
					in->space, c);
	}
	return 0;
}

/* 0 when the customer's headers, with `in` in place of the header
 * except_id (if any), fit in HEADERS_BYTES_MAX on any one response; else
 * the failing status (400, or a database error), the transaction left to
 * the caller. The most a response can carry is every customer-wide header
 * plus those of the space with the most (roles count as held: an asset may
 * hold them all). Called with the customer's row locked, so two writers
 * cannot both fit in the last bytes. */
static int ch_budget(struct req *rq, int c, const struct ch_input *in, const char *except_id)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_CH_SIZES], "is", c,
				     except_id ? except_id : "");
	if (!r)
		return req_db_fail(rq, "sizing the custom headers");
	long long own = (long long)(strlen(in->key) + strlen(in->value) + 4);
	long long wide = in->has_space ? 0 : own, space_max = 0, in_space = 0;
	for (size_t i = 0; i < r->n; i++) {
		long long bytes = db_int(r, i, 1);
		if (db_isnull(r, i, 0))
			wide += bytes;
		else if (in->has_space && db_int(r, i, 0) == in->space)
			in_space = bytes;
		else if (bytes > space_max)
			space_max = bytes;
	}
	if (in->has_space && in_space + own > space_max)
		space_max = in_space + own;
	if (wide + space_max > HEADERS_BYTES_MAX)
		return req_fail(rq, 400,
				"'value' would bring customer %d's custom headers to %lld bytes on "
				"a response, more than the %d that fit",
				c, wide + space_max, HEADERS_BYTES_MAX);
	return 0;
}

/* Regenerates the nginx include after a committed change. The change
 * stands even when this fails (the table is the truth; `dlcs-admin
 * render-headers` redoes it), so a failure is only logged. */
static void ch_changed(struct req *rq)
{
	custom_headers_publish(rq->app->db, rq->arena, rq->app->cfg);
}

static int ch_answer(struct req *rq, int c, const char *id, int status)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_CH_GET], "is", c, id);
	if (!r)
		return req_db_fail(rq, "reading the custom header");
	if (r->n == 0)
		return req_fail(rq, 404, "custom header %s not found", id);
	if (status == 201)
		req_header(rq, "Location", req_url(rq, "/customers/%d/customHeaders/%s", c, id));
	ch_write(req_json(rq), rq, r, 0);
	return status;
}

int custom_headers_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/customHeaders", c),
				  SQL[SQL_CH_COUNT], SQL[SQL_CH_LIST], ch_write,
				  "listing custom headers");
}

int custom_headers_create(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st = customer_require(rq, c);
	if (st)
		return st;
	if (json_get(rq->json, "id") || json_get(rq->json, "@id"))
		return req_fail(rq, 400, "'id' is assigned by the server: POST without it");
	struct ch_input in;
	if ((st = ch_read(rq, c, &in)))
		return st;
	char id[37];
	uuid_make(id);

	struct db *db = rq->app->db;
	const char *what = "creating the custom header";
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, what);
	struct db_rows *lock = db_query(db, rq->arena, SQL[SQL_CH_LOCK_CUSTOMER], "i", c);
	struct db_rows *n = lock ? db_query(db, rq->arena, SQL[SQL_CH_COUNT], "i", c) : NULL;
	if (!n) {
		st = req_db_fail(rq, what);
		db_rollback(db);
		return st;
	}
	if (db_int(n, 0, 0) >= HEADERS_MAX) {
		db_rollback(db);
		return req_fail(rq, 400,
				"customer %d already has %d custom headers, the most allowed", c,
				HEADERS_MAX);
	}
	if ((st = ch_budget(rq, c, &in, NULL))) {
		db_rollback(db);
		return st;
	}
	long long rc = in.has_space ? db_exec(db, SQL[SQL_CH_INSERT], "siisss", id, c, in.space,
					      in.role, in.key, in.value)
				    : db_exec(db, SQL[SQL_CH_INSERT], "sinsss", id, c, in.role,
					      in.key, in.value);
	if (rc < 0 || db_commit(db) != DB_OK) {
		st = req_db_fail(rq, what);
		if (db_in_txn(db))
			db_rollback(db);
		return st;
	}
	ch_changed(rq);
	return ch_answer(rq, c, id, 201);
}

int custom_header_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st = customer_require(rq, c);
	if (st)
		return st;
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 404, "custom header not found");
	return ch_answer(rq, c, id, 200);
}

/* A full replacement: key and value are required; an omitted space or role
 * makes the header customer-wide or for every asset again. */
int custom_header_put(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st = customer_require(rq, c);
	if (st)
		return st;
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 400, "custom header id '%s' is not a UUID", rq->strs[0]);
	if ((st = body_uuid_agrees(rq, req_url(rq, "/customers/%d/customHeaders/%s", c, id), id)))
		return st;
	struct ch_input in;
	if ((st = ch_read(rq, c, &in)))
		return st;
	struct db *db = rq->app->db;
	const char *what = "updating the custom header";
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, what);
	if (!db_query(db, rq->arena, SQL[SQL_CH_LOCK_CUSTOMER], "i", c)) {
		st = req_db_fail(rq, what);
		db_rollback(db);
		return st;
	}
	if ((st = ch_budget(rq, c, &in, id))) {
		db_rollback(db);
		return st;
	}
	long long n = in.has_space ? db_exec(db, SQL[SQL_CH_UPDATE], "isssis", in.space, in.role,
					     in.key, in.value, c, id)
				   : db_exec(db, SQL[SQL_CH_UPDATE], "nsssis", in.role, in.key,
					     in.value, c, id);
	if (n < 0 || db_commit(db) != DB_OK) {
		st = req_db_fail(rq, what);
		if (db_in_txn(db))
			db_rollback(db);
		return st;
	}
	if (n == 0)
		return req_fail(rq, 404, "custom header %s not found", id);
	ch_changed(rq);
	return ch_answer(rq, c, id, 200);
}

int custom_header_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st = customer_require(rq, c);
	if (st)
		return st;
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 404, "custom header not found");
	long long n = db_exec(rq->app->db, SQL[SQL_CH_DELETE], "is", c, id);
	if (n < 0)
		return req_db_fail(rq, "deleting the custom header");
	if (n == 0)
		return req_fail(rq, 404, "custom header %s not found", id);
	ch_changed(rq);
	return 204;
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
		 key_syntax_problem(key) ? "(invalid name)" : key, why ? "name" : "value",
		 why ? why : vwhy);
	return true;
}

int custom_headers_for(struct db *db, struct arena *a, int c, int s, const char *roles_json,
		       struct custom_header **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_rows *r = db_query(db, a, SQL[SQL_CH_FOR_ASSET], "ii", c, s);
	if (!r)
		return -1;
	yajl_val roles = NULL;
	if (roles_json) {
		char err[64];
		roles = json_parse(a, roles_json, strlen(roles_json), err, sizeof err);
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
	       (bytes += strlen(h[fit].key) + strlen(h[fit].value) + 4) <= HEADERS_BYTES_MAX)
		fit++;
	if (fit < *n) {
		log_warn("custom headers: customer %d: %zu header(s) from %s on skipped: more than "
			 "%d bytes",
			 c, *n - fit, h[fit].key, HEADERS_BYTES_MAX);
		*n = fit;
	}
	*out = h;
	return 0;
}

/* ---- the nginx include ------------------------------------------------- */

/* The fast paths of nginx/dlcs.conf, with the customer (and space)
 * alternatives in place. Keep them in step with nginx/dlcs.conf. The
 * captures are named because the method check's regular expression resets
 * $1..$9. Canonical tile URLs: */
#define TILE_REGEX_FMT                                                                             \
	"^/iiif-img/(?:v[23]/)?(?<dlcs_c>%s)/(?<dlcs_s>%s)/(?<dlcs_id>[^/]+)/"                     \
	"(?<dlcs_region>\\d+,\\d+,\\d+,\\d+)/(?<dlcs_w>\\d+),\\d*/0/default\\.jpg$"
#define TILE_FILE "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/tiles/${dlcs_region}_$dlcs_w.jpg"
/* Stored sizes by their aliases (iiif/thumb_alias.h): /iiif-img's in full/
 * ("full" for 2.1 only), */
#define SIZE_REGEX_FMT                                                                             \
	"^/iiif-img/(?:v2/|(?:v3/)?(?![^/]+/\\d+/[^/]+/full/full/))(?<dlcs_c>%s)/(?<dlcs_s>%s)/"   \
	"(?<dlcs_id>[^/]+)/full/(?<dlcs_size>!?\\d+,\\d+|\\d+,|,\\d+|max|full)/0/default\\.jpg$"
#define SIZE_FILE "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/full/$dlcs_size.jpg"
/* and /thumbs's in thumbs/. */
#define THUMB_REGEX_FMT                                                                            \
	"^/thumbs/(?:v2/)?(?<dlcs_c>%s)/(?<dlcs_s>%s)/(?<dlcs_id>[^/]+)/full/"                     \
	"(?<dlcs_size>!?\\d+,\\d+|\\d+,|,\\d+)/0/default\\.jpg$"
#define THUMB_FILE "public/thumbs/$dlcs_c/$dlcs_s/$dlcs_id/thumbs/$dlcs_size.jpg"
/* How each serves its file, as in nginx/dlcs.conf: GET and HEAD only, a
 * missing file to dlcs-image, and the server level's error pages again (an
 * error_page in a location replaces the inherited list). */
#define FAST_SERVE(file)                                                                           \
	"    alias $dlcs_storage/" file ";\n"                                                      \
	"    if ($request_method !~ ^(?:GET|HEAD)$) {\n"                                           \
	"        return 405;\n"                                                                    \
	"    }\n"                                                                                  \
	"    error_page 404 = @dlcs_image;\n"                                                      \
	"    error_page 400 /dlcs-error/400;\n"                                                    \
	"    error_page 405 /dlcs-error/405;\n"                                                    \
	"    error_page 408 /dlcs-error/408;\n"                                                    \
	"    error_page 411 /dlcs-error/411;\n"                                                    \
	"    error_page 413 /dlcs-error/413;\n"                                                    \
	"    error_page 414 /dlcs-error/414;\n"                                                    \
	"    error_page 494 =431 /dlcs-error/431;\n"                                               \
	"    error_page 500 /dlcs-error/500;\n"                                                    \
	"    error_page 501 /dlcs-error/501;\n"                                                    \
	"    error_page 502 /dlcs-error/502;\n"                                                    \
	"    error_page 503 /dlcs-error/503;\n"                                                    \
	"    error_page 504 /dlcs-error/504;\n"
/* What all three have after that (then the Cache-Control and the headers:
 * fast_body). No open_file_cache, as in nginx/dlcs.conf: a restriction must
 * reach nginx at once. */
#define FAST_BODY "    add_header Access-Control-Allow-Origin \"*\" always;\n"

/* One row of the rendering query. */
struct rrow {
	int c;
	const char *name;
	bool has_space;
	int s;
	const char *role;
	const char *key, *value;
};

/* A location to write: the customer and space alternatives and the body. */
struct rloc {
	int c; /* first customer, for a stable order */
	bool space_level;
	const char *calt; /* "5|acme" */
	const char *salt; /* "3|4", or "\\d+" for customer-wide */
	const char *body;
};

/* Appends value as an nginx double-quoted string. */
static void nginx_quote(struct sbuf *b, const char *value)
{
	sbuf_addc(b, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_addc(b, '\\');
		sbuf_addc(b, *p);
	}
	sbuf_addc(b, '"');
}

/* The fast-path locations' body after FAST_SERVE, for headers
 * h[0..n). A custom Cache-Control replaces the platform's. */
static const char *fast_body(struct arena *a, const struct custom_header *h, size_t n)
{
	struct sbuf b;
	sbuf_init(&b, a);
	sbuf_adds(&b, FAST_BODY);
	bool cache_control = false;
	for (size_t i = 0; i < n; i++)
		cache_control |= str_ieq(h[i].key, "Cache-Control");
	if (!cache_control)
		sbuf_adds(&b, "    add_header Cache-Control \"" IMAGE_CACHE_CONTROL "\";\n");
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(&b, "    add_header %s ", h[i].key);
		nginx_quote(&b, h[i].value);
		sbuf_adds(&b, " always;\n");
	}
	return b.buf;
}

/* "5|acme": the customer's id, and its name when the name can be a path
 * segment of its own (not all digits: that would be another customer's id),
 * with the regex metacharacter '.' escaped. */
static const char *customer_alt(struct arena *a, int c, const char *name)
{
	struct sbuf b;
	sbuf_init(&b, a);
	sbuf_printf(&b, "%d", c);
	if (name && *name && strspn(name, "0123456789") != strlen(name) &&
	    customer_name_valid(name)) {
		sbuf_addc(&b, '|');
		for (const char *p = name; *p; p++) {
			if (*p == '.')
				sbuf_addc(&b, '\\');
			sbuf_addc(&b, *p);
		}
	}
	return b.buf;
}

/* The tile and the two stored-size locations of customers calt, spaces salt. */
static void write_location(struct sbuf *out, const char *comment, const char *calt,
			   const char *salt, const char *body)
{
	sbuf_printf(out,
		    "# %s: tiles\nlocation ~ \"" TILE_REGEX_FMT
		    "\" {\n" FAST_SERVE(TILE_FILE) "%s}\n\n",
		    comment, calt, salt, body);
	sbuf_printf(out,
		    "# %s: stored sizes\nlocation ~ \"" SIZE_REGEX_FMT
		    "\" {\n" FAST_SERVE(SIZE_FILE) "%s}\n\n",
		    comment, calt, salt, body);
	sbuf_printf(out,
		    "# %s: thumbnails\nlocation ~ \"" THUMB_REGEX_FMT
		    "\" {\n" FAST_SERVE(THUMB_FILE) "%s}\n\n",
		    comment, calt, salt, body);
}

static int rloc_cmp(const void *pa, const void *pb)
{
	const struct rloc *x = pa, *y = pb;
	int d = strcmp(x->body, y->body);
	return d ? d : (x->c > y->c) - (x->c < y->c);
}

static int key_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct custom_header *)pa)->value,
		      ((const struct custom_header *)pb)->value);
}

/* The lower-case key with '-' as '_': its nginx $upstream_http_ name. */
static const char *upstream_var(struct arena *a, const char *key)
{
	char *v = arena_strdup(a, key);
	for (char *p = v; *p; p++)
		*p = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
	return v;
}

/* Builds the whole include from the rendering query's rows. */
static const char *render_text(struct arena *a, const struct rrow *rows, size_t nrows)
{
	struct sbuf out;
	sbuf_init(&out, a);
	sbuf_adds(&out,
		  "# Custom headers of the DLCS customers, for the responses nginx makes itself.\n"
		  "# GENERATED from the database by dlcs-api on every change to\n"
		  "# /customers/{c}/customHeaders and by `dlcs-admin render-headers`; every\n"
		  "# edit here is lost on the next change. Put headers of your own in your\n"
		  "# server block instead. Include this file in the server block BEFORE\n"
		  "# nginx/dlcs.conf: its regex locations must be tried before dlcs.conf's.\n\n");

	/* The internal location of X-Accel-Redirect files, with every key put
	 * back from the application's response. Keep in step with the
	 * /dlcs-storage/ location of nginx/dlcs.conf, which it overrides. */
	struct custom_header *keys = arena_alloc(a, (nrows + 1) * sizeof *keys);
	size_t nkeys = 0; /* .key: the first spelling seen; .value: its variable name */
	for (size_t i = 0; i < nrows; i++) {
		if (in_list_ci(ACCEL_KEPT, rows[i].key) || in_list_ci(ACCEL_PASSED, rows[i].key))
			continue;
		const char *var = upstream_var(a, rows[i].key);
		bool seen = false;
		for (size_t j = 0; j < nkeys && !seen; j++)
			seen = strcmp(keys[j].value, var) == 0;
		if (!seen)
			keys[nkeys++] = (struct custom_header){rows[i].key, var};
	}
	qsort(keys, nkeys, sizeof *keys, key_cmp);
	sbuf_adds(&out,
		  "# Files the application answers with X-Accel-Redirect: nginx drops the\n"
		  "# application's own headers then, so the custom ones are taken back.\n"
		  "location ~ ^/dlcs-storage/(.+)$ {\n"
		  "    internal;\n"
		  "    alias $dlcs_storage/$1;\n"
		  "    open_file_cache max=20000 inactive=60s;\n"
		  "    open_file_cache_valid 5s;\n"
		  "    add_header Access-Control-Allow-Origin \"*\" always;\n"
		  "    add_header X-Content-Type-Options $upstream_http_x_content_type_options"
		  " always;\n"
		  "    add_header Content-Security-Policy $upstream_http_content_security_policy"
		  " always;\n");
	for (size_t i = 0; i < nkeys; i++)
		sbuf_printf(&out, "    add_header %s $upstream_http_%s always;\n", keys[i].key,
			    keys[i].value);
	sbuf_adds(&out, "}\n\n");

	/* Fast-path locations: per customer, the customer-wide headers, then each
	 * space's on top of them (role-specific rows are the application's). */
	struct rloc *locs = arena_alloc(a, (nrows + 1) * sizeof *locs);
	size_t nlocs = 0;
	struct custom_header *h = arena_alloc(a, (nrows + 1) * sizeof *h);
	for (size_t i = 0; i < nrows;) {
		size_t end = i;
		while (end < nrows && rows[end].c == rows[i].c)
			end++;
		int c = rows[i].c;
		const char *calt = customer_alt(a, c, rows[i].name);
		size_t nwide = 0;
		size_t j = i;
		for (; j < end && !rows[j].has_space; j++)
			if (!rows[j].role)
				header_set(h, &nwide, rows[j].key, rows[j].value);
		struct custom_header *cwide = arena_alloc(a, (nwide + 1) * sizeof *cwide);
		memcpy(cwide, h, nwide * sizeof *h);
		if (nwide)
			locs[nlocs++] =
				(struct rloc){c, false, calt, "\\d+", fast_body(a, cwide, nwide)};
		/* Spaces, in id order; spaces with the same headers share a location. */
		size_t first_space_loc = nlocs;
		while (j < end) {
			int s = rows[j].s;
			size_t n = nwide;
			memcpy(h, cwide, nwide * sizeof *h);
			bool any = false;
			for (; j < end && rows[j].s == s; j++) {
				if (rows[j].role)
					continue;
				header_set(h, &n, rows[j].key, rows[j].value);
				any = true;
			}
			if (!any)
				continue;
			const char *body = fast_body(a, h, n);
			const char *sid = arena_printf(a, "%d", s);
			size_t k = first_space_loc;
			while (k < nlocs && (strcmp(locs[k].body, body) != 0 ||
					     strlen(locs[k].salt) + strlen(sid) >= ALT_MAX_BYTES))
				k++;
			if (k < nlocs)
				locs[k].salt = arena_printf(a, "%s|%s", locs[k].salt, sid);
			else
				locs[nlocs++] = (struct rloc){c, true, calt, sid, body};
		}
		i = end;
	}

	/* Space locations first (they are more specific than their customer's),
	 * in customer order; then the customer-wide ones, customers with the
	 * same headers sharing a location. */
	for (size_t k = 0; k < nlocs; k++) {
		if (!locs[k].space_level)
			continue;
		const char *comment =
			arena_printf(a, "customer %d, space(s) %s", locs[k].c, locs[k].salt);
		write_location(&out, comment, locs[k].calt, locs[k].salt, locs[k].body);
	}
	struct rloc *wide = arena_alloc(a, (nlocs + 1) * sizeof *wide);
	size_t nw = 0;
	for (size_t k = 0; k < nlocs; k++)
		if (!locs[k].space_level)
			wide[nw++] = locs[k];
	qsort(wide, nw, sizeof *wide, rloc_cmp);
	for (size_t k = 0; k < nw;) {
		struct sbuf alt;
		sbuf_init(&alt, a);
		sbuf_adds(&alt, wide[k].calt);
		size_t g = k + 1;
		while (g < nw && strcmp(wide[g].body, wide[k].body) == 0 &&
		       alt.len + strlen(wide[g].calt) < ALT_MAX_BYTES) {
			sbuf_addc(&alt, '|');
			sbuf_adds(&alt, wide[g].calt);
			g++;
		}
		write_location(&out, arena_printf(a, "customer(s) %s", alt.buf), alt.buf, "\\d+",
			       wide[k].body);
		k = g;
	}
	return out.buf;
}

static int write_file_atomically(struct arena *a, const char *path, const char *text)
{
	char rnd[9];
	random_hex(rnd, 4);
	const char *tmp = arena_printf(a, "%s.%d.%s.tmp", path, (int)getpid(), rnd);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("custom headers: cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) != 0 || done != len || rename(tmp, path) != 0) {
		log_err("custom headers: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The text of the include, from the table; NULL after logging. */
static const char *render(struct db *db, struct arena *a)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_CH_RENDER], "");
	if (!r) {
		log_err("custom headers: cannot read them: %s", db_last_msg(db));
		return NULL;
	}
	struct rrow *rows = arena_alloc(a, (r->n + 1) * sizeof *rows);
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const char *key = db_str(r, i, 4), *value = db_str(r, i, 5);
		/* Rows written before a rule changed are left out rather than
		 * allowed to act or to break nginx's configuration. */
		if (stored_row_refused((int)db_int(r, i, 0), key, value))
			continue;
		rows[n++] = (struct rrow){
			.c = (int)db_int(r, i, 0),
			.name = db_str(r, i, 1),
			.has_space = !db_isnull(r, i, 2),
			.s = (int)db_int(r, i, 2),
			.role = db_str(r, i, 3),
			.key = key,
			.value = value,
		};
	}
	return render_text(a, rows, n);
}

/* True when the file at path holds exactly text. */
static bool file_holds(const char *path, const char *text)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t len = strlen(text), off = 0;
	char buf[4096];
	bool same = true;
	size_t got;
	while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
		same = off + got <= len && memcmp(buf, text + off, got) == 0;
		off += got;
	}
	same = same && !ferror(f) && off == len;
	fclose(f);
	return same;
}

int custom_headers_render(struct db *db, struct arena *a, const char *path)
{
	const char *text = render(db, a);
	return text ? write_file_atomically(a, path, text) : -1;
}

/* SIGHUP to the nginx master of pid_file: it re-reads its configuration,
 * the include with it. The pid is checked to be an nginx process first, so
 * a stale pid file never signals a stranger. */
static int nginx_reload(const char *pid_file)
{
	FILE *f = fopen(pid_file, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0; /* nginx is not running: it reads the file when it starts */
		log_err("custom headers: cannot read %s: %s", pid_file, strerror(errno));
		return -1;
	}
	long pid = 0;
	int got = fscanf(f, "%ld", &pid);
	fclose(f);
	if (got != 1 || pid <= 1)
		return 0;
	char comm_path[64], comm[64] = "";
	xsnprintf(comm_path, sizeof comm_path, "/proc/%ld/comm", pid);
	f = fopen(comm_path, "r");
	if (f) {
		if (!fgets(comm, sizeof comm, f))
			comm[0] = '\0';
		fclose(f);
	}
	if (strncmp(comm, "nginx", 5) != 0)
		return 0; /* a stale pid file: nothing runs to reload */
	if (kill((pid_t)pid, SIGHUP) != 0) {
		log_err("custom headers: cannot signal nginx (pid %ld): %s", pid, strerror(errno));
		return -1;
	}
	return 0;
}

int custom_headers_publish(struct db *db, struct arena *a, const struct config *cfg)
{
	const char *path = config_str(cfg, "nginx_custom_headers", NULL);
	if (!path || !*path)
		return 0;
	/* One renderer at a time on this host, each reading the table after
	 * the one before it wrote: the last file written is the newest. */
	const char *lock = arena_printf(a, "%s.lock", path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("custom headers: cannot open %s: %s", lock, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	/* A reload costs: nginx starts new workers, and the old ones close the
	 * kept-alive client connections they hold once their requests end. So
	 * nothing happens when the text is the same (a change that only
	 * concerns role-specific values, say). */
	int rc = 0;
	const char *text = render(db, a);
	if (!text)
		rc = -1;
	else if (!file_holds(path, text))
		rc = write_file_atomically(a, path, text);
	else
		text = NULL;
	const char *pid_file = config_str(cfg, "nginx_pid_file", NULL);
	if (rc == 0 && text && pid_file && *pid_file)
		rc = nginx_reload(pid_file);
	close(fd); /* releases the lock */
	return rc;
}
