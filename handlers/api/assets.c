/* Assets (vocab:Image) of a space: GET/PUT/PATCH/DELETE of one asset, the
 * paged and filtered list of a space, and the bulk metadata PATCH. Every
 * write is one transaction that keeps the assets row, its indexed list rows
 * (asset_tags/roles/manifests), its asset_storage row and the space's
 * image_count in step; an asset whose origin, channels or maxUnauthorised
 * change is ingested again. Bodies and the plans of whole assets are
 * asset_body.c's, the serializer and the collections asset_rows.c's. */
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
#include "api/asset_body.h"
#include "api/asset_query.h"
#include "api/assets.h"
#include "api/channels.h"
#include "api/common.h"
#include "api/handlers.h"
#include "api/upload.h"
#include "asset/ingest_error.h"
#include "asset/publish.h"
#include "asset/row.h"
#include "asset/store.h"
#include "asset/work.h"
#include "asset/settings.h"
#include "banned.h"

enum stmt {
	SQL_ASSET_LOCK,
	SQL_ASSET_EXISTS_LOCK,
	SQL_ASSET_UPDATE,
	SQL_ASSET_REINGEST,
	SQL_ASSET_NOTHING_TO_INGEST,
	SQL_ASSET_META_UPDATE,
	SQL_ASSET_DELETE,
	SQL_SPACE_DEC,
	SQL_STORAGE_OF,
	SQL_TOTALS_SUB,
	SQL__MAX
};

static const char *const sql[SQL__MAX] = {
	[SQL_ASSET_LOCK] = "SELECT " ASSET_COLUMNS " FROM assets a"
			   " WHERE a.customer_id=? AND a.space_id=? AND a.id=? FOR UPDATE",
	[SQL_ASSET_EXISTS_LOCK] = "SELECT 1 FROM assets" KEY_WHERE " FOR UPDATE",
	[SQL_ASSET_UPDATE] = "UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", " MUTABLE_SET KEY_WHERE,
	[SQL_ASSET_REINGEST] =
		"UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", width=NULL, height=NULL,"
		" duration=NULL,"
		" ingesting=1, finished=NULL, error=NULL, error_kind=NULL" KEY_WHERE,
	[SQL_ASSET_NOTHING_TO_INGEST] =
		"UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", ingesting=0" KEY_WHERE,
	[SQL_ASSET_META_UPDATE] =
		"UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", tags=COALESCE(?,tags),"
		" roles=COALESCE(?,roles),"
		" manifests=COALESCE(?,manifests), string1=COALESCE(?,string1),"
		" string2=COALESCE(?,string2), string3=COALESCE(?,string3),"
		" number1=COALESCE(?,number1), number2=COALESCE(?,number2),"
		" number3=COALESCE(?,number3)" KEY_WHERE,
	[SQL_ASSET_DELETE] = "DELETE FROM assets" KEY_WHERE,
	[SQL_SPACE_DEC] = "UPDATE spaces SET image_count=GREATEST(image_count-1,0)"
			  " WHERE customer_id=? AND id=?",
	[SQL_STORAGE_OF] = "SELECT size, thumbnail_size FROM asset_storage WHERE customer_id=?"
			   " AND space_id=? AND asset_id=? FOR UPDATE",
	[SQL_TOTALS_SUB] =
		"UPDATE customer_storage SET bytes=GREATEST(0,bytes-?),"
		" thumbnail_bytes=GREATEST(0,thumbnail_bytes-?),"
		" last_calculated=UTC_TIMESTAMP(6) WHERE customer_id=? AND space_id IN (0,?)",
};

/* Where each list field's JSON text is in the row. */
static const enum asset_col list_col[ALIST__MAX] = {
	[ALIST_TAGS] = ACOL_TAGS,
	[ALIST_ROLES] = ACOL_ROLES,
	[ALIST_MANIFESTS] = ACOL_MANIFESTS,
};

static int respond_asset(struct req *rq, int c, int s, const char *id, int st)
{
	struct db_rows *r = asset_fetch(rq, c, s, id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0)
		return req_fail(rq, 404, "asset '%s' not found in space %d", id, s);
	asset_write(req_json(rq), rq, r, 0);
	return st;
}

int asset_get(struct req *rq)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	int st;
	if ((st = asset_path_id_check(rq, id)))
		return st;
	struct db_rows *r = asset_fetch(rq, c, s, id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0)
		return req_fail(rq, 404, "asset '%s' not found in space %d", id, s);
	asset_write(req_json(rq), rq, r, 0);
	return 200;
}

