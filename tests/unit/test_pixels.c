/* The render path's 8-bit pieces: resampling, mirroring, quarter turns, the
 * grey qualities (pixels.c), and the JPEG reader/writer (jpeg_io.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "check.h"
#include "iiif/jpeg_io.h"
#include "iiif/pixels.h"
#include "str.h"

static unsigned char *at(struct pixbuf *b, int x, int y)
{
	return b->px + (size_t)y * b->stride + (size_t)x * (size_t)b->ch;
}

/* A w × h RGB image whose pixel (x, y) is (x * 10, y * 10, 7). */
static struct pixbuf *ramp(struct arena *a, int w, int h)
{
	struct pixbuf *b = pixbuf_new(a, w, h, 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned char *p = at(b, x, y);
			p[0] = (unsigned char)(x * 10);
			p[1] = (unsigned char)(y * 10);
			p[2] = 7;
		}
	return b;
}

static void test_new(struct arena *a)
{
	CHECK(pixbuf_new(a, 0, 5, 3) == NULL);
	CHECK(pixbuf_new(a, 5, -1, 3) == NULL);
	CHECK(pixbuf_new(a, 5, 5, 2) == NULL);
	struct pixbuf *b = pixbuf_new(a, 5, 4, 3);
	CHECK(b && b->w == 5 && b->h == 4 && b->ch == 3 && b->stride == 15);
}

static void test_resample(struct arena *a)
{
	/* the same size at offset 0 is an exact copy */
	struct pixbuf *src = ramp(a, 20, 10);
	struct pixbuf *same = pixbuf_new(a, 20, 10, 3);
	CHECK(pixbuf_resample(a, src, 0, 0, 20, 10, same) == 0);
	CHECK(memcmp(same->px, src->px, src->stride * 10) == 0);

	/* a part at an integer offset is a crop */
	struct pixbuf *part = pixbuf_new(a, 5, 3, 3);
	CHECK(pixbuf_resample(a, src, 4, 2, 5, 3, part) == 0);
	CHECK(at(part, 0, 0)[0] == 40 && at(part, 0, 0)[1] == 20);
	CHECK(at(part, 4, 2)[0] == 80 && at(part, 4, 2)[1] == 40);

	/* a flat image stays flat at any scale */
	struct pixbuf *flat = pixbuf_new(a, 33, 17, 3);
	memset(flat->px, 200, flat->stride * 17);
	int sizes[][2] = {{1, 1}, {7, 3}, {16, 9}, {33, 17}, {50, 40}, {100, 3}};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		struct pixbuf *o = pixbuf_new(a, sizes[i][0], sizes[i][1], 3);
		CHECK(pixbuf_resample(a, flat, 0, 0, 33, 17, o) == 0);
		int bad = 0;
		for (size_t k = 0; k < o->stride * (size_t)o->h; k++)
			bad += o->px[k] != 200;
		CHECK(bad == 0);
	}

	/* halving a ramp: output pixel i covers source 2i and 2i+1, whose
	 * mean is 10 * (2i + 0.5); the triangle filter keeps that mean */
	struct pixbuf *half = pixbuf_new(a, 10, 5, 3);
	CHECK(pixbuf_resample(a, src, 0, 0, 20, 10, half) == 0);
	for (int x = 1; x < 9; x++)
		CHECK(abs(at(half, x, 2)[0] - (20 * x + 5)) <= 1);
	CHECK(at(half, 3, 2)[2] == 7);
	/* monotonic along the whole row, edges included */
	for (int x = 1; x < 10; x++)
		CHECK(at(half, x, 0)[0] > at(half, x - 1, 0)[0]);

	/* enlarging interpolates between neighbours */
	struct pixbuf *two = pixbuf_new(a, 2, 1, 1);
	two->px[0] = 0;
	two->px[1] = 200;
	struct pixbuf *four = pixbuf_new(a, 4, 1, 1);
	CHECK(pixbuf_resample(a, two, 0, 0, 2, 1, four) == 0);
	CHECK(four->px[0] == 0 && four->px[3] == 200);
	CHECK(four->px[1] == 50 && four->px[2] == 150);

	/* channels must match */
	CHECK(pixbuf_resample(a, src, 0, 0, 20, 10, four) == -1);
}

static void test_flop_rotate(struct arena *a)
{
	struct pixbuf *b = ramp(a, 3, 2);
	pixbuf_flop(b);
	CHECK(at(b, 0, 0)[0] == 20 && at(b, 2, 0)[0] == 0 && at(b, 1, 1)[0] == 10);
	CHECK(at(b, 0, 1)[1] == 10);
	pixbuf_flop(b);

	/* clockwise: the top-left corner goes to the top right */
	struct pixbuf *r90 = pixbuf_rotate(a, b, 90);
	CHECK(r90 && r90->w == 2 && r90->h == 3);
	CHECK(at(r90, 1, 0)[0] == 0 && at(r90, 1, 0)[1] == 0);  /* (0,0) */
	CHECK(at(r90, 0, 0)[0] == 0 && at(r90, 0, 0)[1] == 10); /* (0,1) */
	CHECK(at(r90, 1, 2)[0] == 20 && at(r90, 1, 2)[1] == 0); /* (2,0) */
	struct pixbuf *r180 = pixbuf_rotate(a, b, 180);
	CHECK(r180 && r180->w == 3 && r180->h == 2);
	CHECK(at(r180, 2, 1)[0] == 0 && at(r180, 0, 0)[0] == 20 && at(r180, 0, 0)[1] == 10);
	struct pixbuf *r270 = pixbuf_rotate(a, b, 270);
	CHECK(r270 && r270->w == 2 && r270->h == 3);
	CHECK(at(r270, 0, 2)[0] == 0 && at(r270, 0, 2)[1] == 0);  /* (0,0) */
	CHECK(at(r270, 0, 0)[0] == 20 && at(r270, 0, 0)[1] == 0); /* (2,0) */
	CHECK(pixbuf_rotate(a, b, 45) == NULL);
	/* four quarter turns are the identity */
	struct pixbuf *round = pixbuf_rotate(a, pixbuf_rotate(a, r180, 90), 90);
	CHECK(round && memcmp(round->px, b->px, b->stride * 2) == 0);
}

