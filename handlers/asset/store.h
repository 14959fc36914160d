/* Where an asset's files live on disk (shared storage in a multi-host
 * deployment): {storage_root}/{customer}/{space}/{id}/ holds the original,
 * tiles/, thumbs/, s.json and info.txt (see ingest/derive.h). A new version is
 * built in {storage_root}/.work/ and swapped in atomically, so readers
 * (nginx serving tiles) never see a half-written asset. */
#ifndef DLCS_STORE_H
#define DLCS_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

const char *store_asset_dir(struct arena *a, const char *root, int c, int s, const char *id);
/* Creates and returns a new empty work directory under {root}/.work/. */
const char *store_work_dir(struct arena *a, const char *root, const char *tag, char *err,
			   size_t errlen);
/* Puts work_dir in place of final_dir (creating parents), atomically
 * exchanging with an existing version, which is then deleted. 0 or -1. */
int store_install(struct arena *a, const char *work_dir, const char *final_dir, char *err,
		  size_t errlen);
/* The origin an uploaded asset carries: the runner reads the upload of the
 * asset's own ids (store_upload_path), whatever follows this prefix, and the
 * API refuses it as a customer's origin. */
#define UPLOAD_ORIGIN_PREFIX "dlcs-upload:"

/* The bytes of a direct upload (PUT with "file"), the asset's origin:
 * {root}/.uploads/{c}/{s}/upload-{id}, a path made of ids only (the asset id
 * is checked by asset_id_valid: no '/', no ".."), never of other input. */
const char *store_upload_path(struct arena *a, const char *root, int c, int s, const char *id);
/* The directory of store_upload_path's files, the one directory the runner
 * copies an upload from. */
const char *store_upload_root(struct arena *a, const char *root);
/* Writes an upload atomically (a temporary file renamed into place), 0 or -1
 * with err filled. */
int store_upload_write(struct arena *a, const char *root, int c, int s, const char *id,
		       const void *bytes, size_t len, char *err, size_t errlen);
/* Deletes an asset's directory (missing is fine). 0 or -1. */
int store_remove(struct arena *a, const char *root, int c, int s, const char *id);
/* Removes work directories "{prefix}{pid}-..." under {root}/.work/ whose
 * pid no longer runs on this host (left by a runner that was killed). */
void store_clean_stale(struct arena *a, const char *root, const char *prefix);
/* True when {dir}/{name} is a regular file (symlinks followed): one of an
 * asset's files is in place. */
bool store_file_exists(struct arena *a, const char *dir, const char *name);
/* Total bytes of regular files under path, excluding `except_subdir` (NULL: none). */
long long store_du(struct arena *a, const char *path, const char *except_subdir);

/* Public links: the access control of nginx's fast path, which serves only
 * files under {root}/public/. An open asset (no roles, maxUnauthorised -1,
 * ingested without error) is reachable there through relative symlinks:
 *   public/iiif-img/{c}/{s}/{id} -> ../../../../{c}/{s}/{id}  (iiif-img channel)
 *   public/thumbs/{c}/{s}/{id}   -> ../../../../{c}/{s}/{id}  (thumbs channel)
 *   public/iiif-av/{c}/{s}/{id}  -> ../../../../{c}/{s}/{id}  (iiif-av channel)
 *   public/{iiif-img,thumbs,iiif-av}/{customer name} -> {c}
 * Relative targets keep working where hosts mount shared storage at
 * different paths. Links are created under a temporary name ('@' never
 * occurs in asset ids or customer names) and renamed into place, so a
 * reader sees the old link or the new one, never none. */

/* Creates or replaces each link whose flag is true and removes each whose
 * flag is false (an absent link is fine); when iiif_img is false (the
 * asset is restricted, deleted, or its tiles are not delivered) the
 * asset's grants go too (asset/grant.h, grant_asset_changed). It follows
 * every change of an asset's access, its deletion and each ingest. 0, or
 * -1 when a link could not be made or removed (errno set). */
int store_publish(struct arena *a, const char *root, int c, int s, const char *id, bool iiif_img,
		  bool thumbs, bool av);
/* store_publish(..., false, false, false). */
int store_unpublish(struct arena *a, const char *root, int c, int s, const char *id);
/* public/{iiif-img,thumbs,iiif-av}/{name} -> {c}. -1 for a name that
 * cannot be a link: invalid, "." or "..", or all digits (it would stand for
 * another customer's id). */
int store_publish_name(struct arena *a, const char *root, int c, const char *name);

#endif
