/* info.json and the stored files it comes from: info.txt and s.json
 * parsing, the 3.0 and 2.1 documents (parsed back and checked field by
 * field), the Accept negotiation, and matching requests to stored tiles and
 * thumbnails with OpenSeadragon's tile URLs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "asset/iiif_parse.h"
#include "asset/info.h"
#include "asset/info_static.h"
#include "json.h"
#include "check.h"

static struct arena *A;

static void test_info_txt(void)
{
	struct stored st;
	memset(&st, 0, sizeof st);
	CHECK(stored_parse_info("1000 700 256 1 2 4\n", &st) == 0);
	CHECK(st.has_tiles && st.W == 1000 && st.H == 700 && st.tile == 256 && st.nsf == 3 &&
	      st.sf[2] == 4);
	CHECK(stored_parse_info("1 1 256 1", &st) == 0 && st.nsf == 1);
	static const char *const bad[] = {
		"",
		"1000 700 256\n",
		"1000 700 256 2 4\n",
		"1000 700 256 1 1\n",
		"1000 700 256 1 4 2\n",
		"0 700 256 1\n",
		"1000 -7 256 1\n",
		"1000 700 256 1 \n",
		"1000  700 256 1\n",
		"1000 700 256 1\n\n",
		"x 700 256 1\n",
		"1000 700 256 1 2 x\n",
		"9999999 700 256 1\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct stored t;
		memset(&t, 0, sizeof t);
		int rc = stored_parse_info(bad[i], &t);
		if (rc == 0)
			fprintf(stderr, "info.txt '%s' accepted\n", bad[i]);
		CHECK(rc == -1 && !t.has_tiles);
	}
	char many[400] = "100 100 256";
	for (int i = 0; i < 33; i++) {
		size_t n = strlen(many);
		snprintf(many + n, sizeof many - n, " %lld", 1LL << i);
	}
	CHECK(stored_parse_info(many, &st) == -1);
}

static void test_sizes(void)
{
	struct stored st;
	memset(&st, 0, sizeof st);
	const char *j = "{\"o\":[[400,280],[200,140],[100,70]],\"a\":[[1000,700]]}";
	CHECK(stored_parse_sizes(A, j, strlen(j), &st) == 0);
	CHECK(st.has_sizes && st.nsizes == 4);
	CHECK(st.sizes[0].w == 100 && st.sizes[0].open && st.sizes[3].w == 1000 &&
	      !st.sizes[3].open);
	j = "{\"o\":[],\"a\":[]}";
	CHECK(stored_parse_sizes(A, j, strlen(j), &st) == 0 && st.nsizes == 0);
	static const char *const bad[] = {"",
					  "[]",
					  "{\"o\":{}}",
					  "{\"o\":[[1]]}",
					  "{\"o\":[[1,2,3]]}",
					  "{\"o\":[[0,2]]}",
					  "{\"o\":[[\"1\",2]]}",
					  "{\"o\":[[1.5,2]]}",
					  "{\"o\":[[1,2]]"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct stored t;
		memset(&t, 0, sizeof t);
		CHECK(stored_parse_sizes(A, bad[i], strlen(bad[i]), &t) == -1);
	}
}

static yajl_val doc(const struct info_doc *d)
{
	struct jw *w = jw_new(A);
	info_write(w, d);
	size_t len;
	const char *text = jw_text(w, &len);
	CHECK(text != NULL);
	if (!text)
		return NULL;
	return json_parse(A, text, len, NULL);
}

static const char *str_at(yajl_val v, const char *key)
{
	return YAJL_GET_STRING(json_get(v, key));
}

static bool array_has(yajl_val arr, const char *s)
{
	for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		const char *v = YAJL_GET_STRING(arr->u.array.values[i]);
		if (v && strcmp(v, s) == 0)
			return true;
	}
	return false;
}

static void test_documents(void)
{
	static const struct stored_size sizes[] = {
		{100, 70, true}, {200, 140, true}, {1000, 700, false}};
	static const int sf[] = {1, 2, 4};
	struct info_doc d = {.version = 3,
			     .id = "https://h/iiif-img/2/1/a",
			     .W = 1000,
			     .H = 700,
			     .sizes = sizes,
			     .nsizes = 3,
			     .sf = sf,
			     .nsf = 3,
			     .tile = 256,
			     .max_area = 16777216,
			     .webp = true};
	yajl_val v = doc(&d);
	CHECK(v && YAJL_IS_OBJECT(v));
	if (v) {
		/* @context first, as the specification asks */
		CHECK(strcmp(v->u.object.keys[0], "@context") == 0);
		CHECK_STR(str_at(v, "@context"), "http://iiif.io/api/image/3/context.json");
		CHECK_STR(str_at(v, "id"), "https://h/iiif-img/2/1/a");
		CHECK_STR(str_at(v, "type"), "ImageService3");
		CHECK_STR(str_at(v, "protocol"), "http://iiif.io/api/image");
		CHECK_STR(str_at(v, "profile"), "level2");
		CHECK(YAJL_GET_INTEGER(json_get(v, "width")) == 1000);
		CHECK(YAJL_GET_INTEGER(json_get(v, "height")) == 700);
		CHECK(YAJL_GET_INTEGER(json_get(v, "maxArea")) == 16777216);
		yajl_val s = json_get(v, "sizes");
		CHECK(YAJL_IS_ARRAY(s) && s->u.array.len == 3);
		if (YAJL_IS_ARRAY(s) && s->u.array.len == 3) {
			CHECK(YAJL_GET_INTEGER(json_get(s->u.array.values[0], "width")) == 100);
			CHECK(YAJL_GET_INTEGER(json_get(s->u.array.values[2], "height")) == 700);
		}
		yajl_val t = json_get(v, "tiles");
		CHECK(YAJL_IS_ARRAY(t) && t->u.array.len == 1);
		if (YAJL_IS_ARRAY(t) && t->u.array.len == 1) {
			yajl_val t0 = t->u.array.values[0];
			CHECK(YAJL_GET_INTEGER(json_get(t0, "width")) == 256);
			yajl_val f = json_get(t0, "scaleFactors");
			CHECK(YAJL_IS_ARRAY(f) && f->u.array.len == 3 &&
			      YAJL_GET_INTEGER(f->u.array.values[2]) == 4);
		}
		CHECK(array_has(json_get(v, "extraFormats"), "webp"));
		CHECK(array_has(json_get(v, "extraFormats"), "tif"));
		CHECK(!array_has(json_get(v, "extraFormats"), "jpg"));
		CHECK(array_has(json_get(v, "extraQualities"), "bitonal"));
		CHECK(array_has(json_get(v, "extraFeatures"), "mirroring"));
		CHECK(array_has(json_get(v, "extraFeatures"), "rotationArbitrary"));
		CHECK(array_has(json_get(v, "extraFeatures"), "sizeUpscaling"));
	}
	d.webp = false;
	v = doc(&d);
	CHECK(v && !array_has(json_get(v, "extraFormats"), "webp"));

	d.version = 2;
	d.webp = true;
	v = doc(&d);
	CHECK(v && YAJL_IS_OBJECT(v));
	if (v) {
		CHECK_STR(str_at(v, "@context"), "http://iiif.io/api/image/2/context.json");
		CHECK_STR(str_at(v, "@id"), "https://h/iiif-img/2/1/a");
		CHECK(json_get(v, "id") == NULL && json_get(v, "type") == NULL);
		yajl_val p = json_get(v, "profile");
		CHECK(YAJL_IS_ARRAY(p) && p->u.array.len == 2);
		if (YAJL_IS_ARRAY(p) && p->u.array.len == 2) {
			CHECK_STR(YAJL_GET_STRING(p->u.array.values[0]),
				  "http://iiif.io/api/image/2/level2.json");
			yajl_val o = p->u.array.values[1];
			CHECK(array_has(json_get(o, "formats"), "jpg"));
			CHECK(array_has(json_get(o, "formats"), "webp"));
			CHECK(array_has(json_get(o, "qualities"), "default"));
			CHECK(array_has(json_get(o, "qualities"), "bitonal"));
			CHECK(array_has(json_get(o, "supports"), "mirroring"));
			CHECK(array_has(json_get(o, "supports"), "sizeAboveFull"));
			CHECK(YAJL_GET_INTEGER(json_get(o, "maxArea")) == 16777216);
		}
		yajl_val s = json_get(v, "sizes");
		CHECK(YAJL_IS_ARRAY(s) && s->u.array.len == 3 &&
		      json_get(s->u.array.values[0], "type") == NULL);
	}

	/* the thumbnail service: level 0, sizes only */
	struct info_doc t = {.version = 3,
			     .id = "https://h/thumbs/2/1/a",
			     .W = 1000,
			     .H = 700,
			     .level0 = true,
			     .sizes = sizes,
			     .nsizes = 2};
	v = doc(&t);
	CHECK(v && YAJL_IS_OBJECT(v));
	if (v) {
		CHECK_STR(str_at(v, "profile"), "level0");
		CHECK(json_get(v, "tiles") == NULL && json_get(v, "extraFormats") == NULL);
		yajl_val s = json_get(v, "sizes");
		CHECK(YAJL_IS_ARRAY(s) && s->u.array.len == 2);
	}
	t.version = 2;
	v = doc(&t);
	yajl_val p = v ? json_get(v, "profile") : NULL;
	CHECK(YAJL_IS_ARRAY(p) && p->u.array.len == 1);
	if (YAJL_IS_ARRAY(p) && p->u.array.len == 1)
		CHECK_STR(YAJL_GET_STRING(p->u.array.values[0]),
			  "http://iiif.io/api/image/2/level0.json");
}

