/* IIIF Image API request parameters (versions 2.1 and 3.0): a strict parser
 * of the four path parts {region}/{size}/{rotation}/{quality}.{format}, the
 * resolution of a parsed request against an image's size (the region as a
 * pixel box, the output width and height), and the canonical form of the
 * result. Pure functions: no I/O, no allocation.
 *
 * Statuses: 400 for malformed syntax, a zero size, a region outside the
 * image, upscaling without "^" (3.0), or a size over the server's limits;
 * 501 for a valid request of something not implemented (formats jp2, pdf).
 * `why` receives a short static explanation for the error body.
 *
 * Choices the specifications leave to the server (documented here because
 * tests and the tile matcher depend on them):
 *  - "square" is centred (floor of half the difference).
 *  - pct:x,y,w,h: x0 = round(W*x/100), x1 = round(W*(x+w)/100) clipped to W,
 *    at least one pixel: adjacent percentage regions tile exactly.
 *  - Computed sides (w, / ,h / pct:n / !w,h) are rounded to the nearest
 *    pixel, never below 1.
 *  - 2.1 !w,h never upscales (the specification leaves best fit to the
 *    server); 2.1 w, ,h pct:n w,h may upscale (feature sizeAboveFull).
 *  - 3.0 ^max scales the region to maxArea when a limit is set, otherwise
 *    it is max.
 *  - Rotation is kept to 1e-6 degree; 360 is folded to 0.
 */
#ifndef DLCS_IIIF_PARSE_H
#define DLCS_IIIF_PARSE_H

#include <stdbool.h>
#include <stddef.h>

enum iiif_region_kind { IIIF_REGION_FULL, IIIF_REGION_SQUARE, IIIF_REGION_PX, IIIF_REGION_PCT };

enum iiif_size_kind {
	IIIF_SIZE_FULL,     /* 2.1 "full" */
	IIIF_SIZE_MAX,      /* "max", 3.0 "^max" */
	IIIF_SIZE_W,        /* "w," */
	IIIF_SIZE_H,        /* ",h" */
	IIIF_SIZE_PCT,      /* "pct:n" */
	IIIF_SIZE_WH,       /* "w,h" */
	IIIF_SIZE_CONFINED, /* "!w,h" */
};

enum iiif_quality { IIIF_Q_DEFAULT, IIIF_Q_COLOR, IIIF_Q_GRAY, IIIF_Q_BITONAL, IIIF_Q__MAX };

enum iiif_format { IIIF_F_JPG, IIIF_F_PNG, IIIF_F_WEBP, IIIF_F_GIF, IIIF_F_TIF, IIIF_F__MAX };

/* Integers in a request have at most this many digits (values < 1e9). */
#define IIIF_MAX_DIGITS 9

struct iiif_params {
	int version; /* 2 or 3 */

	enum iiif_region_kind region;
	long long rx, ry, rw, rh; /* IIIF_REGION_PX; rw, rh >= 1 */
	double px, py, pw, ph;    /* IIIF_REGION_PCT; pw, ph > 0 */

	enum iiif_size_kind size;
	bool upscale;   /* "^" (3.0 only) */
	long long w, h; /* SIZE_W: w; SIZE_H: h; SIZE_WH and SIZE_CONFINED: both (>= 1) */
	double pct;     /* SIZE_PCT, > 0 */

	bool mirror;     /* "!" */
	double rotation; /* [0, 360) */

	enum iiif_quality quality;
	enum iiif_format format;
};

/* Server-imposed limits, published in info.json. */
struct iiif_limits {
	long long max_area; /* width*height of any output; 0: no limit */
};

struct iiif_box {
	int x, y, w, h;
};

struct iiif_resolved {
	struct iiif_box region; /* in full-image pixels, clipped to the image */
	int w, h;               /* the output before rotation */
	int max_w, max_h;       /* what "max" gives for this region (canonical "max") */
	bool upscaled;          /* w > region.w or h > region.h */
	/* A side computed from the other (w, ,h pct: !w,h): a stored file whose
	 * side differs by one pixel is the same image, rounded another way. */
	bool w_free, h_free;
};

/* Parses the four path parts (already percent-decoded) for version 2 or 3.
 * 0, or 400/501 with *why set. */
int iiif_parse(int version, const char *region, const char *size, const char *rotation,
	       const char *quality_format, struct iiif_params *out, const char **why);

/* Resolves p against a W×H image (W, H >= 1). 0, or 400 with *why set. */
int iiif_resolve(const struct iiif_params *p, int W, int H, const struct iiif_limits *lim,
		 struct iiif_resolved *out, const char **why);

/* The canonical "{region}/{size}/{rotation}/{quality}.{format}" of a resolved
 * request in p's version, into buf (IIIF_CANONICAL_MAX bytes suffice). */
#define IIIF_CANONICAL_MAX 160
void iiif_canonical(const struct iiif_params *p, const struct iiif_resolved *r, int W, int H,
		    char *buf, size_t len);

/* A rotation as the canonical form writes it: an integer when it is one,
 * else up to six decimals without trailing zeros (buf: 32 bytes). */
void iiif_format_number(double v, char *buf, size_t len);

const char *iiif_quality_name(enum iiif_quality q);
const char *iiif_format_ext(enum iiif_format f);
const char *iiif_format_mime(enum iiif_format f);

#endif