/* Waits for the synchronous ingest of item_id, then answers with the asset:
 * `ok_status` when it worked; 502 when the origin failed, 422 when the file
 * is not a usable image (the asset stays stored with its error); 202 with
 * the asset still ingesting when no runner finished it in time. */
static int ingest_wait_respond(struct req *rq, int c, int s, const char *id, long long item_id,
			       int ok_status)
{
	struct db *db = rq->app->db;
	long long timeout_ms = setting_int(rq->app->cfg, S_SYNC_INGEST_TIMEOUT_SECONDS) * 1000;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int delay_ms = 5;
	for (;;) {
		int pending = work_pending(db, rq->arena, item_id);
		if (pending < 0)
			return req_db_fail(rq, "waiting for the ingest");
		if (!pending)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long waited =
			(now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000LL;
		if (waited >= timeout_ms || rq->app->stopping)
			return respond_asset(rq, c, s, id, 202);
		struct timespec ts = {0, delay_ms * 1000000L};
		nanosleep(&ts, NULL);
		if (delay_ms < 50)
			delay_ms += 5;
	}
	struct db_rows *r = asset_fetch(rq, c, s, id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0)
		return req_fail(rq, 404, "asset '%s' was deleted during its ingest", id);
	const char *error = db_str(r, 0, ACOL_ERROR);
	if (error && *error) {
		switch (ingest_error_parse(db_str(r, 0, ACOL_ERROR_KIND))) {
		case INGEST_ERROR_ORIGIN:
			return req_fail(rq, 502, "ingest failed: %s", error);
		case INGEST_ERROR_IMAGE:
		case INGEST_ERROR_MEDIA:
			return req_fail(rq, 422, "ingest failed: %s", error);
		default:
			return req_fail(rq, 500, "ingest failed: %s", error);
		}
	}
	asset_write(req_json(rq), rq, r, 0);
	return ok_status;
}

/* Image and file assets are ingested before the answer; audio and video go
 * through the queue (their answer says ingesting: true). */
static enum work_priority ingest_priority(char family)
{
	return family == 'T' ? WORK_NORMAL : WORK_SYNC;
}

int asset_put(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	struct asset_plan *plan;
	int st;
	if ((st = asset_path_id_check(rq, id)) ||
	    (st = asset_plan_read(rq, rq->json, c, s, id, &plan)))
		return st;
	/* A direct upload is stored before the transaction: once it commits, a
	 * runner may look for the bytes at once. */
	yajl_val file = json_get(rq->json, "file");
	if (file) {
		const char **media = asset_plan_media_type(plan), *origin;
		if ((st = upload_take(rq, file, c, s, id, media, &origin)))
			return st;
		asset_plan_set_upload(plan, origin, *media);
	}
	if ((st = asset_plan_resolve(rq, plan)))
		return st;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	bool created;
	if ((st = asset_plan_apply(rq, plan, 0, &created)))
		return st;
	/* Without an origin there is nothing to fetch: the asset is registered
	 * (metadata only) and ingested once an origin is given. */
	bool ingest = asset_plan_has_origin(plan);
	enum work_priority prio = ingest_priority(asset_plan_family(plan));
	long long item = 0;
	if (ingest)
		item = work_enqueue(db, c, s, id, 0, prio);
	else
		db_exec(db, sql[SQL_ASSET_NOTHING_TO_INGEST], "iis", c, s, id);
	if (item < 0)
		return req_db_fail(rq, "queueing the ingest");
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, created ? "creating the asset" : "replacing the asset");
	/* Delivery: the replacement may restrict it (the runner publishes again
	 * once the new version is installed). */
	asset_publish_cfg(db, rq->arena, rq->app->cfg, c, s, id);

	int ok = created ? 201 : 200;
	if (created)
		req_header(rq, "Location",
			   req_url(rq, "/customers/%d/spaces/%d/images/%s", c, s, id));
	if (!ingest || prio != WORK_SYNC)
		return respond_asset(rq, c, s, id, ok);
	return ingest_wait_respond(rq, c, s, id, item, ok);
}