static void test_content_type(void)
{
	const char *ld3 = "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\"";
	CHECK_STR(info_content_type(3, NULL), ld3);
	CHECK_STR(info_content_type(3, "*/*"), ld3);
	CHECK_STR(info_content_type(3, "application/ld+json"), ld3);
	CHECK_STR(info_content_type(3, "application/json"), "application/json");
	CHECK_STR(info_content_type(3, "text/html"), ld3);
	CHECK_STR(info_content_type(2, NULL), "application/json");
	CHECK_STR(info_content_type(2, "*/*"), "application/json");
	CHECK_STR(info_content_type(2, "application/ld+json"), "application/ld+json");
}

/* OpenSeadragon's getTileUrl arithmetic (iiiftilesource.js, versions 2 and
 * 3; `w2` the older 2.x size "w," instead of "w,h"), rewritten here: every
 * URL it makes for a pyramid must resolve to the stored tile derive.c names
 * {x},{y},{w},{h}_{sw}.jpg, computed here independently. */
static void osd_check(int W, int H)
{
	struct stored st;
	memset(&st, 0, sizeof st);
	st.has_tiles = true;
	st.W = W, st.H = H, st.tile = 256;
	for (long long f = 1;; f *= 2) {
		st.sf[st.nsf++] = (int)f;
		if ((W + f - 1) / f <= 256 && (H + f - 1) / f <= 256)
			break;
	}
	int maxLevel = st.nsf - 1, misses = 0, total = 0;
	for (int form = 0; form < 3; form++) { /* v3, v2 "w,h", v2 "w," */
		int version = form == 0 ? 3 : 2;
		for (int level = 0; level <= maxLevel; level++) {
			double scale = 1.0;
			for (int i = 0; i < maxLevel - level; i++)
				scale *= 0.5;
			long long f = 1LL << (maxLevel - level);
			int lw = (int)ceil(W * scale), lh = (int)ceil(H * scale);
			int span = (int)llround(256 / scale);
			for (int y = 0; y * 256 < lh; y++)
				for (int x = 0; x * 256 < lw; x++) {
					char region[64], size[64];
					if (lw < 256 && lh < 256) {
						snprintf(region, sizeof region, "full");
						if (version == 2 && lw == W)
							snprintf(size, sizeof size, "full");
						else if (version == 3 && lw == W && lh == H)
							snprintf(size, sizeof size, "max");
						else if (version == 3)
							snprintf(size, sizeof size, "%d,%d", lw,
								 lh);
						else
							snprintf(size, sizeof size, "%d,", lw);
					} else {
						int tx = x * span, ty = y * span;
						int tw = span < W - tx ? span : W - tx;
						int th = span < H - ty ? span : H - ty;
						if (x == 0 && y == 0 && tw == W && th == H)
							snprintf(region, sizeof region, "full");
						else
							snprintf(region, sizeof region,
								 "%d,%d,%d,%d", tx, ty, tw, th);
						int sw = 256 < lw - x * 256 ? 256 : lw - x * 256;
						int sh = 256 < lh - y * 256 ? 256 : lh - y * 256;
						if (version == 2 && sw == W)
							snprintf(size, sizeof size, "full");
						else if (version == 3 && sw == W && sh == H)
							snprintf(size, sizeof size, "max");
						else if (form == 2)
							snprintf(size, sizeof size, "%d,", sw);
						else
							snprintf(size, sizeof size, "%d,%d", sw,
								 sh);
					}
					/* the name derive.c gives this tile */
					long long sp = 256 * f, ex = x * sp, ey = y * sp;
					long long ew = W - ex < sp ? W - ex : sp;
					long long eh = H - ey < sp ? H - ey : sp;
					char want[96], got[96];
					snprintf(want, sizeof want, "%lld,%lld,%lld,%lld_%lld.jpg",
						 ex, ey, ew, eh, (ew + f - 1) / f);
					struct iiif_params p;
					struct iiif_resolved r;
					const char *why;
					struct iiif_limits lim = {0};
					int tw = 0, th = 0;
					bool ok = iiif_parse(version, region, size, "0",
							     "default.jpg", &p, &why) == 0 &&
						  iiif_resolve(&p, W, H, &lim, &r, &why) == 0 &&
						  stored_match_tile(&st, &r, got, sizeof got, &tw,
								    &th) &&
						  strcmp(got, want) == 0 &&
						  tw == (int)((ew + f - 1) / f) &&
						  th == (int)((eh + f - 1) / f);
					/* the old 2.x "w," of a sliver means a taller image
					 * than the tile (the height follows the region's
					 * ratio): it is rendered, not matched */
					long long esw = (ew + f - 1) / f, esh = (eh + f - 1) / f;
					long long hr = (2 * eh * esw + ew) / (2 * ew);
					if (version == 2 && size[strlen(size) - 1] == ',' &&
					    (hr > esh + 1 || hr < esh - 1))
						continue;
					total++;
					if (!ok && misses++ < 5)
						fprintf(stderr, "%dx%d v%d %s/%s: want %s\n", W, H,
							version, region, size, want);
				}
		}
	}
	CHECK(misses == 0 && total > 0);
}

