/* Derivatives: every test image is made here with GraphicsMagick in a fresh
 * temporary directory, run through derive_image(), and the output is read
 * back with GraphicsMagick. The expected tile names come from OpenSeadragon's
 * own IIIF tile-URL arithmetic (IIIFTileSource.getTileUrl), written out again
 * here independently of derive.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
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
#include "asset/stored.h"
#include "asset/thumb_alias.h"
#include "ingest/derive.h"
#include "check.h"

static char tmp[256];
static int seq;
/* image_max_area's default (asset/settings.c), the limit the runner gives derive */
#define IMAGE_MAX_AREA 16777216LL

static int last_width, last_height; /* of the last run(): check_thumbs's aliases */

/* --- making test images --- */

enum pattern {
	QUADRANTS, /* red, green / blue, white: shows any rotation or mirror */
	NOISE,     /* compresses like a photograph */
	HALF_CLEAR /* RGBA: left half opaque red, right half fully transparent black */
};

static const unsigned char quad_rgb[4][3] = {
	{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};

static Image *make_pixels(int w, int h, enum pattern p)
{
	int ch = p == HALF_CLEAR ? 4 : 3;
	unsigned char *px = malloc((size_t)w * h * ch);
	uint32_t seed = 12345;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned char *o = px + ((size_t)y * w + x) * ch;
			if (p == QUADRANTS) {
				int q = (y >= h / 2) * 2 + (x >= w / 2);
				memcpy(o, quad_rgb[q], 3);
			} else if (p == NOISE) {
				seed = seed * 1103515245u + 12345u;
				int n = (int)(seed >> 24) % 64;
				o[0] = (unsigned char)((x * 255 / w + n) & 255);
				o[1] = (unsigned char)((y * 255 / h + n) & 255);
				o[2] = (unsigned char)(((x + y) & 127) + n);
			} else {
				bool left = x < w / 2;
				o[0] = left ? 255 : 0;
				o[1] = o[2] = 0;
				o[3] = left ? 255 : 0;
			}
		}
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img = ConstituteImage((unsigned long)w, (unsigned long)h, ch == 4 ? "RGBA" : "RGB",
				     CharPixel, px, &exc);
	DestroyExceptionInfo(&exc);
	free(px);
	return img;
}

static void write_image(Image *img, const char *magick, const char *path)
{
	ImageInfo *info = CloneImageInfo(NULL);
	snprintf(img->filename, sizeof img->filename, "%s:%s", magick, path);
	info->quality = 90;
	if (!WriteImage(info, img))
		fprintf(stderr, "writing %s failed: %s\n", path,
			img->exception.reason ? img->exception.reason : "?");
	DestroyImageInfo(info);
}

enum variant { PLAIN, GRAY, CMYK, DEPTH16 };

