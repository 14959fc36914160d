/* 8-bit pixel buffers and the operations the render path applies to them:
 * resampling, mirroring, quarter turns and the grey/bitonal qualities.
 *
 * A buffer's memory is malloc'd (a large output must fail with an error,
 * not abort the process as the arena does) and freed by a cleanup on the
 * request's arena, its one owner. */
#ifndef DLCS_PIXELS_H
#define DLCS_PIXELS_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

struct pixbuf {
	unsigned char *px;
	int w, h;
	int ch;        /* bytes a pixel: 1 grey, 3 RGB */
	size_t stride; /* bytes a row: w * ch */
};

/* A w × h buffer of ch channels, uninitialised; NULL when the memory is not
 * available. */
struct pixbuf *pixbuf_new(struct arena *a, int w, int h, int ch);

/* Fills dst (its size is the output's) from the rectangle of src that
 * starts at (x0, y0) and spans sw × sh source pixels (real numbers: pixel
 * i covers [i, i + 1)), with a triangle filter whose support widens with
 * the reduction (so every source pixel counts when shrinking) and bilinear
 * interpolation when enlarging. Edges repeat the outermost pixels. src and
 * dst have the same channels. 0, or -1 when memory is short. */
int pixbuf_resample(struct arena *a, const struct pixbuf *src, double x0, double y0, double sw,
		    double sh, struct pixbuf *dst);

/* Mirrors b left to right, in place. */
void pixbuf_flop(struct pixbuf *b);

/* b turned clockwise by 90, 180 or 270 degrees (a new buffer; NULL when
 * memory is short). */
struct pixbuf *pixbuf_rotate(struct arena *a, const struct pixbuf *b, int degrees);

/* A one-channel copy of RGB b: Rec. 601 luma, (299 R + 587 G + 114 B) /
 * 1000 rounded; with bitonal, 255 where that luma is at least half (128)
 * and 0 elsewhere. NULL when memory is short. */
struct pixbuf *pixbuf_gray(struct arena *a, const struct pixbuf *b, bool bitonal);

#endif
