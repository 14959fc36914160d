/* Computed image responses from the stored pyramid (see render.h). One
 * image at a time moves through the steps; `img` always holds the current
 * one and every step replaces it, so the single exit destroys what is left. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magick/api.h>

#include "arena.h"
#include "render.h"
#include "str.h"
#include "banned.h"

/* Above this many output pixels the triangle filter replaces Lanczos: the
 * level is at most twice the output per side, so little is lost. */
#define LANCZOS_MAX_PIXELS (4LL << 20)

static long long ceil_div(long long a, long long b)
{
	return (a + b - 1) / b;
}

static long long lround_div(long long a, long long b)
{
	return (2 * a + b) / (2 * b);
}

/* The region's extent in level pixels: a partial pixel at an edge counts,
 * as the stored tiles' own sizes (ceil(w/f)) do. */
static long long level_span(long long x, long long w, long long f)
{
	return ceil_div(x + w, f) - x / f;
}

int render_choose_level(const struct render_src *src, const struct iiif_resolved *r)
{
	int f = 1;
	for (int i = 0; i < src->nsf; i++) {
		long long s = src->sf[i];
		if (level_span(r->region.x, r->region.w, s) >= r->w &&
		    level_span(r->region.y, r->region.h, s) >= r->h)
			f = src->sf[i];
	}
	return f;
}

static const char *magick_name(enum iiif_format f)
{
	switch (f) {
	case IIIF_F_JPG:
		return "JPEG";
	case IIIF_F_PNG:
		return "PNG";
	case IIIF_F_WEBP:
		return "WEBP";
	case IIIF_F_GIF:
		return "GIF";
	case IIIF_F_TIF:
		return "TIFF";
	default:
		return NULL;
	}
}

bool render_format_available(enum iiif_format f)
{
	const char *name = magick_name(f);
	if (!name)
		return false;
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	const MagickInfo *mi = GetMagickInfo(name, &exc);
	bool ok = mi && mi->encoder;
	DestroyExceptionInfo(&exc);
	return ok;
}

static const char *gm_reason(const ExceptionInfo *e)
{
	return e->reason && *e->reason ? e->reason : "unknown GraphicsMagick error";
}

/* Replaces *img by next (NULL: failure, *img is kept for the exit). */
static bool step(Image **img, Image *next)
{
	if (!next)
		return false;
	DestroyImage(*img);
	*img = next;
	return true;
}

/* Decodes one tile file (opened here so the path is never parsed by
 * GraphicsMagick as "format:name[frames]"). */