/* A w×h image in magick's format at a new path under tmp. */
static const char *make_file(char *path, size_t size, int w, int h, enum pattern p,
			     const char *magick, enum variant v)
{
	snprintf(path, size, "%s/src%d", tmp, ++seq);
	Image *img = make_pixels(w, h, p);
	if (v == GRAY)
		(void)SetImageType(img, GrayscaleType);
	if (v == CMYK)
		(void)TransformColorspace(img, CMYKColorspace);
	if (v == DEPTH16)
		img->depth = 16;
	write_image(img, magick, path);
	DestroyImage(img);
	return path;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	long n = file_size(path);
	unsigned char *buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void spill(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
}

/* Inserts an EXIF APP1 segment holding only Orientation = o after the SOI. */
static void set_exif_orientation(const char *path, int o)
{
	static const unsigned char app1[] = {
		0xFF, 0xE1, 0x00, 0x22, 'E',  'x',  'i',  'f',  0, 0, /* APP1, length 34 */
		'I',  'I',  0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,       /* TIFF header */
		0x01, 0x00,                                           /* one entry */
		0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,       /* 0x0112 SHORT x1 */
		0x00, 0x00, 0x00, 0x00,                               /* value (set below) */
		0x00, 0x00, 0x00, 0x00};                              /* no next IFD */
	size_t len;
	unsigned char *old = slurp(path, &len);
	unsigned char *buf = malloc(len + sizeof app1);
	memcpy(buf, old, 2);
	memcpy(buf + 2, app1, sizeof app1);
	buf[2 + 28] = (unsigned char)o;
	memcpy(buf + 2 + sizeof app1, old + 2, len - 2);
	spill(path, buf, len + sizeof app1);
	free(buf);
	free(old);
}

/* --- reading results back --- */

static Image *read_path(const char *path, bool ping)
{
	ImageInfo *info = CloneImageInfo(NULL);
	snprintf(info->filename, sizeof info->filename, "%s", path);
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	Image *img = ping ? PingImage(info, &exc) : ReadImage(info, &exc);
	DestroyExceptionInfo(&exc);
	DestroyImageInfo(info);
	return img;
}

static bool dims_of(const char *path, int *w, int *h)
{
	Image *img = read_path(path, true);
	if (!img)
		return false;
	*w = (int)img->columns;
	*h = (int)img->rows;
	DestroyImage(img);
	return true;
}

/* The 8-bit colour at (x, y) of a file, compared with want within tolerance. */
static bool colour_at(const char *path, int x, int y, const unsigned char want[3])
{
	Image *img = read_path(path, false);
	if (!img)
		return false;
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	const PixelPacket *p = AcquireImagePixels(img, x, y, 1, 1, &exc);
	bool ok = p != NULL;
	int got[3] = {0, 0, 0};
	if (p) {
		got[0] = ScaleQuantumToChar(p->red);
		got[1] = ScaleQuantumToChar(p->green);
		got[2] = ScaleQuantumToChar(p->blue);
		for (int c = 0; c < 3; c++)
			if (abs(got[c] - want[c]) > 40)
				ok = false;
	}
	if (!ok)
		fprintf(stderr, "  %s (%d,%d): got %d,%d,%d want %d,%d,%d\n", path, x, y, got[0],
			got[1], got[2], want[0], want[1], want[2]);
	DestroyExceptionInfo(&exc);
	DestroyImage(img);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (caller frees each and the array). */
static char **list_dir(const char *dir, size_t *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	size_t cap = 64;
	char **v = malloc(cap * sizeof *v);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *text_of(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	size_t len;
	return (char *)slurp(path, &len);
}

/* The expected tiles, as OpenSeadragon asks for them: every level of
 * scale 2^-(maxLevel-level), tile x,y → region x*round(256/scale)..., size
 * min(256, levelWidth - x*256) with levelWidth = ceil(W*scale). The "full"
 * region (the smallest level) is the whole image. Also checks info.txt. */
/* full/ holds exactly the links thumb_alias.h gives for the files there,
 * each resolving to a stored tile or thumbnail, the one-tile level's "w,h"
 * among them (scale factor maxf). */
static void check_full(const char *out, int W, int H, int maxf)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/full", out);
	size_t ngot, nlinks = 0;
	char **got = list_dir(dir, &ngot);
	for (size_t i = 0; i < ngot; i++) {
		char path[1024], target[256];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, got[i]);
		ssize_t t = readlink(path, target, sizeof target - 1);
		if (t > 0)
			target[t] = '\0';
		if (t > 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (strncmp(target, "../tiles/", 9) == 0 ||
		     strncmp(target, "../thumbs/", 10) == 0))
			nlinks++;
		else
			fprintf(stderr, "  full/%s: not a link to a stored file\n", got[i]);
	}
	CHECK(nlinks == ngot);
	struct arena *a = arena_new(16384);
	struct stored st;
	stored_load(a, out, &st);
	struct thumb_alias al[THUMB_ALIAS_MAX];
	CHECK(thumb_aliases_img(&st, IMAGE_MAX_AREA, al, THUMB_ALIAS_MAX) == nlinks);
	arena_free(a);
	int lw = (W + maxf - 1) / maxf, lh = (H + maxf - 1) / maxf;
	char path[1024], target[256], want[256];
	snprintf(path, sizeof path, "%s/%d,%d.jpg", dir, lw, lh);
	snprintf(want, sizeof want, "../tiles/0,0,%d,%d_%d.jpg", W, H, lw);
	ssize_t t = readlink(path, target, sizeof target - 1);
	if (t > 0)
		target[t] = '\0';
	CHECK(t > 0 && strcmp(target, want) == 0);
	free_list(got, ngot);
}

static void check_tiles(const char *out, int W, int H)
{
	int maxf = 1;
	while ((W + maxf - 1) / maxf > 256 || (H + maxf - 1) / maxf > 256)
		maxf *= 2;
	char want_info[256];
	int n = snprintf(want_info, sizeof want_info, "%d %d 256", W, H);
	for (int f = 1; f <= maxf; f *= 2)
		n += snprintf(want_info + n, sizeof want_info - n, " %d", f);
	snprintf(want_info + n, sizeof want_info - n, "\n");
	char *info = text_of(out, "info.txt");
	CHECK_STR(info, want_info);
	free(info);

	char dir[512];
	snprintf(dir, sizeof dir, "%s/tiles", out);
	size_t ngot;
	char **got = list_dir(dir, &ngot);
	size_t cap = 4096, nwant = 0;
	char **want = malloc(cap * sizeof *want);
	int wantw[4096], wanth[4096];
	int maxLevel = (int)lround(log2(maxf));
	for (int level = 0; level <= maxLevel; level++) {
		double scale = pow(0.5, maxLevel - level);
		int lw = (int)ceil(W * scale), lh = (int)ceil(H * scale);
		int cols = (int)ceil(scale * W / 256), rows = (int)ceil(scale * H / 256);
		int span = (int)lround(256 / scale);
		for (int y = 0; y < rows; y++)
			for (int x = 0; x < cols; x++) {
				int rx, ry, rw, rh, sw, sh;
				if (lw < 256 && lh < 256) { /* region "full", size lw,lh */
					rx = ry = 0, rw = W, rh = H, sw = lw, sh = lh;
				} else {
					rx = x * span, ry = y * span;
					rw = span < W - rx ? span : W - rx;
					rh = span < H - ry ? span : H - ry;
					sw = 256 < lw - x * 256 ? 256 : lw - x * 256;
					sh = 256 < lh - y * 256 ? 256 : lh - y * 256;
				}
				char name[96];
				snprintf(name, sizeof name, "%d,%d,%d,%d_%d.jpg", rx, ry, rw, rh,
					 sw);
				wantw[nwant] = sw;
				wanth[nwant] = sh;
				want[nwant++] = strdup(name);
			}
	}
	/* same sets (sorting both, keeping the expected sizes with their names) */
	for (size_t i = 0; i < nwant; i++)
		for (size_t k = i + 1; k < nwant; k++)
			if (strcmp(want[k], want[i]) < 0) {
				char *t = want[i];
				want[i] = want[k];
				want[k] = t;
				int a = wantw[i];
				wantw[i] = wantw[k];
				wantw[k] = a;
				a = wanth[i];
				wanth[i] = wanth[k];
				wanth[k] = a;
			}
	CHECK(ngot == nwant);
	bool same = ngot == nwant;
	for (size_t i = 0; same && i < nwant; i++)
		if (strcmp(got[i], want[i]) != 0) {
			fprintf(stderr, "  tile %zu: got %s want %s\n", i, got[i], want[i]);
			same = false;
		}
	CHECK(same);
	bool dims = same;
	for (size_t i = 0; same && i < nwant; i++) {
		char path[1024];
		int w = 0, h = 0;
		snprintf(path, sizeof path, "%s/%s", dir, want[i]);
		if (!dims_of(path, &w, &h) || w != wantw[i] || h != wanth[i]) {
			fprintf(stderr, "  %s is %dx%d, want %dx%d\n", want[i], w, h, wantw[i],
				wanth[i]);
			dims = false;
		}
	}
	CHECK(dims);
	free_list(got, ngot);
	free_list(want, nwant);
	check_full(out, W, H, maxf);
}

/* Sorts v[0..k) and joins it with spaces (frees v and its strings). */
static char *join_sorted(char **v, size_t k)
{
	qsort(v, k, sizeof *v, cmp_str);
	size_t len = 1;
	for (size_t i = 0; i < k; i++)
		len += strlen(v[i]) + 1;
	char *text = calloc(1, len), *p = text;
	for (size_t i = 0; i < k; i++) {
		if (i)
			*p++ = ' ';
		size_t l = strlen(v[i]);
		memcpy(p, v[i], l);
		p += l;
		free(v[i]);
	}
	free(v);
	return text;
}

/* {sub}/'s links: "name>target" of each, sorted, space-separated. */
static char *aliases_of(const char *out, const char *sub)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/%s", out, sub);
	size_t n;
	char **names = list_dir(dir, &n);
	char **v = malloc((n + 1) * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char path[1024], target[256];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		ssize_t t = readlink(path, target, sizeof target - 1);
		if (t < 0)
			continue;
		target[t] = '\0';
		size_t size = strlen(names[i]) + strlen(target) + 2;
		v[k] = malloc(size);
		snprintf(v[k++], size, "%s>%s", names[i], target);
	}
	free_list(names, n);
	return join_sorted(v, k);
}

