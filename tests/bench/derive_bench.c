/* The ingest benchmark's driver (tests/bench/ingest-bench builds it with gcc
 * against handlers/ingest/derive.c). Not part of the product.
 *
 *   derive_bench SRC OUT [threads [quality]]
 *       one derive_image() call, as the runner makes it: tiles and the
 *       default thumbnails of SRC into the empty directory OUT;
 *   derive_bench --make FILE W H
 *       writes a W×H q90 JPEG that compresses like a photograph: fractal
 *       value noise (detail at every scale, mostly in luminance, smoother
 *       colour) plus a little grain, from a fixed seed, so every run of the
 *       benchmark measures the same file. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <magick/api.h>

#include "ingest/derive.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint32_t hash3(uint32_t x, uint32_t y, uint32_t z)
{
	uint32_t h = x * 0x8da6b343u ^ y * 0xd8163841u ^ z * 0xcb1ab31fu;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	h *= 0x297a2d39u;
	h ^= h >> 15;
	return h;
}

/* Smooth value noise in [-1, 1] with one lattice point every cell pixels. */
static double value_noise(double x, double y, int cell, uint32_t layer)
{
	double fx = x / cell, fy = y / cell;
	uint32_t ix = (uint32_t)fx, iy = (uint32_t)fy;
	double tx = fx - ix, ty = fy - iy;
	tx = tx * tx * (3 - 2 * tx);
	ty = ty * ty * (3 - 2 * ty);
	double v00 = hash3(ix, iy, layer) / 2147483648.0 - 1;
	double v10 = hash3(ix + 1, iy, layer) / 2147483648.0 - 1;
	double v01 = hash3(ix, iy + 1, layer) / 2147483648.0 - 1;
	double v11 = hash3(ix + 1, iy + 1, layer) / 2147483648.0 - 1;
	return (v00 * (1 - tx) + v10 * tx) * (1 - ty) + (v01 * (1 - tx) + v11 * tx) * ty;
}

static int clamp8(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (int)(v + 0.5);
}

static int make_photo(const char *path, int w, int h)
{
	unsigned char *px = malloc((size_t)w * h * 3);
	if (!px)
		return 1;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			double lum = 0, amp = 60;
			for (int cell = 1024, o = 0; cell >= 4; cell /= 2, o++, amp *= 0.62)
				lum += amp * value_noise(x, y, cell, (uint32_t)o);
			double cr =
			    40 * value_noise(x, y, 512, 100) + 15 * value_noise(x, y, 64, 101);
			double cb =
			    40 * value_noise(x, y, 768, 200) + 15 * value_noise(x, y, 96, 201);
			double grain = 0.6 * ((hash3((uint32_t)x, (uint32_t)y, 300) & 15) - 7.5);
			double l = 120 + lum + grain;
			unsigned char *o = px + ((size_t)y * w + x) * 3;
			o[0] = (unsigned char)clamp8(l + 1.4 * cr);
			o[1] = (unsigned char)clamp8(l - 0.34 * cb - 0.71 * cr);
			o[2] = (unsigned char)clamp8(l + 1.77 * cb);
		}
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img =
	    ConstituteImage((unsigned long)w, (unsigned long)h, "RGB", CharPixel, px, &exc);
	free(px);
	int rc = 1;
	if (img) {
		ImageInfo *info = CloneImageInfo(NULL);
		info->quality = 90;
		snprintf(img->filename, sizeof img->filename, "JPEG:%s", path);
		rc = WriteImage(info, img) ? 0 : 1;
		DestroyImageInfo(info);
		DestroyImage(img);
	}
	if (rc)
		fprintf(stderr, "derive_bench: cannot write %s\n", path);
	DestroyExceptionInfo(&exc);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--make") == 0) {
		InitializeMagick(argv[0]);
		int rc = make_photo(argv[2], atoi(argv[3]), atoi(argv[4]));
		DestroyMagick();
		return rc;
	}
	if (argc < 3) {
		fprintf(stderr,
			"usage: %s SRC OUT [threads [quality]]\n"
			"       %s --make FILE W H\n",
			argv[0], argv[0]);
		return 2;
	}
	struct derive_opts o = {
	    .tiles = true,
	    .thumbs = true,
	    .max_unauthorised = -1,
	    .max_pixels = 100000000LL,
	    .jpeg_quality = argc > 4 ? atoi(argv[4]) : 85,
	    .threads = argc > 3 ? atoi(argv[3]) : 2,
	};
	derive_init(argv[0], 2LL << 30);
	struct derive_result r;
	double t0 = now();
	int rc = derive_image(argv[1], argv[2], &o, &r);
	double t1 = now();
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (rc != 0)
		fprintf(stderr, "derive_image: %s\n", r.error);
	else
		printf("%dx%d: %d tiles (%lld bytes), %d thumbnails (%lld bytes) in %.3f s, "
		       "peak RSS %ld KB\n",
		       r.width, r.height, r.ntiles, r.tiles_bytes, r.nthumbs, r.thumbs_bytes,
		       t1 - t0, ru.ru_maxrss);
	DestroyMagick();
	return rc == 0 ? 0 : 1;
}
