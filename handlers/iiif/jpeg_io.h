/* JPEG decoding and encoding at 8 bits per sample, straight through
 * libjpeg-turbo (the codec GraphicsMagick itself uses, installed with its
 * development package). The render path reads stored tiles and writes jpg
 * responses this way because GraphicsMagick's Q16 pixel cache costs several
 * times the decode itself (see ../shared/PERFORMANCE-NOTES.md): 8 bytes per
 * pixel written, copied and converted back for every tile of every request.
 *
 * Corrupt data is an error, never a grey patch: a stored tile that libjpeg
 * warns about is reported, not served. */
#ifndef DLCS_JPEG_IO_H
#define DLCS_JPEG_IO_H

#include <stddef.h>

struct arena;

/* Decodes part of the JPEG file at path into dst as RGB (3 bytes a pixel,
 * dst_stride bytes a row): the pixels [sx, sx + w) × [sy, sy + h) of an
 * image that must be exactly image_w × image_h, written at dst's origin.
 * Only the rows and the iMCU columns the part needs are decoded. Returns 0,
 * or -1 with *error set (arena memory) when the file is missing, corrupt,
 * of another size or of a colour space that has no RGB conversion. */
int jpeg_read_part(struct arena *a, const char *path, int image_w, int image_h, int sx, int sy,
		   int w, int h, unsigned char *dst, size_t dst_stride, const char **error);

/* Encodes w × h pixels of `channels` bytes each (1: grey, 3: RGB; rows of
 * stride bytes) as a baseline JPEG at quality 1..100 with 4:2:0 chroma.
 * The bytes are arena memory. Returns 0, or -1 with *error set. */
int jpeg_write_mem(struct arena *a, const unsigned char *px, int w, int h, int channels,
		   size_t stride, int quality, const void **out, size_t *len, const char **error);

#endif
