/* IIIF request parameters: parsing, resolution, canonical form (see
 * iiif_parse.h for the choices the specifications leave open). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "asset/iiif_parse.h"
#include "banned.h"

/* The largest side any output may have: libjpeg stops at 65500, WebP at
 * 16383; the others are held to 65535 so that every product fits. */
static int format_max_side(enum iiif_format f)
{
	switch (f) {
	case IIIF_F_JPG:
		return 65500;
	case IIIF_F_WEBP:
		return 16383;
	default:
		return 65535;
	}
}

static const char *const quality_names[IIIF_Q__MAX] = {
	[IIIF_Q_DEFAULT] = "default",
	[IIIF_Q_COLOR] = "color",
	[IIIF_Q_GRAY] = "gray",
	[IIIF_Q_BITONAL] = "bitonal",
};

static const struct {
	const char *ext, *mime;
} formats[IIIF_F__MAX] = {
	[IIIF_F_JPG] = {"jpg", "image/jpeg"},   [IIIF_F_PNG] = {"png", "image/png"},
	[IIIF_F_WEBP] = {"webp", "image/webp"}, [IIIF_F_GIF] = {"gif", "image/gif"},
	[IIIF_F_TIF] = {"tif", "image/tiff"},
};

const char *iiif_quality_name(enum iiif_quality q)
{
	return q < IIIF_Q__MAX ? quality_names[q] : "?";
}

const char *iiif_format_ext(enum iiif_format f)
{
	return f < IIIF_F__MAX ? formats[f].ext : "?";
}

const char *iiif_format_mime(enum iiif_format f)
{
	return f < IIIF_F__MAX ? formats[f].mime : "application/octet-stream";
}

/* --- numbers --- */

/* 1..IIIF_MAX_DIGITS decimal digits, nothing else. */
static bool parse_int(const char *s, size_t n, long long *out)
{
	if (n == 0 || n > IIIF_MAX_DIGITS)
		return false;
	long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* The specifications' floating point: only decimal digits and at most one
 * ".", at least one digit (no sign, exponent, space, "inf" or "nan"). */
static bool parse_float(const char *s, size_t n, double *out)
{
	char buf[32];
	size_t digits = 0, dots = 0;
	if (n == 0 || n >= sizeof buf)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.')
			dots++;
		else
			return false;
	}
	if (digits == 0 || dots > 1)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, NULL);
	return isfinite(*out);
}

/* Splits s at commas into exactly n non-empty parts. */
static bool split_commas(const char *s, size_t n, const char **part, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		const char *comma = strchr(s, ',');
		if ((comma != NULL) != (i + 1 < n))
			return false;
		part[i] = s;
		len[i] = comma ? (size_t)(comma - s) : strlen(s);
		if (len[i] == 0)
			return false;
		s = comma ? comma + 1 : s;
	}
	return true;
}

/* round(a / b) for a >= 0, b > 0 */
static long long div_round(long long a, long long b)
{
	return (2 * a + b) / (2 * b);
}

static long long at_least_1(long long v)
{
	return v < 1 ? 1 : v;
}

/* --- parsing --- */

static int parse_region(const char *s, struct iiif_params *p, const char **why)
{
	const char *part[4];
	size_t len[4];
	if (strcmp(s, "full") == 0) {
		p->region = IIIF_REGION_FULL;
		return 0;
	}
	if (strcmp(s, "square") == 0) {
		p->region = IIIF_REGION_SQUARE;
		return 0;
	}
	if (strncmp(s, "pct:", 4) == 0) {
		double v[4];
		if (!split_commas(s + 4, 4, part, len))
			goto bad;
		for (int i = 0; i < 4; i++)
			if (!parse_float(part[i], len[i], &v[i]))
				goto bad;
		if (v[2] <= 0 || v[3] <= 0) {
			*why = "region: the width and height must be greater than zero";
			return 400;
		}
		p->region = IIIF_REGION_PCT;
		p->px = v[0], p->py = v[1], p->pw = v[2], p->ph = v[3];
		return 0;
	}
	long long v[4];
	if (!split_commas(s, 4, part, len))
		goto bad;
	for (int i = 0; i < 4; i++)
		if (!parse_int(part[i], len[i], &v[i]))
			goto bad;
	if (v[2] == 0 || v[3] == 0) {
		*why = "region: the width and height must be greater than zero";
		return 400;
	}
	p->region = IIIF_REGION_PX;
	p->rx = v[0], p->ry = v[1], p->rw = v[2], p->rh = v[3];
	return 0;
bad:
	*why = "region: expected full, square, x,y,w,h or pct:x,y,w,h";
	return 400;
}

