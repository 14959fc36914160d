/* The image information documents (info.json) of Image API 3.0 and 2.1,
 * made from what the asset's files say (asset/stored.h). No GraphicsMagick
 * here. */
#ifndef DLCS_INFO_H
#define DLCS_INFO_H

#include <stdbool.h>
#include <stddef.h>

#include "asset/stored.h"

struct arena;
struct jw;

/* Cache-Control of info.json (and of the redirects to it). */
#define INFO_CACHE_CONTROL "public, max-age=3600"
/* With a 2.1 document sent as application/json: where its context is. */
#define INFO_LINK_2                                                                                \
	"<http://iiif.io/api/image/2/context.json>; "                                              \
	"rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\""

struct info_doc {
	int version;    /* 2 or 3 */
	const char *id; /* absolute base URI of the service, no trailing slash */
	int W, H;
	bool level0;                     /* a thumbnails service: sizes only */
	const struct stored_size *sizes; /* listed as given */
	size_t nsizes;
	const int *sf; /* tiles (level 2 only); nsf 0: none */
	int nsf, tile;
	long long max_area; /* 0: not published */
	bool webp;          /* this build encodes webp */
	/* a restricted asset's (iiif/delivery.c): the AuthProbeService2 as JSON
	 * text, listed in "service" with the auth context first (NULL: none),
	 * and the largest open size for the caller (0: no limit published) */
	const char *auth_service;
	int max_width, max_height;
};

/* The documents of an asset's services, from what its files say (st,
 * stored_load): made here once for dlcs-image's answers (iiif/delivery.c)
 * and for the copies nginx serves itself (asset/info_static.h), so both
 * are always the same document. Strings and sizes are the arena's or st's.
 *
 * info_doc_image: the image service (/iiif-img/) at id, an asset with a
 * pyramid (st->has_tiles): its size, tiles, and the stored thumbnails whose
 * area is within max_area (image_max_area; published as maxArea; <= 0:
 * no limit); webp: this build encodes webp. */
void info_doc_image(struct info_doc *d, struct arena *a, const struct stored *st, int version,
		    const char *id, long long max_area, bool webp);

/* The size the thumbnail service (/thumbs/) gives an asset: its width and
 * height as the database has them, else (<= 0: not measured) those of its
 * largest thumbnail. */
void info_thumbs_size(const struct stored *st, int width, int height, int *W, int *H);

/* info_doc_thumbs: the thumbnail service (level 0) at id, listing
 * sizes[0..n) (the thumbnails the caller may see: all of them, for an open
 * asset), of an asset of width × height as info_thumbs_size takes them. */
void info_doc_thumbs(struct info_doc *d, const struct stored *st, const struct stored_size *sizes,
		     size_t n, int width, int height, int version, const char *id);

/* Writes the document (errors latch in w). Level 2 lists what render.c
 * does beyond the level: extraFormats (webp when available, gif, tif),
 * extraQualities (color, gray, bitonal), extraFeatures (mirroring,
 * rotationArbitrary, sizeUpscaling); 2.1 the same in its profile object. */
void info_write(struct jw *w, const struct info_doc *d);

/* The Content-Type of info.json for the request's Accept header: 3.0
 * answers JSON-LD with its profile unless only application/json is
 * acceptable; 2.1 answers application/json unless JSON-LD is asked for. */
const char *info_content_type(int version, const char *accept);

#endif
