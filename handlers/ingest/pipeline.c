/* The ingest of one item (ingest/runner.h): read the asset, fetch its origin,
 * make the derivatives its channels ask for, install them, publish the
 * asset's links and record the outcome. */
#include <string.h>
#include <time.h>

#include "arena.h"
#include "files.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "str.h"
#include "asset/channel_rules.h"
#include "asset/info_static.h"
#include "asset/ingest_error.h"
#include "asset/publish.h"
#include "asset/row.h"
#include "asset/store.h"
#include "asset/work.h"
#include "ingest/derive.h"
#include "ingest/heartbeat.h"
#include "ingest/origin.h"
#include "ingest/runner.h"
#include "ingest/transcode.h"
#include "banned.h"

enum { SQL_ASSET, SQL_THUMBS_POLICY, SQL_ASSET_EXISTS, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_ASSET] = "SELECT " ASSET_COLUMNS " FROM assets a"
		      " WHERE a.customer_id = ? AND a.space_id = ? AND a.id = ?",
	[SQL_THUMBS_POLICY] = "SELECT policy_data FROM delivery_channel_policies"
			      " WHERE customer_id IN (?, 0) AND channel = 'thumbs' AND name = ?"
			      " ORDER BY customer_id DESC LIMIT 1",
	[SQL_ASSET_EXISTS] =
		"SELECT 1 FROM assets WHERE customer_id = ? AND space_id = ? AND id = ?",
};

/* The thumbs policy name of the stored channels, NULL when absent. */
static const char *thumbs_policy_name(struct arena *a, const char *channels_json)
{
	yajl_val v = json_parse(a, channels_json, strlen(channels_json), NULL);
	if (!v || v->type != yajl_t_array)
		return NULL;
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val ch = json_get(v->u.array.values[i], "channel");
		yajl_val pol = json_get(v->u.array.values[i], "policy");
		if (ch && ch->type == yajl_t_string && strcmp(ch->u.string, "thumbs") == 0)
			return pol && pol->type == yajl_t_string ? pol->u.string : "default";
	}
	return NULL;
}

/* Adds the policy's sizes to opts (the default set is always added by derive). */
static void load_thumb_sizes(struct runner *rn, struct arena *a, int c, const char *policy,
			     struct derive_opts *opts)
{
	struct db_rows *r = db_query(rn->db, a, SQL[SQL_THUMBS_POLICY], "is", c, policy);
	if (!r || r->n == 0 || !db_str(r, 0, 0))
		return;
	const char *text = db_str(r, 0, 0);
	yajl_val v = json_parse(a, text, strlen(text), NULL);
	if (!v || v->type != yajl_t_array)
		return;
	for (size_t i = 0; i < v->u.array.len && opts->nthumb_sizes < DERIVE_MAX_THUMBS; i++) {
		yajl_val s = v->u.array.values[i];
		if (s->type == yajl_t_string &&
		    derive_parse_size(s->u.string, &opts->thumb_sizes[opts->nthumb_sizes]))
			opts->nthumb_sizes++;
	}
}

/* A failure of the item: its kind, and the readable text the asset's error
 * field shows ("origin: ...", asset/ingest_error.h). */
static void outcome_fail(struct work_outcome *o, struct arena *a, enum ingest_error kind,
			 const char *detail)
{
	o->kind = kind;
	o->error = ingest_error_text(a, kind, detail);
}

/* The derivative options of the asset's image channels: tiles with
 * iiif-img, thumbnails of its thumbs policy with thumbs. */
static struct derive_opts image_opts(struct runner *rn, struct arena *a, int customer,
				     const struct db_rows *r, const char *channels)
{
	struct derive_opts opts = rn->base_opts;
	opts.tiles = channels_has(channels, "iiif-img");
	opts.thumbs = channels_has(channels, "thumbs");
	opts.max_unauthorised = (int)db_int(r, 0, ACOL_MAX_UNAUTHORISED);
	const char *policy = opts.thumbs ? thumbs_policy_name(a, channels) : NULL;
	if (policy) {
		const char *slash = strrchr(policy, '/');
		load_thumb_sizes(rn, a, customer, slash ? slash + 1 : policy, &opts);
	}
	return opts;
}