static int parse_size(int version, const char *s, struct iiif_params *p, const char **why)
{
	p->upscale = false;
	if (version == 3 && *s == '^') {
		p->upscale = true;
		s++;
	}
	if (strcmp(s, "max") == 0) {
		p->size = IIIF_SIZE_MAX;
		return 0;
	}
	if (strcmp(s, "full") == 0) {
		if (version == 3) {
			*why = "size: 'full' is Image API 2; version 3 uses 'max'";
			return 400;
		}
		p->size = IIIF_SIZE_FULL;
		return 0;
	}
	if (strncmp(s, "pct:", 4) == 0) {
		if (!parse_float(s + 4, strlen(s + 4), &p->pct))
			goto bad;
		if (p->pct <= 0) {
			*why = "size: pct:n must be greater than zero";
			return 400;
		}
		if (version == 3 && !p->upscale && p->pct > 100) {
			*why = "size: pct:n above 100 upscales, which needs ^pct:n";
			return 400;
		}
		p->size = IIIF_SIZE_PCT;
		return 0;
	}
	bool confined = false;
	if (*s == '!') {
		confined = true;
		s++;
	}
	const char *comma = strchr(s, ',');
	if (!comma || strchr(comma + 1, ','))
		goto bad;
	size_t lw = (size_t)(comma - s), lh = strlen(comma + 1);
	p->w = p->h = 0;
	if ((lw && !parse_int(s, lw, &p->w)) || (lh && !parse_int(comma + 1, lh, &p->h)))
		goto bad;
	if (!lw && !lh)
		goto bad;
	if (confined && !(lw && lh))
		goto bad;
	if ((lw && p->w == 0) || (lh && p->h == 0)) {
		*why = "size: the width and height must be greater than zero";
		return 400;
	}
	p->size = confined   ? IIIF_SIZE_CONFINED
		  : lw && lh ? IIIF_SIZE_WH
		  : lw       ? IIIF_SIZE_W
			     : IIIF_SIZE_H;
	return 0;
bad:
	*why = version == 3 ? "size: expected max, w,, ,h, pct:n, w,h or !w,h (each may start "
			      "with ^)"
			    : "size: expected full, max, w,, ,h, pct:n, w,h or !w,h";
	return 400;
}

static int parse_rotation(const char *s, struct iiif_params *p, const char **why)
{
	p->mirror = false;
	if (*s == '!') {
		p->mirror = true;
		s++;
	}
	double v;
	if (!parse_float(s, strlen(s), &v) || v > 360) {
		*why = "rotation: expected n or !n, n a number from 0 to 360";
		return 400;
	}
	v = round(v * 1e6) / 1e6;
	p->rotation = v >= 360 ? 0 : v;
	return 0;
}

static int parse_quality_format(const char *s, struct iiif_params *p, const char **why)
{
	const char *dot = strrchr(s, '.');
	if (!dot || dot == s || !dot[1]) {
		*why = "expected {quality}.{format}";
		return 400;
	}
	size_t ql = (size_t)(dot - s);
	int q = -1;
	for (int i = 0; i < IIIF_Q__MAX; i++)
		if (strlen(quality_names[i]) == ql && strncmp(s, quality_names[i], ql) == 0)
			q = i;
	if (q < 0) {
		*why = "quality: expected default, color, gray or bitonal";
		return 400;
	}
	p->quality = (enum iiif_quality)q;
	const char *ext = dot + 1;
	for (int i = 0; i < IIIF_F__MAX; i++)
		if (strcmp(ext, formats[i].ext) == 0) {
			p->format = (enum iiif_format)i;
			return 0;
		}
	if (strcmp(ext, "jp2") == 0 || strcmp(ext, "pdf") == 0) {
		*why = "format: jp2 and pdf are not implemented (jpg, png, webp, gif, tif are)";
		return 501;
	}
	*why = "format: expected jpg, png, webp, gif or tif";
	return 400;
}

