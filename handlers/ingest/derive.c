/* Image derivatives with GraphicsMagick's C API (see derive.h for the layout).
 *
 * Plan for a W×H original; GraphicsMagick's Q16 pixels take 8 bytes each:
 *  1. The first bytes choose the decoder (JPEG, PNG, TIFF, GIF, WebP, BMP).
 *     GraphicsMagick never guesses from a name, so a text file never reaches
 *     its TXT coder, and the file is handed over open, so no path is parsed
 *     as "format:name[frames]".
 *  2. PingImage reads the header only: dimensions and EXIF orientation. A
 *     zero size or more than max_pixels stops here, before any decoding.
 *  3. The full image is read once (8 B/px), converted to RGB and flattened
 *     onto white in place. Its pixels then stay where the decoder put them:
 *     level-0 tiles are cut straight from them and level 1 is their 2×2 box
 *     average, both already turned to display orientation and 8 bits. Lower
 *     levels halve level 1 the same way. Levels 1.. are 8-bit RGB (1 B/px in
 *     all), so the peak is about 9 B/px plus the thumbnails' small images
 *     (1.21 × W×H×8 measured at 6000×4000, where GraphicsMagick's ScaleImage
 *     halving took 1.3 × and a separate 8-bit copy of level 0 1.375 ×).
 *  4. Tiles are JPEG-encoded on o->threads threads, each from its own small
 *     image. Workers read the decoded pixels as plain memory and never call
 *     GraphicsMagick on the shared image (its pixel views are keyed by OpenMP
 *     thread number, which is 0 on every one of our threads). Level-0 tiles
 *     start as soon as the decode ends, while the main thread builds levels.
 *  5. A JPEG's thumbnails come from a second, shrink-on-load read
 *     (ImageInfo->size lets libjpeg decode at 1/2, 1/4 or 1/8 scale) on a
 *     helper thread while the main thread decodes the full image. Other
 *     formats have no shrink-on-load: their thumbnails start from the
 *     smallest pyramid level that covers them (or from a full read when there
 *     are no tiles, or when the largest thumbnail needs level 0). Each size is
 *     resized from the previous, larger one.
 * A failure latches the first error and the other threads stop at their next
 * tile. The caller owns out_dir and removes it after a failure. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <magick/api.h>

#include "arena.h"
#include "ingest/derive.h"
#include "asset/thumb_alias.h"
#include "json.h"
#include "str.h"
#include "banned.h"

#define TS            DERIVE_TILE_SIZE
#define MAX_LEVELS    32
#define MAX_PLAN      (DERIVE_MAX_THUMBS + 4)
#define MAX_HELPERS   15
#define JPEG_MAX_SIDE 65500 /* libjpeg's limit: no thumbnail is upscaled past it */

/* strerror() may share one buffer between threads; GNU strerror_r with a
 * buffer of the caller's statement does not. */
#define ERRNO_STR(e) strerror_r((e), (char[128]){0}, 128)

/* Build with -DDERIVE_TRACE to time the phases on stderr (the benchmark does). */
#ifdef DERIVE_TRACE
#define TRACE(j, what) fprintf(stderr, "derive %7.3f s %s\n", elapsed(j), what)
#else
#define TRACE(j, what) ((void)(j))
#endif

static const struct derive_thumb_size default_thumbs[] = {
	{1024, 1024, true, false},
	{400, 400, true, false},
	{200, 200, true, false},
	{100, 100, true, false},
};

/* A pyramid level as displayed. Level 0 has no buffer of its own: it is the
 * decoded image, read through job.src; levels 1.. are 8-bit RGB rows. */
struct level {
	int w, h;
	unsigned char *px;
};

struct thumb {
	int w, h;
};

enum thumb_source {
	THUMBS_NONE,
	THUMBS_FILE_EARLY, /* JPEG: shrink-on-load read alongside the main decode */
	THUMBS_LEVEL,      /* from a pyramid level, once the levels exist */
	THUMBS_FILE_LATE,  /* a second full read after the pyramid is done */
};

enum tiles_state {
	TILES_ABANDON = -1,
	TILES_WAIT,   /* decoding */
	TILES_LEVEL0, /* level-0 tiles can be cut */
	TILES_ALL,    /* every level exists */
};