/* "name>target" of the given names (sorted like aliases_of). */
static char *aliases_want(const char *const *names, size_t n)
{
	char **v = malloc((n + 1) * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = strdup(names[i]);
	return join_sorted(v, n);
}

/* thumbs/ holds exactly the given sizes (largest first) as {longest}.jpg,
 * and s.json says so; its links are the aliases delivery's rules give
 * (thumb_alias.h, tested on its own in test_thumb_alias) and each resolves
 * to one of the thumbnails. */
static void check_thumbs(const char *out, const int (*sizes)[2], size_t n, const char *want_sjson)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/thumbs", out);
	size_t ngot, nfiles = 0, nlinks = 0;
	char **got = list_dir(dir, &ngot);
	for (size_t i = 0; i < ngot; i++) {
		char path[1024];
		struct stat l, st;
		snprintf(path, sizeof path, "%s/%s", dir, got[i]);
		if (lstat(path, &l) == 0 && S_ISREG(l.st_mode))
			nfiles++;
		else if (S_ISLNK(l.st_mode) && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			nlinks++;
		else
			fprintf(stderr, "  thumbs/%s: neither a thumbnail nor a link to one\n",
				got[i]);
	}
	CHECK(nfiles == n);
	CHECK(nfiles + nlinks == ngot);
	struct arena *a = arena_new(16384);
	struct stored st;
	stored_load(a, out, &st);
	struct thumb_alias al[THUMB_ALIAS_MAX];
	CHECK(thumb_aliases_thumbs(&st, last_width, last_height, al, THUMB_ALIAS_MAX) == nlinks);
	arena_free(a);
	for (size_t i = 0; i < n; i++) {
		int longest = sizes[i][0] > sizes[i][1] ? sizes[i][0] : sizes[i][1];
		char path[1024];
		int w = 0, h = 0;
		snprintf(path, sizeof path, "%s/%d.jpg", dir, longest);
		bool ok = dims_of(path, &w, &h) && w == sizes[i][0] && h == sizes[i][1];
		if (!ok)
			fprintf(stderr, "  thumb %s: %dx%d, want %dx%d\n", path, w, h, sizes[i][0],
				sizes[i][1]);
		CHECK(ok);
	}
	free_list(got, ngot);
	char *s = text_of(out, "s.json");
	CHECK_STR(s, want_sjson);
	free(s);
}

/* --- running --- */

static struct derive_opts opts(void)
{
	struct derive_opts o = {
		.tiles = true,
		.thumbs = true,
		.max_unauthorised = -1,
		.max_pixels = 50000000,
		.jpeg_quality = 85,
		.threads = 2,
		.image_max_area = IMAGE_MAX_AREA,
	};
	return o;
}

static const char *new_out(char *buf, size_t size)
{
	snprintf(buf, size, "%s/out%d", tmp, ++seq);
	mkdir(buf, 0755);
	return buf;
}

static int run(const char *src, const char *out, const struct derive_opts *o,
	       struct derive_result *r)
{
	int rc = derive_image(src, out, o, r);
	last_width = r->width;
	last_height = r->height;
	if (rc != 0)
		fprintf(stderr, "  (derive_image: %s%s)\n", r->error,
			r->bad_input ? " [bad input]" : "");
	return rc;
}

static void test_parse_size(void)
{
	struct derive_thumb_size s;
	CHECK(derive_parse_size("!1024,1024", &s) && s.confined && !s.upscale && s.w == 1024 &&
	      s.h == 1024);
	CHECK(derive_parse_size("400,", &s) && !s.confined && s.w == 400 && s.h == 0);
	CHECK(derive_parse_size(",300", &s) && !s.confined && s.w == 0 && s.h == 300);
	CHECK(derive_parse_size("^!2000,1500", &s) && s.confined && s.upscale && s.w == 2000 &&
	      s.h == 1500);
	CHECK(derive_parse_size("^500,", &s) && s.upscale && s.w == 500);
	CHECK(!derive_parse_size("max", &s));
	CHECK(!derive_parse_size("pct:50", &s));
	CHECK(!derive_parse_size("100,100", &s));
	CHECK(!derive_parse_size("!100,", &s));
	CHECK(!derive_parse_size("!,100", &s));
	CHECK(!derive_parse_size(",", &s));
	CHECK(!derive_parse_size("", &s));
	CHECK(!derive_parse_size("0,", &s));
	CHECK(!derive_parse_size("-5,", &s));
	CHECK(!derive_parse_size("+5,", &s));
	CHECK(!derive_parse_size("5 ,", &s));
	CHECK(!derive_parse_size("99999,", &s));
	CHECK(!derive_parse_size("!1,2,3", &s));
	CHECK(!derive_parse_size("^^100,", &s));
	CHECK(!derive_parse_size("!^100,100", &s));
	CHECK(!derive_parse_size(NULL, &s));
}

static void test_jpeg_1000x700(void)
{
	char src[512], out[512];
	make_file(src, sizeof src, 1000, 700, NOISE, "JPEG", PLAIN);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 1000 && r.height == 700);
	CHECK(r.ntiles == 12 + 4 + 1);
	CHECK(r.nthumbs == 4 && r.tiles_bytes > 0 && r.thumbs_bytes > 0);
	check_tiles(out, 1000, 700);
	static const int t[][2] = {{1000, 700}, {400, 280}, {200, 140}, {100, 70}};
	check_thumbs(out, t, 4, "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	static const char *const want_aliases[] = {
		"!1000,1000.jpg>1000.jpg", "!1000,700.jpg>1000.jpg", "1000,700.jpg>1000.jpg",
		"1000,.jpg>1000.jpg",      ",700.jpg>1000.jpg",      "!400,400.jpg>400.jpg",
		"!400,280.jpg>400.jpg",    "400,280.jpg>400.jpg",    "400,.jpg>400.jpg",
		",280.jpg>400.jpg",        "!200,200.jpg>200.jpg",   "!200,140.jpg>200.jpg",
		"200,140.jpg>200.jpg",     "200,.jpg>200.jpg",       ",140.jpg>200.jpg",
		"!100,100.jpg>100.jpg",    "!100,70.jpg>100.jpg",    "100,70.jpg>100.jpg",
		"100,.jpg>100.jpg",        ",70.jpg>100.jpg"};
	char *got_aliases = aliases_of(out, "thumbs");
	char *want = aliases_want(want_aliases, sizeof want_aliases / sizeof *want_aliases);
	CHECK_STR(got_aliases, want);
	free(got_aliases);
	free(want);
	/* full/: the one-tile level 250x175, the thumbnails, max and full */
	static const char *const want_full[] = {"!250,250.jpg>../tiles/0,0,1000,700_250.jpg",
						"!250,175.jpg>../tiles/0,0,1000,700_250.jpg",
						"250,175.jpg>../tiles/0,0,1000,700_250.jpg",
						"250,.jpg>../tiles/0,0,1000,700_250.jpg",
						",175.jpg>../tiles/0,0,1000,700_250.jpg",
						"max.jpg>../thumbs/1000.jpg",
						"full.jpg>../thumbs/1000.jpg",
						"!1000,1000.jpg>../thumbs/1000.jpg",
						"!1000,700.jpg>../thumbs/1000.jpg",
						"1000,700.jpg>../thumbs/1000.jpg",
						"1000,.jpg>../thumbs/1000.jpg",
						",700.jpg>../thumbs/1000.jpg",
						"!400,400.jpg>../thumbs/400.jpg",
						"!400,280.jpg>../thumbs/400.jpg",
						"400,280.jpg>../thumbs/400.jpg",
						"400,.jpg>../thumbs/400.jpg",
						",280.jpg>../thumbs/400.jpg",
						"!200,200.jpg>../thumbs/200.jpg",
						"!200,140.jpg>../thumbs/200.jpg",
						"200,140.jpg>../thumbs/200.jpg",
						"200,.jpg>../thumbs/200.jpg",
						",140.jpg>../thumbs/200.jpg",
						"!100,100.jpg>../thumbs/100.jpg",
						"!100,70.jpg>../thumbs/100.jpg",
						"100,70.jpg>../thumbs/100.jpg",
						"100,.jpg>../thumbs/100.jpg",
						",70.jpg>../thumbs/100.jpg"};
	got_aliases = aliases_of(out, "full");
	want = aliases_want(want_full, sizeof want_full / sizeof *want_full);
	CHECK_STR(got_aliases, want);
	free(got_aliases);
	free(want);
	size_t n;
	char **top = list_dir(out, &n);
	CHECK(n == 6 && strcmp(top[0], "full") == 0 && strcmp(top[1], "info") == 0 &&
	      strcmp(top[2], "info.txt") == 0 && strcmp(top[3], "s.json") == 0 &&
	      strcmp(top[4], "thumbs") == 0 && strcmp(top[5], "tiles") == 0);
	free_list(top, n);
	/* nginx's copies of info.json, of both services (asset/info_static.h) */
	char info_dir[600];
	snprintf(info_dir, sizeof info_dir, "%s/info", out);
	char **docs = list_dir(info_dir, &n);
	CHECK(n == 4 && strcmp(docs[0], "iiif-img-v2.json") == 0 &&
	      strcmp(docs[1], "iiif-img-v3.json") == 0 && strcmp(docs[2], "thumbs-v2.json") == 0 &&
	      strcmp(docs[3], "thumbs-v3.json") == 0);
	free_list(docs, n);

	/* one thread and five threads write the same files */
	for (int threads = 1; threads <= 5; threads += 4) {
		o.threads = threads;
		CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
		CHECK(r.ntiles == 17 && r.nthumbs == 4);
		check_tiles(out, 1000, 700);
	}

	/* a policy: upscaled, exact width and height, a duplicate longest edge;
	 * maxUnauthorised 400 splits open and auth */
	o = opts();
	const char *policy[] = {"^!2000,2000", "500,", ",350", "!400,400", ",1400"};
	for (size_t i = 0; i < 5; i++)
		CHECK(derive_parse_size(policy[i], &o.thumb_sizes[o.nthumb_sizes++]));
	o.max_unauthorised = 400;
	o.tiles = false;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.ntiles == 0 && r.nthumbs == 6);
	static const int t2[][2] = {{2000, 1400}, {1000, 700}, {500, 350},
				    {400, 280},   {200, 140},  {100, 70}};
	check_thumbs(out, t2, 6,
		     "{\"o\":[[400,280],[200,140],[100,70]],"
		     "\"a\":[[2000,1400],[1000,700],[500,350]]}");
	char path[1024];
	/* the upscaled size has no alias (3.0 needs "^" for it); the others do */
	snprintf(path, sizeof path, "%s/thumbs/2000,1400.jpg", out);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof path, "%s/thumbs/500,350.jpg", out);
	CHECK(access(path, F_OK) == 0);
	snprintf(path, sizeof path, "%s/tiles", out);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof path, "%s/info.txt", out);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof path, "%s/full", out); /* no /iiif-img without tiles */
	CHECK(access(path, F_OK) != 0);

	/* maxUnauthorised 0: everything needs auth */
	o = opts();
	o.max_unauthorised = 0;
	o.tiles = false;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	check_thumbs(out, t, 4, "{\"o\":[],\"a\":[[1000,700],[400,280],[200,140],[100,70]]}");

	/* tiles only */
	o = opts();
	o.thumbs = false;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.ntiles == 17 && r.nthumbs == 0);
	snprintf(path, sizeof path, "%s/s.json", out);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof path, "%s/thumbs", out);
	CHECK(access(path, F_OK) != 0);
	/* full/ links the one-tile level alone (check_tiles checks the rest) */
	check_tiles(out, 1000, 700);
	char *full = aliases_of(out, "full");
	CHECK(strstr(full, "250,.jpg>../tiles/0,0,1000,700_250.jpg") && !strstr(full, "thumbs"));
	free(full);
}

