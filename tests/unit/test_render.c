/* Computed image responses: a pyramid is made with derive_image() from a
 * generated image in a fresh temporary directory (the original is deleted
 * before any rendering: render.c must never need it), then regions, sizes,
 * rotations, qualities and formats are rendered and decoded back with
 * GraphicsMagick to check dimensions and pixel colours. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <magick/api.h>

#include "arena.h"
#include "asset/iiif_parse.h"
#include "asset/stored.h"
#include "iiif/render.h"
#include "ingest/derive.h"
#include "check.h"

static char tmp[256];
static struct arena *A;

enum pattern {
	QUADRANTS, /* red, green / blue, white */
	GRADIENT,  /* red grows left to right, green top to bottom, blue 128 */
};

static const int RED[3] = {255, 0, 0}, GREEN[3] = {0, 255, 0}, BLUE[3] = {0, 0, 255},
		 WHITE[3] = {255, 255, 255}, BLACK[3] = {0, 0, 0};

static void write_source(const char *path, int w, int h, enum pattern p, const char *magick)
{
	unsigned char *px = malloc((size_t)w * h * 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned char *o = px + ((size_t)y * w + x) * 3;
			if (p == QUADRANTS) {
				static const unsigned char q[4][3] = {
					{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
				memcpy(o, q[(y >= h / 2) * 2 + (x >= w / 2)], 3);
			} else {
				o[0] = (unsigned char)((x * 255 + w / 2) / (w - 1));
				o[1] = (unsigned char)((y * 255 + h / 2) / (h - 1));
				o[2] = 128;
			}
		}
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img =
		ConstituteImage((unsigned long)w, (unsigned long)h, "RGB", CharPixel, px, &exc);
	DestroyExceptionInfo(&exc);
	free(px);
	ImageInfo *info = CloneImageInfo(NULL);
	info->quality = 97;
	snprintf(img->filename, sizeof img->filename, "%s:%s", magick, path);
	if (!WriteImage(info, img))
		fprintf(stderr, "writing %s failed\n", path);
	DestroyImageInfo(info);
	DestroyImage(img);
}

/* A pyramid of a w×h image in a new directory; the original is removed. */
static bool make_pyramid(const char *name, int w, int h, enum pattern p, struct render_src *src)
{
	char dir[512], orig[600];
	snprintf(dir, sizeof dir, "%s/%s", tmp, name);
	snprintf(orig, sizeof orig, "%s/%s.png", tmp, name);
	mkdir(dir, 0755);
	write_source(orig, w, h, p, "PNG");
	struct derive_opts o = {.tiles = true,
				.thumbs = true,
				.max_unauthorised = -1,
				.jpeg_quality = 95,
				.threads = 2};
	struct derive_result r;
	if (derive_image(orig, dir, &o, &r) != 0) {
		fprintf(stderr, "derive %s: %s\n", name, r.error);
		return false;
	}
	unlink(orig);
	struct stored st;
	stored_load(A, arena_strdup(A, dir), &st);
	if (!st.has_tiles)
		return false;
	memset(src, 0, sizeof *src);
	src->dir = arena_strdup(A, dir);
	src->W = st.W;
	src->H = st.H;
	src->tile = st.tile;
	src->nsf = st.nsf;
	memcpy(src->sf, st.sf, sizeof st.sf);
	return true;
}

struct shot {
	int status;
	struct render_out out;
	Image *img; /* decoded result */
	struct iiif_resolved r;
};

/* Parses, resolves and renders "region/size/rotation/quality.format". */
static struct shot shoot(const struct render_src *src, int version, const char *req)
{
	struct shot s;
	memset(&s, 0, sizeof s);
	char buf[256], *part[4];
	snprintf(buf, sizeof buf, "%s", req);
	char *p = buf;
	for (int i = 0; i < 4; i++) {
		part[i] = p;
		char *slash = strchr(p, '/');
		if (slash) {
			*slash = '\0';
			p = slash + 1;
		}
	}
	struct iiif_params ip;
	const char *why;
	struct iiif_limits lim = {.max_area = 0};
	s.status = iiif_parse(version, part[0], part[1], part[2], part[3], &ip, &why);
	if (!s.status)
		s.status = iiif_resolve(&ip, src->W, src->H, &lim, &s.r, &why);
	if (s.status) {
		fprintf(stderr, "%s: %d %s\n", req, s.status, why);
		return s;
	}
	s.status = render_image(A, src, &ip, &s.r, 90, &s.out);
	if (s.status) {
		fprintf(stderr, "%s: render %d %s\n", req, s.status, s.out.error);
		return s;
	}
	ImageInfo *info = CloneImageInfo(NULL);
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	s.img = BlobToImage(info, s.out.data, s.out.len, &exc);
	DestroyExceptionInfo(&exc);
	DestroyImageInfo(info);
	if (!s.img)
		s.status = -1;
	return s;
}

static void shot_free(struct shot *s)
{
	if (s->img)
		DestroyImage(s->img);
	s->img = NULL;
}

static bool dims(const struct shot *s, int w, int h)
{
	bool ok = s->img && (int)s->img->columns == w && (int)s->img->rows == h;
	if (!ok)
		fprintf(stderr, "  dims: got %lux%lu want %dx%d\n", s->img ? s->img->columns : 0,
			s->img ? s->img->rows : 0, w, h);
	return ok;
}

/* 8-bit r,g,b,alpha(255 = opaque) at (x, y). */
static bool pixel(const struct shot *s, int x, int y, int out[4])
{
	if (!s->img)
		return false;
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	const PixelPacket *p = AcquireImagePixels(s->img, x, y, 1, 1, &exc);
	DestroyExceptionInfo(&exc);
	if (!p)
		return false;
	out[0] = ScaleQuantumToChar(p->red);
	out[1] = ScaleQuantumToChar(p->green);
	out[2] = ScaleQuantumToChar(p->blue);
	out[3] = s->img->matte ? 255 - ScaleQuantumToChar(p->opacity) : 255;
	return true;
}

static bool colour(const struct shot *s, int x, int y, const int want[3], int tol)
{
	int got[4];
	if (!pixel(s, x, y, got))
		return false;
	for (int c = 0; c < 3; c++)
		if (abs(got[c] - want[c]) > tol) {
			fprintf(stderr, "  (%d,%d): got %d,%d,%d want %d,%d,%d\n", x, y, got[0],
				got[1], got[2], want[0], want[1], want[2]);
			return false;
		}
	return true;
}

/* The four quadrant colours at the centres of an output's quarters. */
static bool quads(const struct shot *s, const int *tl, const int *tr, const int *bl, const int *br)
{
	if (!s->img)
		return false;
	int w = (int)s->img->columns, h = (int)s->img->rows;
	return colour(s, w / 4, h / 4, tl, 40) && colour(s, 3 * w / 4, h / 4, tr, 40) &&
	       colour(s, w / 4, 3 * h / 4, bl, 40) && colour(s, 3 * w / 4, 3 * h / 4, br, 40);
}

static void test_levels(const struct render_src *q)
{
	/* 1000×700: scale factors 1, 2, 4 (250×175 fits one tile) */
	CHECK(q->nsf == 3 && q->sf[0] == 1 && q->sf[1] == 2 && q->sf[2] == 4 && q->tile == 256);
	struct iiif_resolved r = {.region = {0, 0, 1000, 700}, .w = 1000, .h = 700};
	CHECK(render_choose_level(q, &r) == 1);
	r.w = 500, r.h = 350;
	CHECK(render_choose_level(q, &r) == 2);
	r.w = 501, r.h = 351;
	CHECK(render_choose_level(q, &r) == 1);
	r.w = 100, r.h = 70;
	CHECK(render_choose_level(q, &r) == 4);
	r.w = 2000, r.h = 1400;
	CHECK(render_choose_level(q, &r) == 1);
	r.region = (struct iiif_box){0, 0, 512, 512};
	r.w = 256, r.h = 256;
	CHECK(render_choose_level(q, &r) == 2);
}

static void test_quadrants(const struct render_src *q)
{
	struct shot s;

	s = shoot(q, 3, "full/max/0/default.jpg");
	CHECK(s.status == 0 && dims(&s, 1000, 700) && quads(&s, RED, GREEN, BLUE, WHITE));
	CHECK(s.out.level == 1 && s.out.tiles_read == 12);
	CHECK_STR(s.out.media_type, "image/jpeg");
	shot_free(&s);

	s = shoot(q, 3, "full/!100,100/0/default.jpg");
	CHECK(s.status == 0 && dims(&s, 100, 70) && quads(&s, RED, GREEN, BLUE, WHITE));
	CHECK(s.out.level == 4 && s.out.tiles_read == 1);
	shot_free(&s);

	/* a region across four quadrants, read from the two tiles it touches */
	s = shoot(q, 3, "400,300,200,100/max/0/default.jpg");
	CHECK(s.status == 0 && dims(&s, 200, 100) && quads(&s, RED, GREEN, BLUE, WHITE));
	CHECK(s.out.level == 1 && s.out.tiles_read == 2);
	shot_free(&s);
	s = shoot(q, 3, "400,300,200,100/50,/0/default.jpg");
	CHECK(s.status == 0 && dims(&s, 50, 25) && quads(&s, RED, GREEN, BLUE, WHITE));
	CHECK(s.out.level == 4 && s.out.tiles_read == 1);
	shot_free(&s);
	s = shoot(q, 2, "pct:40,40,20,20/100,/0/default.jpg"); /* 400,280,200,140 */
	CHECK(s.status == 0 && dims(&s, 100, 70) && quads(&s, RED, GREEN, BLUE, WHITE));
	shot_free(&s);
	s = shoot(q, 3, "square/70,/0/default.jpg"); /* 150,0,700,700 */
	CHECK(s.status == 0 && dims(&s, 70, 70) && quads(&s, RED, GREEN, BLUE, WHITE));
	shot_free(&s);
	s = shoot(q, 3, "0,0,10,10/^100,100/0/default.jpg"); /* upscaled from level 1 */
	CHECK(s.status == 0 && dims(&s, 100, 100) && colour(&s, 50, 50, RED, 30));
	CHECK(s.out.level == 1);
	shot_free(&s);
	s = shoot(q, 3, "full/^1500,/0/default.png");
	CHECK(s.status == 0 && dims(&s, 1500, 1050) && quads(&s, RED, GREEN, BLUE, WHITE));
	shot_free(&s);
	s = shoot(q, 3, "full/200,100/0/default.jpg"); /* distorted */
	CHECK(s.status == 0 && dims(&s, 200, 100) && quads(&s, RED, GREEN, BLUE, WHITE));
	shot_free(&s);

	/* rotations: clockwise, mirroring first */
	s = shoot(q, 3, "full/100,/90/default.jpg");
	CHECK(s.status == 0 && dims(&s, 70, 100) && quads(&s, BLUE, RED, WHITE, GREEN));
	shot_free(&s);
	s = shoot(q, 3, "full/100,/180/default.jpg");
	CHECK(s.status == 0 && dims(&s, 100, 70) && quads(&s, WHITE, BLUE, GREEN, RED));
	shot_free(&s);
	s = shoot(q, 3, "full/100,/270/default.jpg");
	CHECK(s.status == 0 && dims(&s, 70, 100) && quads(&s, GREEN, WHITE, RED, BLUE));
	shot_free(&s);
	s = shoot(q, 3, "full/100,/!0/default.jpg");
	CHECK(s.status == 0 && dims(&s, 100, 70) && quads(&s, GREEN, RED, WHITE, BLUE));
	shot_free(&s);
	s = shoot(q, 3, "full/100,/!90/default.jpg");
	CHECK(s.status == 0 && dims(&s, 70, 100) && quads(&s, WHITE, GREEN, BLUE, RED));
	shot_free(&s);

	/* arbitrary angles: the bounding box, corners white (jpg) or clear (png) */
	int px[4];
	s = shoot(q, 3, "full/100,/45/default.png");
	CHECK(s.status == 0 && s.img);
	if (s.img) {
		int w = (int)s.img->columns, h = (int)s.img->rows;
		CHECK(abs(w - 120) <= 3 && abs(h - 120) <= 3);
		CHECK(s.img->matte && pixel(&s, 0, 0, px) && px[3] == 0);
		CHECK(pixel(&s, w - 1, h - 1, px) && px[3] == 0);
		CHECK(pixel(&s, w / 2, h / 2, px) && px[3] == 255);
	}
	shot_free(&s);
	s = shoot(q, 3, "full/100,/45/default.jpg");
	CHECK(s.status == 0 && s.img && colour(&s, 0, 0, WHITE, 10));
	if (s.img)
		CHECK(!s.img->matte && abs((int)s.img->columns - 120) <= 3);
	shot_free(&s);
	s = shoot(q, 3, "full/100,/22.5/default.webp");
	CHECK(s.status == 0 && s.img && s.img->matte && pixel(&s, 0, 0, px) && px[3] == 0);
	shot_free(&s);

	/* qualities */
	s = shoot(q, 3, "full/100,/0/gray.png");
	CHECK(s.status == 0 && dims(&s, 100, 70));
	if (s.img) {
		int g[4];
		CHECK(pixel(&s, 25, 17, g) && g[0] == g[1] && g[1] == g[2] && abs(g[0] - 76) <= 4);
		CHECK(pixel(&s, 75, 17, g) && g[0] == g[1] && abs(g[0] - 150) <= 4);
		CHECK(pixel(&s, 25, 52, g) && g[0] == g[1] && abs(g[0] - 29) <= 4);
		CHECK(pixel(&s, 75, 52, g) && abs(g[0] - 255) <= 2);
	}
	shot_free(&s);
	s = shoot(q, 3, "full/100,/0/bitonal.png");
	CHECK(s.status == 0 && dims(&s, 100, 70) && quads(&s, BLACK, WHITE, BLACK, WHITE));
	if (s.img) {
		bool only_bw = true;
		for (int y = 0; y < 70 && only_bw; y++)
			for (int x = 0; x < 100; x++) {
				int g[4];
				if (!pixel(&s, x, y, g) ||
				    !((g[0] == 0 && g[1] == 0 && g[2] == 0) ||
				      (g[0] == 255 && g[1] == 255 && g[2] == 255))) {
					only_bw = false;
					break;
				}
			}
		CHECK(only_bw);
	}
	shot_free(&s);
	s = shoot(q, 3, "full/100,/30/bitonal.png"); /* still pure after rotating */
	if (s.img) {
		bool only_bw = true;
		for (int y = 0; y < (int)s.img->rows && only_bw; y++)
			for (int x = 0; x < (int)s.img->columns; x++) {
				int g[4];
				if (!pixel(&s, x, y, g) || (g[0] != 0 && g[0] != 255) ||
				    (g[3] != 0 && g[3] != 255)) {
					only_bw = false;
					break;
				}
			}
		CHECK(only_bw);
	}
	shot_free(&s);
	s = shoot(q, 3, "full/100,/0/color.jpg");
	CHECK(s.status == 0 && quads(&s, RED, GREEN, BLUE, WHITE));
	shot_free(&s);

	/* formats */
	static const struct {
		const char *ext, *mime, *magick;
	} f[] = {{"jpg", "image/jpeg", "JPEG"},
		 {"png", "image/png", "PNG"},
		 {"webp", "image/webp", "WEBP"},
		 {"gif", "image/gif", "GIF"},
		 {"tif", "image/tiff", "TIFF"}};
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		char req[64];
		snprintf(req, sizeof req, "full/120,/0/default.%s", f[i].ext);
		s = shoot(q, 3, req);
		CHECK(s.status == 0 && dims(&s, 120, 84) && quads(&s, RED, GREEN, BLUE, WHITE));
		CHECK_STR(s.out.media_type, f[i].mime);
		if (s.img)
			CHECK_STR(s.img->magick, f[i].magick);
		shot_free(&s);
	}
	CHECK(render_format_available(IIIF_F_JPG) && render_format_available(IIIF_F_PNG));
}

/* Geometry: a smooth gradient shows any shift. Each output pixel's centre
 * maps back to a full-image position whose colour is known exactly. */
static void check_gradient(const struct render_src *g, int version, const char *req)
{
	struct shot s = shoot(g, version, req);
	CHECK(s.status == 0 && s.img);
	if (!s.img)
		return;
	const struct iiif_box *b = &s.r.region;
	int worst = 0;
	for (int oy = 1; oy < s.r.h - 1; oy += 1 + s.r.h / 9)
		for (int ox = 1; ox < s.r.w - 1; ox += 1 + s.r.w / 9) {
			double fx = b->x + (ox + 0.5) * b->w / s.r.w - 0.5;
			double fy = b->y + (oy + 0.5) * b->h / s.r.h - 0.5;
			int want[3] = {(int)lround(fx * 255 / (g->W - 1)),
				       (int)lround(fy * 255 / (g->H - 1)), 128};
			int got[4];
			if (!pixel(&s, ox, oy, got))
				continue;
			for (int c = 0; c < 3; c++)
				if (abs(got[c] - want[c]) > worst)
					worst = abs(got[c] - want[c]);
		}
	if (worst > 5)
		fprintf(stderr, "  %s: worst difference %d (level %d)\n", req, worst, s.out.level);
	CHECK(worst <= 5);
	shot_free(&s);
}

static void test_gradient(const struct render_src *g)
{
	/* 777×555: scale factors 1, 2, 4 with partial edge tiles everywhere */
	check_gradient(g, 3, "full/max/0/default.png");
	check_gradient(g, 3, "full/388,/0/default.png");
	check_gradient(g, 3, "full/100,/0/default.png");
	check_gradient(g, 3, "100,50,400,300/max/0/default.png");
	check_gradient(g, 3, "100,50,400,300/200,/0/default.png");
	check_gradient(g, 3, "101,51,399,299/133,/0/default.png");
	check_gradient(g, 3, "3,7,771,545/97,/0/default.png");
	check_gradient(g, 3, "513,257,264,298/66,/0/default.png");
	check_gradient(g, 3, "pct:10,20,30,40/77,/0/default.png");
	check_gradient(g, 2, "700,500,77,55/300,/0/default.png");
	/* the edge tile at scale 2, by OpenSeadragon's URL: the stored tile */
	struct shot s = shoot(g, 3, "512,0,265,512/133,256/0/default.jpg");
	CHECK(s.status == 0 && dims(&s, 133, 256) && s.out.tiles_read == 1 && s.out.level == 2);
	shot_free(&s);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void test_failures(void)
{
	struct render_src s;
	if (!make_pyramid("broken", 600, 300, QUADRANTS, &s))
		return;
	char path[700];
	/* a missing tile: 500 naming it */
	snprintf(path, sizeof path, "%s/tiles/256,0,256,256_256.jpg", s.dir);
	CHECK(unlink(path) == 0);
	struct shot sh = shoot(&s, 3, "full/max/0/default.jpg");
	CHECK(sh.status == 500 && sh.out.error && strstr(sh.out.error, "256,0,256,256_256.jpg"));
	shot_free(&sh);
	/* a tile elsewhere is not read: still fine */
	sh = shoot(&s, 3, "0,0,100,100/max/0/default.jpg");
	CHECK(sh.status == 0 && dims(&sh, 100, 100));
	shot_free(&sh);
	/* a corrupt tile: 500 */
	snprintf(path, sizeof path, "%s/tiles/0,0,256,256_256.jpg", s.dir);
	FILE *f = fopen(path, "wb");
	fputs("not a jpeg", f);
	fclose(f);
	sh = shoot(&s, 3, "0,0,100,100/max/0/default.jpg");
	CHECK(sh.status == 500 && sh.out.error);
	shot_free(&sh);
	/* a tile of the wrong size: 500 */
	snprintf(path, sizeof path, "%s/tiles/512,0,88,256_88.jpg", s.dir);
	write_source(path, 10, 10, QUADRANTS, "JPEG");
	sh = shoot(&s, 3, "520,10,50,50/max/0/default.jpg");
	CHECK(sh.status == 500 && sh.out.error && strstr(sh.out.error, "not 88x256"));
	shot_free(&sh);
}

int main(int argc, char **argv)
{
	(void)argc;
	setenv("OMP_NUM_THREADS", "1", 1);
	derive_init(argv[0], 0);
	A = arena_new(1 << 16);
	snprintf(tmp, sizeof tmp, "/tmp/dlcs-render-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	struct render_src q, g;
	bool ok = make_pyramid("quad", 1000, 700, QUADRANTS, &q);
	CHECK(ok);
	if (ok) {
		test_levels(&q);
		test_quadrants(&q);
	}
	ok = make_pyramid("gradient", 777, 555, GRADIENT, &g);
	CHECK(ok);
	if (ok)
		test_gradient(&g);
	test_failures();

	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	arena_free(A);
	DestroyMagick();
	return check_done();
}
