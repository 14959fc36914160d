/* The ingest queue as the API shows it (seeds/queues.txt, CONTRACT section
 * 6): batches submitted to a customer's queue or priority queue, their
 * assets and outcomes, the customer's queue counts and the global queue. A
 * batch is validated whole before anything is stored, then stored in one
 * transaction with its work items, so a batch is never half submitted. */
#include <string.h>

#include "app.h"
#include "arena.h"
#include "config.h"
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
#include "api/queue.h"
#include "asset/publish.h"
#include "asset/work.h"
#include "asset/settings.h"
#include "banned.h"

#define BATCH_COLS "id, customer_id, submitted, count, completed, errors, finished, superseded"
enum {
	BCOL_ID,
	BCOL_CUSTOMER,
	BCOL_SUBMITTED,
	BCOL_COUNT,
	BCOL_COMPLETED,
	BCOL_ERRORS,
	BCOL_FINISHED,
	BCOL_SUPERSEDED
};

enum {
	SQL_BATCH_INSERT,
	SQL_BATCH_MEMBER,
	SQL_BATCH_GET,
	SQL_BATCHES_COUNT,
	SQL_BATCHES_LIST,
	SQL_ACTIVE_COUNT,
	SQL_ACTIVE_LIST,
	SQL_RECENT_COUNT,
	SQL_RECENT_LIST,
	SQL_CUSTOMER_QUEUE,
	SQL_GLOBAL_QUEUE,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_BATCH_INSERT] = "INSERT INTO batches (customer_id, submitted, count, priority)"
			     " VALUES (?, UTC_TIMESTAMP(6), ?, ?)",
	[SQL_BATCH_MEMBER] = "INSERT INTO batch_assets (batch_id, customer_id, space_id, asset_id,"
			     " status) VALUES (?, ?, ?, ?, 1)",
	[SQL_BATCH_GET] = "SELECT " BATCH_COLS " FROM batches WHERE customer_id = ? AND id = ?",
	[SQL_BATCHES_COUNT] = "SELECT COUNT(*) FROM batches WHERE customer_id = ?",
	[SQL_BATCHES_LIST] = "SELECT " BATCH_COLS " FROM batches WHERE customer_id = ?"
			     " ORDER BY id DESC LIMIT ? OFFSET ?",
	[SQL_ACTIVE_COUNT] = "SELECT COUNT(*) FROM batches WHERE customer_id = ?"
			     " AND finished IS NULL AND superseded = 0",
	[SQL_ACTIVE_LIST] = "SELECT " BATCH_COLS " FROM batches WHERE customer_id = ?"
			    " AND finished IS NULL AND superseded = 0 ORDER BY id DESC"
			    " LIMIT ? OFFSET ?",
	[SQL_RECENT_COUNT] = "SELECT COUNT(*) FROM batches WHERE customer_id = ?"
			     " AND finished IS NOT NULL AND superseded = 0",
	[SQL_RECENT_LIST] = "SELECT " BATCH_COLS " FROM batches WHERE customer_id = ?"
			    " AND finished IS NOT NULL AND superseded = 0"
			    " ORDER BY finished DESC, id DESC LIMIT ? OFFSET ?",
	[SQL_CUSTOMER_QUEUE] =
		"SELECT (SELECT COUNT(*) FROM ingest_queue WHERE customer_id = ?),"
		" COUNT(*), COALESCE(SUM(GREATEST(0, count - completed - errors)), 0)"
		" FROM batches WHERE customer_id = ? AND finished IS NULL AND superseded = 0",
	[SQL_GLOBAL_QUEUE] = "SELECT COALESCE(SUM(priority = 0), 0), COALESCE(SUM(priority > 0), 0)"
			     " FROM ingest_queue",
};

