/* Keeping the public links (store_publish, asset/store.h) in step with the
 * database: whoever changes what decides whether an asset is open — the
 * runner after an ingest, the API after PATCH/PUT/DELETE — calls
 * asset_publish once its transaction is committed. */
#ifndef DLCS_PUBLISH_H
#define DLCS_PUBLISH_H

struct arena;
struct config;
struct db;

/* Re-derives the links of asset c/s/id from its row and its files: the
 * iiif-img link when the asset has that channel, is open (roles empty,
 * maxUnauthorised -1), has no ingest error and its tiles are installed
 * (info.txt); the thumbs link likewise (s.json), and the iiif-av link
 * (av.json, asset/av_stored.h). An absent asset loses its
 * links. The row is locked (SELECT ... FOR UPDATE) while the links change,
 * so concurrent publishers of one asset apply their decisions in commit
 * order. Fails closed: when the row cannot be read the links are removed.
 * Call outside a transaction (inside one, the caller's lock is used).
 * Returns 0, or -1 after logging. */
int asset_publish(struct db *db, struct arena *a, const char *root, int c, int s, const char *id);

/* asset_publish with root = the configuration's storage_root; nothing
 * (0) when it is not set. */
int asset_publish_cfg(struct db *db, struct arena *a, const struct config *cfg, int c, int s,
		      const char *id);

/* Name links of every customer (store_publish_name). Customers whose name
 * cannot be a link (all digits) are skipped with a warning. Returns the
 * number of failures, or -1 when the customers cannot be read. */
int publish_names_all(struct db *db, struct arena *a, const char *root);

/* asset_publish for every asset (of customer c, or all when c is 0): a
 * repair after restoring storage, or for assets ingested before links
 * existed. Before an asset's links, repair (when not NULL) brings its files
 * up to date: it gets the asset's directory, its width and height in the
 * database (0 when unknown) and ctx, and returns 0 or -1 (counted as a
 * failure; the links are re-derived all the same). dlcs-admin's
 * publish-assets makes the size aliases there (full/ and thumbs/,
 * asset/thumb_alias.h), which dlcs-api does not link. Returns the number of failures, or -1 on a
 * database error. */
int publish_assets_all(struct db *db, const char *root, int c,
		       int (*repair)(struct arena *a, const char *dir, int w, int h, void *ctx),
		       void *ctx);

#endif
