/* Storage figures (seeds/storage.txt): per asset from asset_storage; per
 * space and customer from the totals the writers keep in step
 * (customer_storage, spaces.image_count), so no request scans assets. */
#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "json.h"
#include "req.h"
#include "api/common.h"
#include "api/handlers.h"
#include "banned.h"

enum { SQL_CUSTOMER_TOTALS, SQL_SPACE_TOTALS, SQL_ASSET_STORAGE, SQL_CUSTOMER_POLICY, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_CUSTOMER_TOTALS] = "SELECT (SELECT COALESCE(SUM(image_count), 0) FROM spaces"
				" WHERE customer_id = ?), COALESCE(MAX(t.bytes), 0),"
				" COALESCE(MAX(t.thumbnail_bytes), 0),"
				" COALESCE(MAX(t.last_calculated), UTC_TIMESTAMP(6))"
				" FROM (SELECT 1) one LEFT JOIN customer_storage t"
				" ON t.customer_id = ? AND t.space_id = 0",
	[SQL_SPACE_TOTALS] = "SELECT (SELECT image_count FROM spaces WHERE customer_id = ?"
			     " AND id = ?), COALESCE(MAX(t.bytes), 0),"
			     " COALESCE(MAX(t.thumbnail_bytes), 0),"
			     " COALESCE(MAX(t.last_calculated), UTC_TIMESTAMP(6))"
			     " FROM (SELECT 1) one LEFT JOIN customer_storage t"
			     " ON t.customer_id = ? AND t.space_id = ?",
	[SQL_ASSET_STORAGE] = "SELECT size, thumbnail_size, last_checked FROM asset_storage"
			      " WHERE customer_id = ? AND space_id = ? AND asset_id = ?",
	[SQL_CUSTOMER_POLICY] = "SELECT storage_policy FROM customers WHERE id = ?",
};

static int totals_answer(struct req *rq, int c, int s, const struct db_rows *t)
{
	struct db_rows *pol = db_query(rq->app->db, rq->arena, SQL[SQL_CUSTOMER_POLICY], "i", c);
	if (!pol || pol->n != 1)
		return req_db_fail(rq, "reading the storage policy");
	struct jw *w = req_json(rq);
	resource_begin(w, req_url(rq, "/customers/%d/spaces/%d/storage", c, s),
		       "vocab:CustomerStorage");
	jw_kint(w, "numberOfStoredImages", db_int(t, 0, 0));
	jw_kint(w, "totalSizeOfStoredImages", db_int(t, 0, 1));
	jw_kint(w, "totalSizeOfThumbnails", db_int(t, 0, 2));
	jw_kstr(w, "lastCalculated", db_time(rq->arena, t, 0, 3));
	jw_kstr(w, "storagePolicy", req_url(rq, "/storagePolicies/%s", db_str(pol, 0, 0)));
	jw_obj_end(w);
	return 200;
}

int customer_storage_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct db_rows *t = db_query(rq->app->db, rq->arena, SQL[SQL_CUSTOMER_TOTALS], "ii", c, c);
	if (!t)
		return req_db_fail(rq, "computing storage");
	/* The customer-level figures are the "space 0" row, as in the seed. */
	return totals_answer(rq, c, 0, t);
}

int space_storage_get(struct req *rq)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	struct db_rows *t =
		db_query(rq->app->db, rq->arena, SQL[SQL_SPACE_TOTALS], "iiii", c, s, c, s);
	if (!t)
		return req_db_fail(rq, "computing storage");
	return totals_answer(rq, c, s, t);
}

int asset_storage_get(struct req *rq)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	if (!asset_id_valid(id))
		return req_fail(rq, 400, "invalid asset id");
	struct db_rows *r =
		db_query(rq->app->db, rq->arena, SQL[SQL_ASSET_STORAGE], "iis", c, s, id);
	if (!r)
		return req_db_fail(rq, "reading asset storage");
	if (r->n == 0)
		return req_fail(rq, 404, "asset %s not found", id);
	struct jw *w = req_json(rq);
	resource_begin(w, req_url(rq, "/customers/%d/spaces/%d/images/%s/storage", c, s, id),
		       "vocab:ImageStorage");
	jw_kint(w, "size", db_int(r, 0, 0));
	jw_kint(w, "thumbnailSize", db_int(r, 0, 1));
	jw_kstr(w, "lastChecked", db_time(rq->arena, r, 0, 2));
	jw_kbool(w, "checkingInProgress", false);
	jw_obj_end(w);
	return 200;
}