struct job {
	const struct derive_opts *o;
	const char *src_path;
	const char *magick; /* decoder chosen from the first bytes */
	int fw, fh;         /* as stored in the file */
	int W, H;           /* as displayed (after EXIF orientation) */
	int orient;         /* EXIF orientation 1..8 */
	int tiles_fd, thumbs_fd;
	struct timespec t0;

	struct thumb thumbs[MAX_PLAN];
	size_t nthumbs;
	enum thumb_source thumbs_from;
	atomic_bool thumbs_pending; /* THUMBS_LEVEL: not yet taken by a worker */

	struct level lv[MAX_LEVELS];
	int nlevels, scale_factors[MAX_LEVELS];
	int first_tile[MAX_LEVELS + 1]; /* index of each level's first tile */
	atomic_int next_tile;
	atomic_bool levels_ready; /* state has reached TILES_ALL */

	/* The decoded original while tiles are cut. Display pixel (x, y) is
	 * src[sa + x*sx + y*sy]; only the main thread calls GraphicsMagick on it. */
	Image *full;
	const PixelPacket *src;
	long sa, sx, sy;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	enum tiles_state state;
	bool bad_input;
	char error[256];
	long long tiles_bytes, thumbs_bytes;
	int ntiles, nthumbs_done;
	atomic_bool failed;
};

#ifdef DERIVE_TRACE
static double elapsed(const struct job *j)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - j->t0.tv_sec) + (double)(t.tv_nsec - j->t0.tv_nsec) / 1e9;
}
#endif

