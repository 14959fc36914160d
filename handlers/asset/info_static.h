/* The copies of info.json that nginx serves itself (nginx/dlcs.conf's
 * "info" fast paths), so that a viewer's one request per canvas costs what
 * a small static file costs instead of a dlcs-image round trip.
 *
 * Beside an asset's tiles, {asset_dir}/info/ holds one document per service
 * and API version, made by the same functions as dlcs-image's answers
 * (asset/info.h), whose "id" is left open:
 *   "id": "@DLCS_BASE@@DLCS_PATH@"                (base_url not set)
 *   "id": "https://iiif.example.org@DLCS_PATH@"   (base_url set)
 * nginx fills the marks per request with sub_filter: @DLCS_PATH@ with the
 * request's own path up to the asset (customer by id or by name, as asked),
 * @DLCS_BASE@ with its scheme and host as dlcs-image takes them
 * (X-Forwarded-Proto and -Host when valid; fcgi/serve.c derive_base_url).
 * Everything else in the document depends on the asset's files and on
 * settings every program reads alike (image_max_area, base_url) and on the
 * GraphicsMagick of the host (webp), so the document is written once: by
 * the ingest, into the work directory that is swapped in with the tiles
 * (ingest/derive_write.c), and by `dlcs-admin publish-assets` for assets
 * stored before, or after base_url or image_max_area changed, or after an
 * upgrade that changed info.json.
 *
 * nginx reaches them only through the asset's public links (asset/store.h),
 * as it reaches tiles: a restricted or deleted asset's copies are out of
 * reach as soon as the API has answered the write, and its info.json comes
 * from dlcs-image. */
#ifndef DLCS_ASSET_INFO_STATIC_H
#define DLCS_ASSET_INFO_STATIC_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct stored;

#define INFO_STATIC_DIR "info"
#define INFO_BASE_MARK  "@DLCS_BASE@"
#define INFO_PATH_MARK  "@DLCS_PATH@"

/* The documents' files under info/ (asset/nginx_include.c's fast paths
 * name them too). */
#define INFO_FILE_IMG_V3    "iiif-img-v3.json"
#define INFO_FILE_IMG_V2    "iiif-img-v2.json"
#define INFO_FILE_THUMBS_V3 "thumbs-v3.json"
#define INFO_FILE_THUMBS_V2 "thumbs-v2.json"

/* The documents: the image service (/iiif-img/, 3.0 and 2.1 under
 * /iiif-img/v2/) and the thumbnail service (/thumbs/, /thumbs/v2/). */
enum info_static_doc { INFO_IMG_V3, INFO_IMG_V2, INFO_THUMBS_V3, INFO_THUMBS_V2, INFO_STATIC__MAX };

struct info_static_spec {
	const char *file;   /* under info/ */
	const char *prefix; /* its URL up to the customer: "/iiif-img/v2" */
	bool thumbs;        /* the thumbnail service */
	int version;        /* 3 or 2 */
};

extern const struct info_static_spec INFO_STATIC[INFO_STATIC__MAX];

/* What the documents depend on besides the asset's files. */
struct info_static_opts {
	const char *base_url; /* the configuration's base_url; NULL or "": the request's */
	long long max_area;   /* image_max_area as dlcs-image applies it (<= 0: none) */
	bool webp;            /* GraphicsMagick encodes webp (asset/gm.h gm_can_encode) */
};

/* Document doc of an asset whose files say st (stored_load), of
 * width × height in the database (the thumbnail service's size,
 * asset/info.h): its text in a and its length, or NULL when the asset has
 * no such service (no pyramid; no thumbnails). The thumbnail service lists
 * every thumbnail: nginx serves it only for open assets. */
const char *info_static_text(struct arena *a, const struct stored *st, int width, int height,
			     const struct info_static_opts *o, enum info_static_doc doc,
			     size_t *len);

/* Brings {asset_dir}/info/ in line with the asset's files (info.txt,
 * s.json): writes each document whose text differs from the file there
 * (into a temporary file renamed into place, so that a reader sees the old
 * file or the new one), and removes those of services the asset does not
 * have. No asset directory: nothing to do. Idempotent. Returns the number
 * of files written or removed, or -1 with err set (errlen >= 160 holds any
 * message). */
int info_static_sync(struct arena *a, const char *asset_dir, int width, int height,
		     const struct info_static_opts *o, char *err, size_t errlen);

/* nginx's ETag of a copy is its file's mtime (in whole seconds) and size:
 * a copy of the same size that replaced another within the same second
 * would keep its ETag, and a client revalidating would keep the old
 * document. So each copy in new_dir that replaces one in old_dir (the
 * asset's directory an ingest's work directory is about to replace) is
 * given an mtime past the old one's when it has none already.
 * info_static_sync does the same for the copies it rewrites in place. */
void info_static_after(struct arena *a, const char *new_dir, const char *old_dir);

#endif
