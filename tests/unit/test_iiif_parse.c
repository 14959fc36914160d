/* The IIIF request parser: every region and size form of Image API 2.1 and
 * 3.0, the upscaling rules, the errors (400 and 501), and the canonical form
 * (which must resolve to the same image when parsed again). The spec's own
 * examples (a 300×200 image) are used where the specification gives one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset/iiif_parse.h"
#include "check.h"

struct got {
	int status;
	struct iiif_params p;
	struct iiif_resolved r;
	char canonical[IIIF_CANONICAL_MAX];
	const char *why;
};

/* Parses "region/size/rotation/quality.format" and resolves it against W×H. */
static struct got run(int version, const char *req, int W, int H, long long max_area)
{
	struct got g;
	memset(&g, 0, sizeof g);
	char buf[256];
	snprintf(buf, sizeof buf, "%s", req);
	char *part[4] = {0};
	char *s = buf;
	for (int i = 0; i < 4; i++) {
		part[i] = s;
		char *slash = strchr(s, '/');
		if (!slash) {
			if (i != 3) {
				g.status = -1;
				return g;
			}
			break;
		}
		*slash = '\0';
		s = slash + 1;
	}
	g.status = iiif_parse(version, part[0], part[1], part[2], part[3], &g.p, &g.why);
	if (g.status)
		return g;
	struct iiif_limits lim = {.max_area = max_area};
	g.status = iiif_resolve(&g.p, W, H, &lim, &g.r, &g.why);
	if (g.status == 0)
		iiif_canonical(&g.p, &g.r, W, H, g.canonical, sizeof g.canonical);
	return g;
}

static int status_of(int version, const char *req, int W, int H)
{
	return run(version, req, W, H, 0).status;
}

#define EXPECT_BOX(g, X, Y, W_, H_)                                                                \
	CHECK((g).status == 0 && (g).r.region.x == (X) && (g).r.region.y == (Y) &&                 \
	      (g).r.region.w == (W_) && (g).r.region.h == (H_))
#define EXPECT_OUT(g, W_, H_) CHECK((g).status == 0 && (g).r.w == (W_) && (g).r.h == (H_))

/* --- regions (both versions share them) --- */

