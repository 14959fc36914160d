/* Asset rows in the API (api/assets.h): the vocab:Image serializer, the
 * paged and filtered collections of assets, and the index rows of the list
 * fields (asset_tags/roles/manifests). */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "db.h"
#include "http_syntax.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "api/asset_query.h"
#include "api/assets.h"
#include "api/channels.h"
#include "api/common.h"
#include "asset/row.h"
#include "banned.h"

enum stmt {
	SQL_ASSET_GET,
	SQL_SPACE_COUNT,
	SQL_CUSTOMER_COUNT,
	SQL_TAGS_DELETE,
	SQL_TAGS_INSERT,
	SQL_ROLES_DELETE,
	SQL_ROLES_INSERT,
	SQL_MANIFESTS_DELETE,
	SQL_MANIFESTS_INSERT,
	SQL__MAX
};

static const char *const sql[SQL__MAX] = {
	[SQL_ASSET_GET] = "SELECT " ASSET_COLUMNS " FROM assets a"
			  " WHERE a.customer_id=? AND a.space_id=? AND a.id=?",
	[SQL_SPACE_COUNT] = "SELECT image_count FROM spaces WHERE customer_id=? AND id=?",
	[SQL_CUSTOMER_COUNT] = "SELECT COALESCE(SUM(image_count),0) FROM spaces"
			       " WHERE customer_id=?",
	[SQL_TAGS_DELETE] = "DELETE FROM asset_tags WHERE customer_id=? AND space_id=?"
			    " AND asset_id=?",
	[SQL_TAGS_INSERT] = "INSERT INTO asset_tags (customer_id, space_id, asset_id, tag)"
			    " VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE tag=tag",
	[SQL_ROLES_DELETE] = "DELETE FROM asset_roles WHERE customer_id=? AND space_id=?"
			     " AND asset_id=?",
	[SQL_ROLES_INSERT] = "INSERT INTO asset_roles (customer_id, space_id, asset_id, role)"
			     " VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE role=role",
	[SQL_MANIFESTS_DELETE] = "DELETE FROM asset_manifests WHERE customer_id=? AND space_id=?"
				 " AND asset_id=?",
	[SQL_MANIFESTS_INSERT] =
		"INSERT INTO asset_manifests (customer_id, space_id, asset_id, manifest)"
		" VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE manifest=manifest",
};

/* The statements that rewrite the index rows of each list field. */
static const struct {
	enum stmt del, ins;
} lists[ALIST__MAX] = {
	[ALIST_TAGS] = {SQL_TAGS_DELETE, SQL_TAGS_INSERT},
	[ALIST_ROLES] = {SQL_ROLES_DELETE, SQL_ROLES_INSERT},
	[ALIST_MANIFESTS] = {SQL_MANIFESTS_DELETE, SQL_MANIFESTS_INSERT},
};

static void write_stored_array(struct jw *w, const char *key, const char *text)
{
	jw_key(w, key);
	if (text && *text && strcmp(text, "[]") != 0) {
		jw_json_text(w, text);
	} else {
		jw_arr(w);
		jw_arr_end(w);
	}
}

void asset_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t row)
{
	int c = (int)db_int(r, row, ACOL_CUSTOMER);
	int s = (int)db_int(r, row, ACOL_SPACE);
	const char *id = db_str(r, row, ACOL_ID);
	const char *self = req_url(rq, "/customers/%d/spaces/%d/images/%s", c, s, id);
	const char *channels = db_str(r, row, ACOL_DELIVERY_CHANNELS);
	const char *origin = db_str(r, row, ACOL_ORIGIN);
	const char *error = db_str(r, row, ACOL_ERROR);

	resource_begin(w, self, "vocab:Image");
	jw_kstr(w, "id", id);
	jw_kint(w, "space", s);
	if (channels && channels_has(channels, "iiif-img"))
		jw_kstr(w, "imageService", req_url(rq, "/iiif-img/%d/%d/%s", c, s, id));
	if (channels && channels_has(channels, "thumbs"))
		jw_kstr(w, "thumbnailImageService", req_url(rq, "/thumbs/%d/%d/%s", c, s, id));
	jw_kstr_opt(w, "created", db_time(rq->arena, r, row, ACOL_CREATED));
	if (origin && *origin)
		jw_kstr(w, "origin", origin);
	jw_kint(w, "maxUnauthorised", db_int(r, row, ACOL_MAX_UNAUTHORISED));
	if (!db_isnull(r, row, ACOL_WIDTH))
		jw_kint(w, "width", db_int(r, row, ACOL_WIDTH));
	if (!db_isnull(r, row, ACOL_HEIGHT))
		jw_kint(w, "height", db_int(r, row, ACOL_HEIGHT));
	if (!db_isnull(r, row, ACOL_DURATION))
		jw_kint(w, "duration", db_int(r, row, ACOL_DURATION));
	jw_kstr_opt(w, "finished", db_time(rq->arena, r, row, ACOL_FINISHED));
	jw_kbool(w, "ingesting", db_int(r, row, ACOL_INGESTING) != 0);
	if (error && *error)
		jw_kstr(w, "error", error);
	write_stored_array(w, "tags", db_str(r, row, ACOL_TAGS));
	jw_kstr(w, "string1", db_str(r, row, ACOL_STRING1));
	jw_kstr(w, "string2", db_str(r, row, ACOL_STRING2));
	jw_kstr(w, "string3", db_str(r, row, ACOL_STRING3));
	jw_kint(w, "number1", db_int(r, row, ACOL_NUMBER1));
	jw_kint(w, "number2", db_int(r, row, ACOL_NUMBER2));
	jw_kint(w, "number3", db_int(r, row, ACOL_NUMBER3));
	write_stored_array(w, "roles", db_str(r, row, ACOL_ROLES));
	if (!db_isnull(r, row, ACOL_BATCH))
		jw_kstr(w, "batch",
			req_url(rq, "/customers/%d/queue/batches/%s", c,
				db_str(r, row, ACOL_BATCH)));
	jw_kstr(w, "storage", arena_printf(rq->arena, "%s/storage", self));
	write_stored_array(w, "manifests", db_str(r, row, ACOL_MANIFESTS));
	jw_kstr(w, "mediaType", db_str(r, row, ACOL_MEDIA_TYPE));
	jw_kstr(w, "family", db_str(r, row, ACOL_FAMILY));
	jw_key(w, "deliveryChannels");
	channels_write(w, rq, c, channels ? channels : "[]");
	jw_obj_end(w);
}