static void job_fail(struct job *j, bool bad_input, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void job_fail(struct job *j, bool bad_input, const char *fmt, ...)
{
	pthread_mutex_lock(&j->mu);
	if (!atomic_load(&j->failed)) {
		va_list ap;
		va_start(ap, fmt);
		/* a long decoder message is cut on purpose: the cause is at its start */
		if (vsnprintf(j->error, sizeof j->error, fmt, ap) < 0)
			j->error[0] = '\0';
		va_end(ap);
		j->bad_input = bad_input;
		atomic_store(&j->failed, true);
	}
	pthread_mutex_unlock(&j->mu);
}

static void set_state(struct job *j, enum tiles_state state)
{
	pthread_mutex_lock(&j->mu);
	j->state = state;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Waits until the state reaches want; false if the pyramid was abandoned. */
static bool wait_state(struct job *j, enum tiles_state want)
{
	pthread_mutex_lock(&j->mu);
	while (j->state != TILES_ABANDON && j->state < want)
		pthread_cond_wait(&j->cv, &j->mu);
	bool ok = j->state != TILES_ABANDON;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

/* --- memory for pixels --- */

/* GraphicsMagick's pixel caches and the pyramid levels are mapped directly,
 * with transparent huge pages advised (Debian's THP setting is "madvise"):
 * otherwise a 6000×4000 decode takes 47,000 page faults, which cost most of
 * its time on these virtual machines. GraphicsMagick's allocator hooks are
 * plain function pointers, so the table of mapped blocks is static: with
 * GraphicsMagick's own state it is the only process-wide state here. Under
 * AddressSanitizer no block is mapped: everything stays on the checked heap. */
#if defined(__SANITIZE_ADDRESS__)
#define DERIVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DERIVE_ASAN 1
#endif
#endif

#define BIG_MIN   ((size_t)4 << 20)
#define BIG_SLOTS 64

static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void *p;
	size_t len;
} big_blocks[BIG_SLOTS];

/* A mapped block of len bytes, or NULL (then the caller uses malloc). */
static void *big_map(size_t len)
{
#if defined(DERIVE_ASAN) || !defined(MADV_HUGEPAGE)
	(void)len;
	return NULL;
#else
	if (len < BIG_MIN)
		return NULL;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	pthread_mutex_lock(&big_mu);
	int i = 0;
	while (i < BIG_SLOTS && big_blocks[i].p)
		i++;
	if (i < BIG_SLOTS) {
		big_blocks[i].p = p;
		big_blocks[i].len = len;
	}
	pthread_mutex_unlock(&big_mu);
	if (i == BIG_SLOTS) {
		munmap(p, len);
		return NULL;
	}
	return p;
#endif
}

/* The length of a mapped block (0: not one of ours); with forget, the slot
 * is released too. */
static size_t big_find(const void *p, bool forget)
{
	size_t len = 0;
	pthread_mutex_lock(&big_mu);
	for (int i = 0; i < BIG_SLOTS; i++)
		if (big_blocks[i].p == p) {
			len = big_blocks[i].len;
			if (forget)
				big_blocks[i].p = NULL;
			break;
		}
	pthread_mutex_unlock(&big_mu);
	return len;
}

static void *big_malloc(size_t len)
{
	void *p = big_map(len);
	return p ? p : malloc(len);
}

static void big_free(void *p)
{
	if (!p)
		return;
	size_t len = big_find(p, true);
	if (len)
		munmap(p, len);
	else
		free(p);
}

static void *big_realloc(void *p, size_t len)
{
	if (!p)
		return big_malloc(len);
	size_t old = big_find(p, false);
	if (!old && len < BIG_MIN)
		return realloc(p, len);
	if (old && len == 0) {
		big_free(p);
		return NULL;
	}
	void *q = big_map(len);
	if (!q) {
		if (!old)
			return realloc(p, len);
		if (!(q = malloc(len)))
			return NULL;
	}
	if (!old)
		old = malloc_usable_size(p);
	memcpy(q, p, old < len ? old : len);
	big_free(p);
	return q;
}

/* --- GraphicsMagick helpers --- */

/* A failure is an error, or a corrupt-image warning: GraphicsMagick reports a
 * truncated JPEG ("Premature end of JPEG file") only as a warning and hands
 * back an image whose missing part is grey. libjpeg's note about extraneous
 * bytes before a marker is common in camera files and harmless: it is the one
 * corrupt-image warning let through. */
static bool gm_failed(const ExceptionInfo *e)
{
	if (e->severity >= ErrorException)
		return true;
	if (e->severity == CorruptImageWarning)
		return !(e->reason && strstr(e->reason, "extraneous bytes"));
	return false;
}

static const char *gm_reason(const ExceptionInfo *e)
{
	return e->reason && *e->reason ? e->reason : "unknown GraphicsMagick error";
}

/* The input's fault, unless resources or I/O failed. */
static bool gm_bad_input(const ExceptionInfo *e)
{
	return e->severity != ResourceLimitError && e->severity != ResourceLimitWarning &&
	       e->severity != FileOpenError && e->severity != BlobError &&
	       e->severity != CacheError;
}

static void gm_fail(struct job *j, const char *what, const ExceptionInfo *e)
{
	job_fail(j, gm_bad_input(e), "%s: %s", what, gm_reason(e));
}

/* GraphicsMagick's OpenMP loops (the thumbnail resize) run on the calling
 * thread alone: the parallelism is ours, across tiles. OpenMP's thread count
 * belongs to each thread, so every thread that works on an image asks. */
static void gm_one_thread(void)
{
	(void)SetMagickResourceLimit(ThreadsResource, 1);
}

/* Reads (or pings) the original with the sniffed decoder, first frame only,
 * an optional size hint; NULL after latching the error. */
static Image *read_original(struct job *j, bool ping, const char *size_hint, const char *what)
{
	FILE *fp = fopen(j->src_path, "rb");
	if (!fp) {
		job_fail(j, false, "cannot open the original: %s", ERRNO_STR(errno));
		return NULL;
	}
	ImageInfo *info = CloneImageInfo(NULL);
	info->file = fp;
	xsnprintf(info->filename, sizeof info->filename, "%s:", j->magick);
	info->subimage = 0;
	info->subrange = 1;
	if (size_hint)
		(void)CloneString(&info->size, size_hint);
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img = ping ? PingImage(info, &exc) : ReadImage(info, &exc);
	if (img && img->next) { /* a decoder that ignored subrange */
		Image *rest = img->next;
		img->next = NULL;
		rest->previous = NULL;
		DestroyImageList(rest);
	}
	if (!img || gm_failed(&exc)) {
		gm_fail(j, what, &exc);
		if (img)
			DestroyImage(img);
		img = NULL;
	}
	DestroyExceptionInfo(&exc);
	info->file = NULL;
	DestroyImageInfo(info);
	fclose(fp);
	return img;
}

/* Composites onto white in place (JPEG has no alpha; transparent pixels would
 * otherwise show whatever colour they hide). */
static bool flatten_white(Image *img)
{
	if (!img->matte)
		return true;
	for (long y = 0; y < (long)img->rows; y++) {
		PixelPacket *p = GetImagePixels(img, 0, y, img->columns, 1);
		if (!p)
			return false;
		for (unsigned long x = 0; x < img->columns; x++, p++) {
			uint64_t a = MaxRGB - p->opacity, t = (uint64_t)MaxRGB * (MaxRGB - a);
			p->red = (Quantum)((p->red * a + t + MaxRGB / 2) / MaxRGB);
			p->green = (Quantum)((p->green * a + t + MaxRGB / 2) / MaxRGB);
			p->blue = (Quantum)((p->blue * a + t + MaxRGB / 2) / MaxRGB);
			p->opacity = OpaqueOpacity;
		}
		if (!SyncImagePixels(img))
			return false;
	}
	img->matte = MagickFalse;
	return true;
}

/* RGB (CMYK and the rest converted), opaque. */
static bool normalise(struct job *j, Image *img, const char *what)
{
	if ((!IsRGBColorspace(img->colorspace) && !TransformColorspace(img, RGBColorspace)) ||
	    !flatten_white(img)) {
		gm_fail(j, what, &img->exception);
		return false;
	}
	return true;
}

static ImageInfo *encode_info(const struct job *j)
{
	ImageInfo *enc = CloneImageInfo(NULL);
	xsnprintf(enc->magick, sizeof enc->magick, "JPEG");
	enc->quality = (unsigned long)j->o->jpeg_quality;
	return enc;
}

/* JPEG-encodes img and writes it as name under dir_fd: bytes written, or -1. */
static long long write_jpeg(struct job *j, ImageInfo *enc, Image *img, int dir_fd, const char *name)
{
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	size_t len = 0;
	img->depth = 8;
	xsnprintf(img->magick, sizeof img->magick, "JPEG");
	void *blob = ImageToBlob(enc, img, &len, &exc);
	if (!blob || len == 0 || exc.severity >= ErrorException) {
		job_fail(j, false, "encoding %s: %s", name, gm_reason(&exc));
		MagickFree(blob);
		DestroyExceptionInfo(&exc);
		return -1;
	}
	DestroyExceptionInfo(&exc);
	long long rv = (long long)len;
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
		rv = -1;
	} else {
		const unsigned char *p = blob;
		size_t left = len;
		while (left > 0) {
			ssize_t n = write(fd, p, left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				job_fail(j, false, "writing %s: %s", name,
					 n < 0 ? ERRNO_STR(errno) : "short write");
				rv = -1;
				break;
			}
			p += n;
			left -= (size_t)n;
		}
		if (close(fd) != 0 && rv >= 0) {
			job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
			rv = -1;
		}
	}
	MagickFree(blob);
	return rv;
}

/* --- thumbnails --- */

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
static void plan_thumbs(struct job *j)
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
static bool write_thumbs(struct job *j, Image *src)
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

/* Thumbnails from a read of the original; a JPEG is decoded at the smallest
 * DCT scale that still covers the largest thumbnail. */
static bool thumbs_from_file(struct job *j)
{
	const struct thumb *big = &j->thumbs[0];
	int tw = j->orient >= 5 ? big->h : big->w; /* the hint is in file orientation */
	int th = j->orient >= 5 ? big->w : big->h;
	char hint[48], *size = NULL;
	/* GraphicsMagick divides by the truncated ratio: ask only when it is >= 2 */
	if (strcmp(j->magick, "JPEG") == 0 && 2LL * tw <= j->fw && 2LL * th <= j->fh) {
		xsnprintf(hint, sizeof hint, "%dx%d", tw, th);
		size = hint;
	}
	Image *img = read_original(j, false, size, "decoding the original");
	if (!img)
		return false;
	TRACE(j, "thumbnail source read");
	bool ok = false;
	if (j->orient > 1) {
		ExceptionInfo exc;
		GetExceptionInfo(&exc);
		Image *o = AutoOrientImage(img, (OrientationType)j->orient, &exc);
		if (!o)
			gm_fail(j, "orienting a thumbnail", &exc);
		DestroyExceptionInfo(&exc);
		if (!o)
			goto out;
		DestroyImage(img);
		img = o;
		img->orientation = TopLeftOrientation;
	}
	(void)StripImage(img); /* no EXIF to rotate it twice, no stale profiles */
	if (normalise(j, img, "converting a thumbnail"))
		ok = write_thumbs(j, img);
	TRACE(j, "thumbnails written");
out:
	DestroyImage(img);
	return ok;
}

/* Thumbnails from the smallest level (1..) that covers the largest one. */
static bool thumbs_from_level(struct job *j)
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

/* --- the pyramid --- */

/* Scale factors 1, 2, 4, ... down to the first level that fits one tile;
 * level k is ceil(W/2^k) × ceil(H/2^k), as IIIF clients compute it. */
static void plan_levels(struct job *j)
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

/* Where display pixel (x, y) sits in the decoded (file-oriented) pixels:
 * index sa + x*sx + y*sy, for each EXIF orientation. */
static void orient_map(struct job *j)
{
	const long fw = j->fw, fh = j->fh, last = (fh - 1) * fw;
	switch (j->orient) {
	case 2: /* mirrored */
		j->sa = fw - 1, j->sx = -1, j->sy = fw;
		break;
	case 3: /* turned 180° */
		j->sa = last + fw - 1, j->sx = -1, j->sy = -fw;
		break;
	case 4: /* flipped */
		j->sa = last, j->sx = 1, j->sy = -fw;
		break;
	case 5: /* transposed */
		j->sa = 0, j->sx = fw, j->sy = 1;
		break;
	case 6: /* turned 90° clockwise */
		j->sa = last, j->sx = -fw, j->sy = 1;
		break;
	case 7: /* transversed */
		j->sa = last + fw - 1, j->sx = -fw, j->sy = -1;
		break;
	case 8: /* turned 90° anticlockwise */
		j->sa = fw - 1, j->sx = fw, j->sy = -1;
		break;
	default:
		j->sa = 0, j->sx = 1, j->sy = fw;
		break;
	}
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

/* Decodes the original into j->full and points j->src at its pixels. */
static bool decode_full(struct job *j)
{
	TRACE(j, "decode starts");
	j->full = read_original(j, false, NULL, "decoding the original");
	if (!j->full)
		return false;
	TRACE(j, "decoded");
	Image *img = j->full;
	if ((int)img->columns != j->fw || (int)img->rows != j->fh) {
		job_fail(j, true, "decoded %lux%lu, but the header said %dx%d", img->columns,
			 img->rows, j->fw, j->fh);
		return false;
	}
	if (!normalise(j, img, "converting the original"))
		return false;
	/* Whole rows of an in-memory cache come back in place: the last row's
	 * pointer, asked for on its own, must sit where the first row's says. */
	const long fw = j->fw, fh = j->fh;
	const PixelPacket *last =
		AcquireImagePixels(img, 0, fh - 1, (unsigned long)fw, 1, &img->exception);
	const PixelPacket *first =
		AcquireImagePixels(img, 0, 0, (unsigned long)fw, 1, &img->exception);
	if (!first || !last) {
		gm_fail(j, "reading decoded pixels", &img->exception);
		return false;
	}
	if (fh > 1 && last != first + (fh - 1) * fw) {
		job_fail(j, false, "the pixel cache is not in memory (raise the memory limit)");
		return false;
	}
	j->src = first;
	orient_map(j);
	return true;
}

static bool build_levels(struct job *j)
{
	for (int k = 1; k < j->nlevels; k++) {
		struct level *l = &j->lv[k];
		l->px = big_malloc((size_t)l->w * (size_t)l->h * 3);
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
static void run_pyramid(struct job *j)
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
		big_free(j->lv[k].px);
	if (j->thumbs_from == THUMBS_FILE_LATE && !atomic_load(&j->failed))
		(void)thumbs_from_file(j);
}

/* --- small files --- */

static bool write_small(struct job *j, int dir_fd, const char *name, const char *text, size_t len)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
		return false;
	}
	bool ok = write(fd, text, len) == (ssize_t)len;
	if (close(fd) != 0)
		ok = false;
	if (!ok)
		job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
	return ok;
}

/* s.json: [w,h] of every thumbnail, largest first, open ("o") when its
 * longest edge is at most max_unauthorised (all of them when -1), else "a". */
static bool write_sizes(struct job *j, int out_fd)
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

/* info.txt: "width height tile_size scale_factors...\n". */
static bool write_info(struct job *j, int out_fd)
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

/* The size aliases for nginx's fast paths (iiif/thumb_alias.h): full/ for
 * /iiif-img/, thumbs/ for /thumbs/, from the s.json and info.txt just
 * written, so that they are swapped in with them. */
static bool write_aliases(struct job *j, const char *out_dir)
{
	struct arena *a = arena_new(16 * 1024);
	char err[256];
	long long area = j->o->image_max_area ? j->o->image_max_area : THUMB_ALIAS_DEFAULT_MAX_AREA;
	bool ok = thumb_aliases_sync(a, out_dir, j->W, j->H, area, err, sizeof err) >= 0;
	if (!ok)
		job_fail(j, false, "size aliases: %s", err);
	arena_free(a);
	return ok;
}

/* --- entry points --- */

static bool parse_dim(const char *s, size_t len, int *out)
{
	if (len == 0 || len > 5)
		return false;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > JPEG_MAX_SIDE)
		return false;
	*out = v;
	return true;
}

