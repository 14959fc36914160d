/* libjpeg-turbo at 8 bits (see jpeg_io.h). libjpeg reports fatal errors by
 * calling error_exit, which must not return: it longjmps back to the
 * function that set the jump, which then destroys the codec. Everything the
 * error path frees is reachable from the codec's struct, so no local needs
 * to survive the jump. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

#include "arena.h"
#include "str.h"
#include "iiif/jpeg_io.h"
#include "banned.h"

/* A stored tile is a few tens of kilobytes; anything past this is not one. */
#define TILE_FILE_MAX (64L << 20)

struct jerr {
	struct jpeg_error_mgr mgr; /* first: libjpeg sees only this */
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr c)
{
	struct jerr *e = (struct jerr *)c->err;
	c->err->format_message(c, e->msg);
	longjmp(e->jump, 1);
}

/* Warnings (level -1) are corrupt data libjpeg would paper over: fatal. */
static void on_message(j_common_ptr c, int level)
{
	if (level < 0)
		on_error(c);
}

static void jerr_init(struct jerr *e)
{
	jpeg_std_error(&e->mgr);
	e->mgr.error_exit = on_error;
	e->mgr.emit_message = on_message;
	e->msg[0] = '\0';
}

/* The whole file, in arena memory. */
static unsigned char *slurp(struct arena *a, const char *path, size_t *len, const char **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error = arena_printf(a, "%s: %s", path, strerror(errno));
		return NULL;
	}
	unsigned char *buf = NULL;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		*error = arena_printf(a, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > TILE_FILE_MAX) {
		*error = arena_printf(a, "%s: %lld bytes is not a tile", path,
				      (long long)st.st_size);
		goto out;
	}
	size_t want = (size_t)st.st_size, got = 0;
	buf = arena_alloc(a, want);
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error = arena_printf(a, "%s: %s", path,
					      n < 0 ? strerror(errno) : "shorter than its size");
			buf = NULL;
			goto out;
		}
		got += (size_t)n;
	}
	*len = want;
out:
	close(fd);
	return buf;
}

int jpeg_read_part(struct arena *a, const char *path, int image_w, int image_h, int sx, int sy,
		   int w, int h, unsigned char *dst, size_t dst_stride, const char **error)
{
	if (sx < 0 || sy < 0 || w < 1 || h < 1 || sx + w > image_w || sy + h > image_h) {
		*error = arena_printf(a, "%s: part %d,%d,%d,%d is outside %dx%d", path, sx, sy, w,
				      h, image_w, image_h);
		return -1;
	}
	size_t len = 0;
	unsigned char *data = slurp(a, path, &len, error);
	if (!data)
		return -1;
	if (len > ULONG_MAX) {
		*error = arena_printf(a, "%s: too large", path);
		return -1;
	}

	struct jpeg_decompress_struct d;
	struct jerr e;
	jerr_init(&e);
	d.err = &e.mgr;
	jpeg_create_decompress(&d);
	if (setjmp(e.jump)) {
		*error = arena_printf(a, "%s: %s", path, e.msg);
		jpeg_destroy_decompress(&d);
		return -1;
	}
	jpeg_mem_src(&d, data, (unsigned long)len);
	jpeg_read_header(&d, TRUE);
	if ((int)d.image_width != image_w || (int)d.image_height != image_h) {
		*error = arena_printf(a, "%s is %ux%u, not %dx%d", path, d.image_width,
				      d.image_height, image_w, image_h);
		jpeg_destroy_decompress(&d);
		return -1;
	}
	/* grey and YCbCr convert to RGB; CMYK/YCCK would need a profile */
	if (d.jpeg_color_space != JCS_GRAYSCALE && d.jpeg_color_space != JCS_YCbCr &&
	    d.jpeg_color_space != JCS_RGB) {
		*error = arena_printf(a, "%s: colour space %d has no RGB conversion", path,
				      (int)d.jpeg_color_space);
		jpeg_destroy_decompress(&d);
		return -1;
	}
	d.out_color_space = JCS_RGB;
	d.dct_method = JDCT_ISLOW;
	jpeg_start_decompress(&d);

	/* crop_scanline widens the columns to whole iMCUs: xoff <= sx */
	JDIMENSION xoff = (JDIMENSION)sx, cw = (JDIMENSION)w;
	if (sx != 0 || w != image_w)
		jpeg_crop_scanline(&d, &xoff, &cw);
	if (sy > 0 && jpeg_skip_scanlines(&d, (JDIMENSION)sy) != (JDIMENSION)sy)
		longjmp(e.jump, 1);
	unsigned char *row = arena_alloc(a, (size_t)d.output_width * 3);
	const size_t skip = ((size_t)sx - xoff) * 3, bytes = (size_t)w * 3;
	for (int y = 0; y < h; y++) {
		JSAMPROW rows[1] = {row};
		if (jpeg_read_scanlines(&d, rows, 1) != 1) {
			xsnprintf(e.msg, sizeof e.msg, "ends at row %d", sy + y);
			longjmp(e.jump, 1);
		}
		memcpy(dst + (size_t)y * dst_stride, row + skip, bytes);
	}
	/* the rows below the part are not needed: abort rather than finish */
	jpeg_abort_decompress(&d);
	jpeg_destroy_decompress(&d);
	return 0;
}

/* The encoder's output buffer is malloc'd by libjpeg (jpeg_mem_dest); it is
 * copied into the arena and freed on every path. */
struct jenc {
	struct jpeg_compress_struct c;
	struct jerr e;
	unsigned char *buf;
	unsigned long len;
};

static int encode(struct jenc *j, const unsigned char *px, int w, int h, int channels,
		  size_t stride, int quality)
{
	if (setjmp(j->e.jump))
		return -1;
	jpeg_mem_dest(&j->c, &j->buf, &j->len);
	j->c.image_width = (JDIMENSION)w;
	j->c.image_height = (JDIMENSION)h;
	j->c.input_components = channels;
	j->c.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&j->c);
	jpeg_set_quality(&j->c, quality, TRUE);
	j->c.dct_method = JDCT_ISLOW;
	jpeg_start_compress(&j->c, TRUE);
	while (j->c.next_scanline < j->c.image_height) {
		JSAMPROW rows[1] = {(JSAMPROW)(px + (size_t)j->c.next_scanline * stride)};
		jpeg_write_scanlines(&j->c, rows, 1);
	}
	jpeg_finish_compress(&j->c);
	return 0;
}

int jpeg_write_mem(struct arena *a, const unsigned char *px, int w, int h, int channels,
		   size_t stride, int quality, const void **out, size_t *len, const char **error)
{
	if (w < 1 || h < 1 || w > JPEG_MAX_DIMENSION || h > JPEG_MAX_DIMENSION ||
	    (channels != 1 && channels != 3) || quality < 1 || quality > 100) {
		*error = arena_printf(a, "cannot encode %dx%d x%d at quality %d as JPEG", w, h,
				      channels, quality);
		return -1;
	}
	struct jenc *j = arena_alloc(a, sizeof *j);
	jerr_init(&j->e);
	j->c.err = &j->e.mgr;
	jpeg_create_compress(&j->c);
	int rc = encode(j, px, w, h, channels, stride, quality);
	jpeg_destroy_compress(&j->c);
	if (rc == 0 && j->len > 0) {
		void *copy = arena_alloc(a, j->len);
		memcpy(copy, j->buf, j->len);
		*out = copy;
		*len = j->len;
	} else {
		*error = arena_printf(a, "encoding jpg: %s", j->e.msg[0] ? j->e.msg : "no output");
		rc = -1;
	}
	free(j->buf);
	return rc;
}
