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
 * tile. The caller owns out_dir and removes it after a failure.
 *
 * This file holds the job, the reading and decoding of the original (the
 * decoders' seam: sniff, probe, read_original, normalise, decode_full) and
 * the entry points; derive_job.h lists the others. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <magick/api.h>

#include "str.h"
#include "asset/gm.h"
#include "ingest/colour.h"
#include "ingest/derive.h"
#include "ingest/derive_job.h"
#include "ingest/jp2.h"
#include "banned.h"

#ifdef DERIVE_TRACE
double derive_elapsed(const struct job *j)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - j->t0.tv_sec) + (double)(t.tv_nsec - j->t0.tv_nsec) / 1e9;
}
#endif

void job_fail(struct job *j, bool bad_input, const char *fmt, ...)
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

void set_state(struct job *j, enum tiles_state state)
{
	pthread_mutex_lock(&j->mu);
	j->state = state;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Waits until the state reaches want; false if the pyramid was abandoned. */
bool wait_state(struct job *j, enum tiles_state want)
{
	pthread_mutex_lock(&j->mu);
	while (j->state != TILES_ABANDON && j->state < want)
		pthread_cond_wait(&j->cv, &j->mu);
	bool ok = j->state != TILES_ABANDON;
	pthread_mutex_unlock(&j->mu);
	return ok;
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

/* The input's fault, unless resources or I/O failed. */
static bool gm_bad_input(const ExceptionInfo *e)
{
	return e->severity != ResourceLimitError && e->severity != ResourceLimitWarning &&
	       e->severity != FileOpenError && e->severity != BlobError &&
	       e->severity != CacheError;
}

void gm_fail(struct job *j, const char *what, const ExceptionInfo *e)
{
	job_fail(j, gm_bad_input(e), "%s: %s", what, gm_reason(e));
}

/* --- formats: JPEG 2000 (jp2.h) --- */

bool is_jp2(const struct job *j)
{
	return strcmp(j->magick, "JP2") == 0 || strcmp(j->magick, "J2K") == 0;
}

/* A JPEG 2000 original through OpenJPEG; a size hint "WxH" decodes the
 * smallest resolution level that covers it. */
static Image *read_jp2(struct job *j, bool ping, const char *size_hint, const char *what)
{
	struct jp2_opts jo = {.ping = ping,
			      .threads = size_hint && j->o->tiles ? 1 : j->o->threads,
			      .max_pixels = j->o->max_pixels};
	if (size_hint && sscanf(size_hint, "%dx%d", &jo.min_w, &jo.min_h) != 2)
		jo.min_w = jo.min_h = 0;
	struct jp2_result jr;
	Image *img = jp2_read(j->src_path, &jo, &jr);
	if (!img)
		job_fail(j, jr.bad_input, "%s: %s", what, jr.error);
	return img;
}

/* --- end of formats --- */

/* Reads (or pings) the original with the sniffed decoder, first frame only,
 * an optional size hint; NULL after latching the error. */
static Image *read_original(struct job *j, bool ping, const char *size_hint, const char *what)
{
	if (is_jp2(j)) /* Debian's GraphicsMagick has no JPEG 2000 coder */
		return read_jp2(j, ping, size_hint, what);
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

/* sRGB (colour.h: from an embedded ICC profile), RGB (CMYK and the rest
 * converted), opaque. */
static bool normalise(struct job *j, Image *img, const char *what)
{
	char err[160];
	if (colour_to_srgb(img, j->o->threads, err, sizeof err, NULL, 0) < 0) {
		job_fail(j, false, "%s: %s", what, err);
		return false;
	}
	if ((!IsRGBColorspace(img->colorspace) && !TransformColorspace(img, RGBColorspace)) ||
	    !flatten_white(img)) {
		gm_fail(j, what, &img->exception);
		return false;
	}
	return true;
}

/* --- decoding --- */

/* Thumbnails from a read of the original; a JPEG is decoded at the smallest
 * DCT scale that still covers the largest thumbnail. */
bool thumbs_from_file(struct job *j)
{
	const struct thumb *big = &j->thumbs[0];
	int tw = j->orient >= 5 ? big->h : big->w; /* the hint is in file orientation */
	int th = j->orient >= 5 ? big->w : big->h;
	char hint[48], *size = NULL;
	/* GraphicsMagick divides by the truncated ratio: ask only when it is
	 * >= 2; JPEG 2000 chooses its resolution level itself */
	if ((strcmp(j->magick, "JPEG") == 0 && 2LL * tw <= j->fw && 2LL * th <= j->fh) ||
	    is_jp2(j)) {
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
	/* the ICC profile is used (normalise), then nothing is kept: no EXIF to
	 * rotate it twice, no stale profiles */
	if (normalise(j, img, "converting a thumbnail")) {
		(void)StripImage(img);
		ok = write_thumbs(j, img);
	}
	TRACE(j, "thumbnails written");
out:
	DestroyImage(img);
	return ok;
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

/* Decodes the original into j->full and points j->src at its pixels. */
bool decode_full(struct job *j)
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
	j->magick = jp2_sniff(head, (size_t)n);
	if (!j->magick)
		j->magick = sniff(head, (size_t)n);
	if (!j->magick) {
		job_fail(j, true,
			 "not an image in a supported format "
			 "(JPEG, JPEG 2000, PNG, TIFF, GIF, WebP, BMP)");
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
	if (!atomic_load(&j->failed) && (o->tiles || o->thumbs))
		(void)write_info_static(j, out_dir);
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
	gm_init(argv0, memory_limit);
}