bool derive_parse_size(const char *s, struct derive_thumb_size *out)
{
	struct derive_thumb_size r = {0};
	if (!s)
		return false;
	if (*s == '^') {
		r.upscale = true;
		s++;
	}
	if (*s == '!') {
		r.confined = true;
		s++;
	}
	const char *comma = strchr(s, ',');
	if (!comma)
		return false;
	size_t lw = (size_t)(comma - s), lh = strlen(comma + 1);
	if (lw > 0 && !parse_dim(s, lw, &r.w))
		return false;
	if (lh > 0 && !parse_dim(comma + 1, lh, &r.h))
		return false;
	/* "!w,h" needs both; otherwise exactly one of "w," and ",h" */
	if (r.confined ? !(lw > 0 && lh > 0) : (lw > 0) == (lh > 0))
		return false;
	*out = r;
	return true;
}

void derive_init(const char *argv0, long long memory_limit)
{
	MagickAllocFunctions(big_free, big_malloc, big_realloc);
	InitializeMagick(argv0);
	if (memory_limit > 0) {
		(void)SetMagickResourceLimit(MemoryResource, memory_limit);
		(void)SetMagickResourceLimit(MapResource, memory_limit);
		(void)SetMagickResourceLimit(PixelsResource, memory_limit / 8);
	}
	/* past the memory limit a read fails instead of spilling pixels to disk */
	(void)SetMagickResourceLimit(DiskResource, 0);
	/* far beyond any photograph or scan, far below a hostile header */
	(void)SetMagickResourceLimit(WidthResource, 1 << 20);
	(void)SetMagickResourceLimit(HeightResource, 1 << 20);
	gm_one_thread();
}

