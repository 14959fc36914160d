/* Image derivatives with GraphicsMagick's C API: from one original file, the
 * tile pyramid (256 px JPEG tiles at every scale factor down to one tile)
 * and the thumbnails of a thumbs policy, written under one directory.
 *
 * Layout under out_dir (the delivery side maps canonical IIIF URLs to these
 * files without a database lookup):
 *   tiles/{x},{y},{w},{h}_{sw}.jpg   region x,y,w,h of the full image, scaled
 *                                    to width sw (height follows the ratio)
 *   thumbs/{n}.jpg                   a thumbnail whose longest edge is n
 *   thumbs/{size}.jpg -> {n}.jpg     its aliases: links named by the IIIF
 *                                    sizes (!n,n  !w,h  w,h  w,  ,h) that
 *                                    /thumbs/ answers with it
 *   full/{size}.jpg -> ../tiles/…    the same for /iiif-img/: the sizes it
 *                     ../thumbs/…    answers with a one-tile level or a
 *                                    thumbnail (also max, and 2.1's full);
 *                                    asset/thumb_alias.h. nginx sends these
 *                                    files by URL alone
 *   info/{service}-v{3,2}.json       info.json of /iiif-img/ and /thumbs/ for
 *                                    nginx to serve, its "id" filled in per
 *                                    request (asset/info_static.h)
 *   s.json                           {"o":[[w,h],...],"a":[[w,h],...]}: thumbnail
 *                                    sizes, largest first, open and auth
 *   info.txt                         "width height tile_size scale_factors..."
 *
 * Tiles (only with o->tiles; info.txt too): scale factors f = 1, 2, 4, ... up
 * to the first whose level, ceil(W/f) × ceil(H/f), fits in one 256 px tile.
 * Tile (i, j) of factor f covers x = i*256*f, y = j*256*f, w = min(256*f, W-x),
 * h = min(256*f, H-y) and is sw = ceil(w/f) by ceil(h/f) pixels: exactly the
 * region and size OpenSeadragon (and vips dzsave --layout iiif) ask for. The
 * smallest level is the whole image: "full" maps to 0,0,W,H.
 *
 * Thumbnails (only with o->thumbs; s.json too): the policy's sizes plus the
 * default set !1024,1024 !400,400 !200,200 !100,100, each computed from the
 * displayed W×H (rounded to the nearest pixel), never larger than the image
 * unless the size starts with "^", and stored once per longest edge.
 *
 * W×H is after EXIF orientation; pixels with an embedded ICC profile are
 * converted to sRGB (colour.h), CMYK and other colorspaces become RGB, alpha
 * is flattened onto white, 16-bit samples become 8-bit, and only the first
 * frame of a multi-frame file is used. JPEG 2000 originals are decoded with
 * OpenJPEG (jp2.h); like a JPEG's, their thumbnails come from a reduced read
 * (a lower resolution level of the codestream).
 */
#ifndef DLCS_DERIVE_H
#define DLCS_DERIVE_H

#include <stdbool.h>
#include <stddef.h>

#define DERIVE_TILE_SIZE  256
#define DERIVE_MAX_THUMBS 32

struct derive_thumb_size {
	/* A IIIF size parameter of a thumbs policy: "!w,h", "w,", ",h", with an
	 * optional leading "^" (upscaling allowed). */
	int w, h;      /* 0 when not given */
	bool confined; /* "!w,h" */
	bool upscale;  /* "^" */
};

struct derive_opts {
	bool tiles;  /* iiif-img channel: write the pyramid */
	bool thumbs; /* thumbs channel: write thumbnails */
	struct derive_thumb_size thumb_sizes[DERIVE_MAX_THUMBS];
	size_t nthumb_sizes;
	int max_unauthorised; /* -1 all thumbs open; N: longest edge <= N open */
	long long max_pixels; /* reject images with more pixels (0: no limit) */
	int jpeg_quality;     /* tiles and thumbs, e.g. 85 */
	int threads;          /* threads in all, the caller's included (>= 1) */
	/* delivery's image_max_area: sizes above it get no full/ alias, since
	 * /iiif-img/ refuses them (0: no limit, as in the configuration) */
	long long image_max_area;
	/* the configuration's base_url, for the "id" of info/'s documents
	 * (NULL or "": nginx puts the request's in) */
	const char *base_url;
};

struct derive_result {
	int width, height; /* after EXIF orientation */
	long long tiles_bytes, thumbs_bytes;
	int ntiles, nthumbs;
	bool bad_input;  /* on failure: the original's fault (not an image,
			  * corrupt, over a limit: answer 422), not ours
			  * (a write or resource error: 500) */
	char error[256]; /* readable cause when the call fails */
};

/* Parses one thumbs-policy size parameter ("!w,h", "w,", ",h", optional "^";
 * sides 1..65500); false if malformed. */
bool derive_parse_size(const char *s, struct derive_thumb_size *out);

/* gm_init (asset/gm.h), under the name the tests and the benchmark of the
 * derivatives call: the process-wide GraphicsMagick setup. */
void derive_init(const char *argv0, long long memory_limit);

/* Reads the original at src_path and writes the derivatives into out_dir
 * (which must exist and be empty). Returns 0, or -1 with r->error and
 * r->bad_input set: not an image, truncated/corrupt, over max_pixels, zero
 * size (bad input); cannot read the original, a write error (not). After a
 * failure out_dir may hold part of the output: the caller removes it.
 * Without tiles and thumbs it only reads the header (r->width, r->height).
 * Never aborts on bad input; safe to call from several threads at once. */
int derive_image(const char *src_path, const char *out_dir, const struct derive_opts *o,
		 struct derive_result *r);

#endif
