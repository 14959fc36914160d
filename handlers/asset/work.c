#include <string.h>

#include "arena.h"
#include "db.h"
#include "asset/row.h"
#include "asset/work.h"
#include "banned.h"

enum {
	SQL_ENQUEUE,
	SQL_CLAIM_SELECT,
	SQL_CLAIM_LEASE,
	SQL_RENEW,
	SQL_HELD,
	SQL_RELEASE,
	SQL_LOCK_MINE,
	SQL_DELETE_ITEM,
	SQL_OTHERS_PENDING,
	SQL_ASSET_OK,
	SQL_ASSET_ERROR,
	SQL_OLD_STORAGE,
	SQL_SET_STORAGE,
	SQL_TOTALS_ADD,
	SQL_BATCH_ASSET,
	SQL_BATCH_RECOUNT,
	SQL_PENDING,
	SQL_DROP_ASSET_WORK,
	SQL_ASSET_BATCHES,
	SQL_FAIL_MEMBERSHIP,
	SQL_BATCH_STATE,
	SQL_BATCH_STILL_HOLDS,
	SQL_BATCH_SUPERSEDE,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	/* av: whether the item transcodes (the asset, written before in the
	 * caller's transaction, has the iiif-av channel), for the claim. The
	 * stored channels are canonical JSON (asset/channel_rules.h's
	 * channels_has searches them the same way). */
	[SQL_ENQUEUE] = "INSERT INTO ingest_queue (customer_id, space_id, asset_id, batch_id,"
			" priority, enqueued, av) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6),"
			" COALESCE((SELECT delivery_channels LIKE '%\"channel\":\"iiif-av\"%'"
			" FROM assets WHERE customer_id = ? AND space_id = ? AND id = ?), 0))",
	/* SKIP LOCKED: runners racing for the head of the queue each get a
	 * different row instead of waiting on each other. */
	[SQL_CLAIM_SELECT] = "SELECT id, customer_id, space_id, asset_id, COALESCE(batch_id, 0),"
			     " priority, attempts, av FROM ingest_queue"
			     " WHERE (lease_until IS NULL OR lease_until < UTC_TIMESTAMP(6))"
			     " AND (av = 0 OR ? = 1)"
			     " ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED",
	[SQL_CLAIM_LEASE] = "UPDATE ingest_queue SET lease_owner = ?, lease_until ="
			    " UTC_TIMESTAMP(6) + INTERVAL ? SECOND, attempts = attempts + 1"
			    " WHERE id = ?",
	[SQL_RENEW] = "UPDATE ingest_queue SET lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND"
		      " WHERE id = ? AND lease_owner = ?",
	[SQL_HELD] = "SELECT 1 FROM ingest_queue WHERE id = ? AND lease_owner = ?",
	[SQL_RELEASE] = "UPDATE ingest_queue SET lease_owner = NULL, lease_until = NULL,"
			" attempts = GREATEST(0, attempts - 1) WHERE id = ? AND lease_owner = ?",
	[SQL_LOCK_MINE] = "SELECT id FROM ingest_queue WHERE id = ? AND lease_owner = ? FOR UPDATE",
	[SQL_DELETE_ITEM] = "DELETE FROM ingest_queue WHERE id = ?",
	[SQL_OTHERS_PENDING] = "SELECT COUNT(*) FROM ingest_queue WHERE customer_id = ?"
			       " AND space_id = ? AND asset_id = ?",
	[SQL_ASSET_OK] = "UPDATE assets SET " ASSET_ROW_VERSION_NEXT
			 ", width = ?, height = ?, duration = ?, ingesting = ?,"
			 " error = NULL,"
			 " error_kind = NULL, finished = UTC_TIMESTAMP(6) WHERE customer_id = ?"
			 " AND space_id = ? AND id = ?",
	[SQL_ASSET_ERROR] =
		"UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", ingesting = ?, error = ?,"
		" error_kind = ?,"
		" finished = UTC_TIMESTAMP(6) WHERE customer_id = ? AND space_id = ? AND id = ?",
	[SQL_OLD_STORAGE] = "SELECT size, thumbnail_size FROM asset_storage WHERE customer_id = ?"
			    " AND space_id = ? AND asset_id = ? FOR UPDATE",
	[SQL_SET_STORAGE] =
		"UPDATE asset_storage SET size = ?, thumbnail_size = ?,"
		" last_checked = UTC_TIMESTAMP(6) WHERE customer_id = ? AND space_id = ?"
		" AND asset_id = ?",
	[SQL_TOTALS_ADD] =
		"INSERT INTO customer_storage (customer_id, space_id, images, bytes,"
		" thumbnail_bytes, last_calculated) VALUES (?, ?, 0, ?, ?,"
		" UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE bytes = bytes + VALUES(bytes),"
		" thumbnail_bytes = thumbnail_bytes + VALUES(thumbnail_bytes),"
		" last_calculated = VALUES(last_calculated)",
	[SQL_BATCH_ASSET] = "UPDATE batch_assets SET status = ?, finished = UTC_TIMESTAMP(6)"
			    " WHERE batch_id = ? AND space_id = ? AND asset_id = ? AND status = 1",
	/* Assignments run left to right, so finished sees the new counts; the
	 * finished IS NULL guard sets it exactly once. */
	[SQL_BATCH_RECOUNT] = "UPDATE batches SET"
			      " completed = (SELECT COUNT(*) FROM batch_assets WHERE batch_id = ?"
			      " AND status = 3),"
			      " errors = (SELECT COUNT(*) FROM batch_assets WHERE batch_id = ?"
			      " AND status = 2),"
			      " finished = IF(completed + errors >= count, UTC_TIMESTAMP(6), NULL)"
			      " WHERE id = ? AND finished IS NULL",
	[SQL_PENDING] = "SELECT 1 FROM ingest_queue WHERE id = ?",
	[SQL_DROP_ASSET_WORK] = "DELETE FROM ingest_queue WHERE customer_id = ? AND space_id = ?"
				" AND asset_id = ?",
	[SQL_ASSET_BATCHES] = "SELECT DISTINCT ba.batch_id FROM batch_assets ba JOIN batches b ON"
			      " b.id = ba.batch_id WHERE b.customer_id = ? AND ba.space_id = ? AND"
			      " ba.asset_id = ? AND ba.status = 1",
	[SQL_FAIL_MEMBERSHIP] =
		"UPDATE batch_assets SET status = 2, finished = UTC_TIMESTAMP(6)"
		" WHERE batch_id = ? AND space_id = ? AND asset_id = ? AND status = 1",
	[SQL_BATCH_STATE] =
		"SELECT completed, errors, finished IS NOT NULL, superseded FROM batches"
		" WHERE id = ? FOR UPDATE",
	[SQL_BATCH_STILL_HOLDS] = "SELECT 1 FROM assets WHERE batch_id = ? LIMIT 1",
	[SQL_BATCH_SUPERSEDE] = "UPDATE batches SET superseded = 1 WHERE id = ?",
};

