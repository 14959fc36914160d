/* JPEG 2000 origins, decoded with OpenJPEG (Debian's GraphicsMagick has no
 * JPEG 2000 coder): JP2 files, JPX files with a JP2-compatible header, and
 * raw J2K codestreams, into a GraphicsMagick image that derive.c treats like
 * any other decoded original.
 *
 * - The header (size, components, resolution levels) is read before any
 *   pixel: a size over max_pixels is refused without decoding.
 * - A reduced resolution level can be asked for (min_w × min_h): the
 *   codestream's wavelet levels give the image at 1/2, 1/4, ... of its size
 *   for a fraction of the work of a full decode (thumbnails use this).
 * - Tiles are decoded one after the other, straight into the image's pixels,
 *   by OpenJPEG's threads; a file with a palette is decoded whole (OpenJPEG
 *   applies the palette only then).
 * - The decoder is strict: a truncated or corrupt codestream is an error,
 *   not an image with grey holes.
 * - Colour: the JP2 header's colour specification decides the model (sRGB,
 *   greyscale, sYCC, CMYK, or an ICC profile's space, which is attached to
 *   the image as its "ICM" profile for colour.h); channel definitions (cdef)
 *   say which component is which and which is alpha. A raw codestream has no
 *   colour specification: 1-2 components are grey (+ alpha), 3 or more RGB
 *   (+ alpha). Samples of 1 to 16 bits, signed or not, are scaled to
 *   GraphicsMagick's 16-bit quantum; subsampled components are repeated. */
#ifndef DLCS_JP2_H
#define DLCS_JP2_H

#include <stdbool.h>
#include <stddef.h>

#include <magick/api.h>

struct jp2_opts {
	bool ping;            /* header only: an image with columns and rows, no pixels */
	int min_w, min_h;     /* the smallest resolution level at least this large (0: full) */
	int threads;          /* OpenJPEG's decoding threads (>= 1) */
	long long max_pixels; /* refuse a larger image before decoding (0: no limit) */
};

struct jp2_result {
	int width, height; /* the full size */
	int levels;        /* resolution levels in the codestream */
	int reduce;        /* the level decoded: 0 full size, 1 half, ... */
	bool bad_input;    /* on failure: the file's fault (not ours: out of memory) */
	char error[200];
};

/* "JP2" (a JP2/JPX file) or "J2K" (a raw codestream) from a file's first
 * bytes, or NULL. */
const char *jp2_sniff(const unsigned char *b, size_t n);

/* Reads the JPEG 2000 file at path. Returns the image (the caller destroys
 * it) or NULL with r->error and r->bad_input. Safe on hostile input; calls
 * GraphicsMagick only on its own new image, so several threads may read at
 * once. */
Image *jp2_read(const char *path, const struct jp2_opts *o, struct jp2_result *r);

#endif
