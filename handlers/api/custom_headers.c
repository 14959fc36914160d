/* A customer's custom headers (vocab:CustomHeader), the API resource:
 * {key, value} pairs that delivery responses carry, for every space of the
 * customer or one (`space`), for every asset or only those holding a role
 * (`role`). Their rules are asset/custom_header_rules.h's; dlcs-image sets
 * them on its own responses (custom_headers_for), and after every change the
 * custom headers' change counter moves on (asset/change_counter.h), which
 * makes the runner that renders the nginx include, for the files nginx
 * serves itself, render it again (ingest/headers_renderer.h): the API never
 * touches nginx. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/change_counter.h"
#include "asset/custom_header_rules.h"
#include "banned.h"

#define ROLE_MAX    500 /* custom_headers.role VARCHAR(500) */
#define HEADERS_MAX 100 /* per customer: the nginx include stays small */

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
};

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
	if ((why = custom_header_key_syntax(in->key)))
		return req_fail(rq, 400, "'key' %s", why);
	if ((why = custom_header_key_reserved(in->key))) /* a plain token by now: safe to name */
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
 * except_id (if any), fit in CUSTOM_HEADERS_BYTES_MAX on any one response; else
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
	if (wide + space_max > CUSTOM_HEADERS_BYTES_MAX)
		return req_fail(rq, 400,
				"'value' would bring customer %d's custom headers to %lld bytes on "
				"a response, more than the %d that fit",
				c, wide + space_max, CUSTOM_HEADERS_BYTES_MAX);
	return 0;
}

/* Tells the renderer of the nginx include after a committed change: it
 * renders again once a burst of changes settles. The change stands even
 * when this fails (the table is the truth; the renderer renders every
 * minute all the same, and `dlcs-admin render-headers` at once), so a
 * failure is only logged. */
static void ch_changed(struct req *rq)
{
	if (change_counter_bump(rq->app->db, CHANGE_CUSTOM_HEADERS) != 0)
		log_err("custom headers: cannot move their change counter on: %s",
			db_last_msg(rq->app->db));
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
	int st;
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
	if (!n)
		return req_db_fail(rq, what);
	if (db_int(n, 0, 0) >= HEADERS_MAX)
		return req_fail(rq, 400,
				"customer %d already has %d custom headers, the most allowed", c,
				HEADERS_MAX);
	if ((st = ch_budget(rq, c, &in, NULL)))
		return st;
	long long rc = in.has_space ? db_exec(db, SQL[SQL_CH_INSERT], "siisss", id, c, in.space,
					      in.role, in.key, in.value)
				    : db_exec(db, SQL[SQL_CH_INSERT], "sinsss", id, c, in.role,
					      in.key, in.value);
	if (rc < 0 || db_commit(db) != DB_OK)
		return req_db_fail(rq, what);
	ch_changed(rq);
	return ch_answer(rq, c, id, 201);
}

int custom_header_get(struct req *rq)
{
	int c = (int)rq->ints[0];
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
	int st;
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
	if (!db_query(db, rq->arena, SQL[SQL_CH_LOCK_CUSTOMER], "i", c))
		return req_db_fail(rq, what);
	if ((st = ch_budget(rq, c, &in, id)))
		return st;
	long long n = in.has_space ? db_exec(db, SQL[SQL_CH_UPDATE], "isssis", in.space, in.role,
					     in.key, in.value, c, id)
				   : db_exec(db, SQL[SQL_CH_UPDATE], "nsssis", in.role, in.key,
					     in.value, c, id);
	if (n < 0 || db_commit(db) != DB_OK)
		return req_db_fail(rq, what);
	if (n == 0)
		return req_fail(rq, 404, "custom header %s not found", id);
	ch_changed(rq);
	return ch_answer(rq, c, id, 200);
}

int custom_header_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
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