static void test_tiles_match(void)
{
	static const int dims[][2] = {{1000, 700},  {777, 555},   {256, 256}, {257, 100},
				      {6000, 4000}, {10000, 50},  {1, 1},     {512, 300},
				      {255, 1000},  {4097, 4095}, {513, 513}, {100, 7000}};
	for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
		osd_check(dims[i][0], dims[i][1]);

	/* not tiles: a misaligned region, another size, a region across tiles */
	struct stored st;
	memset(&st, 0, sizeof st);
	CHECK(stored_parse_info("1000 700 256 1 2 4\n", &st) == 0);
	static const char *const not_tiles[][2] = {
		{"1,0,256,256", "256,256"}, {"0,0,256,256", "255,255"},   {"0,0,256,256", "128,"},
		{"0,0,512,512", "512,512"}, {"128,0,256,256", "256,256"}, {"full", "max"},
		{"0,0,1024,1024", "256,"},
	};
	for (size_t i = 0; i < sizeof not_tiles / sizeof *not_tiles; i++) {
		struct iiif_params p;
		struct iiif_resolved r;
		const char *why;
		char name[96];
		int tw, th;
		CHECK(iiif_parse(3, not_tiles[i][0], not_tiles[i][1], "0", "default.jpg", &p,
				 &why) == 0 &&
		      iiif_resolve(&p, 1000, 700, NULL, &r, &why) == 0);
		CHECK(!stored_match_tile(&st, &r, name, sizeof name, &tw, &th));
	}
	/* without info.txt nothing matches */
	struct stored none;
	memset(&none, 0, sizeof none);
	struct iiif_resolved r = {.region = {0, 0, 256, 256}, .w = 256, .h = 256};
	char name[96];
	int tw, th;
	CHECK(!stored_match_tile(&none, &r, name, sizeof name, &tw, &th));
}

