/* Size aliases for nginx (iiif/thumb_alias.h): which IIIF size strings
 * full/ (/iiif-img/) and thumbs/ (/thumbs/) link to which stored file for
 * landscape, portrait, square, small (one-tile) and extreme images, a
 * thumbnail that is also the pyramid's one-tile level, sizes on which
 * Image API 2.1 and 3.0 differ, image_max_area; that every full-region URL
 * OpenSeadragon sends for a one-tile level is linked; and the links
 * thumb_aliases_sync makes, repairs and removes on disk. The expected sets
 * are worked out by hand from delivery's rules (iiif_parse.h, info.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "asset/stored.h"
#include "asset/thumb_alias.h"
#include "check.h"

static struct arena *A;

/* The stored files of a W×H image as derive.c writes them: info.txt (when
 * tiles) with its scale factors, and s.json with the thumbnail sizes. */
static void make_stored(struct stored *st, int W, int H, bool tiles, const char *sjson)
{
	memset(st, 0, sizeof *st);
	if (tiles) {
		char info[256];
		int n = snprintf(info, sizeof info, "%d %d 256", W, H);
		for (long long f = 1;; f *= 2) {
			n += snprintf(info + n, sizeof info - (size_t)n, " %lld", f);
			if ((W + f - 1) / f <= 256 && (H + f - 1) / f <= 256)
				break;
		}
		CHECK(stored_parse_info(info, st) == 0);
	}
	CHECK(stored_parse_sizes(A, sjson, strlen(sjson), st) == 0);
}

/* The aliases grouped by file, in the order of first appearance:
 * "file: name name; file: name ...". */
static const char *grouped(const struct thumb_alias *al, size_t n)
{
	static char text[16384];
	size_t len = 0;
	bool done[THUMB_ALIAS_MAX] = {false};
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		len += (size_t)snprintf(text + len, sizeof text - len, "%s%s:", len ? "; " : "",
					al[i].file);
		for (size_t j = i; j < n; j++)
			if (!done[j] && strcmp(al[j].file, al[i].file) == 0) {
				len += (size_t)snprintf(text + len, sizeof text - len, " %s",
							al[j].name);
				done[j] = true;
			}
	}
	return text;
}

/* full/'s aliases (/iiif-img/). */
static const char *img_text(const struct stored *st, long long max_area)
{
	struct thumb_alias al[THUMB_ALIAS_MAX];
	return grouped(al, thumb_aliases_img(st, max_area, al, THUMB_ALIAS_MAX));
}

/* thumbs/'s aliases (/thumbs/). */
static const char *thumbs_text(const struct stored *st, int W, int H)
{
	struct thumb_alias al[THUMB_ALIAS_MAX];
	return grouped(al, thumb_aliases_thumbs(st, W, H, al, THUMB_ALIAS_MAX));
}

/* "file: !n,n !w,h w,h w, ,h" (n the longest edge; no "!w,h" when square)
 * and then extra. */
static const char *g5(const char *file, int w, int h, const char *extra)
{
	int n = w > h ? w : h;
	const char *box = w != h ? arena_printf(A, " !%d,%d", w, h) : "";
	return arena_printf(A, "%s: !%d,%d%s %d,%d %d, ,%d%s", file, n, n, box, w, h, w, h, extra);
}

/* The groups joined by "; " (NULL ends the list). */
static const char *join(const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	const char *text = first;
	for (const char *g; (g = va_arg(ap, const char *));)
		text = arena_printf(A, "%s; %s", text, g);
	va_end(ap);
	return text;
}

#define DEF 16777216LL /* image_max_area's default (asset/settings.c) */

static void test_landscape(void)
{
	struct stored st;
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	/* the one-tile level (scale factor 4) is 250x175; "max" (3.0 and 2.1)
	 * and 2.1's "full" are the full size, the 1000 px thumbnail */
	CHECK_STR(img_text(&st, DEF),
		  join(g5("tiles/0,0,1000,700_250.jpg", 250, 175, ""),
		       g5("thumbs/100.jpg", 100, 70, ""), g5("thumbs/200.jpg", 200, 140, ""),
		       g5("thumbs/400.jpg", 400, 280, ""),
		       g5("thumbs/1000.jpg", 1000, 700, " max full"), NULL));
	const char *want = join(
		g5("thumbs/100.jpg", 100, 70, ""), g5("thumbs/200.jpg", 200, 140, ""),
		g5("thumbs/400.jpg", 400, 280, ""), g5("thumbs/1000.jpg", 1000, 700, ""), NULL);
	CHECK_STR(thumbs_text(&st, 1000, 700), want);
	/* the database's size unknown: the largest thumbnail stands for it */
	CHECK_STR(thumbs_text(&st, 0, 0), want);
	/* restricted sizes ("a") are aliased too: only open assets are linked */
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[100,70]],\"a\":[[1000,700],[400,280],[200,140]]}");
	CHECK_STR(thumbs_text(&st, 1000, 700), want);
}