long long work_enqueue(struct db *db, int c, int s, const char *asset, long long batch_id,
		       enum work_priority priority)
{
	long long rc = batch_id > 0 ? db_exec(db, SQL[SQL_ENQUEUE], "iisliiis", c, s, asset,
					      batch_id, (int)priority, c, s, asset)
				    : db_exec(db, SQL[SQL_ENQUEUE], "iisniiis", c, s, asset,
					      (int)priority, c, s, asset);
	if (rc < 0)
		return rc;
	return (long long)db_insert_id(db);
}

int work_claim(struct db *db, struct arena *a, const char *owner, int lease_seconds, bool take_av,
	       struct work_item *w)
{
	int rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	struct db_rows *r = db_query(db, a, SQL[SQL_CLAIM_SELECT], "i", take_av ? 1 : 0);
	if (!r) {
		db_rollback(db);
		return db_last_err(db);
	}
	if (r->n == 0) {
		db_rollback(db);
		return 0;
	}
	w->id = db_int(r, 0, 0);
	w->customer = (int)db_int(r, 0, 1);
	w->space = (int)db_int(r, 0, 2);
	w->asset = db_str(r, 0, 3);
	w->batch_id = db_int(r, 0, 4);
	w->priority = (int)db_int(r, 0, 5);
	w->attempts = (int)db_int(r, 0, 6) + 1;
	w->av = db_int(r, 0, 7) != 0;
	db_exec(db, SQL[SQL_CLAIM_LEASE], "sil", owner, lease_seconds, w->id);
	rc = db_commit(db);
	return rc == DB_OK ? 1 : rc;
}

int work_renew(struct db *db, const struct work_item *w, const char *owner, int lease_seconds)
{
	long long n = db_exec(db, SQL[SQL_RENEW], "ils", lease_seconds, w->id, owner);
	if (n < 0)
		return (int)n;
	return n == 1;
}

int work_held(struct db *db, struct arena *a, const struct work_item *w, const char *owner)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_HELD], "ls", w->id, owner);
	if (!r)
		return db_last_err(db);
	return r->n == 1;
}

int work_release(struct db *db, const struct work_item *w, const char *owner)
{
	long long n = db_exec(db, SQL[SQL_RELEASE], "ls", w->id, owner);
	return n < 0 ? (int)n : DB_OK;
}