static const char *sniff(const unsigned char *b, size_t n)
{
	if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
		return "JPEG";
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "PNG";
	if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0 ||
		       memcmp(b, "II+\0", 4) == 0 || memcmp(b, "MM\0+", 4) == 0))
		return "TIFF";
	if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
		return "GIF";
	if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
		return "WEBP";
	if (n >= 14 && b[0] == 'B' && b[1] == 'M')
		return "BMP";
	return NULL;
}

/* Chooses the decoder and reads the header: fw, fh, orient, W, H. */
static bool probe(struct job *j)
{
	int fd = open(j->src_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		job_fail(j, false, "cannot open the original: %s", ERRNO_STR(errno));
		return false;
	}
	struct stat st;
	unsigned char head[16];
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, head, sizeof head);
	close(fd);
	if (n < 0) {
		job_fail(j, false, "cannot read the original");
		return false;
	}
	if (n == 0) {
		job_fail(j, true, "the original is empty (0 bytes)");
		return false;
	}
	j->magick = sniff(head, (size_t)n);
	if (!j->magick) {
		job_fail(j, true,
			 "not an image in a supported format "
			 "(JPEG, PNG, TIFF, GIF, WebP, BMP)");
		return false;
	}

	Image *img = read_original(j, true, NULL, "reading the image header");
	if (!img)
		return false;
	bool ok = false;
	long long px = (long long)img->columns * (long long)img->rows;
	if (img->columns == 0 || img->rows == 0 || img->columns > (1 << 20) ||
	    img->rows > (1 << 20)) {
		job_fail(j, true, "the image has no usable size (%lux%lu)", img->columns,
			 img->rows);
	} else if (j->o->max_pixels > 0 && px > j->o->max_pixels) {
		job_fail(j, true, "the image is %lux%lu (%lld pixels), over the limit of %lld",
			 img->columns, img->rows, px, j->o->max_pixels);
	} else {
		j->fw = (int)img->columns;
		j->fh = (int)img->rows;
		/* a JPEG ping leaves orientation unset, but the EXIF profile is there */
		int orient = (int)img->orientation;
		const ImageAttribute *a = NULL;
		if (orient < 1 || orient > 8)
			a = GetImageAttribute(img, "EXIF:Orientation");
		if (a && a->value)
			orient = atoi(a->value);
		j->orient = orient >= 2 && orient <= 8 ? orient : 1;
		j->W = j->orient >= 5 ? j->fh : j->fw;
		j->H = j->orient >= 5 ? j->fw : j->fh;
		ok = true;
	}
	DestroyImage(img);
	return ok;
}

