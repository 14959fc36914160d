/* Aliases of the stored thumbnails, for nginx's fast path (nginx/dlcs.conf):
 * next to each thumbs/{n}.jpg, relative symlinks named by the IIIF size
 * strings of a full-region request that dlcs-image answers with exactly that
 * file, so that nginx can send it itself:
 *   thumbs/!400,400.jpg  thumbs/400,280.jpg  thumbs/400,.jpg  thumbs/,280.jpg
 *     -> 400.jpg
 * The forms are "!n,n" (n the longest edge), "w,h" (3.0's canonical form),
 * "w," (2.1's) and ",h". A name is linked only when every route nginx maps to
 * it agrees on that file: /iiif-img/ and /thumbs/, Image API 3.0 and 2.1. The
 * answers are not computed again here: each candidate is parsed, resolved
 * and matched with delivery's own functions (iiif_parse.h, info.h), the way
 * delivery.c's img_image and thumbs_image do. So a box larger than the image
 * (3.0 refuses to upscale, 2.1 caps) gets no alias, nor does a size whose
 * /iiif-img/ answer is the pyramid's one-tile level rather than the
 * thumbnail, nor one over image_max_area.
 *
 * Links are made in the ingest's work directory before it is swapped in
 * (derive.c) and, for assets stored before aliases existed, by `dlcs-admin
 * publish-assets`. Being symlinks, they count in no storage size
 * (store_du counts regular files). */
#ifndef DLCS_THUMB_ALIAS_H
#define DLCS_THUMB_ALIAS_H

#include <stddef.h>

#include "info.h"

struct arena;

/* delivery.c's image_max_area when the configuration sets none. */
#define THUMB_ALIAS_DEFAULT_MAX_AREA 16777216LL

/* Candidate forms per thumbnail. */
#define THUMB_ALIAS_FORMS 4
#define THUMB_ALIAS_MAX   (STORED_MAX_SIZES * THUMB_ALIAS_FORMS)

struct thumb_alias {
	char name[32]; /* the size string, e.g. "!400,400" (the link is name + ".jpg") */
	int edge;      /* the stored thumbs/{edge}.jpg it links to */
};

/* The aliases of an asset whose files say st (stored_load): W×H is the
 * asset's width and height as the database has them (what /thumbs/ resolves
 * against; <= 0: the largest thumbnail, as delivery does), max_area the
 * /iiif-img/ limit (image_max_area; <= 0: none). The /iiif-img/ routes are
 * considered only when st has the pyramid (info.txt). Fills out[0..max) and
 * returns the count; nothing without thumbnails. */
size_t thumb_aliases(const struct stored *st, int W, int H, long long max_area,
		     struct thumb_alias *out, size_t max);

/* Brings the links in {asset_dir}/thumbs/ in line with thumb_aliases() for
 * the files there (s.json, info.txt): creates the missing ones, replaces
 * wrong ones (each in one rename, so a reader sees the old link or the new
 * one) and removes symlinks that are no alias any more. Regular files are
 * never touched, and no link is made to a missing thumbnail. Idempotent.
 * No thumbs/ (no thumbs channel): nothing to do. Returns the number of links
 * made or replaced, or -1 with err set (errlen >= 160 holds any message). */
int thumb_aliases_sync(struct arena *a, const char *asset_dir, int W, int H, long long max_area,
		       char *err, size_t errlen);

#endif