static void test_portrait(void)
{
	struct stored st;
	make_stored(&st, 700, 1000, true,
		    "{\"o\":[[700,1000],[280,400],[140,200],[70,100]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF),
		  join(g5("tiles/0,0,700,1000_175.jpg", 175, 250, ""),
		       g5("thumbs/100.jpg", 70, 100, ""), g5("thumbs/200.jpg", 140, 200, ""),
		       g5("thumbs/400.jpg", 280, 400, ""),
		       g5("thumbs/1000.jpg", 700, 1000, " max full"), NULL));
	CHECK_STR(thumbs_text(&st, 700, 1000),
		  join(g5("thumbs/100.jpg", 70, 100, ""), g5("thumbs/200.jpg", 140, 200, ""),
		       g5("thumbs/400.jpg", 280, 400, ""), g5("thumbs/1000.jpg", 700, 1000, ""),
		       NULL));
}

static void test_square(void)
{
	struct stored st;
	/* scale factors 1 2: 250x250 is the one-tile level */
	make_stored(&st, 500, 500, true,
		    "{\"o\":[[500,500],[400,400],[200,200],[100,100]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF),
		  join(g5("tiles/0,0,500,500_250.jpg", 250, 250, ""),
		       g5("thumbs/100.jpg", 100, 100, ""), g5("thumbs/200.jpg", 200, 200, ""),
		       g5("thumbs/400.jpg", 400, 400, ""),
		       g5("thumbs/500.jpg", 500, 500, " max full"), NULL));
	CHECK_STR(thumbs_text(&st, 500, 500),
		  join(g5("thumbs/100.jpg", 100, 100, ""), g5("thumbs/200.jpg", 200, 200, ""),
		       g5("thumbs/400.jpg", 400, 400, ""), g5("thumbs/500.jpg", 500, 500, ""),
		       NULL));
}

