/* Computed IIIF image responses, with GraphicsMagick, from the stored tile
 * pyramid only (see ingest/derive.h for the layout): the original is never
 * read, since the pyramid's scale factor 1 is the full resolution.
 *
 * Steps, in the order the Image API defines (region, size, rotation,
 * quality, format):
 *  1. The level: the largest scale factor f whose pixels still cover the
 *     output (the region spans at least w × h pixels of that level, a
 *     partial pixel at an edge counting as one, as in the stored tiles'
 *     sizes); f = 1 to upscale.
 *  2. Only the parts of that level's tiles that intersect the region are
 *     decoded (libjpeg-turbo, 8 bits: jpeg_io.h), into one RGB canvas.
 *  3. The region of the canvas is resampled to the output size (pixels.h:
 *     a triangle filter as wide as the reduction, so the level being at
 *     most twice the output per side loses nothing; bilinear to enlarge).
 *  4. Mirroring ("!"), then clockwise rotation: multiples of 90 are exact
 *     pixel moves; other angles are GraphicsMagick's, filling the corners
 *     white for jpg and transparent for the formats with alpha (png, webp,
 *     gif, tif).
 *  5. gray: Rec. 601 luma; bitonal: luma thresholded at 50%, to pure black
 *     and white (alpha, when there is one, to fully opaque or transparent).
 *  6. Encoding: jpg with libjpeg-turbo at the configured quality (grey
 *     qualities as one-channel JPEG); webp at that quality, png, gif and
 *     tif (LZW) with GraphicsMagick.
 *
 * Every GraphicsMagick image is destroyed on every path. derive_init() must
 * have been called once in the process. */
#ifndef DLCS_RENDER_H
#define DLCS_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "asset/iiif_parse.h"

struct arena;

#define RENDER_MAX_LEVELS 32

/* What info.txt says about one asset's pyramid. */
struct render_src {
	const char *dir;           /* the asset's directory: tiles/ is under it */
	int W, H;                  /* the full image */
	int tile;                  /* tile size (256) */
	int sf[RENDER_MAX_LEVELS]; /* scale factors, ascending: 1, 2, 4, ... */
	int nsf;
};

struct render_out {
	const void *data; /* arena memory */
	size_t len;
	const char *media_type;
	const char *error; /* on failure: why (arena memory) */
	int level;         /* the scale factor the tiles were read at */
	int tiles_read;
};

/* Renders the resolved request p/r from src's pyramid. Returns 0 with out
 * filled; 500 when a tile is missing or corrupt or an encoder fails, 503
 * when memory for the pixels is short (out->error says why); 501 when this
 * GraphicsMagick build cannot encode the format. */
int render_image(struct arena *a, const struct render_src *src, const struct iiif_params *p,
		 const struct iiif_resolved *r, int jpeg_quality, struct render_out *out);

/* The scale factor render_image would read for r (exposed for tests). */
int render_choose_level(const struct render_src *src, const struct iiif_resolved *r);

/* True when this GraphicsMagick build can encode f (webp is optional). */
bool render_format_available(enum iiif_format f);

#endif
