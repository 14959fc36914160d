/* /customers/{c}/allImages: the customer's assets across all spaces. GET
 * takes the asset query syntax (with "space"); POST looks up a list of
 * "c/s/id" identifiers; PATCH adds, removes or replaces manifests on a list
 * of assets or on those a query selects, in one transaction. */
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
#include "str.h"
#include "api/asset_query.h"
#include "api/assets.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/row.h"
#include "banned.h"

/* The most assets one POST or PATCH may name or touch (Protagonist's
 * MaxImageListSize). */
#define ALL_IMAGES_MAX 500
/* Manifests one PATCH may add, remove or set (merging is quadratic). */
#define MANIFEST_VALUES_MAX 100

enum stmt { SQL_MANIFESTS_LOCK, SQL_MANIFESTS_SET, SQL__MAX };

static const char *const sql[SQL__MAX] = {
	[SQL_MANIFESTS_LOCK] = "SELECT manifests FROM assets"
			       " WHERE customer_id=? AND space_id=? AND id=? FOR UPDATE",
	[SQL_MANIFESTS_SET] = "UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", manifests=?"
			      " WHERE customer_id=? AND space_id=? AND id=?",
};

struct asset_key {
	int space;
	const char *id;
};

static const char *all_images_path(struct req *rq, int c)
{
	return arena_printf(rq->arena, "/customers/%d/allImages", c);
}

int all_images_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct asset_query q;
	int st;
	if ((st = asset_query_parse(rq, true, &q)))
		return st;
	return assets_collection(rq, all_images_path(rq, c), c, -1, &q);
}

/* "c/s/id" of customer c into a key; 0 or the 400 it answered. */
static int parse_member_id(struct req *rq, int c, size_t i, const char *text, struct asset_key *out)
{
	const char *s1 = strchr(text, '/');
	const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	if (!s2)
		return req_fail(rq, 400, "'member' %zu: 'id' must be \"customer/space/id\"", i);
	long long cust, space;
	char *cs = arena_strndup(rq->arena, text, (size_t)(s1 - text));
	char *ss = arena_strndup(rq->arena, s1 + 1, (size_t)(s2 - s1 - 1));
	if (!str_to_ll(cs, 0, INT_MAX, &cust) || !str_to_ll(ss, 0, INT_MAX, &space))
		return req_fail(rq, 400,
				"'member' %zu: 'id' must be \"customer/space/id\" with numeric"
				" customer and space",
				i);
	if (cust != c)
		return req_fail(rq, 400, "'member' %zu: 'id' names customer %lld, not %d", i, cust,
				c);
	if (!asset_id_valid(s2 + 1))
		return req_fail(rq, 400, "'member' %zu: 'id' holds an invalid asset id", i);
	out->space = (int)space;
	out->id = s2 + 1;
	return 0;
}

static const char *const member_keys[] = {"@context", "@id", "@type", "id", NULL};

/* The keys of body "member": at most ALL_IMAGES_MAX, no duplicates. */
static int parse_members(struct req *rq, int c, yajl_val members, struct asset_key **out,
			 size_t *nout)
{
	int st;
	if (!YAJL_IS_ARRAY(members))
		return req_fail(rq, 400, "'member' must be an array");
	size_t n = members->u.array.len;
	if (n > ALL_IMAGES_MAX)
		return req_fail(rq, 400, "'member' holds more than %d assets", ALL_IMAGES_MAX);
	struct asset_key *k = arena_alloc(rq->arena, (n ? n : 1) * sizeof *k);
	for (size_t i = 0; i < n; i++) {
		yajl_val m = members->u.array.values[i];
		const char *text;
		if (!YAJL_IS_OBJECT(m))
			return req_fail(rq, 400, "'member' %zu is not an object", i);
		if ((st = jin_only_keys(rq, m, member_keys)) ||
		    (st = jin_str_req(rq, m, "id", &text)) ||
		    (st = parse_member_id(rq, c, i, text, &k[i])))
			return st;
		for (size_t j = 0; j < i; j++)
			if (k[j].space == k[i].space && strcmp(k[j].id, k[i].id) == 0)
				return req_fail(rq, 400, "'member': '%d/%d/%s' appears twice", c,
						k[i].space, k[i].id);
	}
	*out = k;
	*nout = n;
	return 0;
}