static void test_gray(struct arena *a)
{
	struct pixbuf *b = pixbuf_new(a, 4, 1, 3);
	const unsigned char rgb[4][3] = {
		{255, 0, 0}, {0, 255, 0}, {128, 128, 128}, {127, 127, 127}};
	memcpy(b->px, rgb, sizeof rgb);
	struct pixbuf *g = pixbuf_gray(a, b, false);
	CHECK(g && g->ch == 1 && g->stride == 4);
	CHECK(g->px[0] == 76 && g->px[1] == 150 && g->px[2] == 128 && g->px[3] == 127);
	struct pixbuf *t = pixbuf_gray(a, b, true);
	CHECK(t->px[0] == 0 && t->px[1] == 255 && t->px[2] == 255 && t->px[3] == 0);
	CHECK(pixbuf_gray(a, g, false) == NULL);
}

static void test_jpeg(struct arena *a, const char *dir)
{
	/* a 40 × 24 image: left half red, right half blue */
	struct pixbuf *b = pixbuf_new(a, 40, 24, 3);
	for (int y = 0; y < 24; y++)
		for (int x = 0; x < 40; x++) {
			unsigned char *p = at(b, x, y);
			p[0] = x < 20 ? 220 : 10;
			p[1] = 20;
			p[2] = x < 20 ? 10 : 230;
		}
	const void *data = NULL;
	size_t len = 0;
	const char *err = NULL;
	CHECK(jpeg_write_mem(a, b->px, 40, 24, 3, b->stride, 90, &data, &len, &err) == 0);
	CHECK(len > 100 && ((const unsigned char *)data)[0] == 0xFF);
	char path[512];
	xsnprintf(path, sizeof path, "%s/t.jpg", dir);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(data, 1, len, f) == len);
	fclose(f);

	/* a part that starts past the first iMCU column and row */
	struct pixbuf *part = pixbuf_new(a, 20, 10, 3);
	CHECK(jpeg_read_part(a, path, 40, 24, 17, 9, 20, 10, part->px, part->stride, &err) == 0);
	CHECK(at(part, 0, 0)[0] > 180 && at(part, 0, 0)[2] < 60);   /* x 17: red */
	CHECK(at(part, 19, 9)[2] > 180 && at(part, 19, 9)[0] < 60); /* x 36: blue */

	/* the whole image */
	struct pixbuf *all = pixbuf_new(a, 40, 24, 3);
	CHECK(jpeg_read_part(a, path, 40, 24, 0, 0, 40, 24, all->px, all->stride, &err) == 0);
	CHECK(at(all, 39, 23)[2] > 180);

	/* grey output is one channel */
	struct pixbuf *g = pixbuf_gray(a, b, false);
	CHECK(jpeg_write_mem(a, g->px, 40, 24, 1, g->stride, 80, &data, &len, &err) == 0);

	/* failures: wrong size, outside, missing, not a JPEG, truncated */
	err = NULL;
	CHECK(jpeg_read_part(a, path, 41, 24, 0, 0, 1, 1, all->px, all->stride, &err) == -1);
	CHECK(err && strstr(err, "not 41x24"));
	CHECK(jpeg_read_part(a, path, 40, 24, 30, 0, 20, 1, all->px, all->stride, &err) == -1);
	xsnprintf(path, sizeof path, "%s/missing.jpg", dir);
	CHECK(jpeg_read_part(a, path, 40, 24, 0, 0, 1, 1, all->px, all->stride, &err) == -1);
	CHECK(err && strstr(err, "No such file"));
	xsnprintf(path, sizeof path, "%s/text.jpg", dir);
	f = fopen(path, "wb");
	fputs("not a jpeg at all", f);
	fclose(f);
	CHECK(jpeg_read_part(a, path, 40, 24, 0, 0, 1, 1, all->px, all->stride, &err) == -1);
	xsnprintf(path, sizeof path, "%s/cut.jpg", dir);
	f = fopen(path, "wb");
	const void *full = NULL;
	size_t full_len = 0;
	CHECK(jpeg_write_mem(a, b->px, 40, 24, 3, b->stride, 90, &full, &full_len, &err) == 0);
	fwrite(full, 1, full_len / 2, f);
	fclose(f);
	err = NULL;
	CHECK(jpeg_read_part(a, path, 40, 24, 0, 0, 40, 24, all->px, all->stride, &err) == -1);
	CHECK(err != NULL);
	CHECK(jpeg_write_mem(a, b->px, 0, 24, 3, b->stride, 90, &data, &len, &err) == -1);
	CHECK(jpeg_write_mem(a, b->px, 40, 24, 3, b->stride, 0, &data, &len, &err) == -1);
}

int main(void)
{
	struct arena *a = arena_new(64 * 1024);
	char dir[] = "/tmp/dlcs-pixels-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_new(a);
	test_resample(a);
	test_flop_rotate(a);
	test_gray(a);
	test_jpeg(a, dir);
	arena_free(a);
	const char *names[] = {"t.jpg", "text.jpg", "cut.jpg"};
	for (size_t i = 0; i < 3; i++) {
		char p[512];
		xsnprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return check_done();
}