static void batch_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	const char *id = req_url(rq, "/customers/%s/queue/batches/%s", db_str(r, i, BCOL_CUSTOMER),
				 db_str(r, i, BCOL_ID));
	resource_begin(w, id, "vocab:Batch");
	jw_kint(w, "id", db_int(r, i, BCOL_ID));
	jw_kstr(w, "submitted", db_time(rq->arena, r, i, BCOL_SUBMITTED));
	jw_kint(w, "count", db_int(r, i, BCOL_COUNT));
	jw_kint(w, "completed", db_int(r, i, BCOL_COMPLETED));
	jw_kint(w, "errors", db_int(r, i, BCOL_ERRORS));
	jw_kstr_opt(w, "finished", db_time(rq->arena, r, i, BCOL_FINISHED));
	jw_kbool(w, "superseded", db_int(r, i, BCOL_SUPERSEDED) != 0);
	static const char *const links[] = {"images", "completedImages", "errorImages", "test",
					    NULL};
	for (const char *const *l = links; *l; l++)
		jw_kstr(w, *l, arena_printf(rq->arena, "%s/%s", id, *l));
	jw_obj_end(w);
}

/* One member of a submitted Collection, validated. */
struct member {
	int space;
	const char *id;
	struct asset_plan *plan;
};

/* The asset id of a member: "id", else the last segment of "@id", else a new UUID. */
static int member_id(struct req *rq, yajl_val m, const char **out)
{
	const char *id = NULL;
	bool has;
	int st;
	if ((st = jin_str(rq, m, "id", &id, &has)))
		return st;
	if (!has || !*id) {
		const char *at = NULL;
		if ((st = jin_str(rq, m, "@id", &at, &has)))
			return st;
		if (has && strrchr(at, '/')) {
			id = strrchr(at, '/') + 1;
		} else {
			char *u = arena_alloc(rq->arena, 37);
			uuid_make(u);
			id = u;
		}
	}
	*out = id;
	return 0;
}

/* The Collection of a submitted batch: its keys and its 'member' array,
 * within queue_max_batch. *out gets room for every member. */
static int batch_read(struct req *rq, yajl_val body, yajl_val *members_out, struct member **out)
{
	static const char *const keys[] = {"@context",   "@id",      "@type", "member",
					   "totalItems", "pageSize", NULL};
	int st;
	if ((st = jin_only_keys(rq, body, keys)))
		return st;
	yajl_val members = json_get(body, "member");
	if (!members || !YAJL_IS_ARRAY(members))
		return req_fail(rq, 400, "'member' must be an array of assets");
	size_t n = members->u.array.len;
	long long max = setting_int(rq->app->cfg, S_QUEUE_MAX_BATCH);
	if (n == 0)
		return req_fail(rq, 400, "'member' is empty: a batch needs at least one asset");
	if ((long long)n > max)
		return req_fail(rq, 400, "'member' holds %zu assets; a batch takes at most %lld", n,
				max);
	*members_out = members;
	*out = arena_alloc(rq->arena, n * sizeof **out);
	return 0;
}

/* Member i of a batch of customer c, read into m[i] with the checks that
 * need no database (m[0..i) are the members read before it). Leaves
 * rq->fail_context naming the member. */
static int member_read(struct req *rq, int c, yajl_val members, size_t i, struct member *m)
{
	yajl_val v = members->u.array.values[i];
	int st;
	rq->fail_context = arena_printf(rq->arena, "member %zu", i);
	if (!YAJL_IS_OBJECT(v))
		return req_fail(rq, 400, "not an asset object");
	long long space;
	bool has;
	if ((st = jin_int(rq, v, "space", 1, 2147483647, &space, &has)))
		return st;
	if (!has)
		return req_fail(rq, 400, "'space' is required");
	if ((st = member_id(rq, v, &m[i].id)))
		return st;
	m[i].space = (int)space;
	rq->fail_context = arena_printf(rq->arena, "member %zu ('%s')", i, m[i].id);
	if (!asset_id_valid(m[i].id))
		return req_fail(rq, 400, "'id' is not a valid asset id");
	for (size_t j = 0; j < i; j++)
		if (m[j].space == m[i].space && strcmp(m[j].id, m[i].id) == 0)
			return req_fail(rq, 400, "appears twice in the batch");
	/* Read as a PUT body; its id and space are the ones just read, so
	 * they agree by construction. */
	return asset_plan_read(rq, v, c, m[i].space, m[i].id, &m[i].plan);
}

/* The rest of a member's checks, with the database: its space and delivery
 * channels, an origin, and no audio or video on the priority queue. */