/* The unpaged Collection of the assets that exist among keys, in order. */
static int write_found(struct req *rq, int c, const struct asset_key *k, size_t n)
{
	struct db_rows **rows = arena_alloc(rq->arena, (n ? n : 1) * sizeof *rows);
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		struct db_rows *r = asset_fetch(rq, c, k[i].space, k[i].id);
		if (!r)
			return req_db_fail(rq, "reading the assets");
		if (r->n)
			rows[found++] = r;
	}
	const char *path = all_images_path(rq, c);
	struct jw *w = req_json(rq);
	collection_begin_all(w, rq, path, (long long)found);
	for (size_t i = 0; i < found; i++)
		asset_write(w, rq, rows[i], 0);
	collection_end_all(w);
	return 200;
}

static const char *const post_keys[] = {"@context", "@id", "@type", "member", NULL};

int all_images_post(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st;
	if ((st = jin_only_keys(rq, rq->json, post_keys)))
		return st;
	yajl_val members = json_get(rq->json, "member");
	if (!members || YAJL_IS_NULL(members))
		return req_fail(rq, 400, "'member' is required");
	struct asset_key *k;
	size_t n;
	if ((st = parse_members(rq, c, members, &k, &n)))
		return st;
	return write_found(rq, c, k, n);
}

enum manifest_op { OP_ADD, OP_REMOVE, OP_REPLACE };