/* The derivatives the asset's channels ask for, from {work}/original into
 * work: the pyramid and the thumbnails of an image; the transcodes of audio
 * and video, and a video's poster thumbnails (ingest/transcode.h); nothing
 * to make for the file channel. Fills o's sizes and duration; FAILED with
 * o's error when they cannot be made; RELEASE or DROP when a transcode was
 * stopped. */
static enum transcode_end make_derivatives(struct runner *rn, struct arena *a,
					   const struct work_item *w, const struct db_rows *r,
					   const char *work, struct work_outcome *o)
{
	const char *media_type = db_str(r, 0, ACOL_MEDIA_TYPE);
	const char *channels = db_str(r, 0, ACOL_DELIVERY_CHANNELS);
	bool img = channels_has(channels, "iiif-img"), thumbs = channels_has(channels, "thumbs");
	if (channels_has(channels, "iiif-av")) {
		struct derive_opts poster = image_opts(rn, a, w->customer, r, channels);
		return transcode_asset(rn, a, w, channels, work, thumbs ? &poster : NULL, o);
	}
	if ((img || thumbs) && str_starts(media_type, "image/")) {
		struct derive_opts opts = image_opts(rn, a, w->customer, r, channels);
		struct derive_result dr;
		memset(&dr, 0, sizeof dr);
		if (derive_image(arena_printf(a, "%s/original", work), work, &opts, &dr) != 0) {
			/* "image" is the image's fault (422 on a synchronous PUT);
			 * "storage" is ours (500). */
			outcome_fail(o, a, dr.bad_input ? INGEST_ERROR_IMAGE : INGEST_ERROR_STORAGE,
				     dr.error[0] ? dr.error : "cannot decode");
			return TRANSCODE_FAILED;
		}
		o->width = dr.width;
		o->height = dr.height;
		o->thumbnail_size = dr.thumbs_bytes;
	}
	return TRANSCODE_DONE;
}

/* Does the work of one item; fills *o (o->error on failure). Returns false
 * when the item must not be recorded (lease lost, or stopping before the
 * work was done: released). */
static bool ingest(struct runner *rn, struct arena *a, const struct work_item *w,
		   struct work_outcome *o)
{
	struct db_rows *r =
		db_query(rn->db, a, SQL[SQL_ASSET], "iis", w->customer, w->space, w->asset);
	if (!r) {
		outcome_fail(o, a, INGEST_ERROR_STORAGE,
			     "database unavailable while reading the asset");
		return true;
	}
	if (r->n == 0) {
		outcome_fail(o, a, INGEST_ERROR_OTHER,
			     "the asset was deleted before it could be ingested");
		return true;
	}
	const char *origin = db_str(r, 0, ACOL_ORIGIN);
	const char *channels = db_str(r, 0, ACOL_DELIVERY_CHANNELS);
	bool img = channels_has(channels, "iiif-img"), thumbs = channels_has(channels, "thumbs");
	bool file = channels_has(channels, "file"), av = channels_has(channels, "iiif-av");
	if (!img && !thumbs && !file && !av)
		return true; /* channel "none": nothing to make */
	if (!origin || !*origin) {
		outcome_fail(o, a, INGEST_ERROR_ORIGIN, "the asset has no origin");
		return true;
	}

