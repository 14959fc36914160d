/* A customer's named queries (vocab:NamedQuery, CONTRACT section 10): its
 * own and every global one in the list; POST (global only for the admin),
 * GET, PUT of the template, DELETE of its own. A template is stored only
 * once it parses (asset/nq_template.h); running one is delivery's
 * (api/manifests.c) and the runners'. */
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/named_query.h"
#include "asset/nq_template.h"
#include "banned.h"

#define NQ_COLS "id, customer_id, name, template, is_global"
enum { COL_ID, COL_CUSTOMER, COL_NAME, COL_TEMPLATE, COL_GLOBAL };

enum { SQL_COUNT, SQL_LIST, SQL_GET, SQL_NAME_TAKEN, SQL_INSERT, SQL_UPDATE, SQL_DELETE, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_COUNT] = "SELECT COUNT(*) FROM named_queries WHERE customer_id = ? OR is_global = 1",
	/* (c, limit, offset): the customer's own and the globals, by name */
	[SQL_LIST] = "SELECT " NQ_COLS " FROM named_queries WHERE customer_id = ? OR is_global = 1"
		     " ORDER BY name, customer_id LIMIT ? OFFSET ?",
	/* (id, c): the customer's own, or a global one */
	[SQL_GET] = "SELECT " NQ_COLS " FROM named_queries WHERE id = ?"
		    " AND (customer_id = ? OR is_global = 1)",
	[SQL_NAME_TAKEN] = "SELECT id FROM named_queries WHERE customer_id = ? AND name = ?",
	/* (id, c, name, template, global) */
	[SQL_INSERT] = "INSERT INTO named_queries (id, customer_id, name, template, is_global,"
		       " created) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	[SQL_UPDATE] = "UPDATE named_queries SET template = ? WHERE id = ? AND customer_id = ?",
	[SQL_DELETE] = "DELETE FROM named_queries WHERE id = ? AND customer_id = ?",
};

static void nq_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	const char *id = db_str(r, i, COL_ID);
	/* A global query's @id is its owner's. */
	resource_begin(
		w, req_url(rq, "/customers/%lld/namedQueries/%s", db_int(r, i, COL_CUSTOMER), id),
		"vocab:NamedQuery");
	jw_kstr(w, "id", id);
	jw_kstr(w, "name", db_str(r, i, COL_NAME));
	jw_kstr(w, "template", db_str(r, i, COL_TEMPLATE));
	jw_kbool(w, "global", db_int(r, i, COL_GLOBAL) != 0);
	jw_kint(w, "customer", db_int(r, i, COL_CUSTOMER));
	jw_obj_end(w);
}

static void nq_member(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	nq_write(w, rq, r, i);
}

/* 0 when the template parses, else the 400 naming why. */
static int template_check(struct req *rq, const char *text)
{
	struct nq_template t;
	const char *why = nq_template_parse(rq->arena, text, &t);
	return why ? req_fail(rq, 400, "'template': %s", why) : 0;
}

/* The query id of the path as customer c sees it (own or global): its row,
 * or the 404 (or 503) answered. */
static int nq_find(struct req *rq, int c, struct db_rows **out)
{
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 404, "named query not found");
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_GET], "si", id, c);
	if (!r)
		return req_db_fail(rq, "reading the named query");
	if (r->n == 0)
		return req_fail(rq, 404, "named query %s not found", id);
	*out = r;
	return 0;
}

int named_queries_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/namedQueries", c),
				  SQL[SQL_COUNT], SQL[SQL_LIST], nq_member,
				  "listing named queries");
}

