/* The tile pyramid of one derive_image call (ingest/derive.h): the levels,
 * the tiles cut and encoded on o->threads threads, and info.txt. */
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

#include "str.h"
#include "asset/gm.h"
#include "ingest/derive_job.h"
#include "banned.h"

/* Scale factors 1, 2, 4, ... down to the first level that fits one tile;
 * level k is ceil(W/2^k) × ceil(H/2^k), as IIIF clients compute it. */
void plan_levels(struct job *j)
{
	int n = 0, total = 0;
	for (;;) {
		long long f = 1LL << n;
		int lw = (int)((j->W + f - 1) / f), lh = (int)((j->H + f - 1) / f);
		j->lv[n].w = lw;
		j->lv[n].h = lh;
		j->scale_factors[n] = (int)f;
		j->first_tile[n] = total;
		total += ((lw + TS - 1) / TS) * ((lh + TS - 1) / TS);
		n++;
		if ((lw <= TS && lh <= TS) || n == MAX_LEVELS)
			break;
	}
	j->nlevels = n;
	j->first_tile[n] = total;
}

/* Display rectangle (x, y, w, h) of the decoded image as 8-bit RGB rows. */
static void cut_full(const struct job *j, int x, int y, int w, int h, unsigned char *out)
{
	for (int r = 0; r < h; r++) {
		const PixelPacket *p = j->src + j->sa + (long)x * j->sx + (long)(y + r) * j->sy;
		for (int c = 0; c < w; c++, p += j->sx, out += 3) {
			out[0] = ScaleQuantumToChar(p->red);
			out[1] = ScaleQuantumToChar(p->green);
			out[2] = ScaleQuantumToChar(p->blue);
		}
	}
}

/* Level 1 as 2×2 box averages of the decoded pixels (an odd last row or
 * column repeats itself). */
static void halve_full(const struct job *j, struct level *d)
{
	unsigned char *o = d->px;
	for (int y = 0; y < d->h; y++) {
		long y0 = 2L * y, y1 = y0 + 1 < j->H ? y0 + 1 : y0;
		const PixelPacket *r0 = j->src + j->sa + y0 * j->sy;
		const PixelPacket *r1 = j->src + j->sa + y1 * j->sy;
		for (int x = 0; x < d->w; x++, o += 3) {
			long x0 = 2L * x * j->sx, x1 = 2L * x + 1 < j->W ? x0 + j->sx : x0;
			const PixelPacket *a = r0 + x0, *b = r0 + x1, *c = r1 + x0, *e = r1 + x1;
			unsigned red = a->red + b->red + c->red + e->red;
			unsigned green = a->green + b->green + c->green + e->green;
			unsigned blue = a->blue + b->blue + c->blue + e->blue;
			o[0] = ScaleQuantumToChar((red + 2) >> 2);
			o[1] = ScaleQuantumToChar((green + 2) >> 2);
			o[2] = ScaleQuantumToChar((blue + 2) >> 2);
		}
	}
}

/* Level k+1 from level k, 8-bit to 8-bit, the same way. */
static void halve(const struct level *s, struct level *d)
{
	const size_t ss = (size_t)s->w * 3;
	unsigned char *o = d->px;
	for (int y = 0; y < d->h; y++) {
		const unsigned char *r0 = s->px + (size_t)(2 * y) * ss;
		const unsigned char *r1 = 2 * y + 1 < s->h ? r0 + ss : r0;
		for (int x = 0; x < s->w / 2; x++, r0 += 6, r1 += 6, o += 3)
			for (int c = 0; c < 3; c++) {
				unsigned sum = r0[c] + r0[c + 3] + r1[c] + r1[c + 3];
				o[c] = (unsigned char)((sum + 2) >> 2);
			}
		if (s->w & 1) {
			for (int c = 0; c < 3; c++)
				o[c] = (unsigned char)((r0[c] + r1[c] + 1) >> 1);
			o += 3;
		}
	}
}

static bool build_levels(struct job *j)
{
	for (int k = 1; k < j->nlevels; k++) {
		struct level *l = &j->lv[k];
		l->px = gm_big_malloc((size_t)l->w * (size_t)l->h * 3);
		if (!l->px) {
			job_fail(j, false, "out of memory for a %dx%d pyramid level", l->w, l->h);
			return false;
		}
		if (k == 1)
			halve_full(j, l);
		else
			halve(&j->lv[k - 1], l);
	}
	TRACE(j, "levels built");
	return true;
}

/* Tile t's level, column and row. */
static void tile_locate(const struct job *j, int t, int *k, int *col, int *row)
{
	int lvl = 0;
	while (t >= j->first_tile[lvl + 1])
		lvl++;
	int cols = (j->lv[lvl].w + TS - 1) / TS, i = t - j->first_tile[lvl];
	*k = lvl;
	*col = i % cols;
	*row = i / cols;
}

/* Tile (col, row) of level k covers full-image region x,y,w,h (x = col*256*f,
 * w = min(256*f, W-x)) scaled to sw×sh = ceil(w/f)×ceil(h/f), which is also
 * what is left of the level: the name is the canonical IIIF request. */