static void test_png_1x1(void)
{
	char src[512], out[512];
	make_file(src, sizeof src, 1, 1, QUADRANTS, "PNG", PLAIN);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 1 && r.height == 1 && r.ntiles == 1 && r.nthumbs == 1);
	check_tiles(out, 1, 1);
	static const int t[][2] = {{1, 1}};
	check_thumbs(out, t, 1, "{\"o\":[[1,1]],\"a\":[]}");
	char path[1024];
	snprintf(path, sizeof path, "%s/tiles/0,0,1,1_1.jpg", out);
	CHECK(colour_at(path, 0, 0, quad_rgb[3])); /* 1x1: the bottom-right quadrant */
}

static void test_jpeg_10000x50(void)
{
	char src[512], out[512];
	make_file(src, sizeof src, 10000, 50, NOISE, "JPEG", PLAIN);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 10000 && r.height == 50);
	CHECK(r.ntiles == 40 + 20 + 10 + 5 + 3 + 2 + 1);
	check_tiles(out, 10000, 50);
	static const int t[][2] = {{1024, 5}, {400, 2}, {200, 1}, {100, 1}};
	check_thumbs(out, t, 4, "{\"o\":[[1024,5],[400,2],[200,1],[100,1]],\"a\":[]}");
}

static void test_portrait_png(void)
{
	/* not a JPEG, level 1 (1050x1400 of 2100x2800) covers the largest
	 * thumbnail: thumbnails are made from the pyramid */
	char src[512], out[512];
	make_file(src, sizeof src, 2100, 2800, QUADRANTS, "PNG", PLAIN);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(derive_parse_size("300,", &o.thumb_sizes[o.nthumb_sizes++]));
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 2100 && r.height == 2800);
	check_tiles(out, 2100, 2800);
	static const int t[][2] = {{768, 1024}, {300, 400}, {150, 200}, {75, 100}};
	check_thumbs(out, t, 4, "{\"o\":[[768,1024],[300,400],[150,200],[75,100]],\"a\":[]}");
	char path[1024];
	snprintf(path, sizeof path, "%s/thumbs/1024.jpg", out);
	CHECK(colour_at(path, 10, 10, quad_rgb[0]) && colour_at(path, 758, 10, quad_rgb[1]) &&
	      colour_at(path, 10, 1014, quad_rgb[2]) && colour_at(path, 758, 1014, quad_rgb[3]));

	/* smaller: level 1 is too small, the thumbnails need a second read */
	make_file(src, sizeof src, 900, 1200, QUADRANTS, "PNG", PLAIN);
	o = opts();
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	check_tiles(out, 900, 1200);
	static const int t2[][2] = {{768, 1024}, {300, 400}, {150, 200}, {75, 100}};
	check_thumbs(out, t2, 4, "{\"o\":[[768,1024],[300,400],[150,200],[75,100]],\"a\":[]}");
	snprintf(path, sizeof path, "%s/thumbs/400.jpg", out);
	CHECK(colour_at(path, 5, 5, quad_rgb[0]) && colour_at(path, 295, 395, quad_rgb[3]));
}