static void test_sizes_match(void)
{
	/* derive's default thumbnails of a 1000×700 image */
	static const struct stored_size s[] = {
		{100, 70, true}, {200, 140, true}, {400, 280, true}, {1000, 700, false}};
	static const struct {
		int version;
		const char *size;
		int want; /* index, -1 none, -2 refused */
	} t[] = {
		{3, "100,70", 0},      {3, "!100,100", 0}, {3, "100,", 0},      {3, ",70", 0},
		{3, "!200,200", 1},    {3, "400,280", 2},  {3, "!400,400", 2},  {3, "max", 3},
		{3, "!1024,1024", -2}, /* 3.0: a fit past the region needs ^ (400) */
		{3, "101,", -1},       {3, "100,71", -1},  {3, "!150,150", -1}, {3, "pct:10", 0},
		{3, "pct:40", 2},      {2, "100,", 0},     {2, "full", 3},      {2, "!200,200", 1},
		{2, "200,140", 1},     {3, "300,", -1},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		struct iiif_params p;
		struct iiif_resolved r;
		const char *why;
		int got = -2;
		if (iiif_parse(t[i].version, "full", t[i].size, "0", "default.jpg", &p, &why) ==
			    0 &&
		    iiif_resolve(&p, 1000, 700, NULL, &r, &why) == 0)
			got = stored_match_size(s, 4, 1000, 700, &r);
		if (got != t[i].want)
			fprintf(stderr, "size v%d %s: %d, want %d\n", t[i].version, t[i].size, got,
				t[i].want);
		CHECK(got == t[i].want);
	}
	/* only the full region */
	struct iiif_resolved r = {.region = {0, 0, 999, 700}, .w = 100, .h = 70};
	CHECK(stored_match_size(s, 4, 1000, 700, &r) == -1);
	/* a computed side one pixel off still finds the file */
	r = (struct iiif_resolved){.region = {0, 0, 1000, 700}, .w = 100, .h = 71, .h_free = true};
	CHECK(stored_match_size(s, 4, 1000, 700, &r) == 0);
	r.h_free = false;
	CHECK(stored_match_size(s, 4, 1000, 700, &r) == -1);
}

