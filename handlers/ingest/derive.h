/* Image derivatives with GraphicsMagick's C API: from one original file, the
 * tile pyramid (256 px JPEG tiles at every scale factor down to one tile)
 * and the thumbnails of a thumbs policy, written under one directory.
 *
 * Layout under out_dir (the delivery side maps canonical IIIF URLs to these
 * files without a database lookup):
 *   tiles/{x},{y},{w},{h}_{sw}.jpg   region x,y,w,h of the full image, scaled
 *                                    to width sw (height follows the ratio)
 *   thumbs/{n}.jpg                   a thumbnail whose longest edge is n
 *   s.json                           {"o":[[w,h],...],"a":[[w,h],...]}: thumbnail
 *                                    sizes, largest first, open and auth
 *   info.txt                         "width height tile_size scale_factors..."
 */
#ifndef DLCS_DERIVE_H
#define DLCS_DERIVE_H

#include <stdbool.h>
#include <stddef.h>

#define DERIVE_TILE_SIZE 256
#define DERIVE_MAX_THUMBS 32

struct derive_thumb_size {
	/* A IIIF size parameter of a thumbs policy: "!w,h", "w,", ",h", with an
	 * optional leading "^" (upscaling allowed). */
	int w, h;       /* 0 when not given */
	bool confined;  /* "!w,h" */
	bool upscale;   /* "^" */
};

struct derive_opts {
	bool tiles;                     /* iiif-img channel: write the pyramid */
	bool thumbs;                    /* thumbs channel: write thumbnails */
	struct derive_thumb_size thumb_sizes[DERIVE_MAX_THUMBS];
	size_t nthumb_sizes;
	int max_unauthorised;           /* -1 all thumbs open; N: longest edge <= N open */
	long long max_pixels;           /* reject images with more pixels (0: no limit) */
	int jpeg_quality;               /* tiles and thumbs, e.g. 85 */
	int threads;                    /* tile encoding threads (>= 1) */
};

struct derive_result {
	int width, height;              /* after EXIF orientation */
	long long tiles_bytes, thumbs_bytes;
	int ntiles, nthumbs;
	char error[256];                /* readable cause when the call fails */
};

/* Parses one thumbs-policy size parameter; false if malformed. */
bool derive_parse_size(const char *s, struct derive_thumb_size *out);

/* Process-wide GraphicsMagick setup (InitializeMagick and resource limits:
 * memory_limit bytes of pixel cache before refusing). Call once. */
void derive_init(const char *argv0, long long memory_limit);

/* Reads the original at src_path and writes the derivatives into out_dir
 * (which must exist and be empty). Returns 0, or -1 with r->error set:
 * not an image, truncated/corrupt, over max_pixels, zero size, write error.
 * Never aborts on bad input. */
int derive_image(const char *src_path, const char *out_dir, const struct derive_opts *o,
		 struct derive_result *r);

#endif