static void test_gray_jpeg(void)
{
	char src[512], out[512];
	make_file(src, sizeof src, 600, 400, QUADRANTS, "JPEG", GRAY);
	Image *img = read_path(src, false);
	CHECK(img && IsGrayImage(img, &img->exception));
	if (img)
		DestroyImage(img);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 600 && r.height == 400);
	check_tiles(out, 600, 400);
	static const int t[][2] = {{600, 400}, {400, 267}, {200, 133}, {100, 67}};
	check_thumbs(out, t, 4, "{\"o\":[[600,400],[400,267],[200,133],[100,67]],\"a\":[]}");
	/* red becomes the grey of its luminance: about 76 */
	static const unsigned char grey[3] = {76, 76, 76}, white[3] = {255, 255, 255};
	char path[1024];
	snprintf(path, sizeof path, "%s/tiles/0,0,256,256_256.jpg", out);
	CHECK(colour_at(path, 10, 10, grey));
	snprintf(path, sizeof path, "%s/thumbs/600.jpg", out);
	CHECK(colour_at(path, 590, 390, white));
}

static void test_cmyk_jpeg(void)
{
	char src[512], out[512];
	make_file(src, sizeof src, 640, 480, QUADRANTS, "JPEG", CMYK);
	Image *img = read_path(src, true);
	CHECK(img && img->colorspace == CMYKColorspace);
	if (img)
		DestroyImage(img);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 640 && r.height == 480);
	check_tiles(out, 640, 480);
	char path[1024];
	snprintf(path, sizeof path, "%s/tiles/0,0,256,256_256.jpg", out);
	CHECK(colour_at(path, 10, 10, quad_rgb[0]));
	snprintf(path, sizeof path, "%s/tiles/512,256,128,224_128.jpg", out);
	CHECK(colour_at(path, 100, 200, quad_rgb[3]));
	snprintf(path, sizeof path, "%s/thumbs/640.jpg", out);
	CHECK(colour_at(path, 10, 10, quad_rgb[0]) && colour_at(path, 630, 10, quad_rgb[1]) &&
	      colour_at(path, 10, 470, quad_rgb[2]));
}

