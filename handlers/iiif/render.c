/* Computed image responses from the stored pyramid (see render.h). The
 * pixels stay at 8 bits from the tiles' decoding to the encoder: pixel
 * buffers belong to the request's arena; the GraphicsMagick image of the
 * last steps, when there is one, is destroyed at its function's one exit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magick/api.h>

#include "arena.h"
#include "str.h"
#include "asset/gm.h"
#include "iiif/jpeg_io.h"
#include "iiif/pixels.h"
#include "iiif/render.h"
#include "banned.h"

static long long ceil_div(long long a, long long b)
{
	return (a + b - 1) / b;
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
	return name && gm_can_encode(name);
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

/* Step 2: the region at scale factor f, from the parts of the tiles that
 * intersect it, into an RGB canvas of level pixels [bx0, bx1) × [by0, by1). */
static int assemble(struct arena *a, const struct render_src *src, int f, long bx0, long by0,
		    long bx1, long by1, struct pixbuf **canvas_out, struct render_out *out)
{
	const long T = src->tile;
	const long lw = (long)ceil_div(src->W, f), lh = (long)ceil_div(src->H, f);
	struct pixbuf *canvas = pixbuf_new(a, (int)(bx1 - bx0), (int)(by1 - by0), 3);
	if (!canvas) {
		out->error =
			arena_printf(a, "no memory for a %ldx%ld canvas", bx1 - bx0, by1 - by0);
		return 503;
	}
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
			/* the part of the tile inside the canvas, in level pixels */
			long xa = i * T > bx0 ? i * T : bx0, ya = j * T > by0 ? j * T : by0;
			long xb = i * T + tw < bx1 ? i * T + tw : bx1;
			long yb = j * T + th < by1 ? j * T + th : by1;
			unsigned char *dst = canvas->px + (size_t)(ya - by0) * canvas->stride +
					     (size_t)(xa - bx0) * 3;
			if (jpeg_read_part(a, path, (int)tw, (int)th, (int)(xa - i * T),
					   (int)(ya - j * T), (int)(xb - xa), (int)(yb - ya), dst,
					   canvas->stride, &out->error) != 0)
				return 500;
			out->tiles_read++;
		}
	}
	*canvas_out = canvas;
	return 0;
}

/* The region of the canvas (level pixels from bx0, by0) scaled to w × h,
 * mirrored and turned by a multiple of 90 degrees. */
static int geometry(struct arena *a, const struct pixbuf *canvas, int f, long bx0, long by0,
		    const struct iiif_params *p, const struct iiif_resolved *r, bool quarter,
		    struct pixbuf **img_out, struct render_out *out)
{
	const struct iiif_box *b = &r->region;
	struct pixbuf *img = pixbuf_new(a, r->w, r->h, 3);
	if (!img || pixbuf_resample(a, canvas, (double)b->x / f - (double)bx0,
				    (double)b->y / f - (double)by0, (double)b->w / f,
				    (double)b->h / f, img) != 0) {
		out->error = arena_printf(a, "no memory to scale to %dx%d", r->w, r->h);
		return 503;
	}
	if (p->mirror)
		pixbuf_flop(img);
	if (quarter && p->rotation != 0 && !(img = pixbuf_rotate(a, img, (int)p->rotation))) {
		out->error = arena_printf(a, "no memory to rotate %dx%d", r->w, r->h);
		return 503;
	}
	*img_out = img;
	return 0;
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

/* Steps 4 (other angles), 5 and 6 with GraphicsMagick, for what the 8-bit
 * path does not do itself: rotations by other angles and the formats other
 * than jpg. */
static int finish_with_magick(struct arena *a, const struct pixbuf *px, const struct iiif_params *p,
			      bool quarter, int jpeg_quality, struct render_out *out)
{
	int status = 500;
	Image *img = NULL;
	ImageInfo *enc = NULL;
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	img = ConstituteImage((unsigned long)px->w, (unsigned long)px->h, px->ch == 1 ? "I" : "RGB",
			      CharPixel, px->px, &exc);
	if (!img) {
		out->error = arena_printf(a, "converting %dx%d: %s", px->w, px->h, gm_reason(&exc));
		goto out;
	}
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
		if (!step(&img, RotateImage(img, p->rotation, &exc))) {
			out->error = arena_printf(a, "rotating: %s", gm_reason(&exc));
			goto out;
		}
		if (!has_alpha(p->format))
			img->matte = MagickFalse;
		/* 5 comes after the rotation, on its interpolated edges */
		if (!apply_quality(img, p->quality)) {
			out->error = arena_printf(a, "quality: %s", gm_reason(&img->exception));
			goto out;
		}
	} else if (px->ch == 1) {
		img->is_grayscale = MagickTrue;
		if (p->quality == IIIF_Q_BITONAL)
			img->is_monochrome = MagickTrue;
	}

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

	/* 1, 2: the level and the canvas */
	const int f = render_choose_level(src, r);
	out->level = f;
	const struct iiif_box *b = &r->region;
	const long bx0 = b->x / f, by0 = b->y / f;
	const long bx1 = (long)ceil_div(b->x + b->w, f), by1 = (long)ceil_div(b->y + b->h, f);
	struct pixbuf *canvas = NULL, *img = NULL;
	int status = assemble(a, src, f, bx0, by0, bx1, by1, &canvas, out);
	if (status)
		return status;

	/* 3, 4: scale, mirror, quarter turns */
	const bool quarter =
		p->rotation == 0 || p->rotation == 90 || p->rotation == 180 || p->rotation == 270;
	if ((status = geometry(a, canvas, f, bx0, by0, p, r, quarter, &img, out)))
		return status;

	/* 5: after a quarter turn the pixels are final */
	if (quarter && (p->quality == IIIF_Q_GRAY || p->quality == IIIF_Q_BITONAL) &&
	    !(img = pixbuf_gray(a, img, p->quality == IIIF_Q_BITONAL))) {
		out->error = arena_printf(a, "no memory for the %s image",
					  iiif_quality_name(p->quality));
		return 503;
	}

	/* 6 */
	out->media_type = iiif_format_mime(p->format);
	if (quarter && p->format == IIIF_F_JPG)
		return jpeg_write_mem(a, img->px, img->w, img->h, img->ch, img->stride,
				      jpeg_quality, &out->data, &out->len, &out->error) == 0
			       ? 0
			       : 500;
	return finish_with_magick(a, img, p, quarter, jpeg_quality, out);
}
