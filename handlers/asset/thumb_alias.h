/* Size aliases of the stored files, for nginx's fast paths (nginx/dlcs.conf):
 * relative symlinks named by the IIIF size strings of a full-region request
 * that the delivery handler of a route family answers with exactly that
 * stored file, so that nginx can send the file itself. One directory per
 * family, each holding exactly the names its own handler answers so:
 *
 *   full/    for /iiif-img/ (delivery.c's img_image), Image API 3.0 and 2.1:
 *            the stored thumbnails and every pyramid level that is one tile
 *            (the full image too, when it is one tile), e.g. for 1000x700:
 *              full/250,175.jpg  full/250,.jpg  full/!250,250.jpg ...
 *                -> ../tiles/0,0,1000,700_250.jpg
 *              full/400,280.jpg  full/!400,400.jpg ...  -> ../thumbs/400.jpg
 *   thumbs/  for /thumbs/ (thumbs_image_v), 3.0 and 2.1: next to each
 *            thumbs/{n}.jpg, e.g. thumbs/!400,400.jpg thumbs/400,.jpg -> 400.jpg
 *
 * The candidate names of a stored w×h file are "!n,n" (n its longest edge),
 * "!w,h", "w,h" (3.0's canonical form), "w," (2.1's) and ",h"; in full/
 * also "max" (3.0's canonical full size) and "full" (2.1's). A name is linked
 * when every API version whose URLs nginx maps to it gets that file: both,
 * except for "full", which nginx maps only for 2.1 (3.0 has no such size).
 * Both versions read one directory because the size strings clients send
 * for a stored size mean the same in both; where they differ (a box larger
 * than the image: 3.0 refuses to upscale, 2.1 caps or upscales) the answers
 * differ and the name is simply not linked.
 *
 * The answers are not computed again here: each candidate is parsed,
 * resolved and matched with delivery's own functions (asset/iiif_parse.h,
 * asset/stored.h), the way img_image and thumbs_image_v do, image_max_area
 * included.
 * So a size whose /iiif-img/ answer is a one-tile level links to the tile
 * even when a thumbnail of that size is stored too (img_image tries tiles
 * first), while thumbs/ links the same name to the thumbnail.
 *
 * Links are made in the ingest's work directory before it is swapped in
 * (ingest/derive_write.c) and, for assets stored before they existed, by
 * `dlcs-admin publish-assets`. Being symlinks, they count in no storage size (store_du
 * counts regular files). (The module's name is older than full/.) */
#ifndef DLCS_THUMB_ALIAS_H
#define DLCS_THUMB_ALIAS_H

#include <stddef.h>

#include "asset/stored.h"

struct arena;

/* Candidate names per stored file, and in all ("max" and "full" once). */
#define THUMB_ALIAS_FORMS 5
#define THUMB_ALIAS_MAX   ((STORED_MAX_SIZES + STORED_MAX_LEVELS) * THUMB_ALIAS_FORMS + 2)

struct thumb_alias {
	char name[32]; /* the size string, e.g. "!400,400" (the link is name + ".jpg") */
	char file[96]; /* what it stands for, relative to the asset directory:
			  "thumbs/400.jpg", "tiles/0,0,1000,700_250.jpg" */
};

/* full/'s aliases of an asset whose files say st (stored_load), for
 * /iiif-img/ with the limit max_area (image_max_area; <= 0: none). Nothing
 * without the pyramid (info.txt: img_image answers no image then). Fills
 * out[0..max) and returns the count. */
size_t thumb_aliases_img(const struct stored *st, long long max_area, struct thumb_alias *out,
			 size_t max);

/* thumbs/'s aliases, for /thumbs/: W×H is the asset's width and height as
 * the database has them (what thumbs_image_v resolves against; <= 0: the
 * largest thumbnail, as delivery does). Nothing without thumbnails. */
size_t thumb_aliases_thumbs(const struct stored *st, int W, int H, struct thumb_alias *out,
			    size_t max);

/* Brings {asset_dir}/full/ and {asset_dir}/thumbs/ in line with the two
 * functions above for the files there (s.json, info.txt): creates the
 * missing links, replaces wrong ones (each in one rename, so a reader sees
 * the old link or the new one) and removes symlinks that are no alias any
 * more. full/ is created when there is a pyramid; thumbs/ is the
 * thumbnails' own (no thumbs channel: nothing there to do). Regular files
 * are never touched, and no link is made to a missing file. Idempotent. No
 * asset directory: nothing to do. Returns the number of links made or
 * replaced, or -1 with err set (errlen >= 160 holds any message). */
int thumb_aliases_sync(struct arena *a, const char *asset_dir, int W, int H, long long max_area,
		       char *err, size_t errlen);

#endif
