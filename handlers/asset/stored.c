/* The small files of an asset that say what was stored (asset/stored.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "asset/iiif_parse.h"
#include "asset/stored.h"
#include "banned.h"

/* Sides and factors: what ingest/derive.c can write (1 .. 2^20). */
static bool parse_small(const char *s, char **end, int *out)
{
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	long v = strtol(s, end, 10);
	if (errno || v < 1 || v > (1L << 20))
		return false;
	*out = (int)v;
	return true;
}

int stored_parse_info(const char *text, struct stored *st)
{
	struct stored t = *st;
	char *end;
	const char *p = text;
	t.has_tiles = false;
	t.nsf = 0;
	if (!parse_small(p, &end, &t.W) || *end != ' ')
		return -1;
	p = end + 1;
	if (!parse_small(p, &end, &t.H) || *end != ' ')
		return -1;
	p = end + 1;
	if (!parse_small(p, &end, &t.tile))
		return -1;
	while (*end == ' ') {
		p = end + 1;
		int f;
		if (t.nsf == STORED_MAX_LEVELS || !parse_small(p, &end, &f))
			return -1;
		if (t.nsf > 0 ? f <= t.sf[t.nsf - 1] : f != 1)
			return -1; /* ascending, from full resolution */
		t.sf[t.nsf++] = f;
	}
	if (*end == '\n')
		end++;
	if (*end != '\0' || t.nsf == 0)
		return -1;
	t.has_tiles = true;
	*st = t;
	return 0;
}

static int size_cmp(const void *a, const void *b)
{
	const struct stored_size *x = a, *y = b;
	if (x->w != y->w)
		return x->w < y->w ? -1 : 1;
	return x->h < y->h ? -1 : x->h > y->h;
}

int stored_parse_sizes(struct arena *a, const char *text, size_t len, struct stored *st)
{
	yajl_val root = json_parse(a, text, len, NULL);
	if (!root || !YAJL_IS_OBJECT(root))
		return -1;
	size_t n = 0;
	struct stored_size sizes[STORED_MAX_SIZES];
	for (int open = 1; open >= 0; open--) {
		yajl_val list = json_get(root, open ? "o" : "a");
		if (!list)
			continue;
		if (!YAJL_IS_ARRAY(list))
			return -1;
		for (size_t i = 0; i < list->u.array.len; i++) {
			yajl_val pair = list->u.array.values[i];
			if (!YAJL_IS_ARRAY(pair) || pair->u.array.len != 2 ||
			    !json_is_int(pair->u.array.values[0]) ||
			    !json_is_int(pair->u.array.values[1]) || n == STORED_MAX_SIZES)
				return -1;
			long long w = YAJL_GET_INTEGER(pair->u.array.values[0]);
			long long h = YAJL_GET_INTEGER(pair->u.array.values[1]);
			if (w < 1 || h < 1 || w > 65535 || h > 65535)
				return -1;
			sizes[n++] = (struct stored_size){(int)w, (int)h, open == 1};
		}
	}
	qsort(sizes, n, sizeof *sizes, size_cmp);
	memcpy(st->sizes, sizes, n * sizeof *sizes);
	st->nsizes = n;
	st->has_sizes = true;
	return 0;
}

/* A small file's text (NUL-terminated, arena memory), or NULL. */
static char *read_small(struct arena *a, const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	/* A buffer of the file's size (+1 to see it grow), not of max: a
	 * manifest reads a thousand of these, and arena memory is zeroed. */
	struct stat sb;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 0 &&
	    (unsigned long long)sb.st_size < max)
		max = (size_t)sb.st_size + 1;
	char *buf = arena_alloc(a, max + 1);
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == max)
			break;
	}
	close(fd);
	if (got == max)
		return NULL; /* not what derive writes */
	buf[got] = '\0';
	*len = got;
	return buf;
}

void stored_load_sizes(struct arena *a, const char *dir, struct stored *st)
{
	size_t len;
	const char *path = arena_printf(a, "%s/s.json", dir);
	char *text = read_small(a, path, 16384, &len);
	if (text && stored_parse_sizes(a, text, len, st) != 0) {
		log_warn("%s is malformed", path);
		st->nsizes = 0;
		st->has_sizes = false;
	}
}

void stored_load(struct arena *a, const char *dir, struct stored *st)
{
	memset(st, 0, sizeof *st);
	size_t len;
	const char *path = arena_printf(a, "%s/info.txt", dir);
	char *text = read_small(a, path, 4096, &len);
	if (text && stored_parse_info(text, st) != 0)
		log_warn("%s is malformed", path);
	stored_load_sizes(a, dir, st);
}

/* --- the sizes of info.json --- */

/* Level k of the pyramid as OpenSeadragon numbers them (0 smallest; sf of
 * the smallest is 2^m): ceil(W/sf) x ceil(H/sf), as ingest/derive.c cuts it. */