/* Where display pixel (dx, dy) of a W×H display comes from in the stored
 * fw×fh image, per EXIF orientation (TIFF 6.0 / EXIF 2.3 definitions). */
static void stored_of(int o, int dx, int dy, int fw, int fh, int *x, int *y)
{
	switch (o) {
	case 2:
		*x = fw - 1 - dx, *y = dy;
		break;
	case 3:
		*x = fw - 1 - dx, *y = fh - 1 - dy;
		break;
	case 4:
		*x = dx, *y = fh - 1 - dy;
		break;
	case 5:
		*x = dy, *y = dx;
		break;
	case 6:
		*x = dy, *y = fh - 1 - dx;
		break;
	case 7:
		*x = fw - 1 - dy, *y = fh - 1 - dx;
		break;
	case 8:
		*x = fw - 1 - dy, *y = dx;
		break;
	default:
		*x = dx, *y = dy;
		break;
	}
}

static void test_exif_orientation(void)
{
	const int fw = 300, fh = 200;
	for (int o = 1; o <= 8; o++) {
		char src[512], out[512];
		make_file(src, sizeof src, fw, fh, QUADRANTS, "JPEG", PLAIN);
		set_exif_orientation(src, o);
		struct derive_opts op = opts();
		op.threads = o % 2 + 1;
		struct derive_result r;
		CHECK(run(src, new_out(out, sizeof out), &op, &r) == 0);
		int W = o >= 5 ? fh : fw, H = o >= 5 ? fw : fh;
		CHECK(r.width == W && r.height == H);
		check_tiles(out, W, H);
		/* the corners of the first tile, the top level and the largest thumb */
		int ends[2][2] = {{8, 8}, {W - 9, H - 9}};
		for (int c = 0; c < 4; c++) {
			int dx = ends[c & 1][0], dy = ends[c >> 1][1], x, y;
			stored_of(o, dx, dy, fw, fh, &x, &y);
			const unsigned char *want = quad_rgb[(y >= fh / 2) * 2 + (x >= fw / 2)];
			char path[1024];
			if (dx < 256 && dy < 256) {
				int tw = W < 256 ? W : 256, th = H < 256 ? H : 256;
				snprintf(path, sizeof path, "%s/tiles/0,0,%d,%d_%d.jpg", out, tw,
					 th, tw);
				CHECK(colour_at(path, dx, dy, want));
			}
			snprintf(path, sizeof path, "%s/tiles/0,0,%d,%d_%d.jpg", out, W, H,
				 (W + 1) / 2);
			CHECK(colour_at(path, dx / 2, dy / 2, want));
			snprintf(path, sizeof path, "%s/thumbs/300.jpg", out);
			CHECK(colour_at(path, dx, dy, want));
		}
	}
}