int asset_patch(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	struct asset_in in;
	int st;
	if ((st = asset_path_id_check(rq, id)) ||
	    (st = asset_body_read(rq, rq->json, c, s, id, BODY_PATCH, &in)))
		return st;

	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	if ((st = asset_spaces_lock(rq, c, &s, 1)))
		return st;
	struct db_rows *r = db_query(db, rq->arena, sql[SQL_ASSET_LOCK], "iis", c, s, id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0)
		return req_fail(rq, 404, "asset '%s' not found in space %d", id, s);

	/* Omitted fields keep their stored values. */
	const char *old_origin = db_str(r, 0, ACOL_ORIGIN);
	long long old_max = db_int(r, 0, ACOL_MAX_UNAUTHORISED);
	const char *old_media = db_str(r, 0, ACOL_MEDIA_TYPE);
	const char *old_channels = db_str(r, 0, ACOL_DELIVERY_CHANNELS);
	if (!in.has_origin)
		in.origin = old_origin;
	if (!in.has_max_unauth)
		in.max_unauth = old_max;
	if (!in.has_media_type)
		in.media_type = old_media;
	for (int i = 0; i < 3; i++) {
		if (!in.has_str[i])
			in.str[i] = db_str(r, 0, ACOL_STRING1 + (size_t)i);
		if (!in.has_num[i])
			in.num[i] = db_int(r, 0, ACOL_NUMBER1 + (size_t)i);
	}
	const char *list_json[ALIST__MAX];
	for (int l = 0; l < ALIST__MAX; l++)
		list_json[l] = in.list_json[l] ? in.list_json[l] : db_str(r, 0, list_col[l]);

	/* Channels are resolved again when they are given, or when a new
	 * mediaType must be checked against the stored ones. */
	const char *channels = old_channels;
	const char *old_family = db_str(r, 0, ACOL_FAMILY);
	char family = old_family && *old_family ? old_family[0] : 'I';
	bool media_changed = strcmp(in.media_type, old_media) != 0;
	if (in.channels || media_changed) {
		yajl_val input = in.channels;
		if (!input) {
			input = json_parse(rq->arena, old_channels, strlen(old_channels), NULL);
		}
		if ((st = channels_resolve(rq, c, s, in.media_type, input, &channels, &family)))
			return st;
	}
	if (in.family)
		family = in.family;

	bool reingest = strcmp(in.origin, old_origin) != 0 || in.max_unauth != old_max ||
			strcmp(channels, old_channels) != 0;

	struct db_param p[MUTABLE_NPARAMS];
	asset_bind_mutable(p, &in, list_json, channels, family, c, s, id);
	db_exec_params(db, sql[SQL_ASSET_UPDATE], p, MUTABLE_NPARAMS);
	long long item = 0;
	if (reingest && !*in.origin) {
		/* The origin was removed: nothing to fetch any more. */
		reingest = false;
		db_exec(db, sql[SQL_ASSET_NOTHING_TO_INGEST], "iis", c, s, id);
	}
	if (reingest) {
		db_exec(db, sql[SQL_ASSET_REINGEST], "iis", c, s, id);
		item = work_enqueue(db, c, s, id, 0, ingest_priority(family));
		if (item < 0)
			return req_db_fail(rq, "queueing the ingest");
	}
	for (int l = 0; l < ALIST__MAX; l++)
		if (in.list_json[l])
			asset_list_index(rq, c, s, id, (enum asset_list)l, in.list[l], in.nlist[l]);
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "updating the asset");
	/* Delivery: roles, maxUnauthorised or channels may have changed. */
	asset_publish_cfg(db, rq->arena, rq->app->cfg, c, s, id);
	if (reingest && ingest_priority(family) == WORK_SYNC)
		return ingest_wait_respond(rq, c, s, id, item, 200);
	return respond_asset(rq, c, s, id, 200);
}