static int open_subdir(struct job *j, int out_fd, const char *name)
{
	if (mkdirat(out_fd, name, 0755) != 0 && errno != EEXIST) {
		job_fail(j, false, "creating %s/: %s", name, ERRNO_STR(errno));
		return -1;
	}
	int fd = openat(out_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		job_fail(j, false, "opening %s/: %s", name, ERRNO_STR(errno));
	return fd;
}

/* Where the thumbnails start from (see the top of the file). */
static enum thumb_source thumbs_source(const struct job *j)
{
	if (!j->o->thumbs)
		return THUMBS_NONE;
	if (!j->o->tiles || strcmp(j->magick, "JPEG") == 0)
		return THUMBS_FILE_EARLY;
	const struct thumb *big = &j->thumbs[0];
	if (j->nlevels > 1 && j->lv[1].w >= big->w && j->lv[1].h >= big->h)
		return THUMBS_LEVEL;
	return THUMBS_FILE_LATE;
}

int derive_image(const char *src_path, const char *out_dir, const struct derive_opts *o,
		 struct derive_result *r)
{
	memset(r, 0, sizeof *r);
	struct job *j = calloc(1, sizeof *j);
	if (!j) {
		xsnprintf(r->error, sizeof r->error, "out of memory");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	j->o = o;
	j->src_path = src_path;
	j->tiles_fd = j->thumbs_fd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	atomic_init(&j->failed, false);
	atomic_init(&j->thumbs_pending, false);
	atomic_init(&j->next_tile, 0);
	atomic_init(&j->levels_ready, false);
	j->state = TILES_WAIT;
	int out_fd = -1;
	gm_one_thread();

	if (o->threads < 1 || o->jpeg_quality < 1 || o->jpeg_quality > 100 ||
	    o->nthumb_sizes > DERIVE_MAX_THUMBS) {
		job_fail(j, false, "bad derive options");
		goto out;
	}
	if (!probe(j) || (!o->tiles && !o->thumbs))
		goto out;
	out_fd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (out_fd < 0) {
		job_fail(j, false, "opening %s: %s", out_dir, ERRNO_STR(errno));
		goto out;
	}
	if (o->tiles) {
		plan_levels(j);
		if ((j->tiles_fd = open_subdir(j, out_fd, "tiles")) < 0)
			goto out;
	}
	if (o->thumbs) {
		plan_thumbs(j);
		if ((j->thumbs_fd = open_subdir(j, out_fd, "thumbs")) < 0)
			goto out;
	}
	j->thumbs_from = thumbs_source(j);
	if (o->tiles)
		run_pyramid(j);
	else
		(void)thumbs_from_file(j);
	if (!atomic_load(&j->failed) && o->thumbs)
		(void)write_sizes(j, out_fd);
	if (!atomic_load(&j->failed) && o->tiles)
		(void)write_info(j, out_fd);
	if (!atomic_load(&j->failed) && (o->tiles || o->thumbs))
		(void)write_aliases(j, out_dir);
out:
	if (out_fd >= 0)
		close(out_fd);
	if (j->tiles_fd >= 0)
		close(j->tiles_fd);
	if (j->thumbs_fd >= 0)
		close(j->thumbs_fd);
	int rv = atomic_load(&j->failed) ? -1 : 0;
	if (rv == 0) {
		r->width = j->W;
		r->height = j->H;
		r->ntiles = j->ntiles;
		r->tiles_bytes = j->tiles_bytes;
		r->nthumbs = j->nthumbs_done;
		r->thumbs_bytes = j->thumbs_bytes;
	} else {
		r->bad_input = j->bad_input;
		xsnprintf(r->error, sizeof r->error, "%s", j->error);
	}
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
	return rv;
}
