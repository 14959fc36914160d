/* Assets (vocab:Image) in the API: the serializer of the row
 * (asset/row.h) and the paged collection the space images, allImages and
 * queue listings share, and the checks and plans of asset bodies. */
#ifndef DLCS_ASSETS_H
#define DLCS_ASSETS_H

#include <stddef.h>

#include "asset/row.h"

struct arena;
struct asset_query;
struct db_param;
struct db_rows;
struct jw;
struct req;

/* Writes row `row` of r (selected with ASSET_COLUMNS) as a vocab:Image
 * object. Writes only; errors latch in w. */
void asset_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t row);

/* Reads one asset (ASSET_COLUMNS) into the request arena: rows with n == 0
 * when absent, NULL on a database error (see db_last_err). */
struct db_rows *asset_fetch(struct req *rq, int customer, int space, const char *id);

/* Answers a paged Collection of the assets of customer (all spaces when
 * space < 0) matching q, as `path` (no query string). Runs the count and the
 * page query itself. Returns 200, or the status of req_db_fail.
 * With no filter the total comes from spaces.image_count, which every
 * writer of `assets` keeps in step (+1 per insert, -1 per delete). */
int assets_collection(struct req *rq, const char *path, int customer, int space,
		      const struct asset_query *q);

/* The same with one more condition: `extra` is a fixed SQL fragment on alias
 * a such as " AND a.batch_id=?", whose parameters are p[0..n). Never pass
 * input text as `extra`: it is pasted into the statement. */
int assets_collection_where(struct req *rq, const char *path, int customer, int space,
			    const struct asset_query *q, const char *extra,
			    const struct db_param *p, size_t n);

/* The JSON array text for n strings (arena memory). */
const char *asset_list_json(struct arena *a, const char *const *v, size_t n);
/* Replaces the index rows of one list of an asset with v[0..n). Run inside
 * the caller's transaction (errors latch there); DB_OK or the db error. */
int asset_list_index(struct req *rq, int customer, int space, const char *id, enum asset_list which,
		     const char *const *v, size_t n);

/* A full asset body validated for customer c, space s, id (PUT, and each
 * member of a queued batch): the fields with the space's defaults filled in
 * and the delivery channels resolved. Returns 0 and *out (arena memory), or
 * the status it answered (400 naming the field, 404 for the space). */
struct asset_plan;
struct yajl_val_s;
int asset_plan_put(struct req *rq, struct yajl_val_s *body, int c, int s, const char *id,
		   struct asset_plan **out);
/* asset_plan_put in its two steps: the body's checks that need no database
 * (the plan is *out from the start), then the space's defaults and the
 * delivery channels (400 naming the field, 404 for the space). */
int asset_plan_read(struct req *rq, struct yajl_val_s *body, int c, int s, const char *id,
		    struct asset_plan **out);
int asset_plan_resolve(struct req *rq, struct asset_plan *p);
/* The checks of an asset body that need no database, exactly as the
 * handlers run them before their first query: PUT (and each member of a
 * queued batch), PATCH, and the bulk PATCH of a space's images (body is the
 * Collection; id unused). 0, or the 400 answered naming the field. The fuzz
 * driver of the bodies calls this. */
enum asset_body { ASSET_BODY_PUT, ASSET_BODY_PATCH, ASSET_BODY_BULK };
int asset_body_check(struct req *rq, struct yajl_val_s *body, int c, int s, const char *id,
		     enum asset_body mode);
/* The family ('I', 'T', 'F') and stored channels JSON the plan resolved. */
char asset_plan_family(const struct asset_plan *p);
const char *asset_plan_channels(const struct asset_plan *p);
/* False when the asset has no origin (then there is nothing to ingest). */
#include <stdbool.h>
/* A direct upload's origin and media type (the declared or the sniffed one). */
void asset_plan_set_upload(struct asset_plan *p, const char *origin, const char *media_type);
/* The declared media type, NULL while a PUT with "file" left it out. */
const char **asset_plan_media_type(struct asset_plan *p);
bool asset_plan_has_origin(const struct asset_plan *p);
/* Creates or replaces the asset inside the caller's transaction, marked
 * ingesting (and in batch batch_id when > 0). *created tells which. Returns
 * 0, or the status it answered (507 storage policy, database errors),
 * which the caller returns: the core rolls the transaction back. */
#include <stdbool.h>
/* Locks the rows of spaces[0..n) of customer c (in the current
 * transaction, in ascending order, each once): every transaction that
 * writes assets takes the locks of their spaces first, so that two writers
 * in a space queue instead of deadlocking (an INSERT's foreign-key check
 * takes the space row shared, image_count then wants it exclusive, and the
 * asset key's gap locks cross). 0, or the status answered. */
int asset_spaces_lock(struct req *rq, int c, const int *spaces, size_t n);
int asset_plan_apply(struct req *rq, const struct asset_plan *p, long long batch_id, bool *created);

#endif