static int member_resolve(struct req *rq, struct member *m, bool priority)
{
	int st = asset_plan_resolve(rq, m->plan);
	if (st == 404)
		return req_fail(rq, 400, "space %d does not exist", m->space);
	if (st)
		return st;
	if (!asset_plan_has_origin(m->plan))
		return req_fail(rq, 400,
				"'origin' is required: a queued asset is ingested "
				"from its origin");
	if (priority && asset_plan_family(m->plan) == 'T')
		return req_fail(rq, 400,
				"the priority queue takes no audio or video "
				"(iiif-av) assets");
	return 0;
}

int batch_body_check(struct req *rq, yajl_val body, int c)
{
	yajl_val members;
	struct member *m;
	int st = batch_read(rq, body, &members, &m);
	for (size_t i = 0; !st && i < members->u.array.len; i++)
		st = member_read(rq, c, members, i, m);
	rq->fail_context = NULL;
	return st;
}

static int batch_submit(struct req *rq, bool priority)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0];
	yajl_val members;
	struct member *m;
	int st = batch_read(rq, rq->json, &members, &m);
	if (st)
		return st;
	size_t n = members->u.array.len;
	for (size_t i = 0; i < n; i++)
		if ((st = member_read(rq, c, members, i, m)) ||
		    (st = member_resolve(rq, &m[i], priority)))
			return st;
	rq->fail_context = NULL;

	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "submitting the batch");
	if (db_exec(db, SQL[SQL_BATCH_INSERT], "iii", c, (int)n, priority ? 1 : 0) < 0)
		return req_db_fail(rq, "submitting the batch");
	long long batch = (long long)db_insert_id(db);
	int *spaces = arena_alloc(rq->arena, (n + 1) * sizeof *spaces);
	for (size_t i = 0; i < n; i++)
		spaces[i] = m[i].space;
	if ((st = asset_spaces_lock(rq, c, spaces, n)))
		return st;
	for (size_t i = 0; i < n; i++) {
		bool created;
		rq->fail_context = arena_printf(rq->arena, "member %zu ('%s')", i, m[i].id);
		if ((st = asset_plan_apply(rq, m[i].plan, batch, &created)))
			return st;
		if (db_exec(db, SQL[SQL_BATCH_MEMBER], "liis", batch, c, m[i].space, m[i].id) < 0 ||
		    work_enqueue(db, c, m[i].space, m[i].id, batch,
				 priority ? WORK_PRIORITY : WORK_NORMAL) < 0)
			return req_db_fail(rq, "queueing the asset");
	}
	rq->fail_context = NULL;
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "submitting the batch");
	/* A replaced asset may have become restricted: its public links follow
	 * the new row now, not only after its ingest. */
	for (size_t i = 0; i < n; i++)
		asset_publish_cfg(db, rq->arena, rq->app->cfg, c, m[i].space, m[i].id);

	struct db_rows *r = db_query(db, rq->arena, SQL[SQL_BATCH_GET], "il", c, batch);
	if (!r || r->n != 1)
		return req_db_fail(rq, "reading the batch");
	req_header(rq, "Location", req_url(rq, "/customers/%d/queue/batches/%lld", c, batch));
	batch_write(req_json(rq), rq, r, 0);
	return 201;
}

int queue_post(struct req *rq)
{
	return batch_submit(rq, false);
}

int queue_priority_post(struct req *rq)
{
	return batch_submit(rq, true);
}

int queue_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_CUSTOMER_QUEUE], "ii", c, c);
	if (!r)
		return req_db_fail(rq, "reading the queue");
	const char *id = req_url(rq, "/customers/%d/queue", c);
	struct jw *w = req_json(rq);
	resource_begin(w, id, "vocab:CustomerQueue");
	jw_kint(w, "size", db_int(r, 0, 0));
	jw_kint(w, "batchesWaiting", db_int(r, 0, 1));
	jw_kint(w, "imagesWaiting", db_int(r, 0, 2));
	static const char *const links[] = {"batches", "images",   "active",
					    "recent",  "priority", NULL};
	for (const char *const *l = links; *l; l++)
		jw_kstr(w, *l, arena_printf(rq->arena, "%s/%s", id, *l));
	jw_obj_end(w);
	return 200;
}