static void test_png_alpha(void)
{
	char src[512], out[512];
	make_file(src, sizeof src, 400, 300, HALF_CLEAR, "PNG", PLAIN);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	check_tiles(out, 400, 300);
	static const unsigned char red[3] = {255, 0, 0}, white[3] = {255, 255, 255};
	char path[1024];
	snprintf(path, sizeof path, "%s/tiles/256,0,144,256_144.jpg", out);
	CHECK(colour_at(path, 100, 100, white));
	snprintf(path, sizeof path, "%s/tiles/0,0,256,256_256.jpg", out);
	CHECK(colour_at(path, 50, 50, red));
	snprintf(path, sizeof path, "%s/thumbs/400.jpg", out);
	CHECK(colour_at(path, 50, 50, red) && colour_at(path, 350, 250, white));
	/* thumbnails only: the same from the file path */
	o.tiles = false;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	snprintf(path, sizeof path, "%s/thumbs/200.jpg", out);
	CHECK(colour_at(path, 20, 20, red) && colour_at(path, 180, 130, white));
}

static void test_tiff16(void)
{
	char src[512], out[512];
	make_file(src, sizeof src, 700, 500, QUADRANTS, "TIFF", DEPTH16);
	Image *img = read_path(src, true);
	CHECK(img && img->depth == 16);
	if (img)
		DestroyImage(img);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 700 && r.height == 500);
	check_tiles(out, 700, 500);
	static const int t[][2] = {{700, 500}, {400, 286}, {200, 143}, {100, 71}};
	check_thumbs(out, t, 4, "{\"o\":[[700,500],[400,286],[200,143],[100,71]],\"a\":[]}");
	char path[1024];
	snprintf(path, sizeof path, "%s/tiles/512,256,188,244_188.jpg", out);
	CHECK(colour_at(path, 100, 200, quad_rgb[3]));
}

static void test_other_formats(void)
{
	/* GIF (a palette), BMP, WebP: dimensions and colours */
	const char *formats[] = {"GIF", "BMP", "WEBP"};
	for (size_t i = 0; i < 3; i++) {
		char src[512], out[512];
		make_file(src, sizeof src, 520, 300, QUADRANTS, formats[i], PLAIN);
		struct derive_opts o = opts();
		struct derive_result r;
		CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
		CHECK(r.width == 520 && r.height == 300);
		check_tiles(out, 520, 300);
		char path[1024];
		snprintf(path, sizeof path, "%s/tiles/512,256,8,44_8.jpg", out);
		CHECK(colour_at(path, 4, 30, quad_rgb[3]));
		snprintf(path, sizeof path, "%s/thumbs/520.jpg", out);
		CHECK(colour_at(path, 500, 10, quad_rgb[1]) &&
		      colour_at(path, 10, 290, quad_rgb[2]));
	}

	/* a two-page TIFF whose pages differ: the first page is the image */
	char src[512], out[512];
	snprintf(src, sizeof src, "%s/pages.tif", tmp);
	Image *first = make_pixels(400, 300, QUADRANTS), *second = make_pixels(90, 60, NOISE);
	first->next = second;
	second->previous = first;
	ImageInfo *info = CloneImageInfo(NULL);
	info->adjoin = MagickTrue;
	snprintf(first->filename, sizeof first->filename, "TIFF:%s", src);
	CHECK(WriteImage(info, first));
	DestroyImageInfo(info);
	DestroyImageList(first);
	struct derive_opts o = opts();
	struct derive_result r;
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 400 && r.height == 300);
	check_tiles(out, 400, 300);

	/* libjpeg's note about junk between markers is not a failure */
	make_file(src, sizeof src, 300, 200, NOISE, "JPEG", PLAIN);
	size_t len;
	unsigned char *all = slurp(src, &len);
	size_t app0 = 4 + (size_t)(all[4] << 8 | all[5]); /* after SOI and APP0 */
	CHECK(all[2] == 0xFF && all[3] == 0xE0);
	unsigned char *junk = malloc(len + 3);
	memcpy(junk, all, app0);
	memcpy(junk + app0, "\x01\x02\x03", 3);
	memcpy(junk + app0 + 3, all + app0, len - app0);
	spill(src, junk, len + 3);
	free(junk);
	free(all);
	CHECK(run(src, new_out(out, sizeof out), &o, &r) == 0);
	CHECK(r.width == 300 && r.height == 200 && r.ntiles == 3);
}