static bool encode_tile(struct job *j, ImageInfo *enc, unsigned char *buf, int t, long long *bytes)
{
	int k, col, row;
	tile_locate(j, t, &k, &col, &row);
	const struct level *l = &j->lv[k];
	const long long f = j->scale_factors[k], span = TS * f;
	const int lx = col * TS, ly = row * TS;
	const int sw = l->w - lx < TS ? l->w - lx : TS, sh = l->h - ly < TS ? l->h - ly : TS;
	const long long x = col * span, y = row * span;
	const long long w = j->W - x < span ? j->W - x : span;
	const long long h = j->H - y < span ? j->H - y : span;

	if (k == 0)
		cut_full(j, lx, ly, sw, sh, buf);
	else
		for (int r = 0; r < sh; r++)
			memcpy(buf + (size_t)r * sw * 3,
			       l->px + ((size_t)(ly + r) * l->w + (size_t)lx) * 3, (size_t)sw * 3);
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img =
		ConstituteImage((unsigned long)sw, (unsigned long)sh, "RGB", CharPixel, buf, &exc);
	if (!img)
		gm_fail(j, "making a tile", &exc);
	DestroyExceptionInfo(&exc);
	if (!img)
		return false;
	char name[96];
	xsnprintf(name, sizeof name, "%lld,%lld,%lld,%lld_%d.jpg", x, y, w, h, sw);
	long long n = write_jpeg(j, enc, img, j->tiles_fd, name);
	DestroyImage(img);
	if (n < 0)
		return false;
	*bytes += n;
	return true;
}

/* Encodes tiles until none are left (level-0 tiles from TILES_LEVEL0 on, the
 * rest once every level exists), and takes the level thumbnails when they
 * are pending and possible. Any thread may run it. */
static void encode_tiles(struct job *j)
{
	ImageInfo *enc = encode_info(j);
	unsigned char *buf = malloc((size_t)TS * TS * 3);
	long long bytes = 0;
	int done = 0;
	const int total = j->first_tile[j->nlevels];
	if (!buf)
		job_fail(j, false, "out of memory for a tile buffer");
	while (buf && !atomic_load(&j->failed)) {
		/* the first thread here once the levels exist makes the thumbnails */
		if (atomic_load(&j->levels_ready) && atomic_load(&j->thumbs_pending) &&
		    atomic_exchange(&j->thumbs_pending, false))
			(void)thumbs_from_level(j);
		int t = atomic_fetch_add(&j->next_tile, 1);
		if (t >= total)
			break;
		if (t >= j->first_tile[1] && !atomic_load(&j->levels_ready) &&
		    !wait_state(j, TILES_ALL))
			break;
		if (!encode_tile(j, enc, buf, t, &bytes))
			break;
		done++;
	}
	/* all tiles were taken before the levels were: the thumbnails remain */
	if (buf && atomic_exchange(&j->thumbs_pending, false) && wait_state(j, TILES_ALL))
		(void)thumbs_from_level(j);
	free(buf);
	DestroyImageInfo(enc);
	pthread_mutex_lock(&j->mu);
	j->tiles_bytes += bytes;
	j->ntiles += done;
	pthread_mutex_unlock(&j->mu);
	TRACE(j, "a tile worker is done");
}

struct helper {
	struct job *j;
	bool thumbs_first;
	pthread_t tid;
	bool started;
};

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	gm_one_thread();
	if (h->thumbs_first)
		(void)thumbs_from_file(h->j);
	if (wait_state(h->j, TILES_LEVEL0))
		encode_tiles(h->j);
	return NULL;
}

/* Tiles, with the thumbnails alongside, on o->threads threads in all. */
void run_pyramid(struct job *j)
{
	int nhelpers = j->o->threads - 1 > MAX_HELPERS ? MAX_HELPERS : j->o->threads - 1;
	struct helper helpers[MAX_HELPERS];
	bool early_thumbs = j->thumbs_from == THUMBS_FILE_EARLY;

	for (int i = 0; i < nhelpers; i++) {
		helpers[i] = (struct helper){.j = j, .thumbs_first = early_thumbs};
		helpers[i].started =
			pthread_create(&helpers[i].tid, NULL, helper_main, &helpers[i]) == 0;
		if (helpers[i].started)
			early_thumbs = false;
	}
	if (early_thumbs) /* alone: thumbnails before the big decode */
		(void)thumbs_from_file(j);
	if (j->thumbs_from == THUMBS_LEVEL)
		atomic_store(&j->thumbs_pending, true);

	if (!atomic_load(&j->failed) && decode_full(j)) {
		set_state(j, TILES_LEVEL0);
		bool built = build_levels(j);
		atomic_store(&j->levels_ready, built);
		set_state(j, built ? TILES_ALL : TILES_ABANDON);
		encode_tiles(j);
	} else {
		set_state(j, TILES_ABANDON);
	}
	for (int i = 0; i < nhelpers; i++)
		if (helpers[i].started)
			pthread_join(helpers[i].tid, NULL);
	if (j->full)
		DestroyImage(j->full);
	j->full = NULL;
	j->src = NULL;
	for (int k = 1; k < j->nlevels; k++)
		gm_big_free(j->lv[k].px);
	if (j->thumbs_from == THUMBS_FILE_LATE && !atomic_load(&j->failed))
		(void)thumbs_from_file(j);
}

/* info.txt: "width height tile_size scale_factors...\n". */
bool write_info(struct job *j, int out_fd)
{
	char text[64 + 12 * MAX_LEVELS];
	size_t n;
	xsnprintf(text, sizeof text, "%d %d %d", j->W, j->H, TS);
	for (int k = 0; k < j->nlevels; k++) {
		n = strlen(text);
		xsnprintf(text + n, sizeof text - n, " %d", j->scale_factors[k]);
	}
	n = strlen(text);
	xsnprintf(text + n, sizeof text - n, "\n");
	return write_small(j, out_fd, "info.txt", text, n + 1);
}