int asset_delete(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	int st;
	if ((st = asset_path_id_check(rq, id)))
		return st;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	if ((st = asset_spaces_lock(rq, c, &s, 1)))
		return st;
	/* Its bytes leave the customer's and the space's totals; the list rows
	 * and asset_storage go by ON DELETE CASCADE; queued work for it is
	 * dropped (a runner holding a lease finds the asset gone and cleans up). */
	struct db_rows *sizes = db_query(db, rq->arena, sql[SQL_STORAGE_OF], "iis", c, s, id);
	if (!sizes)
		return req_db_fail(rq, "deleting the asset");
	if (sizes->n)
		db_exec(db, sql[SQL_TOTALS_SUB], "llii", db_int(sizes, 0, 0), db_int(sizes, 0, 1),
			c, s);
	if (work_asset_deleted(db, c, s, id) != DB_OK)
		return req_db_fail(rq, "deleting the asset");
	long long n = db_exec(db, sql[SQL_ASSET_DELETE], "iis", c, s, id);
	if (n < 0)
		return req_db_fail(rq, "deleting the asset");
	if (n == 0)
		return req_fail(rq, 404, "asset '%s' not found in space %d", id, s);
	db_exec(db, sql[SQL_SPACE_DEC], "ii", c, s);
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "deleting the asset");
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	/* Delivery: nginx stops serving it before its files go. */
	if (store_unpublish(rq->arena, root, c, s, id) != 0)
		log_warn("could not remove the public links of %d/%d/%s", c, s, id);
	if (store_remove(rq->arena, root, c, s, id) != 0)
		log_warn("could not remove the files of %d/%d/%s", c, s, id);
	return 204;
}

int space_images_list(struct req *rq)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	struct asset_query q;
	int st;
	if ((st = asset_query_parse(rq, false, &q)))
		return st;
	return assets_collection(
		rq, arena_printf(rq->arena, "/customers/%d/spaces/%d/images", c, s), c, s, &q);
}

/* PATCH of a Collection of members {"id", metadata...}: all or nothing. */
int space_images_patch(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	int st;
	size_t n;
	const char **ids;
	struct asset_in *in;
	if ((st = asset_bulk_read(rq, rq->json, c, s, &n, &ids, &in)))
		return st;

	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	if ((st = asset_spaces_lock(rq, c, &s, 1)))
		return st;
	for (size_t i = 0; i < n; i++) {
		struct db_rows *r =
			db_query(db, rq->arena, sql[SQL_ASSET_EXISTS_LOCK], "iis", c, s, ids[i]);
		if (!r)
			return req_db_fail(rq, "reading the assets");
		if (r->n == 0)
			return req_fail(rq, 400, "'member': asset '%s' is not in space %d", ids[i],
					s);
		struct db_param p[12];
		size_t k = 0;
		for (int l = 0; l < ALIST__MAX; l++) {
			const char *t = in[i].list_json[l];
			p[k++] = t ? (struct db_param){.type = 'S', .s = t, .len = strlen(t)}
				   : (struct db_param){.type = 'n'};
		}
		for (int j = 0; j < 3; j++) {
			const char *t = in[i].str[j];
			p[k++] = in[i].has_str[j]
					 ? (struct db_param){.type = 'S', .s = t, .len = strlen(t)}
					 : (struct db_param){.type = 'n'};
		}
		for (int j = 0; j < 3; j++)
			p[k++] = in[i].has_num[j]
					 ? (struct db_param){.type = 'l', .i = in[i].num[j]}
					 : (struct db_param){.type = 'n'};
		p[k++] = (struct db_param){.type = 'i', .i = c};
		p[k++] = (struct db_param){.type = 'i', .i = s};
		p[k++] = (struct db_param){.type = 'S', .s = ids[i], .len = strlen(ids[i])};
		db_exec_params(db, sql[SQL_ASSET_META_UPDATE], p, k);
		for (int l = 0; l < ALIST__MAX; l++)
			if (in[i].list_json[l])
				asset_list_index(rq, c, s, ids[i], (enum asset_list)l,
						 in[i].list[l], in[i].nlist[l]);
	}
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "updating the assets");
	/* Delivery: members whose roles changed. */
	for (size_t i = 0; i < n; i++)
		if (in[i].list_json[ALIST_ROLES])
			asset_publish_cfg(db, rq->arena, rq->app->cfg, c, s, ids[i]);

	struct db_rows **rows = arena_alloc(rq->arena, (n ? n : 1) * sizeof *rows);
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		struct db_rows *r = asset_fetch(rq, c, s, ids[i]);
		if (!r)
			return req_db_fail(rq, "reading the assets");
		if (r->n)
			rows[found++] = r;
	}
	const char *path = arena_printf(rq->arena, "/customers/%d/spaces/%d/images", c, s);
	struct jw *w = req_json(rq);
	collection_begin_all(w, rq, path, (long long)found);
	for (size_t i = 0; i < found; i++)
		asset_write(w, rq, rows[i], 0);
	collection_end_all(w);
	return 200;
}