static bool listed(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* The manifests after op: add appends the values not yet present, remove
 * drops every occurrence of the values, replace takes the values. */
static size_t manifests_apply(struct arena *a, enum manifest_op op, const char *stored,
			      const char *const *val, size_t nval, const char ***out)
{
	yajl_val cur = NULL;
	if (op != OP_REPLACE && stored && *stored)
		cur = json_parse(a, stored, strlen(stored), NULL);
	size_t ncur = YAJL_IS_ARRAY(cur) ? cur->u.array.len : 0;
	const char **v = arena_alloc(a, (ncur + nval + 1) * sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < ncur; i++) {
		yajl_val e = cur->u.array.values[i];
		if (!YAJL_IS_STRING(e))
			continue;
		if (op == OP_REMOVE && listed(val, nval, e->u.string))
			continue;
		v[n++] = e->u.string;
	}
	if (op != OP_REMOVE)
		for (size_t i = 0; i < nval; i++)
			if (!listed(v, n, val[i]))
				v[n++] = val[i];
	*out = v;
	return n;
}

static const char *const patch_keys[] = {"@context", "@id",       "@type", "member",
					 "field",    "operation", "value", NULL};

/* The field, operation and values of a PATCH of allImages. 0 or the 400 it
 * answered. */
static int patch_read(struct req *rq, enum manifest_op *op_out, const char ***val_out,
		      size_t *nval_out)
{
	int st;
	const char *field, *opname;
	if ((st = jin_str_req(rq, rq->json, "field", &field)))
		return st;
	if (strcmp(field, "manifests") != 0)
		return req_fail(rq, 400, "'field': only \"manifests\" can be patched");
	if ((st = jin_str_req(rq, rq->json, "operation", &opname)))
		return st;
	enum manifest_op op;
	if (strcmp(opname, "add") == 0)
		op = OP_ADD;
	else if (strcmp(opname, "remove") == 0)
		op = OP_REMOVE;
	else if (strcmp(opname, "replace") == 0)
		op = OP_REPLACE;
	else
		return req_fail(rq, 400, "'operation' must be \"add\", \"remove\" or \"replace\"");
	yajl_val value = NULL;
	bool has;
	if ((st = jin_str_array(rq, rq->json, "value", &value, &has)))
		return st;
	if (!has)
		return req_fail(rq, 400, "'value' is required");
	size_t nval = value->u.array.len;
	if (nval > MANIFEST_VALUES_MAX)
		return req_fail(rq, 400, "'value' holds more than %d manifests",
				MANIFEST_VALUES_MAX);
	const char **val = arena_alloc(rq->arena, (nval ? nval : 1) * sizeof *val);
	for (size_t i = 0; i < nval; i++) {
		val[i] = value->u.array.values[i]->u.string;
		size_t chars = 0;
		for (const char *p = val[i]; *p; p++)
			chars += ((unsigned char)*p & 0xC0) != 0x80;
		if (chars == 0 || chars > 500)
			return req_fail(rq, 400,
					"'value': each manifest must be 1 to 500 characters");
	}

	*op_out = op;
	*val_out = val;
	*nval_out = nval;
	return 0;
}

/* The assets the query selects, locked: their space, id and manifests in
 * *sel, with room for their keys in *k. 0, or the status it answered (the
 * caller returns it, and the core rolls the transaction back). */
static int query_select(struct req *rq, int c, const struct asset_query *q, struct db_rows **sel,
			struct asset_key **k, size_t *n)
{
	struct db *db = rq->app->db;
	const char *where, *order;
	struct db_param *p;
	size_t np;
	asset_query_sql(q, rq->arena, c, -1, &where, &order, &p, &np);
	const char *stmt = arena_printf(rq->arena,
					"SELECT a.space_id, a.id, a.manifests FROM assets a"
					"%s%s LIMIT %d FOR UPDATE",
					where, order, ALL_IMAGES_MAX + 1);
	*sel = db_query_params(db, rq->arena, stmt, p, np);
	if (!*sel)
		return req_db_fail(rq, "selecting the assets");
	if ((*sel)->n > ALL_IMAGES_MAX)
		return req_fail(rq, 400, "the query selects more than %d assets", ALL_IMAGES_MAX);
	*n = (*sel)->n;
	*k = arena_alloc(rq->arena, (*n ? *n : 1) * sizeof **k);
	return 0;
}

int all_images_patch(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0];
	int st;
	if ((st = jin_only_keys(rq, rq->json, patch_keys)))
		return st;

	/* Set by patch_read when it returns 0; initialised because gcc -O2
	 * cannot see that (-Werror=maybe-uninitialized). */
	enum manifest_op op = OP_ADD;
	const char **val = NULL;
	size_t nval = 0;
	if ((st = patch_read(rq, &op, &val, &nval)))
		return st;

	/* Targets: the members, or what the query selects (not both). */
	struct asset_key *k = NULL;
	size_t n = 0;
	yajl_val members = json_get(rq->json, "member");
	bool by_member = members && !YAJL_IS_NULL(members);
	struct asset_query q;
	if ((st = asset_query_parse(rq, true, &q)))
		return st;
	bool by_query = false;
	for (int f = 0; f < AQ__MAX; f++)
		by_query |= q.v[f].n > 0;
	if (by_member && by_query)
		return req_fail(rq, 400, "give either 'member' or a query (?q=), not both");
	if (!by_member && !by_query)
		return req_fail(rq, 400, "'member' or a query (?q=) is required");
	if (by_member && (st = parse_members(rq, c, members, &k, &n)))
		return st;

	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	struct db_rows *sel = NULL;
	if (by_query && (st = query_select(rq, c, &q, &sel, &k, &n)))
		return st;

	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		const char *stored;
		if (sel) {
			k[done].space = (int)db_int(sel, i, 0);
			k[done].id = db_str(sel, i, 1);
			stored = db_str(sel, i, 2);
		} else {
			struct db_rows *r = db_query(db, rq->arena, sql[SQL_MANIFESTS_LOCK], "iis",
						     c, k[i].space, k[i].id);
			if (!r)
				return req_db_fail(rq, "reading the assets");
			if (r->n == 0)
				continue; /* not found: left out, as POST does */
			k[done] = k[i];
			stored = db_str(r, 0, 0);
		}
		const char **v;
		size_t nv = manifests_apply(rq->arena, op, stored, val, nval, &v);
		const char *text = asset_list_json(rq->arena, v, nv);
		if (strlen(text) > 65535)
			return req_fail(rq, 400,
					"'value': the manifests of '%d/%d/%s' would be too long", c,
					k[done].space, k[done].id);
		db_exec(db, sql[SQL_MANIFESTS_SET], "siis", text, c, k[done].space, k[done].id);
		asset_list_index(rq, c, k[done].space, k[done].id, ALIST_MANIFESTS, v, nv);
		done++;
	}
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "updating the manifests");
	return write_found(rq, c, k, done);
}