int named_queries_create(struct req *rq)
{
	static const char *const allowed[] = {"@context", "@type",  "name",
					      "template", "global", NULL};
	int c = (int)rq->ints[0];
	const char *name, *text;
	bool global = false, present;
	int st;
	if ((st = customer_require(rq, c)))
		return st;
	if (json_get(rq->json, "@id") || json_get(rq->json, "id"))
		return req_fail(rq, 400,
				"a new named query gets its id from the server: do not "
				"send 'id' or '@id'");
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str_req(rq, rq->json, "name", &name)) ||
	    (st = jin_str_req(rq, rq->json, "template", &text)) ||
	    (st = jin_bool(rq, rq->json, "global", &global, &present)))
		return st;
	if (!nq_name_valid(name))
		return req_fail(rq, 400,
				"'name' must be 1-100 characters of A-Z a-z 0-9 . _ ~ ( ) - "
				"(it appears in URLs)");
	if ((st = template_check(rq, text)))
		return st;
	if (global && !rq->caller_admin)
		return req_fail(rq, 403, "only the admin customer may make a named query global");

	struct db *db = rq->app->db;
	struct db_rows *taken = db_query(db, rq->arena, SQL[SQL_NAME_TAKEN], "is", c, name);
	if (!taken)
		return req_db_fail(rq, "creating the named query");
	if (taken->n)
		return req_fail(rq, 409, "a named query with the name '%s' already exists", name);
	char id[37];
	uuid_make(id);
	if (db_exec(db, SQL[SQL_INSERT], "sissi", id, c, name, text, global ? 1 : 0) < 0)
		return db_last_err(db) == DB_EDUP
			       ? req_fail(rq, 409,
					  "a named query with the name '%s' already exists", name)
			       : req_db_fail(rq, "creating the named query");
	struct db_rows *r = db_query(db, rq->arena, SQL[SQL_GET], "si", id, c);
	if (!r || r->n != 1)
		return req_db_fail(rq, "reading the new named query");
	req_header(rq, "Location", req_url(rq, "/customers/%d/namedQueries/%s", c, id));
	nq_write(req_json(rq), rq, r, 0);
	return 201;
}

int named_query_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct db_rows *r;
	int st = customer_require(rq, c);
	if (st || (st = nq_find(rq, c, &r)))
		return st;
	nq_write(req_json(rq), rq, r, 0);
	return 200;
}

/* PUT changes the template only (as Protagonist): a name or global that
 * differs from the stored one is refused, not ignored. */
int named_query_put(struct req *rq)
{
	static const char *const allowed[] = {"@context", "@id",    "@type",    "id",
					      "name",     "global", "template", NULL};
	int c = (int)rq->ints[0];
	struct db_rows *r;
	const char *text, *name;
	bool global, has_name, has_global;
	int st = customer_require(rq, c);
	if (st || (st = nq_find(rq, c, &r)))
		return st;
	const char *id = db_str(r, 0, COL_ID);
	if ((int)db_int(r, 0, COL_CUSTOMER) != c)
		return req_fail(rq, 403,
				"named query %s is a global query of customer %lld: only "
				"its owner may change it",
				id, db_int(r, 0, COL_CUSTOMER));
	if ((st = body_uuid_agrees(rq, req_url(rq, "/customers/%d/namedQueries/%s", c, id), id)) ||
	    (st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str_req(rq, rq->json, "template", &text)) ||
	    (st = jin_str(rq, rq->json, "name", &name, &has_name)) ||
	    (st = jin_bool(rq, rq->json, "global", &global, &has_global)))
		return st;
	if (has_name && strcmp(name, db_str(r, 0, COL_NAME)) != 0)
		return req_fail(rq, 400, "'name' cannot be changed (make a new named query)");
	if (has_global && global != (db_int(r, 0, COL_GLOBAL) != 0))
		return req_fail(rq, 400, "'global' cannot be changed");
	if ((st = template_check(rq, text)))
		return st;
	if (db_exec(rq->app->db, SQL[SQL_UPDATE], "ssi", text, id, c) < 0)
		return req_db_fail(rq, "saving the named query");
	if ((st = nq_find(rq, c, &r)))
		return st;
	nq_write(req_json(rq), rq, r, 0);
	return 200;
}

int named_query_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st = customer_require(rq, c);
	if (st)
		return st;
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 404, "named query not found");
	long long n = db_exec(rq->app->db, SQL[SQL_DELETE], "si", id, c);
	if (n < 0)
		return req_db_fail(rq, "deleting the named query");
	if (n == 0)
		return req_fail(rq, 404, "named query %s not found among customer %d's own", id, c);
	return 204;
}