static struct stored_size level_size(const struct stored *st, int sf)
{
	return (struct stored_size){(st->W + sf - 1) / sf, (st->H + sf - 1) / sf, true};
}

/* OpenSeadragon 5's maxLevel: round(log2(largest scale factor)). */
static int osd_max_level(const struct stored *st)
{
	int m = 0;
	while ((1 << (m + 1)) <= st->sf[st->nsf - 1])
		m++;
	/* round(): a factor nearer the next power of two counts as it */
	if (st->sf[st->nsf - 1] * 2 > 3 * (1 << m))
		m++;
	return m;
}

static int width_cmp(const void *a, const void *b)
{
	const struct stored_size *x = a, *y = b;
	return (x->w > y->w) - (x->w < y->w);
}

/* True when OpenSeadragon 5 would take list[0..n) for the pyramid's level
 * sizes and they are not: it then asks for tiles of an image of the wrong
 * size. list is sorted by width. */
static bool osd5_misreads(const struct stored *st, const struct stored_size *list, size_t n)
{
	int m = osd_max_level(st);
	if (n != (size_t)m && n != (size_t)m + 1)
		return false;
	for (int k = 0; k <= m; k++) {
		struct stored_size want = level_size(st, 1 << (m - k));
		struct stored_size got =
			(size_t)k < n ? list[k] : (struct stored_size){st->W, st->H, true};
		if (got.w != want.w || got.h != want.h)
			return true;
	}
	return false;
}

static bool listed(const struct stored_size *list, size_t n, struct stored_size s)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].w == s.w && list[i].h == s.h)
			return true;
	return false;
}

static bool is_level(const struct stored *st, struct stored_size s)
{
	for (int i = 0; i < st->nsf; i++) {
		struct stored_size l = level_size(st, st->sf[i]);
		if (l.w == s.w && l.h == s.h)
			return true;
	}
	return false;
}

size_t stored_info_sizes(const struct stored *st, long long max_area, struct stored_size *out)
{
	size_t n = 0;
	for (size_t i = 0; i < st->nsizes; i++)
		if (max_area <= 0 || (long long)st->sizes[i].w * st->sizes[i].h <= max_area)
			out[n++] = st->sizes[i];
	qsort(out, n, sizeof *out, width_cmp);
	if (!st->has_tiles || st->nsf == 0 || !osd5_misreads(st, out, n))
		return n;
	/* The levels, smallest first, until the list is read right. */
	for (int i = st->nsf - 1; i >= 0; i--) {
		struct stored_size l = level_size(st, st->sf[i]);
		if ((max_area > 0 && (long long)l.w * l.h > max_area) || listed(out, n, l))
			continue;
		out[n++] = l;
		qsort(out, n, sizeof *out, width_cmp);
		if (!osd5_misreads(st, out, n))
			return n;
	}
	/* Still read as levels: drop the thumbnails that are not levels. */
	while (osd5_misreads(st, out, n)) {
		size_t i = n;
		while (i > 0 && is_level(st, out[i - 1]))
			i--;
		if (i == 0)
			break; /* only levels left, in order: read right */
		memmove(&out[i - 1], &out[i], (n - i) * sizeof *out);
		n--;
	}
	return n;
}

static bool side_ok(int got, int want, bool free_side)
{
	return got == want || (free_side && (got == want - 1 || got == want + 1));
}

bool stored_match_tile(const struct stored *st, const struct iiif_resolved *r, char *name,
		       size_t len, int *tw, int *th)
{
	if (!st->has_tiles)
		return false;
	const struct iiif_box *b = &r->region;
	for (int i = 0; i < st->nsf; i++) {
		long long f = st->sf[i], span = (long long)st->tile * f;
		if (b->x % span || b->y % span)
			continue;
		long long w = st->W - b->x < span ? st->W - b->x : span;
		long long h = st->H - b->y < span ? st->H - b->y : span;
		if (b->w != w || b->h != h)
			continue;
		int sw = (int)((w + f - 1) / f), sh = (int)((h + f - 1) / f);
		if (side_ok(r->w, sw, r->w_free) && side_ok(r->h, sh, r->h_free)) {
			xsnprintf(name, len, "%d,%d,%lld,%lld_%d.jpg", b->x, b->y, w, h, sw);
			*tw = sw;
			*th = sh;
			return true;
		}
	}
	return false;
}

int stored_match_size(const struct stored_size *sizes, size_t n, int W, int H,
		      const struct iiif_resolved *r)
{
	const struct iiif_box *b = &r->region;
	if (b->x != 0 || b->y != 0 || b->w != W || b->h != H)
		return -1;
	int near = -1;
	for (size_t i = 0; i < n; i++) {
		if (sizes[i].w == r->w && sizes[i].h == r->h)
			return (int)i;
		if (near < 0 && side_ok(r->w, sizes[i].w, r->w_free) &&
		    side_ok(r->h, sizes[i].h, r->h_free))
			near = (int)i;
	}
	return near;
}