int iiif_parse(int version, const char *region, const char *size, const char *rotation,
	       const char *quality_format, struct iiif_params *out, const char **why)
{
	struct iiif_params p;
	int st;
	memset(&p, 0, sizeof p);
	*why = NULL;
	if (version != 2 && version != 3) {
		*why = "unknown Image API version";
		return 400;
	}
	if (!region || !size || !rotation || !quality_format) {
		*why = "expected {region}/{size}/{rotation}/{quality}.{format}";
		return 400;
	}
	p.version = version;
	if ((st = parse_region(region, &p, why)) || (st = parse_size(version, size, &p, why)) ||
	    (st = parse_rotation(rotation, &p, why)) ||
	    (st = parse_quality_format(quality_format, &p, why)))
		return st;
	*out = p;
	return 0;
}

/* --- resolution --- */

static int resolve_region(const struct iiif_params *p, int W, int H, struct iiif_box *b,
			  const char **why)
{
	switch (p->region) {
	case IIIF_REGION_FULL:
		*b = (struct iiif_box){0, 0, W, H};
		return 0;
	case IIIF_REGION_SQUARE: {
		int s = W < H ? W : H;
		*b = (struct iiif_box){(W - s) / 2, (H - s) / 2, s, s};
		return 0;
	}
	case IIIF_REGION_PX:
		if (p->rx >= W || p->ry >= H)
			break;
		b->x = (int)p->rx;
		b->y = (int)p->ry;
		b->w = (int)(p->rw < W - p->rx ? p->rw : W - p->rx);
		b->h = (int)(p->rh < H - p->ry ? p->rh : H - p->ry);
		return 0;
	case IIIF_REGION_PCT: {
		if (p->px >= 100 || p->py >= 100)
			break;
		double x0 = round(p->px * W / 100), y0 = round(p->py * H / 100);
		double x1 = round((p->px + p->pw) * W / 100), y1 = round((p->py + p->ph) * H / 100);
		if (x0 >= W || y0 >= H)
			break;
		if (x1 > W)
			x1 = W;
		if (y1 > H)
			y1 = H;
		if (x1 <= x0)
			x1 = x0 + 1;
		if (y1 <= y0)
			y1 = y0 + 1;
		*b = (struct iiif_box){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
		return 0;
	}
	}
	*why = "region: entirely outside the image";
	return 400;
}

/* The largest output for a rw×rh region within max_area (0: none);
 * `up` allows it to grow past the region (3.0 ^max). */
static void max_dims(int rw, int rh, long long max_area, bool up, int *w, int *h)
{
	long long area = (long long)rw * rh;
	if (max_area <= 0 || (area <= max_area && !up)) {
		*w = rw;
		*h = rh;
		return;
	}
	double s = sqrt((double)max_area / (double)area);
	long long ww = at_least_1((long long)floor(rw * s)),
		  hh = at_least_1((long long)floor(rh * s));
	while (ww * hh > max_area && (ww > 1 || hh > 1)) {
		if (ww * rh >= hh * rw && ww > 1)
			ww--;
		else
			hh--;
	}
	if (ww > 65535)
		ww = 65535;
	if (hh > 65535)
		hh = 65535;
	*w = (int)ww;
	*h = (int)hh;
}

/* The output size the size parameter asks of region r->region, before the
 * checks that apply to every size (at least a pixel, upscaling, maxArea,
 * the format): *w × *h, and which side was computed from the other (r). 0,
 * or 400 with *why set. */
static int resolve_size(const struct iiif_params *p, long long max_area, struct iiif_resolved *r,
			long long *w, long long *h, const char **why)
{
	const long long rw = r->region.w, rh = r->region.h;
	switch (p->size) {
	case IIIF_SIZE_FULL:
		*w = rw, *h = rh;
		break;
	case IIIF_SIZE_MAX: {
		int mw, mh;
		max_dims(r->region.w, r->region.h, max_area, p->upscale, &mw, &mh);
		*w = mw, *h = mh;
		break;
	}
	case IIIF_SIZE_W:
		*w = p->w;
		*h = at_least_1(div_round(rh * p->w, rw));
		r->h_free = true;
		break;
	case IIIF_SIZE_H:
		*h = p->h;
		*w = at_least_1(div_round(rw * p->h, rh));
		r->w_free = true;
		break;
	case IIIF_SIZE_PCT:
		if (p->pct > 1e7) {
			*why = "size: larger than the format allows";
			return 400;
		}
		*w = llround(rw * p->pct / 100);
		*h = llround(rh * p->pct / 100);
		r->w_free = r->h_free = true;
		break;
	case IIIF_SIZE_WH:
		*w = p->w, *h = p->h;
		break;
	case IIIF_SIZE_CONFINED:
		if (p->w * rh <= p->h * rw) {
			*w = p->w;
			*h = at_least_1(div_round(rh * p->w, rw));
			r->h_free = true;
		} else {
			*h = p->h;
			*w = at_least_1(div_round(rw * p->h, rh));
			r->w_free = true;
		}
		/* 2.1 (our choice): capped at the region. 3.0 without ^: a fit
		 * larger than the region is an upscale, refused below (as the
		 * official validator's size_noup test requires for !w,h). */
		if (p->version != 3 && !p->upscale && (*w > rw || *h > rh)) {
			*w = rw, *h = rh;
			r->w_free = r->h_free = false;
		}
		break;
	}
	return 0;
}

int iiif_resolve(const struct iiif_params *p, int W, int H, const struct iiif_limits *lim,
		 struct iiif_resolved *out, const char **why)
{
	struct iiif_resolved r;
	long long max_area = lim ? lim->max_area : 0;
	int st;
	memset(&r, 0, sizeof r);
	*why = NULL;
	if (W < 1 || H < 1) {
		*why = "the image has no size";
		return 400;
	}
	if ((st = resolve_region(p, W, H, &r.region, why)))
		return st;
	const long long rw = r.region.w, rh = r.region.h;
	max_dims(r.region.w, r.region.h, max_area, false, &r.max_w, &r.max_h);

	long long w = 0, h = 0;
	if ((st = resolve_size(p, max_area, &r, &w, &h, why)))
		return st;
	if (w < 1 || h < 1) {
		*why = "size: the scaled region would be less than one pixel";
		return 400;
	}
	r.upscaled = w > rw || h > rh;
	if (r.upscaled && p->version == 3 && !p->upscale) {
		*why = "size: larger than the region, which needs the ^ prefix to upscale";
		return 400;
	}
	/* w * h > max_area, without computing w * h: a large region at pct:1e7
	 * or a 9-digit width makes it overflow a long long (fuzz_iiif_parse). */
	bool over_area = max_area > 0 && w > max_area / h;
	if (p->size == IIIF_SIZE_FULL && over_area) {
		*why = "size: 'full' of this region is larger than maxArea; use max";
		return 400;
	}
	if (over_area) {
		*why = "size: larger than maxArea";
		return 400;
	}
	int side = format_max_side(p->format);
	if (w > side || h > side) {
		*why = p->format == IIIF_F_WEBP
			       ? "size: webp images are at most 16383 pixels a side"
			       : "size: larger than the format allows";
		return 400;
	}
	r.w = (int)w;
	r.h = (int)h;
	*out = r;
	return 0;
}

/* --- canonical form --- */

void iiif_format_number(double v, char *buf, size_t len)
{
	if (v == floor(v) && fabs(v) < 1e15) {
		xsnprintf(buf, len, "%lld", (long long)v);
		return;
	}
	xsnprintf(buf, len, "%.6f", v);
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

void iiif_canonical(const struct iiif_params *p, const struct iiif_resolved *r, int W, int H,
		    char *buf, size_t len)
{
	char region[64], size[40], rot[40];
	const struct iiif_box *b = &r->region;
	if (b->x == 0 && b->y == 0 && b->w == W && b->h == H)
		xsnprintf(region, sizeof region, "full");
	else
		xsnprintf(region, sizeof region, "%d,%d,%d,%d", b->x, b->y, b->w, b->h);

	if (p->version == 3) {
		if (!r->upscaled && r->w == r->max_w && r->h == r->max_h)
			xsnprintf(size, sizeof size, "max");
		else if (p->size == IIIF_SIZE_MAX && p->upscale && r->upscaled)
			xsnprintf(size, sizeof size, "^max");
		else
			xsnprintf(size, sizeof size, "%s%d,%d", r->upscaled ? "^" : "", r->w, r->h);
	} else {
		if (r->w == b->w && r->h == b->h)
			xsnprintf(size, sizeof size, "full");
		else if (div_round((long long)b->h * r->w, b->w) == r->h)
			xsnprintf(size, sizeof size, "%d,", r->w);
		else
			xsnprintf(size, sizeof size, "%d,%d", r->w, r->h);
	}
	char num[32];
	iiif_format_number(p->rotation, num, sizeof num);
	xsnprintf(rot, sizeof rot, "%s%s", p->mirror ? "!" : "", num);
	xsnprintf(buf, len, "%s/%s/%s/%s.%s", region, size, rot, iiif_quality_name(p->quality),
		  iiif_format_ext(p->format));
}