static Image *read_tile(struct arena *a, const char *path, const char **error)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		*error = arena_printf(a, "tile %s: %s", path, strerror(errno));
		return NULL;
	}
	ImageInfo *info = CloneImageInfo(NULL);
	info->file = fp;
	xsnprintf(info->filename, sizeof info->filename, "JPEG:");
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img = ReadImage(info, &exc);
	if (!img || exc.severity >= ErrorException) {
		*error = arena_printf(a, "tile %s: %s", path, gm_reason(&exc));
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

/* Copies pixels of tile (at level position tx, ty) that fall in the canvas
 * (at level position bx, by) into it. */
static bool blit(Image *canvas, long bx, long by, const Image *tile, long tx, long ty,
		 ExceptionInfo *exc)
{
	long x0 = tx > bx ? tx : bx, y0 = ty > by ? ty : by;
	long x1 = tx + (long)tile->columns, y1 = ty + (long)tile->rows;
	if (x1 > bx + (long)canvas->columns)
		x1 = bx + (long)canvas->columns;
	if (y1 > by + (long)canvas->rows)
		y1 = by + (long)canvas->rows;
	unsigned long n = (unsigned long)(x1 - x0);
	for (long y = y0; y < y1; y++) {
		const PixelPacket *s = AcquireImagePixels(tile, x0 - tx, y - ty, n, 1, exc);
		PixelPacket *d = SetImagePixels(canvas, x0 - bx, y - by, n, 1);
		if (!s || !d)
			return false;
		memcpy(d, s, n * sizeof *d);
		if (!SyncImagePixels(canvas))
			return false;
	}
	return true;
}

/* Step 2: the region at scale factor f, from the tiles that intersect it.
 * The canvas covers level pixels [bx0, bx1) × [by0, by1). */
static Image *assemble(struct arena *a, const struct render_src *src, int f, long bx0, long by0,
		       long bx1, long by1, struct render_out *out)
{
	const long T = src->tile;
	const long lw = (long)ceil_div(src->W, f), lh = (long)ceil_div(src->H, f);
	ImageInfo *info = CloneImageInfo(NULL);
	Image *canvas = AllocateImage(info);
	DestroyImageInfo(info);
	if (!canvas) {
		out->error = "cannot allocate the canvas";
		return NULL;
	}
	canvas->columns = (unsigned long)(bx1 - bx0);
	canvas->rows = (unsigned long)(by1 - by0);
	for (long j = by0 / T; j <= (by1 - 1) / T; j++) {
		for (long i = bx0 / T; i <= (bx1 - 1) / T; i++) {
			/* the tile's name is its canonical request (derive.h) */
			long long span = (long long)T * f, x = i * span, y = j * span;
			long long w = src->W - x < span ? src->W - x : span;
			long long h = src->H - y < span ? src->H - y : span;
			long tw = lw - i * T < T ? lw - i * T : T,
			     th = lh - j * T < T ? lh - j * T : T;
			const char *path = arena_printf(a, "%s/tiles/%lld,%lld,%lld,%lld_%ld.jpg",
							src->dir, x, y, w, h, tw);
			Image *tile = read_tile(a, path, &out->error);
			if (!tile) {
				DestroyImage(canvas);
				return NULL;
			}
			out->tiles_read++;
			bool ok = true;
			if ((long)tile->columns != tw || (long)tile->rows != th) {
				out->error = arena_printf(a, "tile %s is %lux%lu, not %ldx%ld",
							  path, tile->columns, tile->rows, tw, th);
				ok = false;
			} else if (!blit(canvas, bx0, by0, tile, i * T, j * T, &tile->exception)) {
				out->error = arena_printf(a, "copying tile %s: %s", path,
							  gm_reason(&canvas->exception));
				ok = false;
			}
			DestroyImage(tile);
			if (!ok) {
				DestroyImage(canvas);
				return NULL;
			}
		}
	}
	return canvas;
}

/* Step 5, in place. */
static bool apply_quality(Image *img, enum iiif_quality q)
{
	if (q != IIIF_Q_GRAY && q != IIIF_Q_BITONAL)
		return true;
	img->storage_class = DirectClass;
	const bool bitonal = q == IIIF_Q_BITONAL;
	for (long y = 0; y < (long)img->rows; y++) {
		PixelPacket *p = GetImagePixels(img, 0, y, img->columns, 1);
		if (!p)
			return false;
		for (unsigned long x = 0; x < img->columns; x++, p++) {
			unsigned long long lum =
				(299ULL * p->red + 587ULL * p->green + 114ULL * p->blue + 500) /
				1000;
			Quantum v = (Quantum)lum;
			if (bitonal) {
				v = lum * 2 >= MaxRGB ? MaxRGB : 0;
				if (img->matte)
					p->opacity = p->opacity * 2 >= MaxRGB ? TransparentOpacity
									      : OpaqueOpacity;
			}
			p->red = p->green = p->blue = v;
		}
		if (!SyncImagePixels(img))
			return false;
	}
	img->is_grayscale = MagickTrue;
	if (bitonal)
		img->is_monochrome = MagickTrue;
	return true;
}

static bool has_alpha(enum iiif_format f)
{
	return f != IIIF_F_JPG;
}

int render_image(struct arena *a, const struct render_src *src, const struct iiif_params *p,
		 const struct iiif_resolved *r, int jpeg_quality, struct render_out *out)
{
	memset(out, 0, sizeof *out);
	if (!render_format_available(p->format)) {
		out->error = arena_printf(a, "format %s is not available in this build",
					  iiif_format_ext(p->format));
		return 501;
	}
	if (src->nsf < 1 || src->tile < 1 || src->W < 1 || src->H < 1) {
		out->error = "the pyramid description is empty";
		return 500;
	}
	int status = 500;
	Image *img = NULL;
	ImageInfo *enc = NULL;
	ExceptionInfo exc;
	GetExceptionInfo(&exc);

	/* 1, 2: the level and the canvas */
	const int f = render_choose_level(src, r);
	out->level = f;
	const struct iiif_box *b = &r->region;
	long bx0 = b->x / f, by0 = b->y / f;
	long bx1 = (long)ceil_div(b->x + b->w, f), by1 = (long)ceil_div(b->y + b->h, f);
	if (!(img = assemble(a, src, f, bx0, by0, bx1, by1, out)))
		goto out;

	/* 3: the canvas shows full-image pixels [cx0, cx1) × [cy0, cy1); scale
	 * it so the region becomes w × h, then cut the region out */
	{
		long long cx0 = (long long)bx0 * f, cy0 = (long long)by0 * f;
		long long cx1 = (long long)bx1 * f < src->W ? (long long)bx1 * f : src->W;
		long long cy1 = (long long)by1 * f < src->H ? (long long)by1 * f : src->H;
		long long sw = lround_div((cx1 - cx0) * r->w, b->w);
		long long sh = lround_div((cy1 - cy0) * r->h, b->h);
		long long ox = lround_div((b->x - cx0) * r->w, b->w);
		long long oy = lround_div((b->y - cy0) * r->h, b->h);
		if (sw < ox + r->w)
			sw = ox + r->w;
		if (sh < oy + r->h)
			sh = oy + r->h;
		if ((long long)img->columns != sw || (long long)img->rows != sh) {
			FilterTypes filter = (long long)r->w * r->h <= LANCZOS_MAX_PIXELS
						     ? LanczosFilter
						     : TriangleFilter;
			if (!step(&img, ResizeImage(img, (unsigned long)sw, (unsigned long)sh,
						    filter, 1.0, &exc))) {
				out->error = arena_printf(a, "resizing: %s", gm_reason(&exc));
				goto out;
			}
		}
		if (ox != 0 || oy != 0 || sw != r->w || sh != r->h) {
			RectangleInfo g = {(unsigned long)r->w, (unsigned long)r->h, (long)ox,
					   (long)oy};
			if (!step(&img, CropImage(img, &g, &exc))) {
				out->error = arena_printf(a, "cropping: %s", gm_reason(&exc));
				goto out;
			}
		}
	}

	/* 4: mirror, then rotate clockwise */
	if (p->mirror && !step(&img, FlopImage(img, &exc))) {
		out->error = arena_printf(a, "mirroring: %s", gm_reason(&exc));
		goto out;
	}
	if (p->rotation != 0) {
		bool quarter = p->rotation == 90 || p->rotation == 180 || p->rotation == 270;
		if (!quarter) {
			if (has_alpha(p->format)) {
				SetImageOpacity(img, OpaqueOpacity); /* adds the alpha channel */
				img->background_color.red = img->background_color.green =
					img->background_color.blue = 0;
				img->background_color.opacity = TransparentOpacity;
			} else {
				img->background_color.red = img->background_color.green =
					img->background_color.blue = MaxRGB;
				img->background_color.opacity = OpaqueOpacity;
			}
		}
		if (!step(&img, RotateImage(img, p->rotation, &exc))) {
			out->error = arena_printf(a, "rotating: %s", gm_reason(&exc));
			goto out;
		}
		if (!quarter && !has_alpha(p->format))
			img->matte = MagickFalse;
	}

	/* 5 */
	if (!apply_quality(img, p->quality)) {
		out->error = arena_printf(a, "quality: %s", gm_reason(&img->exception));
		goto out;
	}

	/* 6 */
	enc = CloneImageInfo(NULL);
	xsnprintf(enc->magick, sizeof enc->magick, "%s", magick_name(p->format));
	xsnprintf(img->magick, sizeof img->magick, "%s", magick_name(p->format));
	if (p->format == IIIF_F_JPG || p->format == IIIF_F_WEBP)
		enc->quality = (unsigned long)jpeg_quality;
	if (p->format == IIIF_F_TIF)
		enc->compression = img->compression = LZWCompression;
	img->depth = 8;
	{
		size_t len = 0;
		void *blob = ImageToBlob(enc, img, &len, &exc);
		if (!blob || len == 0 || exc.severity >= ErrorException) {
			out->error = arena_printf(a, "encoding %s: %s", iiif_format_ext(p->format),
						  gm_reason(&exc));
			MagickFree(blob);
			goto out;
		}
		void *copy = arena_alloc(a, len);
		memcpy(copy, blob, len);
		MagickFree(blob);
		out->data = copy;
		out->len = len;
		out->media_type = iiif_format_mime(p->format);
	}
	status = 0;
out:
	if (img)
		DestroyImage(img);
	if (enc)
		DestroyImageInfo(enc);
	DestroyExceptionInfo(&exc);
	return status;
}
