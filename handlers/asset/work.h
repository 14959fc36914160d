/* The ingest work queue in the database, shared by every runner on every
 * host: enqueue, claim with a lease, renew, release, and record the outcome
 * exactly once (only the runner still holding the lease may). */
#ifndef DLCS_WORK_H
#define DLCS_WORK_H

#include <stdbool.h>

#include "asset/ingest_error.h"

struct arena;
struct db;

enum work_priority { WORK_NORMAL = 0, WORK_PRIORITY = 1, WORK_SYNC = 2 };

struct work_item {
	long long id;
	int customer, space;
	const char *asset;  /* arena memory */
	long long batch_id; /* 0 when not part of a batch */
	int priority;
	int attempts; /* including this claim */
	bool av;      /* it transcodes (the asset has the iiif-av channel) */
};

struct work_outcome {
	const char *error;      /* NULL on success, else the readable cause */
	enum ingest_error kind; /* with error: who is at fault (asset/ingest_error.h) */
	int width, height;      /* 0 when unknown (not an image, nor a video) */
	long long duration;     /* ms of audio or video, 0 when none */
	long long size;         /* bytes of stored artefacts except thumbnails */
	long long thumbnail_size;
};

/* Adds an item (inside the caller's transaction). Returns the item id (> 0)
 * or a db error (< 0). */
long long work_enqueue(struct db *db, int c, int s, const char *asset, long long batch_id,
		       enum work_priority priority);

/* Claims the next unleased item (sync work first, then priority, then the
 * oldest) for `owner` for lease_seconds; items that transcode only when
 * take_av (the runner holds one of its host's transcode slots). Returns 1
 * and fills *w, 0 when there is nothing to do, or a db error (< 0). */
int work_claim(struct db *db, struct arena *a, const char *owner, int lease_seconds, bool take_av,
	       struct work_item *w);

/* Extends the lease; 1 when still ours, 0 when lost, < 0 db error. */
int work_renew(struct db *db, const struct work_item *w, const char *owner, int lease_seconds);

/* 1 while the item is still there and leased to owner, 0 when not (the
 * asset was deleted, or another runner took it), < 0 db error. A read: a
 * long transcode asks it every second to know when to stop. */
int work_held(struct db *db, struct arena *a, const struct work_item *w, const char *owner);

/* Gives the item back for another runner at once (graceful stop). */
int work_release(struct db *db, const struct work_item *w, const char *owner);

/* Records the outcome in one transaction: removes the item (only if the
 * lease is still ours), updates the asset (dimensions, ingesting, finished,
 * duration, error and its kind), its storage figures and the customer/space totals, the batch
 * membership and the batch counts (finished is set once). Returns 1 when
 * recorded, 0 when the lease was lost (nothing recorded), < 0 db error. */
int work_complete(struct db *db, struct arena *a, const struct work_item *w, const char *owner,
		  const struct work_outcome *o);

/* An asset was deleted (inside the caller's transaction): its queued work
 * is dropped, and its waiting batch memberships end as errors so those
 * batches still finish. DB_OK or the db error. */
int work_asset_deleted(struct db *db, int c, int s, const char *asset);

/* Recomputes a batch's counts, sets finished once when complete, and marks
 * it superseded when none of its assets still belongs to it. Returns 1 when
 * anything changed, 0 when not, < 0 on a db error. */
int work_batch_test(struct db *db, struct arena *a, long long batch_id);

/* True while the item is still queued (the synchronous API waits on this). */
int work_pending(struct db *db, struct arena *a, long long item_id);

#endif