/* A document's text, as info_write makes it. */
static const char *doc_text(const struct info_doc *d)
{
	struct jw *w = jw_new(A);
	info_write(w, d);
	return jw_text(w, NULL);
}

/* text with every from replaced by to (once each is enough here). */
static const char *fill(const char *text, const char *from, const char *to)
{
	const char *hit = text ? strstr(text, from) : NULL;
	if (!hit)
		return text;
	return arena_printf(A, "%.*s%s%s", (int)(hit - text), text, to, hit + strlen(from));
}

/* What an asset's files say: 1000x700, tiles of 256 at 1, 2, 4, and the
 * thumbnails 100, 200, 400 and one above max_area below. */
static struct stored asset_files(void)
{
	struct stored st;
	memset(&st, 0, sizeof st);
	CHECK(stored_parse_info("1000 700 256 1 2 4\n", &st) == 0);
	const char *s = "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}";
	CHECK(stored_parse_sizes(A, s, strlen(s), &st) == 0);
	return st;
}

/* The builders dlcs-image answers with: sizes over max_area left out,
 * maxArea published only when positive; the thumbnail service's size. */
static void test_builders(void)
{
	struct stored st = asset_files();
	struct info_doc d;
	info_doc_image(&d, A, &st, 3, "https://h/iiif-img/2/1/a", 100000, false);
	CHECK(d.W == 1000 && d.H == 700 && d.nsf == 3 && d.tile == 256 && d.max_area == 100000);
	/* 400x280 = 112000 is over; what is listed (stored_info_sizes) is within */
	CHECK(d.nsizes >= 1);
	for (size_t i = 0; i < d.nsizes; i++)
		CHECK((long long)d.sizes[i].w * d.sizes[i].h <= 100000);
	info_doc_image(&d, A, &st, 3, "x", 0, false);
	CHECK(d.nsizes == 4 && d.max_area == 0);
	info_doc_image(&d, A, &st, 3, "x", -1, false);
	CHECK(d.nsizes == 4 && d.max_area == 0);
	CHECK(strstr(doc_text(&d), "maxArea") == NULL);
	int W, H;
	info_thumbs_size(&st, 1600, 1200, &W, &H);
	CHECK(W == 1600 && H == 1200);
	info_thumbs_size(&st, 0, 0, &W, &H);
	CHECK(W == 1000 && H == 700);
	info_doc_thumbs(&d, &st, st.sizes, 2, 0, 0, 2, "y");
	CHECK(d.level0 && d.nsizes == 2 && d.W == 1000 && d.H == 700 && d.version == 2);
}

