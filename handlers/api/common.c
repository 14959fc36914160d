#include <limits.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "page.h"
#include "req.h"
#include "router.h"
#include "str.h"
#include "api/common.h"
#include "banned.h"

static const char SQL_CUSTOMER_EXISTS[] = "SELECT 1 FROM customers WHERE id = ?";
static const char SQL_SPACE_EXISTS[] = "SELECT 1 FROM spaces WHERE customer_id = ? AND id = ?";
static const char SQL_CUSTOMER_BY_ID[] = "SELECT id FROM customers WHERE id = ?";
static const char SQL_CUSTOMER_BY_NAME[] = "SELECT id FROM customers WHERE name = ?";

int customer_resolve(struct req *rq, const char *cpart, int *c)
{
	long long v;
	struct db_rows *r;
	if (str_to_ll(cpart, 1, INT_MAX, &v))
		r = db_query(rq->app->db, rq->arena, SQL_CUSTOMER_BY_ID, "i", (int)v);
	else if (customer_name_valid(cpart))
		r = db_query(rq->app->db, rq->arena, SQL_CUSTOMER_BY_NAME, "s", cpart);
	else
		return req_fail(rq, 404, "customer not found");
	if (!r)
		return req_db_fail(rq, "looking up the customer");
	if (r->n == 0)
		return req_fail(rq, 404, "customer '%s' not found", cpart);
	*c = (int)db_int(r, 0, 0);
	return 0;
}

int customer_require(struct req *rq, int c)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL_CUSTOMER_EXISTS, "i", c);
	if (!r)
		return req_db_fail(rq, "looking up the customer");
	if (r->n == 0)
		return req_fail(rq, 404, "customer %d not found", c);
	return 0;
}

int space_require(struct req *rq, int c, int s)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL_SPACE_EXISTS, "ii", c, s);
	if (!r)
		return req_db_fail(rq, "looking up the space");
	if (r->n == 0) {
		int st = customer_require(rq, c);
		return st ? st : req_fail(rq, 404, "space %d not found", s);
	}
	return 0;
}

int api_path_check(struct req *rq, unsigned flags)
{
	int c = (int)rq->ints[0];
	if (flags & R_SPACE)
		return space_require(rq, c, (int)rq->ints[1]);
	return (flags & R_CUSTOMER) ? customer_require(rq, c) : 0;
}

void resource_begin(struct jw *w, const char *id, const char *type)
{
	jw_obj(w);
	jw_kstr(w, "@context", DLCS_CONTEXT);
	jw_kstr(w, "@id", id);
	jw_kstr(w, "@type", type);
}

int body_id_agrees(struct req *rq, struct yajl_val_s *body, const char *id_url, const char *id)
{
	yajl_val v = json_get(body, "@id");
	if (v) {
		if (v->type != yajl_t_string)
			return req_fail(rq, 400, "'@id' must be a string");
		/* The path part must agree; the host may differ behind proxies. */
		const char *want = strstr(id_url, "://");
		want = want ? strchr(want + 3, '/') : id_url;
		const char *got = strstr(v->u.string, "://");
		got = got ? strchr(got + 3, '/') : v->u.string;
		if (!want || !got || strcmp(want, got) != 0)
			return req_fail(rq, 400, "'@id' does not match the resource's URL");
	}
	v = json_get(body, "id");
	if (v && id) {
		if (v->type != yajl_t_string)
			return req_fail(rq, 400, "'id' must be a string");
		if (strcmp(v->u.string, id) != 0)
			return req_fail(rq, 400, "'id' does not match the id in the URL");
	}
	return 0;
}

int body_uuid_agrees(struct req *rq, const char *id_url, const char *id)
{
	int st = body_id_agrees(rq, rq->json, id_url, NULL);
	if (st)
		return st;
	const char *given;
	bool present;
	if ((st = jin_str(rq, rq->json, "id", &given, &present)))
		return st;
	if (present && !str_ieq(given, id))
		return req_fail(rq, 400, "'id' does not match the id in the URL");
	return 0;
}

int customer_rows_page(struct req *rq, int c, const char *path, const char *count_sql,
		       const char *list_sql, row_writer_fn write, const char *what)
{
	struct page p;
	page_from_query(rq, &p);
	struct db *db = rq->app->db;
	struct db_rows *n = db_query(db, rq->arena, count_sql, "i", c);
	struct db_rows *r =
		n ? db_query(db, rq->arena, list_sql, "ill", c, p.size, page_offset(&p)) : NULL;
	if (!r)
		return req_db_fail(rq, what);
	p.total = db_int(n, 0, 0);
	struct jw *w = req_json(rq);
	collection_begin(w, rq, path, &p);
	for (size_t i = 0; i < r->n; i++)
		write(w, rq, r, i);
	collection_end(w, rq, path, &p);
	return 200;
}
