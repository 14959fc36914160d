/* The image information documents (info.json) of Image API 3.0 and 2.1,
 * made from what the asset's files say (asset/stored.h). No GraphicsMagick
 * here. */
#ifndef DLCS_INFO_H
#define DLCS_INFO_H

#include <stdbool.h>
#include <stddef.h>

#include "asset/stored.h"

struct jw;

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
};

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