/* nginx's copies: dlcs-image's documents with the "id" left to nginx, for
 * each service and version; base_url in place of the request's when set. */
static void test_static_text(void)
{
	struct stored st = asset_files();
	struct info_static_opts o = {.base_url = NULL, .max_area = 16777216, .webp = true};
	for (int k = 0; k < INFO_STATIC__MAX; k++) {
		const struct info_static_spec *spec = &INFO_STATIC[k];
		size_t len = 0;
		const char *text = info_static_text(A, &st, 1600, 1200, &o, k, &len);
		CHECK(text && len == strlen(text));
		/* what nginx makes of it for http://h:8 and customer acme */
		const char *path = arena_printf(A, "%s/acme/1/a", spec->prefix);
		const char *served =
			fill(fill(text, INFO_BASE_MARK, "http://h:8"), INFO_PATH_MARK, path);
		/* what dlcs-image answers for that request */
		const char *id = arena_printf(A, "http://h:8%s", path);
		struct info_doc d;
		if (spec->thumbs)
			info_doc_thumbs(&d, &st, st.sizes, st.nsizes, 1600, 1200, spec->version,
					id);
		else
			info_doc_image(&d, A, &st, spec->version, id, 16777216, true);
		CHECK_STR(served, doc_text(&d));
		/* the marks once each, in the id */
		CHECK(text && strstr(text, INFO_BASE_MARK INFO_PATH_MARK));
		CHECK(text && strstr(strstr(text, INFO_PATH_MARK) + 1, INFO_PATH_MARK) == NULL);
	}
	o.base_url = "https://iiif.example.org/dlcs";
	const char *text = info_static_text(A, &st, 1600, 1200, &o, INFO_IMG_V2, NULL);
	CHECK(text && strstr(text, "\"@id\":\"https://iiif.example.org/dlcs" INFO_PATH_MARK "\""));
	CHECK(text && !strstr(text, INFO_BASE_MARK));
	/* no pyramid: no image service; no thumbnails: no thumbnail service */
	struct stored none;
	memset(&none, 0, sizeof none);
	for (int k = 0; k < INFO_STATIC__MAX; k++)
		CHECK(info_static_text(A, &none, 1, 1, &o, k, NULL) == NULL);
	struct stored empty = asset_files();
	empty.nsizes = 0;
	CHECK(info_static_text(A, &empty, 1, 1, &o, INFO_THUMBS_V3, NULL) == NULL);
	CHECK(info_static_text(A, &empty, 1, 1, &o, INFO_IMG_V3, NULL) != NULL);
}

static const char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = arena_alloc(A, 65536);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* info_static_sync writes what differs, removes what the asset lacks,
 * and does nothing the second time. */