int global_queue_get(struct req *rq)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_GLOBAL_QUEUE], "");
	if (!r)
		return req_db_fail(rq, "reading the queue");
	struct jw *w = req_json(rq);
	resource_begin(w, req_url(rq, "/queue"), "vocab:Queue");
	jw_kint(w, "incoming", db_int(r, 0, 0));
	jw_kint(w, "priority", db_int(r, 0, 1));
	jw_kint(w, "success", 0);
	jw_kint(w, "failed", 0);
	jw_obj_end(w);
	return 200;
}

static int batch_list(struct req *rq, int count_sql, int list_sql, const char *name)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/queue/%s", c, name),
				  SQL[count_sql], SQL[list_sql], batch_write, "listing batches");
}

int batches_list(struct req *rq)
{
	return batch_list(rq, SQL_BATCHES_COUNT, SQL_BATCHES_LIST, "batches");
}

int queue_active(struct req *rq)
{
	return batch_list(rq, SQL_ACTIVE_COUNT, SQL_ACTIVE_LIST, "active");
}

int queue_recent(struct req *rq)
{
	return batch_list(rq, SQL_RECENT_COUNT, SQL_RECENT_LIST, "recent");
}

/* 0 when batch b is customer c's; else the 404 (or 503) it answered. */
static int batch_require(struct req *rq, int c, long long b, struct db_rows **out)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_BATCH_GET], "il", c, b);
	if (!r)
		return req_db_fail(rq, "reading the batch");
	if (r->n == 0)
		return req_fail(rq, 404, "batch %lld not found", b);
	if (out)
		*out = r;
	return 0;
}

int batch_get(struct req *rq)
{
	struct db_rows *r = NULL; /* set when batch_require returns 0 */
	int st = batch_require(rq, (int)rq->ints[0], rq->ints[1], &r);
	if (st)
		return st;
	batch_write(req_json(rq), rq, r, 0);
	return 200;
}

/* Assets of batch b, filtered by the query syntax; `extra` selects which. */
static int batch_assets(struct req *rq, const char *name, const char *extra)
{
	int c = (int)rq->ints[0];
	long long b = rq->ints[1];
	struct asset_query q;
	int st;
	if ((st = batch_require(rq, c, b, NULL)) || (st = asset_query_parse(rq, true, &q)))
		return st;
	struct db_param p = {.type = 'l', .i = b};
	const char *path =
		arena_printf(rq->arena, "/customers/%d/queue/batches/%lld/%s", c, b, name);
	return assets_collection_where(rq, path, c, -1, &q, extra, &p, 1);
}

int batch_images(struct req *rq)
{
	/* The assets whose current batch this is (a later batch takes them over). */
	return batch_assets(rq, "images", " AND a.batch_id = ?");
}

int batch_completed_images(struct req *rq)
{
	return batch_assets(rq, "completedImages",
			    " AND EXISTS (SELECT 1 FROM batch_assets ba WHERE ba.batch_id = ?"
			    " AND ba.space_id = a.space_id AND ba.asset_id = a.id"
			    " AND ba.status = 3)");
}

int batch_error_images(struct req *rq)
{
	return batch_assets(rq, "errorImages",
			    " AND EXISTS (SELECT 1 FROM batch_assets ba WHERE ba.batch_id = ?"
			    " AND ba.space_id = a.space_id AND ba.asset_id = a.id"
			    " AND ba.status = 2)");
}

int queue_images(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct asset_query q;
	int st;
	if ((st = asset_query_parse(rq, true, &q)))
		return st;
	struct db_param p = {.type = 'i', .i = c};
	return assets_collection_where(
		rq, arena_printf(rq->arena, "/customers/%d/queue/images", c), c, -1, &q,
		" AND EXISTS (SELECT 1 FROM ingest_queue iq WHERE iq.customer_id = ?"
		" AND iq.space_id = a.space_id AND iq.asset_id = a.id)",
		&p, 1);
}

int batch_test(struct req *rq)
{
	int c = (int)rq->ints[0];
	long long b = rq->ints[1];
	int st = batch_require(rq, c, b, NULL);
	if (st)
		return st;
	int changed = work_batch_test(rq->app->db, rq->arena, b);
	if (changed < 0)
		return req_db_fail(rq, "testing the batch");
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kbool(w, "success", changed == 1);
	jw_obj_end(w);
	return 200;
}