static void expect_failure(const char *what, const char *src, const struct derive_opts *o,
			   const char *needle)
{
	char out[512];
	struct derive_result r;
	memset(&r, 0x55, sizeof r);
	new_out(out, sizeof out);
	int rc = derive_image(src, out, o, &r);
	CHECK(rc == -1);
	CHECK(r.bad_input);
	bool named = strstr(r.error, needle) != NULL;
	if (!named)
		fprintf(stderr, "  %s: error \"%s\" lacks \"%s\"\n", what, r.error, needle);
	CHECK(named);
	/* nothing was started for an input refused before decoding */
	if (strcmp(what, "truncated") != 0) {
		size_t n;
		char **left = list_dir(out, &n);
		CHECK(n == 0);
		free_list(left, n);
	}
}

static void test_bad_inputs(void)
{
	struct derive_opts o = opts();
	char src[512], cut[512];

	/* truncated JPEG: libjpeg's "Premature end of JPEG file" */
	make_file(src, sizeof src, 1000, 700, NOISE, "JPEG", PLAIN);
	size_t len;
	unsigned char *all = slurp(src, &len);
	snprintf(cut, sizeof cut, "%s/truncated.jpg", tmp);
	spill(cut, all, len / 2);
	free(all);
	expect_failure("truncated", cut, &o, "Premature end of JPEG file");
	o.tiles = false; /* the shrink-on-load read sees it too */
	expect_failure("truncated", cut, &o, "Premature end of JPEG file");
	o.tiles = true;

	/* truncated PNG, TIFF and GIF */
	const char *formats[] = {"PNG", "TIFF", "GIF"};
	for (size_t i = 0; i < 3; i++) {
		make_file(src, sizeof src, 640, 480, NOISE, formats[i], PLAIN);
		all = slurp(src, &len);
		snprintf(cut, sizeof cut, "%s/truncated%zu", tmp, i);
		spill(cut, all, len / 2);
		free(all);
		char out2[512];
		struct derive_result r2;
		CHECK(derive_image(cut, new_out(out2, sizeof out2), &o, &r2) == -1 &&
		      r2.bad_input && r2.error[0]);
	}

	/* a text file, whatever it is called */
	const char text[] = "This is not an image, whatever its media type says.\n";
	snprintf(src, sizeof src, "%s/text.jpg", tmp);
	spill(src, text, sizeof text - 1);
	expect_failure("text", src, &o, "not an image");
	snprintf(src, sizeof src, "%s/text.txt", tmp);
	spill(src, text, sizeof text - 1);
	expect_failure("text", src, &o, "not an image");

	/* JPEG magic followed by rubbish */
	snprintf(src, sizeof src, "%s/fake.jpg", tmp);
	spill(src, "\xFF\xD8\xFF\xE0 rubbish rubbish rubbish", 28);
	char out[512];
	struct derive_result r;
	CHECK(derive_image(src, new_out(out, sizeof out), &o, &r) == -1 && r.bad_input &&
	      r.error[0]);

	/* zero bytes */
	snprintf(src, sizeof src, "%s/empty.jpg", tmp);
	spill(src, "", 0);
	expect_failure("empty", src, &o, "empty");

	/* over the pixel limit: refused from the header */
	make_file(src, sizeof src, 1000, 700, NOISE, "JPEG", PLAIN);
	o.max_pixels = 699999;
	expect_failure("pixels", src, &o, "over the limit of 699999");
	o.max_pixels = 700000;
	CHECK(derive_image(src, new_out(out, sizeof out), &o, &r) == 0);

	/* a missing original is not the input's fault */
	snprintf(src, sizeof src, "%s/missing.jpg", tmp);
	CHECK(derive_image(src, new_out(out, sizeof out), &o, &r) == -1 && !r.bad_input);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(int argc, char **argv)
{
	(void)argc;
	derive_init(argv[0], 1LL << 30);
	snprintf(tmp, sizeof tmp, "%s/test_derive.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_parse_size();
	test_jpeg_1000x700();
	test_png_1x1();
	test_jpeg_10000x50();
	test_portrait_png();
	test_gray_jpeg();
	test_cmyk_jpeg();
	test_exif_orientation();
	test_png_alpha();
	test_tiff16();
	test_other_formats();
	test_bad_inputs();
	if (!getenv("KEEP_TMP"))
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	DestroyMagick();
	return check_done();
}