static void test_static_sync(void)
{
	char tmpl[] = "/tmp/dlcs-info-static.XXXXXX";
	const char *dir = mkdtemp(tmpl);
	CHECK(dir != NULL);
	if (!dir)
		return;
	char err[256] = "";
	struct info_static_opts o = {.max_area = 16777216, .webp = false};
	const char *gone = arena_printf(A, "%s/none", dir);
	CHECK(info_static_sync(A, gone, 1, 1, &o, err, sizeof err) == 0); /* no asset: nothing */
	CHECK(access(gone, F_OK) != 0);
	put_file(arena_printf(A, "%s/info.txt", dir), "1000 700 256 1 2 4\n");
	put_file(arena_printf(A, "%s/s.json", dir), "{\"o\":[[400,280],[100,70]],\"a\":[]}");
	CHECK(info_static_sync(A, dir, 1000, 700, &o, err, sizeof err) == 4);
	CHECK(info_static_sync(A, dir, 1000, 700, &o, err, sizeof err) == 0);
	struct stored st;
	stored_load(A, dir, &st);
	for (int k = 0; k < INFO_STATIC__MAX; k++) {
		const char *path = arena_printf(A, "%s/info/%s", dir, INFO_STATIC[k].file);
		CHECK_STR(slurp_file(path), info_static_text(A, &st, 1000, 700, &o, k, NULL));
	}
	/* a changed setting (webp) rewrites the image service's two */
	o.webp = true;
	CHECK(info_static_sync(A, dir, 1000, 700, &o, err, sizeof err) == 2);
	/* a file changed by hand is put right, with an mtime past the one it
	 * replaces (nginx's ETag is mtime and size) */
	const char *v3 = arena_printf(A, "%s/info/%s", dir, INFO_FILE_THUMBS_V3);
	put_file(v3, "{}");
	time_t later = time(NULL) + 100;
	struct timespec ts[2] = {{0, UTIME_OMIT}, {later, 0}};
	CHECK(utimensat(AT_FDCWD, v3, ts, 0) == 0);
	CHECK(info_static_sync(A, dir, 1000, 700, &o, err, sizeof err) == 1);
	CHECK(slurp_file(v3) && strcmp(slurp_file(v3), "{}") != 0);
	struct stat sb;
	CHECK(stat(v3, &sb) == 0 && sb.st_mtime == later + 1);
	/* the copies of a new version come after those they replace */
	char tmpl2[] = "/tmp/dlcs-info-static.XXXXXX";
	const char *next = mkdtemp(tmpl2);
	CHECK(next != NULL);
	if (next) {
		put_file(arena_printf(A, "%s/info.txt", next), "1000 700 256 1 2 4\n");
		put_file(arena_printf(A, "%s/s.json", next), "{\"o\":[[400,280]],\"a\":[]}");
		CHECK(info_static_sync(A, next, 1000, 700, &o, err, sizeof err) == 4);
		info_static_after(A, next, dir);
		const char *n3 = arena_printf(A, "%s/info/%s", next, INFO_FILE_THUMBS_V3);
		CHECK(stat(n3, &sb) == 0 && sb.st_mtime == later + 2);
		for (int k = 0; k < INFO_STATIC__MAX; k++) {
			struct stat was, now;
			if (stat(arena_printf(A, "%s/info/%s", dir, INFO_STATIC[k].file), &was) ==
			    0)
				CHECK(stat(arena_printf(A, "%s/info/%s", next, INFO_STATIC[k].file),
					   &now) == 0 &&
				      now.st_mtime > was.st_mtime);
		}
		for (int k = 0; k < INFO_STATIC__MAX; k++)
			unlink(arena_printf(A, "%s/info/%s", next, INFO_STATIC[k].file));
		rmdir(arena_printf(A, "%s/info", next));
		unlink(arena_printf(A, "%s/info.txt", next));
		unlink(arena_printf(A, "%s/s.json", next));
		CHECK(rmdir(next) == 0);
	}
	/* no thumbnails any more: their documents go, and the image service
	 * lists no sizes */
	unlink(arena_printf(A, "%s/s.json", dir));
	CHECK(info_static_sync(A, dir, 1000, 700, &o, err, sizeof err) == 4);
	CHECK(access(v3, F_OK) != 0);
	CHECK(access(arena_printf(A, "%s/info/%s", dir, INFO_FILE_IMG_V3), F_OK) == 0);
	/* no temporary file is left behind */
	unlink(arena_printf(A, "%s/info/%s", dir, INFO_FILE_IMG_V3));
	unlink(arena_printf(A, "%s/info/%s", dir, INFO_FILE_IMG_V2));
	CHECK(rmdir(arena_printf(A, "%s/info", dir)) == 0);
	unlink(arena_printf(A, "%s/info.txt", dir));
	CHECK(rmdir(dir) == 0);
}

/* OpenSeadragon 5.0.1's IIIFTileSource (Mirador 4), as it reads sizes:
 * maxLevel = round(log2(largest scale factor)); a list of maxLevel or
 * maxLevel + 1 sizes, sorted by width (+ the full size when maxLevel),
 * becomes the level sizes. True when the levels it then uses are the real
 * ones (ceil(W / 2^(maxLevel - k))), or it does not use the list. */