struct db_rows *asset_fetch(struct req *rq, int customer, int space, const char *id)
{
	return db_query(rq->app->db, rq->arena, sql[SQL_ASSET_GET], "iis", customer, space, id);
}

static bool query_has_filters(const struct asset_query *q)
{
	for (int f = 0; f < AQ__MAX; f++)
		if (q->v[f].n)
			return true;
	return false;
}

#define DEFERRED_JOIN_OFFSET 1000

int assets_collection_where(struct req *rq, const char *path, int customer, int space,
			    const struct asset_query *q, const char *extra,
			    const struct db_param *xp, size_t xn)
{
	struct db *db = rq->app->db;
	struct arena *a = rq->arena;
	struct page pg;
	page_from_query(rq, &pg);

	const char *where, *order;
	struct db_param *qp;
	size_t qn;
	asset_query_sql(q, a, customer, space, &where, &order, &qp, &qn);
	/* where's parameters, extra's, then LIMIT and OFFSET */
	struct db_param *p = arena_alloc(a, (qn + xn + 2) * sizeof *p);
	memcpy(p, qp, qn * sizeof *p);
	if (xn)
		memcpy(p + qn, xp, xn * sizeof *p);
	size_t n = qn + xn;
	if (extra)
		where = arena_printf(a, "%s%s", where, extra);

	struct db_rows *r;
	if (!extra && !query_has_filters(q)) {
		/* Counting a million index entries per page view is what
		 * spaces.image_count is kept for. */
		r = space >= 0 ? db_query(db, a, sql[SQL_SPACE_COUNT], "ii", customer, space)
			       : db_query(db, a, sql[SQL_CUSTOMER_COUNT], "i", customer);
	} else {
		r = db_query_params(
			db, a, arena_printf(a, "SELECT COUNT(*) FROM assets a%s", where), p, n);
	}
	if (!r)
		return req_db_fail(rq, "counting assets");
	pg.total = r->n ? db_int(r, 0, 0) : 0;

	struct db_rows *rows = NULL;
	if (pg.total > page_offset(&pg) && page_offset(&pg) < DEFERRED_JOIN_OFFSET) {
		/* Near the start a plain ordered scan is cheapest: the deferred
		 * join below sorts twice and, with TEXT columns in the row, makes
		 * MariaDB build an on-disk temporary table for every page. */
		const char *stmt = arena_printf(a,
						"SELECT " ASSET_COLUMNS " FROM assets a%s%s"
						" LIMIT ? OFFSET ?",
						where, order);
		p[n++] = (struct db_param){.type = 'l', .i = pg.size};
		p[n++] = (struct db_param){.type = 'l', .i = page_offset(&pg)};
		rows = db_query_params(db, a, stmt, p, n);
		if (!rows)
			return req_db_fail(rq, "listing assets");
	} else if (pg.total > page_offset(&pg)) {
		/* Deep pages: a deferred join, so the skipped rows' keys come from
		 * an index alone and only this page's rows are read in full. */
		const char *stmt = arena_printf(
			a,
			"SELECT " ASSET_COLUMNS " FROM (SELECT a.customer_id, a.space_id, a.id"
			" FROM assets a%s%s LIMIT ? OFFSET ?) k JOIN assets a"
			" ON a.customer_id=k.customer_id AND a.space_id=k.space_id AND a.id=k.id%s",
			where, order, order);
		p[n++] = (struct db_param){.type = 'l', .i = pg.size};
		p[n++] = (struct db_param){.type = 'l', .i = page_offset(&pg)};
		rows = db_query_params(db, a, stmt, p, n);
		if (!rows)
			return req_db_fail(rq, "listing assets");
	}

	struct jw *w = req_json(rq);
	collection_begin(w, rq, path, &pg);
	for (size_t i = 0; rows && i < rows->n; i++)
		asset_write(w, rq, rows, i);
	collection_end(w, rq, path, &pg);
	return 200;
}

int assets_collection(struct req *rq, const char *path, int customer, int space,
		      const struct asset_query *q)
{
	return assets_collection_where(rq, path, customer, space, q, NULL, NULL, 0);
}

const char *asset_list_json(struct arena *a, const char *const *v, size_t n)
{
	struct jw *w = jw_new(a);
	jw_arr(w);
	for (size_t i = 0; i < n; i++)
		jw_str(w, v[i]);
	jw_arr_end(w);
	const char *text = jw_text(w, NULL);
	return text ? text : "[]";
}

int asset_list_index(struct req *rq, int customer, int space, const char *id, enum asset_list which,
		     const char *const *v, size_t n)
{
	struct db *db = rq->app->db;
	long long rc = db_exec(db, sql[lists[which].del], "iis", customer, space, id);
	for (size_t i = 0; rc >= 0 && i < n; i++)
		rc = db_exec(db, sql[lists[which].ins], "iiss", customer, space, id, v[i]);
	return rc < 0 ? (int)rc : DB_OK;
}
