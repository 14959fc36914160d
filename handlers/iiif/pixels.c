/* 8-bit pixel operations (see pixels.h). Resampling is separable: the rows
 * are filtered to the output width into a temporary buffer, then its
 * columns to the output height. Weights are fixed point with 14 fraction
 * bits and sum to exactly 1.0 for every output pixel, so a flat area stays
 * flat and no sum can pass 255. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "iiif/pixels.h"
#include "banned.h"

#define WEIGHT_BITS 14
#define WEIGHT_ONE  (1 << WEIGHT_BITS)

static void free_pixbuf(void *p)
{
	struct pixbuf *b = p;
	free(b->px);
	b->px = NULL;
}

struct pixbuf *pixbuf_new(struct arena *a, int w, int h, int ch)
{
	if (w < 1 || h < 1 || (ch != 1 && ch != 3))
		return NULL;
	size_t stride = (size_t)w * (size_t)ch;
	if ((size_t)h > SIZE_MAX / stride)
		return NULL;
	unsigned char *px = malloc(stride * (size_t)h);
	if (!px)
		return NULL;
	struct pixbuf *b = arena_alloc(a, sizeof *b);
	*b = (struct pixbuf){px, w, h, ch, stride};
	arena_cleanup(a, free_pixbuf, b);
	return b;
}

/* For each of n output positions along one axis: the first source index,
 * how many follow, and their weights (maxn of them a position). */
struct taps {
	int n, maxn;
	int *first;
	int *count;
	int16_t *weight;
};

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int taps_build(struct arena *a, int n, int src_n, double x0, double span, struct taps *t)
{
	const double scale = span / n;
	const double support = scale > 1.0 ? scale : 1.0;
	t->n = n;
	t->maxn = (int)ceil(2.0 * support) + 1;
	if ((size_t)n > SIZE_MAX / sizeof(int16_t) / (size_t)t->maxn)
		return -1;
	t->first = arena_alloc(a, (size_t)n * sizeof *t->first);
	t->count = arena_alloc(a, (size_t)n * sizeof *t->count);
	t->weight = arena_alloc(a, (size_t)n * (size_t)t->maxn * sizeof *t->weight);
	double *wd = arena_alloc(a, (size_t)t->maxn * sizeof *wd);
	for (int i = 0; i < n; i++) {
		/* the output pixel's centre in source index space (pixel j's
		 * centre is at j) */
		const double c = x0 + (i + 0.5) * scale - 0.5;
		int lo = (int)floor(c - support) + 1, hi = (int)ceil(c + support) - 1;
		if (hi < lo)
			hi = lo;
		const int first = clampi(lo, 0, src_n - 1), last = clampi(hi, 0, src_n - 1);
		const int cnt = last - first + 1;
		memset(wd, 0, (size_t)t->maxn * sizeof *wd);
		double sum = 0;
		for (int j = lo; j <= hi; j++) {
			double d = fabs(j - c) / support;
			double wt = d < 1.0 ? 1.0 - d : 0.0;
			wd[clampi(j, 0, src_n - 1) - first] += wt;
			sum += wt;
		}
		if (sum <= 0) { /* c is exactly between taps at a far edge */
			wd[clampi((int)lround(c), first, last) - first] = 1.0;
			sum = 1.0;
		}
		int16_t *w = t->weight + (size_t)i * (size_t)t->maxn;
		int total = 0, big = 0;
		for (int k = 0; k < cnt; k++) {
			w[k] = (int16_t)lround(wd[k] / sum * WEIGHT_ONE);
			total += w[k];
			if (w[k] > w[big])
				big = k;
		}
		w[big] = (int16_t)(w[big] + (WEIGHT_ONE - total));
		t->first[i] = first;
		t->count[i] = cnt;
	}
	return 0;
}

/* One output row of the vertical pass: the weighted sum of cnt source rows
 * (stride apart) of n bytes each. */