static int complete_txn(struct db *db, struct arena *a, const struct work_item *w,
			const char *owner, const struct work_outcome *o)
{
	struct db_rows *mine = db_query(db, a, SQL[SQL_LOCK_MINE], "ls", w->id, owner);
	if (!mine)
		return -1;
	if (mine->n == 0)
		return 0;
	struct db_rows *others = NULL, *old = NULL;
	if (db_exec(db, SQL[SQL_DELETE_ITEM], "l", w->id) < 0 ||
	    !(others = db_query(db, a, SQL[SQL_OTHERS_PENDING], "iis", w->customer, w->space,
				w->asset)) ||
	    !(old = db_query(db, a, SQL[SQL_OLD_STORAGE], "iis", w->customer, w->space, w->asset)))
		return -1;
	/* A later submission of the same asset is still queued: it stays ingesting. */
	int still_ingesting = db_int(others, 0, 0) > 0;
	long long rc;
	if (o->error)
		rc = db_exec(db, SQL[SQL_ASSET_ERROR], "issiis", still_ingesting, o->error,
			     ingest_error_name(o->kind ? o->kind : INGEST_ERROR_OTHER), w->customer,
			     w->space, w->asset);
	else if (o->width > 0 && o->duration > 0)
		rc = db_exec(db, SQL[SQL_ASSET_OK], "iiliiis", o->width, o->height, o->duration,
			     still_ingesting, w->customer, w->space, w->asset);
	else if (o->width > 0)
		rc = db_exec(db, SQL[SQL_ASSET_OK], "iiniiis", o->width, o->height, still_ingesting,
			     w->customer, w->space, w->asset);
	else if (o->duration > 0)
		rc = db_exec(db, SQL[SQL_ASSET_OK], "nnliiis", o->duration, still_ingesting,
			     w->customer, w->space, w->asset);
	else
		rc = db_exec(db, SQL[SQL_ASSET_OK], "nnniiis", still_ingesting, w->customer,
			     w->space, w->asset);
	if (rc < 0)
		return -1;
	if (!o->error && old->n == 1) {
		long long dsize = o->size - db_int(old, 0, 0);
		long long dthumbs = o->thumbnail_size - db_int(old, 0, 1);
		if (db_exec(db, SQL[SQL_SET_STORAGE], "lliis", o->size, o->thumbnail_size,
			    w->customer, w->space, w->asset) < 0 ||
		    db_exec(db, SQL[SQL_TOTALS_ADD], "iill", w->customer, 0, dsize, dthumbs) < 0 ||
		    db_exec(db, SQL[SQL_TOTALS_ADD], "iill", w->customer, w->space, dsize,
			    dthumbs) < 0)
			return -1;
	}
	if (w->batch_id > 0) {
		if (db_exec(db, SQL[SQL_BATCH_ASSET], "ilis", o->error ? 2 : 3, w->batch_id,
			    w->space, w->asset) < 0 ||
		    db_exec(db, SQL[SQL_BATCH_RECOUNT], "lll", w->batch_id, w->batch_id,
			    w->batch_id) < 0)
			return -1;
	}
	return 1;
}

int work_complete(struct db *db, struct arena *a, const struct work_item *w, const char *owner,
		  const struct work_outcome *o)
{
	/* A deadlock between runners finishing items of one batch is retried. */
	for (int attempt = 0; attempt < 5; attempt++) {
		int rc = db_begin(db);
		if (rc != DB_OK)
			return rc;
		int done = complete_txn(db, a, w, owner, o);
		if (done == 0) {
			db_rollback(db);
			return 0;
		}
		rc = db_commit(db);
		if (rc == DB_OK)
			return 1;
		if (rc != DB_ELOCK)
			return rc;
	}
	return DB_ELOCK;
}

int work_pending(struct db *db, struct arena *a, long long item_id)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_PENDING], "l", item_id);
	if (!r)
		return db_last_err(db);
	return r->n == 1;
}

int work_asset_deleted(struct db *db, int c, int s, const char *asset)
{
	struct arena *a = arena_new(4096);
	int rc = DB_OK;
	struct db_rows *b = NULL;
	if (db_exec(db, SQL[SQL_DROP_ASSET_WORK], "iis", c, s, asset) < 0 ||
	    !(b = db_query(db, a, SQL[SQL_ASSET_BATCHES], "iis", c, s, asset)))
		rc = db_last_err(db);
	for (size_t i = 0; b && rc == DB_OK && i < b->n; i++) {
		long long id = db_int(b, i, 0);
		if (db_exec(db, SQL[SQL_FAIL_MEMBERSHIP], "lis", id, s, asset) < 0 ||
		    db_exec(db, SQL[SQL_BATCH_RECOUNT], "lll", id, id, id) < 0)
			rc = db_last_err(db);
	}
	arena_free(a);
	return rc;
}

int work_batch_test(struct db *db, struct arena *a, long long batch_id)
{
	int rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	struct db_rows *before = db_query(db, a, SQL[SQL_BATCH_STATE], "l", batch_id);
	struct db_rows *holds =
		before ? db_query(db, a, SQL[SQL_BATCH_STILL_HOLDS], "l", batch_id) : NULL;
	if (!holds) {
		db_rollback(db);
		return db_last_err(db);
	}
	if (before->n == 0) {
		db_rollback(db);
		return 0;
	}
	db_exec(db, SQL[SQL_BATCH_RECOUNT], "lll", batch_id, batch_id, batch_id);
	if (holds->n == 0 && db_int(before, 0, 3) == 0)
		db_exec(db, SQL[SQL_BATCH_SUPERSEDE], "l", batch_id);
	struct db_rows *after = db_query(db, a, SQL[SQL_BATCH_STATE], "l", batch_id);
	if (!after) {
		db_rollback(db);
		return db_last_err(db);
	}
	rc = db_commit(db);
	if (rc != DB_OK)
		return rc;
	for (size_t col = 0; col < 4; col++)
		if (db_int(before, 0, col) != db_int(after, 0, col))
			return 1;
	return 0;
}