static void test_small(void)
{
	struct stored st;
	/* 150x100: the whole image is the pyramid's only tile, and also the
	 * 150 px thumbnail: /iiif-img/ answers its sizes, max and full with
	 * the tile (it tries tiles first), /thumbs/ with the thumbnail. ",67"
	 * resolves to 101x67, the 100x67 thumbnail give or take its free side. */
	make_stored(&st, 150, 100, true, "{\"o\":[[150,100],[100,67]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), join(g5("tiles/0,0,150,100_150.jpg", 150, 100, " max full"),
					   g5("thumbs/100.jpg", 100, 67, ""), NULL));
	const char *both =
		join(g5("thumbs/100.jpg", 100, 67, ""), g5("thumbs/150.jpg", 150, 100, ""), NULL);
	CHECK_STR(thumbs_text(&st, 150, 100), both);
	/* thumbs channel only: no pyramid, so no /iiif-img/ at all */
	make_stored(&st, 150, 100, false, "{\"o\":[[150,100],[100,67]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), "");
	CHECK_STR(thumbs_text(&st, 150, 100), both);

	/* 300x200: factors 1 2, the one-tile level 150x100. No "!400,400"
	 * (no such thumbnail: derive never upscales). "!200,133" and ",133"
	 * resolve to 200x133 (199.5 rounded up) */
	make_stored(&st, 300, 200, true, "{\"o\":[[300,200],[200,133],[100,67]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF),
		  join(g5("tiles/0,0,300,200_150.jpg", 150, 100, ""),
		       g5("thumbs/100.jpg", 100, 67, ""), g5("thumbs/200.jpg", 200, 133, ""),
		       g5("thumbs/300.jpg", 300, 200, " max full"), NULL));

	/* 256x256 and 256x100: still one tile at scale factor 1 */
	make_stored(&st, 256, 256, true, "{\"o\":[[256,256]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), g5("tiles/0,0,256,256_256.jpg", 256, 256, " max full"));
	make_stored(&st, 256, 100, true, "{\"o\":[],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), g5("tiles/0,0,256,100_256.jpg", 256, 100, " max full"));

	/* 1x1 */
	make_stored(&st, 1, 1, true, "{\"o\":[[1,1]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), g5("tiles/0,0,1,1_1.jpg", 1, 1, " max full"));
	CHECK_STR(thumbs_text(&st, 1, 1), g5("thumbs/1.jpg", 1, 1, ""));
}

static void test_tile_sized_thumbnail(void)
{
	struct stored st;
	/* 800x600: the one-tile level (scale factor 4) is 200x150, the !200,200
	 * thumbnail's size: /iiif-img/ sends the tile for those names, /thumbs/
	 * the thumbnail (before, neither was linked) */
	make_stored(&st, 800, 600, true,
		    "{\"o\":[[800,600],[400,300],[200,150],[100,75]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF),
		  join(g5("tiles/0,0,800,600_200.jpg", 200, 150, ""),
		       g5("thumbs/100.jpg", 100, 75, ""), g5("thumbs/400.jpg", 400, 300, ""),
		       g5("thumbs/800.jpg", 800, 600, " max full"), NULL));
	CHECK_STR(thumbs_text(&st, 800, 600),
		  join(g5("thumbs/100.jpg", 100, 75, ""), g5("thumbs/200.jpg", 200, 150, ""),
		       g5("thumbs/400.jpg", 400, 300, ""), g5("thumbs/800.jpg", 800, 600, ""),
		       NULL));
}

static void test_panorama(void)
{
	struct stored st;
	/* 5000x100: factors 1..32, the one-tile level 157x4. ",4" resolves to
	 * 200x4, not the tile but the 200 px thumbnail; "!1024,20" and ",20"
	 * to 1000x20, not the 1024x20 thumbnail; max and full to no stored
	 * size */
	make_stored(&st, 5000, 100, true, "{\"o\":[[1024,20],[400,8],[200,4],[100,2]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), "tiles/0,0,5000,100_157.jpg: !157,157 !157,4 157,4 157,; "
				      "thumbs/200.jpg: ,4 !200,200 !200,4 200,4 200,; "
				      "thumbs/100.jpg: !100,100 !100,2 100,2 100, ,2; "
				      "thumbs/400.jpg: !400,400 !400,8 400,8 400, ,8; "
				      "thumbs/1024.jpg: !1024,1024 1024,20 1024,");
	CHECK_STR(thumbs_text(&st, 5000, 100),
		  join(g5("thumbs/100.jpg", 100, 2, ""), g5("thumbs/200.jpg", 200, 4, ""),
		       g5("thumbs/400.jpg", 400, 8, ""),
		       "thumbs/1024.jpg: !1024,1024 1024,20 1024,", NULL));
}

static void test_versions_differ(void)
{
	struct stored st;
	/* a ^!2000,2000 policy: 3.0 refuses 2000x1400 without "^", 2.1 upscales
	 * "2000," and "2000,1400" and caps "!2000,2000" at the image: the two
	 * versions disagree, so no name of it is linked, in either family */
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[2000,1400],[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	const char *img = img_text(&st, DEF);
	CHECK(strstr(img, "2000") == NULL);
	CHECK(strstr(img, g5("thumbs/1000.jpg", 1000, 700, " max full")) != NULL);
	CHECK(strstr(thumbs_text(&st, 1000, 700), "2000") == NULL);
	/* "full" is 2.1's alone (nginx maps it for 2.1 only), so it is linked
	 * although 3.0 refuses it; /thumbs/ has no "full" or "max" location */
	make_stored(&st, 200, 150, true, "{\"o\":[[200,150]],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), g5("tiles/0,0,200,150_200.jpg", 200, 150, " max full"));
	CHECK_STR(thumbs_text(&st, 200, 150), g5("thumbs/200.jpg", 200, 150, ""));
}

static void test_max_area(void)
{
	struct stored st;
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	/* /iiif-img/ refuses 400x280 (112000 px) and 1000x700 above 100000 px,
	 * scales "max" down to no stored size, refuses 2.1's "full" */
	CHECK_STR(img_text(&st, 100000), join(g5("tiles/0,0,1000,700_250.jpg", 250, 175, ""),
					      g5("thumbs/100.jpg", 100, 70, ""),
					      g5("thumbs/200.jpg", 200, 140, ""), NULL));
	const char *want = arena_printf(A, "%s", img_text(&st, 16777216));
	CHECK_STR(img_text(&st, 0), want);
	/* /thumbs/ has no limit */
	CHECK(strstr(thumbs_text(&st, 1000, 700), g5("thumbs/1000.jpg", 1000, 700, "")));
}

static void test_no_thumbnails(void)
{
	struct stored st;
	memset(&st, 0, sizeof st);
	CHECK(stored_parse_info("1000 700 256 1 2 4", &st) == 0);
	CHECK_STR(img_text(&st, 0), g5("tiles/0,0,1000,700_250.jpg", 250, 175, ""));
	CHECK_STR(thumbs_text(&st, 1000, 700), "");
	make_stored(&st, 1000, 700, true, "{\"o\":[],\"a\":[]}");
	CHECK_STR(img_text(&st, 0), g5("tiles/0,0,1000,700_250.jpg", 250, 175, ""));
	CHECK_STR(thumbs_text(&st, 1000, 700), "");
}

/* What OpenSeadragon's IIIFTileSource.getTileUrl asks for a level that is
 * one tile (scale factor f of W×H, tile 256), in version v, when its region
 * is "full"; NULL when it uses a tile region (the tile location's). */
static const char *osd_full_size(int W, int H, int f, int v, char *buf, size_t len)
{
	int lw = (W + f - 1) / f, lh = (H + f - 1) / f;
	if (lw < 256 && lh < 256) {
		if (v == 2 && lw == W)
			return "full";
		if (v == 3 && lw == W && lh == H)
			return "max";
		snprintf(buf, len, v == 3 ? "%d,%d" : "%d,", lw, lh);
		return buf;
	}
	if ((long long)256 * f < W || (long long)256 * f < H)
		return NULL; /* more than one tile: x,y,w,h regions */
	if (v == 2 && lw == W)
		return "full";
	if (v == 3 && lw == W && lh == H)
		return "max";
	snprintf(buf, len, "%d,%d", lw, lh);
	return buf;
}

/* Every full-region URL OpenSeadragon sends for a one-tile level has a
 * full/ alias to that tile, for any shape. */
static void test_openseadragon_levels(void)
{
	static const int dims[][2] = {{1000, 700}, {700, 1000},  {500, 500},  {150, 100},
				      {256, 256},  {256, 100},   {257, 100},  {512, 384},
				      {1024, 768}, {2400, 1800}, {5000, 100}, {1, 1},
				      {800, 600}};
	for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
		int W = dims[i][0], H = dims[i][1];
		struct stored st;
		/* with and without thumbnails (a tile wins over a thumbnail) */
		for (int thumbs = 0; thumbs < 2; thumbs++) {
			char sj[128];
			snprintf(sj, sizeof sj, "{\"o\":[[%d,%d]],\"a\":[]}", W, H);
			make_stored(&st, W, H, true, thumbs ? sj : "{\"o\":[],\"a\":[]}");
			struct thumb_alias al[THUMB_ALIAS_MAX];
			size_t n = thumb_aliases_img(&st, DEF, al, THUMB_ALIAS_MAX);
			int f = st.sf[st.nsf - 1];
			for (int v = 2; v <= 3; v++) {
				char buf[32], want[96];
				const char *size = osd_full_size(W, H, f, v, buf, sizeof buf);
				CHECK(size != NULL);
				if (!size)
					continue;
				snprintf(want, sizeof want, "tiles/0,0,%d,%d_%d.jpg", W, H,
					 (W + f - 1) / f);
				bool found = false;
				for (size_t k = 0; k < n; k++)
					if (strcmp(al[k].name, size) == 0) {
						found = true;
						CHECK_STR(al[k].file, want);
					}
				if (!found)
					fprintf(stderr, "  %dx%d v%d: no alias %s\n", W, H, v,
						size);
				CHECK(found);
			}
		}
	}
	/* A tall panorama's one-tile level is 4x157: OpenSeadragon's 2.1 "4,"
	 * resolves to 4x200, which dlcs-image computes: no alias (its 3.0
	 * "4,157" has one) */
	struct stored st;
	make_stored(&st, 100, 5000, true, "{\"o\":[],\"a\":[]}");
	CHECK_STR(img_text(&st, DEF), "tiles/0,0,100,5000_4.jpg: !157,157 !4,157 4,157 ,157");
}

/* --- on disk --- */

static char tmp[256];

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* The target of {dir}/{sub}/{name}. */
static const char *link_of(const char *dir, const char *sub, const char *name)
{
	static char target[256];
	char path[512];
	snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
	ssize_t n = readlink(path, target, sizeof target - 1);
	if (n < 0)
		return errno == EINVAL ? "(not a link)" : "(none)";
	target[n] = '\0';
	return target;
}

static int count_links(const char *dir, const char *sub)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "find '%s/%s' -type l | wc -l", dir, sub);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

/* The first line of {dir}/{sub}/{name}, through its link. */
static const char *content_of(const char *dir, const char *sub, const char *name)
{
	static char got[64];
	char path[512];
	snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(path, "r");
	got[0] = '\0';
	if (!f || !fgets(got, sizeof got, f))
		snprintf(got, sizeof got, "(unreadable)");
	if (f)
		fclose(f);
	return got;
}

#define TILE "0,0,1000,700_250.jpg"

static void test_sync(void)
{
	char err[256] = "";
	char dir[300], sub[320], path[512];
	snprintf(dir, sizeof dir, "%s/asset", tmp);
	/* no asset directory (never ingested): nothing to do */
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, 0, err, sizeof err) == 0);
	CHECK(mkdir(dir, 0755) == 0);
	/* nothing stored: nothing made */
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, 0, err, sizeof err) == 0);

	snprintf(sub, sizeof sub, "%s/thumbs", dir);
	CHECK(mkdir(sub, 0755) == 0);
	snprintf(sub, sizeof sub, "%s/tiles", dir);
	CHECK(mkdir(sub, 0755) == 0);
	put(sub, TILE, "tile");
	put(dir, "info.txt", "1000 700 256 1 2 4\n");
	put(dir, "s.json", "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	snprintf(sub, sizeof sub, "%s/thumbs", dir);
	put(sub, "1000.jpg", "1000");
	put(sub, "400.jpg", "400");
	put(sub, "200.jpg", "200");
	/* 100.jpg is missing: none of its aliases is made */
	put(sub, "999,.jpg", "a regular file is never touched");
	snprintf(path, sizeof path, "%s/123,.jpg", sub);
	CHECK(symlink("1000.jpg", path) == 0); /* stale */
	snprintf(path, sizeof path, "%s/!400,400.jpg", sub);
	CHECK(symlink("200.jpg", path) == 0); /* wrong */
	snprintf(path, sizeof path, "%s/,70.jpg", sub);
	CHECK(symlink("100.jpg", path) == 0); /* to the missing thumbnail */

	int made = thumb_aliases_sync(A, dir, 1000, 700, DEF, err, sizeof err);
	if (made < 0)
		fprintf(stderr, "  sync: %s\n", err);
	/* thumbs/: 3 thumbnails x 5; full/: the tile's 5, 3 thumbnails x 5,
	 * max and full */
	CHECK(made == 15 + 22);
	CHECK(count_links(dir, "thumbs") == 15);
	CHECK(count_links(dir, "full") == 22);
	CHECK_STR(link_of(dir, "thumbs", "!400,400.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "thumbs", "!400,280.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "thumbs", "400,280.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "thumbs", "400,.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "thumbs", ",280.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "thumbs", "!1000,1000.jpg"), "1000.jpg");
	CHECK_STR(link_of(dir, "thumbs", ",140.jpg"), "200.jpg");
	CHECK_STR(link_of(dir, "thumbs", "max.jpg"), "(none)");
	CHECK_STR(link_of(dir, "thumbs", "250,175.jpg"), "(none)");
	CHECK_STR(link_of(dir, "thumbs", "123,.jpg"), "(none)");
	CHECK_STR(link_of(dir, "thumbs", ",70.jpg"), "(none)");
	CHECK_STR(link_of(dir, "thumbs", "100,.jpg"), "(none)");
	CHECK_STR(link_of(dir, "thumbs", "999,.jpg"), "(not a link)");
	CHECK_STR(link_of(dir, "thumbs", "400.jpg"), "(not a link)");
	CHECK_STR(link_of(dir, "full", "250,175.jpg"), "../tiles/" TILE);
	CHECK_STR(link_of(dir, "full", "250,.jpg"), "../tiles/" TILE);
	CHECK_STR(link_of(dir, "full", "!250,250.jpg"), "../tiles/" TILE);
	CHECK_STR(link_of(dir, "full", "!400,400.jpg"), "../thumbs/400.jpg");
	CHECK_STR(link_of(dir, "full", "max.jpg"), "../thumbs/1000.jpg");
	CHECK_STR(link_of(dir, "full", "full.jpg"), "../thumbs/1000.jpg");
	CHECK_STR(link_of(dir, "full", "100,70.jpg"), "(none)");
	/* the links resolve to the files */
	CHECK_STR(content_of(dir, "thumbs", "!400,400.jpg"), "400");
	CHECK_STR(content_of(dir, "full", "!400,400.jpg"), "400");
	CHECK_STR(content_of(dir, "full", "250,.jpg"), "tile");

	/* again: nothing to do */
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, DEF, err, sizeof err) == 0);
	CHECK(count_links(dir, "thumbs") == 15 && count_links(dir, "full") == 22);
	/* the thumbnail appears: its five links follow in both */
	snprintf(sub, sizeof sub, "%s/thumbs", dir);
	put(sub, "100.jpg", "100");
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, DEF, err, sizeof err) == 10);
	CHECK(count_links(dir, "thumbs") == 20 && count_links(dir, "full") == 27);
	CHECK_STR(link_of(dir, "thumbs", ",70.jpg"), "100.jpg");
	CHECK_STR(link_of(dir, "full", ",70.jpg"), "../thumbs/100.jpg");
	/* a stale and a wrong link in full/ and a regular file there */
	snprintf(sub, sizeof sub, "%s/full", dir);
	put(sub, "keep.jpg", "mine");
	snprintf(path, sizeof path, "%s/300,.jpg", sub);
	CHECK(symlink("../thumbs/400.jpg", path) == 0);
	snprintf(path, sizeof path, "%s/max.jpg", sub);
	CHECK(unlink(path) == 0 && symlink("../thumbs/400.jpg", path) == 0);
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, DEF, err, sizeof err) == 1);
	CHECK_STR(link_of(dir, "full", "300,.jpg"), "(none)");
	CHECK_STR(link_of(dir, "full", "max.jpg"), "../thumbs/1000.jpg");
	CHECK_STR(link_of(dir, "full", "keep.jpg"), "(not a link)");
	/* the sizes change (a lower image_max_area): /iiif-img/'s go, /thumbs/'s
	 * stay (no limit there) */
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, 100000, err, sizeof err) == 0);
	CHECK(count_links(dir, "thumbs") == 20);
	CHECK(count_links(dir, "full") == 15);
	CHECK_STR(link_of(dir, "full", "400,.jpg"), "(none)");
	CHECK_STR(link_of(dir, "full", "max.jpg"), "(none)");
	CHECK_STR(link_of(dir, "full", "200,.jpg"), "../thumbs/200.jpg");
	CHECK_STR(link_of(dir, "thumbs", "400,.jpg"), "400.jpg");
	/* the tile is missing: its links go */
	snprintf(path, sizeof path, "%s/tiles/" TILE, dir);
	CHECK(unlink(path) == 0);
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, 100000, err, sizeof err) == 0);
	CHECK(count_links(dir, "full") == 10);
	CHECK_STR(link_of(dir, "full", "250,.jpg"), "(none)");
	/* no pyramid any more (info.txt gone): full/ keeps no link */
	snprintf(path, sizeof path, "%s/info.txt", dir);
	CHECK(unlink(path) == 0);
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, 100000, err, sizeof err) == 0);
	CHECK(count_links(dir, "full") == 0);
	CHECK(count_links(dir, "thumbs") == 20);
	CHECK_STR(link_of(dir, "full", "keep.jpg"), "(not a link)");
}