static void vertical_row(const unsigned char *restrict first, size_t stride,
			 const int16_t *restrict w, int cnt, int32_t *restrict acc,
			 unsigned char *restrict out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc[i] = WEIGHT_ONE / 2;
	for (int k = 0; k < cnt; k++) {
		const unsigned char *restrict row = first + (size_t)k * stride;
		const int32_t wk = w[k];
		for (size_t i = 0; i < n; i++)
			acc[i] += wk * row[i];
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(acc[i] >> WEIGHT_BITS);
}

int pixbuf_resample(struct arena *a, const struct pixbuf *src, double x0, double y0, double sw,
		    double sh, struct pixbuf *dst)
{
	if (src->ch != dst->ch || sw <= 0 || sh <= 0)
		return -1;
	const int ch = src->ch;
	struct taps tx, ty;
	if (taps_build(a, dst->w, src->w, x0, sw, &tx) != 0 ||
	    taps_build(a, dst->h, src->h, y0, sh, &ty) != 0)
		return -1;

	/* columns first, to the output height: each output row is a weighted
	 * sum of whole source rows (the inner loop runs over the contiguous
	 * row, which the compiler vectorises); the narrower pass then only
	 * filters out_h rows */
	const int xlo = tx.first[0], xhi = tx.first[tx.n - 1] + tx.count[tx.n - 1] - 1;
	const size_t off = (size_t)xlo * (size_t)ch, n = (size_t)(xhi - xlo + 1) * (size_t)ch;
	struct pixbuf *mid = pixbuf_new(a, xhi - xlo + 1, dst->h, ch);
	if (!mid)
		return -1;
	int32_t *acc = arena_alloc(a, n * sizeof *acc);
	for (int y = 0; y < ty.n; y++) {
		const int16_t *w = ty.weight + (size_t)y * (size_t)ty.maxn;
		vertical_row(src->px + (size_t)ty.first[y] * src->stride + off, src->stride, w,
			     ty.count[y], acc, mid->px + (size_t)y * mid->stride, n);
	}

	/* then rows to the output width */
	for (int y = 0; y < dst->h; y++) {
		const unsigned char *s = mid->px + (size_t)y * mid->stride;
		unsigned char *d = dst->px + (size_t)y * dst->stride;
		for (int x = 0; x < tx.n; x++) {
			const int16_t *w = tx.weight + (size_t)x * (size_t)tx.maxn;
			const unsigned char *p = s + (size_t)(tx.first[x] - xlo) * (size_t)ch;
			const int cnt = tx.count[x];
			if (ch == 3) {
				int32_t r = WEIGHT_ONE / 2, g = WEIGHT_ONE / 2, b = WEIGHT_ONE / 2;
				for (int k = 0; k < cnt; k++, p += 3) {
					r += w[k] * p[0];
					g += w[k] * p[1];
					b += w[k] * p[2];
				}
				d[0] = (unsigned char)(r >> WEIGHT_BITS);
				d[1] = (unsigned char)(g >> WEIGHT_BITS);
				d[2] = (unsigned char)(b >> WEIGHT_BITS);
				d += 3;
			} else {
				int32_t v = WEIGHT_ONE / 2;
				for (int k = 0; k < cnt; k++)
					v += w[k] * p[k];
				*d++ = (unsigned char)(v >> WEIGHT_BITS);
			}
		}
	}
	return 0;
}

void pixbuf_flop(struct pixbuf *b)
{
	for (int y = 0; y < b->h; y++) {
		unsigned char *l = b->px + (size_t)y * b->stride;
		unsigned char *r = l + (size_t)(b->w - 1) * (size_t)b->ch;
		for (; l < r; l += b->ch, r -= b->ch) {
			for (int c = 0; c < b->ch; c++) {
				unsigned char t = l[c];
				l[c] = r[c];
				r[c] = t;
			}
		}
	}
}

struct pixbuf *pixbuf_rotate(struct arena *a, const struct pixbuf *b, int degrees)
{
	const bool quarter = degrees == 90 || degrees == 270;
	if (!quarter && degrees != 180)
		return NULL;
	struct pixbuf *o = pixbuf_new(a, quarter ? b->h : b->w, quarter ? b->w : b->h, b->ch);
	if (!o)
		return NULL;
	const int ch = b->ch;
	for (int y = 0; y < b->h; y++) {
		const unsigned char *s = b->px + (size_t)y * b->stride;
		for (int x = 0; x < b->w; x++, s += ch) {
			/* where source (x, y) lands, turning clockwise */
			int ox, oy;
			if (degrees == 90) {
				ox = b->h - 1 - y;
				oy = x;
			} else if (degrees == 180) {
				ox = b->w - 1 - x;
				oy = b->h - 1 - y;
			} else {
				ox = y;
				oy = b->w - 1 - x;
			}
			memcpy(o->px + (size_t)oy * o->stride + (size_t)ox * (size_t)ch, s,
			       (size_t)ch);
		}
	}
	return o;
}

struct pixbuf *pixbuf_gray(struct arena *a, const struct pixbuf *b, bool bitonal)
{
	if (b->ch != 3)
		return NULL;
	struct pixbuf *o = pixbuf_new(a, b->w, b->h, 1);
	if (!o)
		return NULL;
	for (int y = 0; y < b->h; y++) {
		const unsigned char *s = b->px + (size_t)y * b->stride;
		unsigned char *d = o->px + (size_t)y * o->stride;
		for (int x = 0; x < b->w; x++, s += 3) {
			unsigned lum = (299u * s[0] + 587u * s[1] + 114u * s[2] + 500u) / 1000u;
			d[x] = bitonal ? (lum >= 128 ? 255 : 0) : (unsigned char)lum;
		}
	}
	return o;
}