static void test_regions(void)
{
	for (int v = 2; v <= 3; v++) {
		const char *sz = v == 3 ? "max" : "full";
		char req[128];
		struct got g;

		snprintf(req, sizeof req, "full/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 0, 0, 300, 200);
		EXPECT_OUT(g, 300, 200);

		/* square: centred on the longer side; full when the image is square */
		snprintf(req, sizeof req, "square/%s/0/default.jpg", sz);
		g = run(v, req, 1000, 800, 0);
		EXPECT_BOX(g, 100, 0, 800, 800);
		g = run(v, req, 800, 1001, 0);
		EXPECT_BOX(g, 0, 100, 800, 800);
		g = run(v, req, 500, 500, 0);
		EXPECT_BOX(g, 0, 0, 500, 500);
		CHECK(strncmp(g.canonical, "full/", 5) == 0);

		/* pixels, the specification's examples */
		snprintf(req, sizeof req, "125,15,120,140/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 125, 15, 120, 140);
		EXPECT_OUT(g, 120, 140);
		snprintf(req, sizeof req, "125,15,200,200/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 125, 15, 175, 185); /* "Returned image is 175,185 px" */

		/* percentages, the specification's examples */
		snprintf(req, sizeof req, "pct:41.6,7.5,40,70/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 125, 15, 120, 140);
		snprintf(req, sizeof req, "pct:41.6,7.5,66.6,100/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 125, 15, 175, 185);
		/* adjacent percentage regions tile without gap or overlap */
		snprintf(req, sizeof req, "pct:0,0,33.3333,100/%s/0/default.jpg", sz);
		struct got a = run(v, req, 100, 10, 0);
		snprintf(req, sizeof req, "pct:33.3333,0,33.3333,100/%s/0/default.jpg", sz);
		struct got b = run(v, req, 100, 10, 0);
		CHECK(a.status == 0 && b.status == 0 &&
		      a.r.region.x + a.r.region.w == b.r.region.x);
		/* a sliver is at least one pixel */
		snprintf(req, sizeof req, "pct:10,10,0.0001,0.0001/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 30, 20, 1, 1);
		snprintf(req, sizeof req, "pct:0,0,100,100/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		CHECK(g.status == 0 && strncmp(g.canonical, "full/", 5) == 0);

		/* edges */
		snprintf(req, sizeof req, "299,199,10,10/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 299, 199, 1, 1);
		snprintf(req, sizeof req, "0,0,300,200/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		CHECK(g.status == 0 && strncmp(g.canonical, "full/", 5) == 0);
		snprintf(req, sizeof req, "0,0,5000,5000/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		CHECK(g.status == 0 && strncmp(g.canonical, "full/", 5) == 0);
		snprintf(req, sizeof req, "0000125,015,120,140/%s/0/default.jpg", sz);
		g = run(v, req, 300, 200, 0);
		EXPECT_BOX(g, 125, 15, 120, 140);

		/* 400: zero size, outside, malformed */
		static const char *const bad[] = {
			"0,0,0,10",
			"0,0,10,0",
			"300,0,10,10",
			"0,200,10,10",
			"1000,1000,1,1",
			"pct:100,0,10,10",
			"pct:0,100,1,1",
			"pct:0,0,0,10",
			"pct:0,0,10,0",
			"full ",
			" full",
			"FULL",
			"Full",
			"1,2,3",
			"1,2,3,4,5",
			"a,b,c,d",
			"-1,0,10,10",
			"+1,0,10,10",
			"1.5,0,10,10",
			"1,,3,4",
			",1,2,3",
			"1,2,3,",
			"pct:1,2,3",
			"pct:+1,2,3,4",
			"pct:1e2,0,1,1",
			"pct:.,0,1,1",
			"pct:1..2,0,1,1",
			"pct:-1,0,1,1",
			"pct:",
			"pct:1,2,3,4,5",
			"pct:nan,0,1,1",
			"pct:inf,0,1,1",
			"1234567890,0,1,1",
			"0x10,0,1,1",
			"1 ,2,3,4",
			"squares",
			"pct:0,0,100,100,",
		};
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			snprintf(req, sizeof req, "%s/%s/0/default.jpg", bad[i], sz);
			int st = status_of(v, req, 300, 200);
			if (st != 400)
				fprintf(stderr, "v%d region '%s': %d\n", v, bad[i], st);
			CHECK(st == 400);
		}
	}
	/* 9-digit numbers are fine (and outside this image) */
	CHECK(status_of(3, "999999999,0,1,1/max/0/default.jpg", 300, 200) == 400);
	CHECK(status_of(3, "0,0,999999999,999999999/max/0/default.jpg", 300, 200) == 0);
}

/* --- sizes, 3.0 --- */

static void test_sizes_v3(void)
{
	struct got g;
	g = run(3, "full/max/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 300, 200);
	CHECK_STR(g.canonical, "full/max/0/default.jpg");
	g = run(3, "full/^max/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 300, 200); /* no limits published: nothing to grow to */
	CHECK_STR(g.canonical, "full/max/0/default.jpg");
	g = run(3, "full/^max/0/default.jpg", 300, 200, 240000);
	EXPECT_OUT(g, 600, 400);
	CHECK_STR(g.canonical, "full/^max/0/default.jpg");
	g = run(3, "full/max/0/default.jpg", 300, 200, 15000);
	EXPECT_OUT(g, 150, 100); /* max is held to maxArea */
	CHECK_STR(g.canonical, "full/max/0/default.jpg");
	CHECK(g.r.w * g.r.h <= 15000);
	g = run(3, "full/max/0/default.jpg", 1001, 999, 10007);
	CHECK(g.status == 0 && (long long)g.r.w * g.r.h <= 10007 && g.r.w >= 99 && g.r.h >= 99);

	g = run(3, "full/150,/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 150, 100);
	CHECK(g.r.h_free && !g.r.w_free);
	CHECK_STR(g.canonical, "full/150,100/0/default.jpg");
	g = run(3, "full/,150/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 225, 150);
	CHECK(g.r.w_free && !g.r.h_free);
	CHECK_STR(g.canonical, "full/225,150/0/default.jpg");
	g = run(3, "full/300,/0/default.jpg", 300, 200, 0);
	CHECK_STR(g.canonical, "full/max/0/default.jpg");
	CHECK(status_of(3, "full/301,/0/default.jpg", 300, 200) == 400);
	CHECK(status_of(3, "full/,201/0/default.jpg", 300, 200) == 400);
	g = run(3, "full/^301,/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 301, 201);
	CHECK_STR(g.canonical, "full/^301,201/0/default.jpg");
	g = run(3, "full/^360,/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 360, 240);
	g = run(3, "full/^,240/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 360, 240);
	CHECK_STR(g.canonical, "full/^360,240/0/default.jpg");
	g = run(3, "full/^150,/0/default.jpg", 300, 200, 0); /* ^ without growing */
	EXPECT_OUT(g, 150, 100);
	CHECK_STR(g.canonical, "full/150,100/0/default.jpg");

	g = run(3, "full/pct:50/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 150, 100);
	CHECK(g.r.w_free && g.r.h_free);
	g = run(3, "full/pct:100/0/default.jpg", 300, 200, 0);
	CHECK_STR(g.canonical, "full/max/0/default.jpg");
	CHECK(status_of(3, "full/pct:101/0/default.jpg", 300, 200) == 400);
	CHECK(status_of(3, "full/pct:100.5/0/default.jpg", 300, 200) == 400);
	g = run(3, "full/^pct:120/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 360, 240);
	CHECK_STR(g.canonical, "full/^360,240/0/default.jpg");
	g = run(3, "full/pct:33.3/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 100, 67);
	CHECK(status_of(3, "full/pct:0/0/default.jpg", 300, 200) == 400);
	CHECK(status_of(3, "full/pct:0.1/0/default.jpg", 300, 200) == 400); /* < 1 px */
	CHECK(status_of(3, "full/^pct:99999999/0/default.png", 300, 200) == 400);

	g = run(3, "full/225,100/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 225, 100);
	CHECK(!g.r.w_free && !g.r.h_free);
	CHECK_STR(g.canonical, "full/225,100/0/default.jpg");
	CHECK(status_of(3, "full/301,100/0/default.jpg", 300, 200) == 400);
	CHECK(status_of(3, "full/100,201/0/default.jpg", 300, 200) == 400);
	g = run(3, "full/^360,360/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 360, 360);
	CHECK_STR(g.canonical, "full/^360,360/0/default.jpg");
	g = run(3, "full/^100,300/0/default.jpg", 300, 200, 0); /* taller only */
	EXPECT_OUT(g, 100, 300);
	CHECK_STR(g.canonical, "full/^100,300/0/default.jpg");

	g = run(3, "full/!225,100/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 150, 100); /* "Returned image is 150,100 px" */
	CHECK_STR(g.canonical, "full/150,100/0/default.jpg");
	g = run(3, "full/!100,225/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 100, 67);
	/* A fit past the region is an upscale: 400 without ^ (the official
	 * validator's size_noup test asks for !2000,3000 on a 1000x1000 image). */
	g = run(3, "full/!400,400/0/default.jpg", 300, 200, 0);
	CHECK(g.status == 400);
	g = run(3, "full/^!360,360/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 360, 240); /* "Returned image is 360,240 px" */
	CHECK_STR(g.canonical, "full/^360,240/0/default.jpg");

	/* limits */
	CHECK(status_of(3, "full/150,100/0/default.jpg", 300, 200) == 0);
	CHECK(run(3, "full/150,100/0/default.jpg", 300, 200, 14999).status == 400);
	CHECK(run(3, "full/^max/0/default.webp", 10000, 100, 0).status == 0);
	CHECK(run(3, "full/^20000,/0/default.webp", 10000, 100, 0).status == 400);
	CHECK(run(3, "full/^20000,/0/default.jpg", 10000, 100, 0).status == 0);
	CHECK(run(3, "full/^65501,/0/default.jpg", 10000, 100, 0).status == 400);
	CHECK(run(3, "full/^65535,/0/default.png", 10000, 100, 0).status == 0);
	CHECK(run(3, "full/^999999999,999999999/0/default.png", 300, 200, 0).status == 400);

	static const char *const bad[] = {
		"full",   "^full",       "!,100",   "!100,",   ",",     "100,,",   "0,",
		",0",     "0,0",         "!0,10",   "!10,0",   "^",     "^^max",   "max,",
		"Max",    "pct:",        "pct:-1",  "pct:1e2", "pct:a", "pct:50%", "1.5,",
		"!1,2,3", "^!",          "!^10,10", "10,10,",  " 10,",  "10, ",    "+10,",
		"-10,",   "1234567890,", "pct:1,2", "max ",    "!max",  "^pct:",   "^,",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char req[128];
		snprintf(req, sizeof req, "full/%s/0/default.jpg", bad[i]);
		int st = status_of(3, req, 300, 200);
		if (st != 400)
			fprintf(stderr, "v3 size '%s': %d\n", bad[i], st);
		CHECK(st == 400);
	}
}

/* --- sizes, 2.1 --- */

static void test_sizes_v2(void)
{
	struct got g;
	g = run(2, "full/full/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 300, 200);
	CHECK_STR(g.canonical, "full/full/0/default.jpg");
	g = run(2, "full/max/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 300, 200);
	CHECK_STR(g.canonical, "full/full/0/default.jpg");
	g = run(2, "full/max/0/default.jpg", 300, 200, 15000);
	EXPECT_OUT(g, 150, 100);
	CHECK_STR(g.canonical, "full/150,/0/default.jpg");
	CHECK(run(2, "full/full/0/default.jpg", 300, 200, 15000).status == 400);

	g = run(2, "full/150,/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 150, 100);
	CHECK_STR(g.canonical, "full/150,/0/default.jpg");
	g = run(2, "full/,150/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 225, 150);
	CHECK_STR(g.canonical, "full/225,/0/default.jpg");
	g = run(2, "full/pct:50/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 150, 100);
	CHECK_STR(g.canonical, "full/150,/0/default.jpg");
	g = run(2, "full/225,100/0/default.jpg", 300, 200, 0);
	CHECK_STR(g.canonical, "full/225,100/0/default.jpg");
	g = run(2, "full/!225,100/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 150, 100);
	CHECK_STR(g.canonical, "full/150,/0/default.jpg");

	/* 2.1 upscales explicit sizes (sizeAboveFull), but not !w,h */
	g = run(2, "full/600,/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 600, 400);
	CHECK(g.r.upscaled);
	CHECK_STR(g.canonical, "full/600,/0/default.jpg");
	g = run(2, "full/pct:200/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 600, 400);
	g = run(2, "full/360,360/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 360, 360);
	g = run(2, "full/!600,600/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 300, 200);
	CHECK_STR(g.canonical, "full/full/0/default.jpg");
	CHECK(run(2, "full/600,/0/default.jpg", 300, 200, 100000).status == 400); /* maxArea */
	/* Sizes whose area overflows a long long are refused without signed
	 * overflow (found by fuzz_iiif_parse; the sanitizer build aborts on it). */
	g = run(2, "0,0,100,256/618270056,/0/default.jpg", 1, 1243, 4000000);
	CHECK(g.status == 400 && g.why && strstr(g.why, "maxArea"));
	g = run(2, "full/pct:9999999/0/default.jpg", 2000000000, 2000000000, 4000000);
	CHECK(g.status == 400 && g.why && strstr(g.why, "maxArea"));
	g = run(2, "full/pct:9999999/0/default.jpg", 2000000000, 2000000000, 0);
	CHECK(g.status == 400 && g.why && strstr(g.why, "format allows"));
	g = run(3, "full/^999999999,/0/default.jpg", 1, 2000000000, 4000000);
	CHECK(g.status == 400 && g.why && strstr(g.why, "maxArea"));

	/* w, whose height rounds differently than "w," would: canonical w,h */
	g = run(2, "full/!100,33/0/default.jpg", 300, 200, 0);
	EXPECT_OUT(g, 50, 33); /* height binds: w = round(300*33/200) = 50 (49.5) */
	{
		/* 50, would give h = round(200*50/300) = 33: same image, "w," */
		CHECK_STR(g.canonical, "full/50,/0/default.jpg");
	}
	g = run(2, "full/,34/0/default.jpg", 301, 200, 0);
	EXPECT_OUT(g, 51, 34); /* round(301*34/200)=51.17; 51, gives round(200*51/301)=34 */
	g = run(2, "full/,3/0/default.jpg", 1000, 7, 0);
	EXPECT_OUT(g, 429, 3); /* 428.57; 429, gives round(7*429/1000)=3 */
	g = run(2, "full/,1/0/default.jpg", 1000, 3, 0);
	EXPECT_OUT(g, 333, 1);

	static const char *const bad[] = {"^max", "^100,", "^pct:50", "^!10,10", "!,100", ",",
					  "0,",   "pct:0", "Full",    "full,",   "max,"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char req[128];
		snprintf(req, sizeof req, "full/%s/0/default.jpg", bad[i]);
		int st = status_of(2, req, 300, 200);
		if (st != 400)
			fprintf(stderr, "v2 size '%s': %d\n", bad[i], st);
		CHECK(st == 400);
	}
}

/* --- rotation, quality, format --- */

static void test_rotation(void)
{
	struct {
		const char *in;
		const char *canonical; /* NULL: 400 */
		bool mirror;
	} t[] = {
		{"0", "0", false},           {"90", "90", false},
		{"180", "180", false},       {"270", "270", false},
		{"!0", "!0", true},          {"!180", "!180", true},
		{"22.5", "22.5", false},     {"360", "0", false},
		{"!360", "!0", true},        {"360.0", "0", false},
		{"0.1", "0.1", false},       {"00090", "90", false},
		{"90.", "90", false},        {".5", "0.5", false},
		{"22.50", "22.5", false},    {"1.1234567", "1.123457", false},
		{"359.9999999", "0", false}, {"361", NULL, false},
		{"360.0001", NULL, false},   {"-90", NULL, false},
		{"1e2", NULL, false},        {"", NULL, false},
		{"!!0", NULL, false},        {" 0", NULL, false},
		{"0 ", NULL, false},         {"!", NULL, false},
		{".", NULL, false},          {"1.2.3", NULL, false},
		{"+90", NULL, false},        {"0x10", NULL, false},
		{"nan", NULL, false},        {"90!", NULL, false},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		for (int v = 2; v <= 3; v++) {
			char req[128], want[128];
			snprintf(req, sizeof req, "full/%s/%s/default.jpg", v == 3 ? "max" : "full",
				 t[i].in);
			struct got g = run(v, req, 300, 200, 0);
			if (!t[i].canonical) {
				if (g.status != 400)
					fprintf(stderr, "rotation '%s': %d\n", t[i].in, g.status);
				CHECK(g.status == 400);
				continue;
			}
			snprintf(want, sizeof want, "full/%s/%s/default.jpg",
				 v == 3 ? "max" : "full", t[i].canonical);
			CHECK(g.status == 0 && g.p.mirror == t[i].mirror);
			CHECK_STR(g.canonical, want);
		}
	}
	struct got g = run(3, "full/max/22.5/default.png", 300, 200, 0);
	CHECK(g.status == 0 && g.p.rotation == 22.5);
	g = run(3, "full/max/!345/gray.jpg", 300, 200, 0);
	CHECK(g.status == 0 && g.p.mirror && g.p.rotation == 345);

	char num[32];
	iiif_format_number(0, num, sizeof num);
	CHECK_STR(num, "0");
	iiif_format_number(90.25, num, sizeof num);
	CHECK_STR(num, "90.25");
	iiif_format_number(0.000001, num, sizeof num);
	CHECK_STR(num, "0.000001");
}

static void test_quality_format(void)
{
	static const struct {
		const char *qf;
		int status;
		enum iiif_quality q;
		enum iiif_format f;
	} t[] = {
		{"default.jpg", 0, IIIF_Q_DEFAULT, IIIF_F_JPG},
		{"color.png", 0, IIIF_Q_COLOR, IIIF_F_PNG},
		{"gray.webp", 0, IIIF_Q_GRAY, IIIF_F_WEBP},
		{"bitonal.gif", 0, IIIF_Q_BITONAL, IIIF_F_GIF},
		{"default.tif", 0, IIIF_Q_DEFAULT, IIIF_F_TIF},
		{"default.jp2", 501, 0, 0},
		{"default.pdf", 501, 0, 0},
		{"default.jpeg", 400, 0, 0},
		{"default.tiff", 400, 0, 0},
		{"default.JPG", 400, 0, 0},
		{"grey.jpg", 400, 0, 0},
		{"native.jpg", 400, 0, 0},
		{"Default.jpg", 400, 0, 0},
		{"default", 400, 0, 0},
		{".jpg", 400, 0, 0},
		{"default.", 400, 0, 0},
		{"default.jpg.png", 400, 0, 0},
		{"default..jpg", 400, 0, 0},
		{"default.xyz", 400, 0, 0},
		{"bitonal.jp2", 501, 0, 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		for (int v = 2; v <= 3; v++) {
			struct iiif_params p;
			const char *why = NULL;
			int st = iiif_parse(v, "full", "max", "0", t[i].qf, &p, &why);
			if (st != t[i].status)
				fprintf(stderr, "v%d '%s': %d\n", v, t[i].qf, st);
			CHECK(st == t[i].status);
			CHECK(st == 0 ? why == NULL : why != NULL);
			if (st == 0)
				CHECK(p.quality == t[i].q && p.format == t[i].f);
		}
	CHECK_STR(iiif_format_mime(IIIF_F_JPG), "image/jpeg");
	CHECK_STR(iiif_format_mime(IIIF_F_TIF), "image/tiff");
	CHECK_STR(iiif_format_mime(IIIF_F_WEBP), "image/webp");
	CHECK_STR(iiif_format_ext(IIIF_F_GIF), "gif");
	CHECK_STR(iiif_quality_name(IIIF_Q_BITONAL), "bitonal");

	struct got g = run(3, "full/max/0/color.png", 300, 200, 0);
	CHECK_STR(g.canonical, "full/max/0/color.png");
	const char *why;
	struct iiif_params p;
	CHECK(iiif_parse(4, "full", "max", "0", "default.jpg", &p, &why) == 400);
	CHECK(iiif_parse(3, NULL, "max", "0", "default.jpg", &p, &why) == 400);
	/* the first error wins: a bad region is reported before a bad format */
	CHECK(iiif_parse(3, "nope", "max", "0", "default.jp2", &p, &why) == 400 &&
	      strncmp(why, "region", 6) == 0);
}

/* --- the canonical form resolves to the same image --- */

static void test_canonical_roundtrip(void)
{
	static const char *const reqs[] = {
		"full/max/0/default.jpg",
		"square/max/0/default.jpg",
		"10,20,30,40/max/0/default.jpg",
		"pct:10,10,50,50/max/0/default.jpg",
		"full/150,/0/default.jpg",
		"full/,77/0/default.jpg",
		"full/pct:33.3/0/default.jpg",
		"full/!120,120/0/default.jpg",
		"full/!50,120/90/gray.png",
		"0,0,512,512/256,/0/default.jpg",
		"512,0,488,512/244,/0/default.jpg",
		"full/^max/0/default.jpg",
		"full/^!900,900/!22.5/bitonal.webp",
		"5,5,7,3/^pct:1000/0/color.tif",
	};
	static const int dims[][2] = {{1000, 777}, {300, 200}, {1, 1}, {7, 3000}, {4321, 1234}};
	for (size_t d = 0; d < sizeof dims / sizeof *dims; d++)
		for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++)
			for (int v = 2; v <= 3; v++) {
				int W = dims[d][0], H = dims[d][1];
				struct got a = run(v, reqs[i], W, H, 50000000);
				if (a.status != 0)
					continue; /* e.g. ^ in 2.1, or outside a tiny image */
				struct got b = run(v, a.canonical, W, H, 50000000);
				bool same = b.status == 0 && b.r.region.x == a.r.region.x &&
					    b.r.region.y == a.r.region.y &&
					    b.r.region.w == a.r.region.w &&
					    b.r.region.h == a.r.region.h && b.r.w == a.r.w &&
					    b.r.h == a.r.h && strcmp(a.canonical, b.canonical) == 0;
				if (!same)
					fprintf(stderr, "v%d %dx%d %s -> %s -> %d %s\n", v, W, H,
						reqs[i], a.canonical, b.status, b.canonical);
				CHECK(same);
			}
}

/* OpenSeadragon's tile requests (IIIFTileSource.getTileUrl) resolve to the
 * boxes and sizes derive.c stores, in both versions. */
static void test_osd_tiles(void)
{
	const int W = 1000, H = 700;
	struct got g;
	/* level 0 (scale 1), tile (1,1): 256,256,256,256 at 256 */
	g = run(3, "256,256,256,256/256,256/0/default.jpg", W, H, 0);
	EXPECT_BOX(g, 256, 256, 256, 256);
	EXPECT_OUT(g, 256, 256);
	g = run(2, "256,256,256,256/256,/0/default.jpg", W, H, 0);
	EXPECT_OUT(g, 256, 256);
	/* right edge at scale 2: region 512,0,488,512 -> 244×256 */
	g = run(3, "512,0,488,512/244,256/0/default.jpg", W, H, 0);
	EXPECT_BOX(g, 512, 0, 488, 512);
	EXPECT_OUT(g, 244, 256);
	g = run(2, "512,0,488,512/244,/0/default.jpg", W, H, 0);
	EXPECT_OUT(g, 244, 256);
	/* scale 4, bottom edge: 0,0,1000,700 is full: full/250,175 */
	g = run(3, "full/250,175/0/default.jpg", W, H, 0);
	EXPECT_OUT(g, 250, 175);
	g = run(2, "full/250,/0/default.jpg", W, H, 0);
	EXPECT_OUT(g, 250, 175);
	/* an edge tile whose width-only request rounds its height one way */
	g = run(2, "768,512,232,188/232,/0/default.jpg", W, H, 0);
	EXPECT_OUT(g, 232, 188);
	g = run(2, "0,512,1000,188/125,/0/default.jpg", W, H, 0);
	CHECK(g.status == 0 && g.r.w == 125 && (g.r.h == 24 || g.r.h == 23) && g.r.h_free);
}

int main(void)
{
	test_regions();
	test_sizes_v3();
	test_sizes_v2();
	test_rotation();
	test_quality_format();
	test_canonical_roundtrip();
	test_osd_tiles();
	return check_done();
}