	char err[256];
	const char *tag = arena_printf(a, "%s-%lld", rn->owner, w->id);
	for (char *p = (char *)tag; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	const char *work = store_work_dir(a, rn->storage_root, tag, err, sizeof err);
	if (!work) {
		outcome_fail(o, a, INGEST_ERROR_STORAGE, err);
		return true;
	}
	const char *original = arena_printf(a, "%s/original", work);
	struct origin_fetch f;
	memset(&f, 0, sizeof f);
	/* A direct upload is read from the path of the asset's own ids, never
	 * from anything written in its origin. */
	enum origin_status os =
		!strncmp(origin, UPLOAD_ORIGIN_PREFIX, strlen(UPLOAD_ORIGIN_PREFIX))
			? origin_copy_upload(a, rn->cfg, store_upload_root(a, rn->storage_root),
					     store_upload_path(a, rn->storage_root, w->customer,
							       w->space, w->asset),
					     original, &f)
			: origin_fetch(rn->db, a, rn->cfg, w->customer, origin, original, &f);
	if (runner_stopping()) {
		/* Stopping before the work is done: another runner takes it now. */
		files_rm_rf(work);
		work_release(rn->db, w, rn->owner);
		return false;
	}
	if (os != ORIGIN_OK) {
		outcome_fail(o, a, INGEST_ERROR_ORIGIN, f.error[0] ? f.error : "fetch failed");
		files_rm_rf(work);
		return true;
	}
	if (heartbeat_lost(rn->hb) || work_renew(rn->db, w, rn->owner, rn->lease_seconds) != 1) {
		files_rm_rf(work);
		return false;
	}
	switch (make_derivatives(rn, a, w, r, work, o)) {
	case TRANSCODE_DONE:
		break;
	case TRANSCODE_FAILED:
		files_rm_rf(work);
		return true;
	case TRANSCODE_RELEASE:
		/* Stopping in the middle of a transcode: another runner starts
		 * it again now, rather than after the lease. */
		files_rm_rf(work);
		work_release(rn->db, w, rn->owner);
		return false;
	case TRANSCODE_DROP: /* the asset was deleted, or the item taken */
		files_rm_rf(work);
		return false;
	}
	o->size = store_du(a, work, "thumbs");
	/* Only the lease holder installs: a runner whose lease expired (it was
	 * too slow, and another took the item) must not overwrite. */
	if (work_renew(rn->db, w, rn->owner, rn->lease_seconds) != 1) {
		files_rm_rf(work);
		return false;
	}
	const char *final = store_asset_dir(a, rn->storage_root, w->customer, w->space, w->asset);
	/* a new info.json copy never has the ETag of the one it replaces */
	info_static_after(a, work, final);
	if (store_install(a, work, final, err, sizeof err) != 0) {
		outcome_fail(o, a, INGEST_ERROR_STORAGE, err);
		o->width = o->height = 0;
		files_rm_rf(work);
	}
	return true;
}

void pipeline_process(struct runner *rn, struct arena *a, const struct work_item *w)
{
	struct work_outcome o;
	memset(&o, 0, sizeof o);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (w->attempts > rn->max_attempts) {
		/* The runners that claimed it before died on it (killed, out of
		 * memory): give up instead of crashing runners forever. */
		outcome_fail(
			&o, a, INGEST_ERROR_OTHER,
			arena_printf(a, "ingest abandoned after %d attempts", w->attempts - 1));
	} else {
		heartbeat_hold(rn->hb, w->id);
		bool keep = ingest(rn, a, w, &o);
		heartbeat_hold(rn->hb, 0);
		if (!keep) {
			log_info("item %lld (%d/%d/%s) released", w->id, w->customer, w->space,
				 w->asset);
			return;
		}
	}
	/* Delivery: the public links follow the outcome (linked when the asset
	 * is open and was ingested without error, unlinked otherwise), set
	 * before it is recorded so that a synchronous PUT, answered as soon as
	 * it is, finds them in place. */
	if (o.error)
		store_unpublish(a, rn->storage_root, w->customer, w->space, w->asset);
	else
		asset_publish(rn->db, a, rn->storage_root, w->customer, w->space, w->asset);
	int rc = work_complete(rn->db, a, w, rn->owner, &o);
	/* The asset may have been deleted while it was being ingested, after
	 * the API removed its files: remove what this runner installed. */
	struct db_rows *exists =
		db_query(rn->db, a, SQL[SQL_ASSET_EXISTS], "iis", w->customer, w->space, w->asset);
	if (exists && exists->n == 0) {
		store_unpublish(a, rn->storage_root, w->customer, w->space, w->asset);
		store_remove(a, rn->storage_root, w->customer, w->space, w->asset);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (rc == 1) {
		log_info("item %lld (%d/%d/%s) %s in %.0f ms%s%s", w->id, w->customer, w->space,
			 w->asset, o.error ? "failed" : "done", ms, o.error ? ": " : "",
			 o.error ? o.error : "");
		metrics_count(o.error ? MC_INGEST_ERROR : MC_INGEST_OK);
		metrics_ingest_seconds(ms / 1e3);
	} else if (rc == 0)
		log_warn("item %lld: lease lost, outcome discarded", w->id);
	else
		log_err("item %lld: could not record the outcome (%s); it will be retried", w->id,
			db_last_msg(rn->db));
}