static bool osd5_reads_right(int W, int H, const int *sf, int nsf, const struct stored_size *sizes,
			     size_t n)
{
	int m = (int)lround(log2(sf[nsf - 1]));
	if (n != (size_t)m && n != (size_t)m + 1)
		return true;
	struct stored_size l[40];
	memcpy(l, sizes, n * sizeof *l);
	for (size_t i = 1; i < n; i++) /* insertion sort by width, stable like JS */
		for (size_t j = i; j > 0 && l[j - 1].w > l[j].w; j--) {
			struct stored_size t = l[j];
			l[j] = l[j - 1];
			l[j - 1] = t;
		}
	if (n == (size_t)m)
		l[n++] = (struct stored_size){W, H, true};
	for (int k = 0; k <= m; k++) {
		double scale = pow(0.5, m - k);
		if (l[k].w != (int)ceil(W * scale) || l[k].h != (int)ceil(H * scale))
			return false;
	}
	return true;
}

/* The sizes of info.json: the thumbnails, made safe for OpenSeadragon 5. */
static void test_info_sizes(void)
{
	static const int widths[] = {300, 600, 1024, 1600, 2048, 2400, 4000, 9000, 20000};
	static const long long areas[] = {16777216, 0, 1000000};
	for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
		for (size_t ai = 0; ai < sizeof areas / sizeof areas[0]; ai++) {
			struct stored st;
			memset(&st, 0, sizeof st);
			st.W = widths[wi];
			st.H = widths[wi] * 3 / 4;
			st.tile = 256;
			st.has_tiles = st.has_sizes = true;
			for (int f = 1;; f *= 2) {
				st.sf[st.nsf++] = f;
				if ((st.W + f - 1) / f <= 256 && (st.H + f - 1) / f <= 256)
					break;
			}
			static const int edges[] = {100, 200, 400, 1024};
			for (size_t e = 0; e < 4; e++)
				if (edges[e] < st.W)
					st.sizes[st.nsizes++] = (struct stored_size){
						edges[e], (int)lround(edges[e] * 0.75), true};
			struct stored_size out[STORED_MAX_SIZES + STORED_MAX_LEVELS];
			size_t n = stored_info_sizes(&st, areas[ai], out);
			CHECK(osd5_reads_right(st.W, st.H, st.sf, st.nsf, out, n));
			bool sorted = true, within = true;
			for (size_t i = 0; i < n; i++) {
				sorted &= i == 0 || out[i - 1].w <= out[i].w;
				within &= areas[ai] <= 0 ||
					  (long long)out[i].w * out[i].h <= areas[ai];
			}
			CHECK(sorted && within);
			/* every thumbnail within the area is still there, unless
			 * dropping it was the only way */
			size_t kept = 0;
			for (size_t i = 0; i < st.nsizes; i++)
				for (size_t j = 0; j < n; j++)
					kept += out[j].w == st.sizes[i].w &&
						out[j].h == st.sizes[i].h;
			if (areas[ai] <= 0 || areas[ai] >= (long long)st.W * st.H)
				CHECK(kept == st.nsizes);
		}
	}
	/* 1600 x 1200: the four thumbnails beside factors 1..8 are what
	 * Mirador misread. Its levels 200 x 150 and 400 x 300 are thumbnails
	 * already, so the next one, 800 x 600, joins them: five sizes. */
	struct stored st = {
		.W = 1600,
		.H = 1200,
		.tile = 256,
		.has_tiles = true,
		.nsf = 4,
		.sf = {1, 2, 4, 8},
		.nsizes = 4,
		.sizes = {{100, 75, true}, {200, 150, true}, {400, 300, true}, {1024, 768, true}}};
	struct stored_size out[STORED_MAX_SIZES + STORED_MAX_LEVELS];
	size_t n = stored_info_sizes(&st, 16777216, out);
	CHECK(n == 5 && out[0].w == 100 && out[4].w == 1024);
	CHECK(osd5_reads_right(1600, 1200, st.sf, st.nsf, out, n));
	/* an image whose thumbnails are not read as levels keeps them as they are */
	st.nsizes = 2;
	n = stored_info_sizes(&st, 16777216, out);
	CHECK(n == 2 && out[0].w == 100 && out[1].w == 200);
}

int main(void)
{
	A = arena_new(1 << 16);
	test_info_txt();
	test_sizes();
	test_documents();
	test_content_type();
	test_tiles_match();
	test_sizes_match();
	test_builders();
	test_static_text();
	test_static_sync();
	test_info_sizes();
	arena_free(A);
	return check_done();
}
