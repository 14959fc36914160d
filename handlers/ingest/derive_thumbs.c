/* Thumbnails of one derive_image call (ingest/derive.h: which sizes, and
 * from what), and s.json, the list of their sizes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <magick/api.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "ingest/derive_job.h"
#include "banned.h"

static const struct derive_thumb_size default_thumbs[] = {
	{1024, 1024, true, false},
	{400, 400, true, false},
	{200, 200, true, false},
	{100, 100, true, false},
};

static long long div_round(long long a, long long b)
{
	return (2 * a + b) / (2 * b);
}

static int longest(const struct thumb *t)
{
	return t->w > t->h ? t->w : t->h;
}

/* The size one policy parameter gives a W×H image: never larger than the
 * image unless upscaling was asked for ("^"); an upscale past libjpeg's limit
 * or max_pixels falls back to the full size, and nothing passes 65500 px. */
static struct thumb thumb_target(const struct derive_thumb_size *s, int W, int H,
				 long long max_pixels)
{
	long long w, h;
	if (s->confined ? (long long)W * s->h >= (long long)H * s->w : s->w > 0) {
		w = s->w;
		h = div_round((long long)H * s->w, W);
	} else {
		h = s->h;
		w = div_round((long long)W * s->h, H);
	}
	if ((w > W || h > H) && (!s->upscale || w > JPEG_MAX_SIDE || h > JPEG_MAX_SIDE ||
				 (max_pixels > 0 && w * h > max_pixels))) {
		w = W;
		h = H;
	}
	if (w > JPEG_MAX_SIDE) { /* a panorama's full size: as wide as JPEG allows */
		h = div_round(h * JPEG_MAX_SIDE, w);
		w = JPEG_MAX_SIDE;
	}
	if (h > JPEG_MAX_SIDE) {
		w = div_round(w * JPEG_MAX_SIDE, h);
		h = JPEG_MAX_SIDE;
	}
	return (struct thumb){w < 1 ? 1 : (int)w, h < 1 ? 1 : (int)h};
}

static int thumb_cmp(const void *a, const void *b)
{
	const struct thumb *x = a, *y = b;
	if (longest(x) != longest(y))
		return longest(y) - longest(x);
	if (x->w != y->w)
		return y->w - x->w;
	return y->h - x->h;
}

/* The policy's sizes plus the default set, largest first, one per longest edge. */
void plan_thumbs(struct job *j)
{
	const struct derive_opts *o = j->o;
	size_t n = 0;
	for (size_t i = 0; i < o->nthumb_sizes; i++)
		j->thumbs[n++] = thumb_target(&o->thumb_sizes[i], j->W, j->H, o->max_pixels);
	for (size_t i = 0; i < sizeof default_thumbs / sizeof *default_thumbs; i++)
		j->thumbs[n++] = thumb_target(&default_thumbs[i], j->W, j->H, o->max_pixels);
	qsort(j->thumbs, n, sizeof *j->thumbs, thumb_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || longest(&j->thumbs[k - 1]) != longest(&j->thumbs[i]))
			j->thumbs[k++] = j->thumbs[i];
	j->nthumbs = k;
}

/* Writes every planned thumbnail from src (oriented, RGB, opaque, no
 * profiles), each resized from the previous one. src stays the caller's. */
bool write_thumbs(struct job *j, Image *src)
{
	ImageInfo *enc = encode_info(j);
	Image *cur = src;
	bool ok = true;
	long long bytes = 0;
	for (size_t i = 0; i < j->nthumbs && ok && !atomic_load(&j->failed); i++) {
		const struct thumb *t = &j->thumbs[i];
		if ((int)cur->columns != t->w || (int)cur->rows != t->h) {
			ExceptionInfo exc;
			GetExceptionInfo(&exc);
			Image *next = ResizeImage(cur, (unsigned long)t->w, (unsigned long)t->h,
						  LanczosFilter, 1.0, &exc);
			if (!next || exc.severity >= ErrorException) {
				gm_fail(j, "resizing a thumbnail", &exc);
				if (next)
					DestroyImage(next);
				DestroyExceptionInfo(&exc);
				ok = false;
				break;
			}
			DestroyExceptionInfo(&exc);
			if (cur != src)
				DestroyImage(cur);
			cur = next;
		}
		char name[32];
		xsnprintf(name, sizeof name, "%d.jpg", longest(t));
		long long n = write_jpeg(j, enc, cur, j->thumbs_fd, name);
		if (n < 0)
			ok = false;
		else
			bytes += n;
	}
	if (cur != src)
		DestroyImage(cur);
	DestroyImageInfo(enc);
	pthread_mutex_lock(&j->mu);
	j->thumbs_bytes += bytes;
	if (ok)
		j->nthumbs_done = (int)j->nthumbs;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

/* Thumbnails from the smallest level (1..) that covers the largest one. */
bool thumbs_from_level(struct job *j)
{
	const struct thumb *big = &j->thumbs[0];
	int k = j->nlevels - 1;
	while (k > 1 && (j->lv[k].w < big->w || j->lv[k].h < big->h))
		k--;
	const struct level *l = &j->lv[k];
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img = ConstituteImage((unsigned long)l->w, (unsigned long)l->h, "RGB", CharPixel,
				     l->px, &exc);
	bool ok = false;
	if (!img) {
		gm_fail(j, "making a thumbnail", &exc);
	} else {
		ok = write_thumbs(j, img);
		DestroyImage(img);
	}
	DestroyExceptionInfo(&exc);
	TRACE(j, "thumbnails written from a level");
	return ok;
}

/* Where the thumbnails start from (see the top of the file). */
enum thumb_source thumbs_source(const struct job *j)
{
	if (!j->o->thumbs)
		return THUMBS_NONE;
	const struct thumb *big = &j->thumbs[0];
	/* JPEG 2000: a reduced resolution level, when one covers the thumbnails */
	bool jp2_reduced = is_jp2(j) && 2LL * big->w <= j->W && 2LL * big->h <= j->H;
	if (!j->o->tiles || strcmp(j->magick, "JPEG") == 0 || jp2_reduced)
		return THUMBS_FILE_EARLY;
	if (j->nlevels > 1 && j->lv[1].w >= big->w && j->lv[1].h >= big->h)
		return THUMBS_LEVEL;
	return THUMBS_FILE_LATE;
}

/* s.json: [w,h] of every thumbnail, largest first, open ("o") when its
 * longest edge is at most max_unauthorised (all of them when -1), else "a". */
bool write_sizes(struct job *j, int out_fd)
{
	struct arena *a = arena_new(1024);
	struct jw *w = jw_new(a);
	const int mu = j->o->max_unauthorised;
	jw_obj(w);
	for (int open = 1; open >= 0; open--) {
		jw_key(w, open ? "o" : "a");
		jw_arr(w);
		for (size_t i = 0; i < j->nthumbs; i++) {
			const struct thumb *t = &j->thumbs[i];
			if ((mu < 0 || longest(t) <= mu) != open)
				continue;
			jw_arr(w);
			jw_int(w, t->w);
			jw_int(w, t->h);
			jw_arr_end(w);
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
	size_t len = 0;
	const char *text = jw_text(w, &len);
	bool ok = false;
	if (!text)
		job_fail(j, false, "writing s.json: the JSON generator failed");
	else
		ok = write_small(j, out_fd, "s.json", text, len);
	arena_free(a);
	return ok;
}