/* A tiles-only asset (no thumbs channel): full/ is made, thumbs/ is not. */
static void test_sync_tiles_only(void)
{
	char err[256] = "", dir[300], sub[320];
	snprintf(dir, sizeof dir, "%s/tiles-only", tmp);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(sub, sizeof sub, "%s/tiles", dir);
	CHECK(mkdir(sub, 0755) == 0);
	put(sub, "0,0,150,100_150.jpg", "tile");
	put(dir, "info.txt", "150 100 256 1\n");
	CHECK(thumb_aliases_sync(A, dir, 150, 100, 0, err, sizeof err) == 7);
	CHECK_STR(link_of(dir, "full", "max.jpg"), "../tiles/0,0,150,100_150.jpg");
	CHECK_STR(content_of(dir, "full", "150,.jpg"), "tile");
	struct stat sb;
	snprintf(sub, sizeof sub, "%s/thumbs", dir);
	CHECK(stat(sub, &sb) != 0 && errno == ENOENT);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

int main(void)
{
	A = arena_new(64 * 1024);
	snprintf(tmp, sizeof tmp, "/tmp/test_thumb_alias.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_landscape();
	test_portrait();
	test_square();
	test_small();
	test_tile_sized_thumbnail();
	test_panorama();
	test_versions_differ();
	test_max_area();
	test_no_thumbnails();
	test_openseadragon_levels();
	test_sync();
	test_sync_tiles_only();
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	arena_free(A);
	return check_done();
}
