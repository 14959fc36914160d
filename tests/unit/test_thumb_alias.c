/* Aliases of stored thumbnails for nginx (iiif/thumb_alias.h): which IIIF
 * size strings are linked to which thumbnail for landscape, portrait,
 * square, small and extreme images, a thumbnail that is the pyramid's
 * one-tile level, an upscaled policy size, image_max_area; and the links
 * thumb_aliases_sync makes, repairs and removes on disk. The expected sets
 * are worked out by hand from delivery's rules (iiif_parse.h, info.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "iiif/info.h"
#include "iiif/thumb_alias.h"
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

/* "name=edge name=edge ..." in the order thumb_aliases gives them. */
static const char *aliases_text(const struct stored *st, int W, int H, long long max_area)
{
	static char text[8192];
	struct thumb_alias al[THUMB_ALIAS_MAX];
	size_t n = thumb_aliases(st, W, H, max_area, al, THUMB_ALIAS_MAX);
	text[0] = '\0';
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "%s%s=%d", i ? " " : "",
					al[i].name, al[i].edge);
	return text;
}

#define ALL4(n, w, h) "!" #n "," #n "=" #n " " #w "," #h "=" #n " " #w ",=" #n " ," #h "=" #n

static void test_landscape(void)
{
	struct stored st;
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 1000, 700, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 100, 70) " " ALL4(200, 200, 140) " " ALL4(400, 400, 280) " " ALL4(
			  1000, 1000, 700));
	/* the database's size unknown: the largest thumbnail stands for it */
	CHECK_STR(aliases_text(&st, 0, 0, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  aliases_text(&st, 1000, 700, THUMB_ALIAS_DEFAULT_MAX_AREA));
	/* restricted sizes ("a") are aliased too: only open assets are linked */
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[100,70]],\"a\":[[1000,700],[400,280],[200,140]]}");
	CHECK_STR(aliases_text(&st, 1000, 700, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 100, 70) " " ALL4(200, 200, 140) " " ALL4(400, 400, 280) " " ALL4(
			  1000, 1000, 700));
}

static void test_portrait(void)
{
	struct stored st;
	make_stored(&st, 700, 1000, true,
		    "{\"o\":[[700,1000],[280,400],[140,200],[70,100]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 700, 1000, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 70, 100) " " ALL4(200, 140, 200) " " ALL4(400, 280, 400) " " ALL4(
			  1000, 700, 1000));
}

static void test_square(void)
{
	struct stored st;
	make_stored(&st, 500, 500, true,
		    "{\"o\":[[500,500],[400,400],[200,200],[100,100]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 500, 500, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 100, 100) " " ALL4(200, 200, 200) " " ALL4(400, 400, 400) " " ALL4(
			  500, 500, 500));
}

static void test_small(void)
{
	struct stored st;
	/* 150x100: !1024 !400 !200 give the image itself, which is also the
	 * pyramid's only tile: /iiif-img/ answers those sizes with the tile, so
	 * only the 100 px thumbnail is aliased. ",67" resolves to 101x67, the
	 * 100x67 thumbnail give or take its free side. */
	make_stored(&st, 150, 100, true, "{\"o\":[[150,100],[100,67]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 150, 100, THUMB_ALIAS_DEFAULT_MAX_AREA), ALL4(100, 100, 67));
	/* thumbs channel only: no tile to answer instead */
	make_stored(&st, 150, 100, false, "{\"o\":[[150,100],[100,67]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 150, 100, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 100, 67) " " ALL4(150, 150, 100));

	/* 300x200: no "!400,400" (3.0 would have to upscale, 2.1 caps it) */
	make_stored(&st, 300, 200, true, "{\"o\":[[300,200],[200,133],[100,67]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 300, 200, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 100, 67) " " ALL4(200, 200, 133) " " ALL4(300, 300, 200));

	/* 1x1 */
	make_stored(&st, 1, 1, true, "{\"o\":[[1,1]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 1, 1, THUMB_ALIAS_DEFAULT_MAX_AREA), "");
	make_stored(&st, 1, 1, false, "{\"o\":[[1,1]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 1, 1, THUMB_ALIAS_DEFAULT_MAX_AREA), ALL4(1, 1, 1));
}

static void test_tile_sized_thumbnail(void)
{
	struct stored st;
	/* 800x600: the one-tile level (scale factor 4) is 200x150, the !200,200
	 * thumbnail's size: /iiif-img/ sends the tile for it */
	make_stored(&st, 800, 600, true,
		    "{\"o\":[[800,600],[400,300],[200,150],[100,75]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 800, 600, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 100, 75) " " ALL4(400, 400, 300) " " ALL4(800, 800, 600));
}

static void test_panorama(void)
{
	struct stored st;
	/* 5000x100: ",20" resolves to 1000x20, not the 1024x20 thumbnail */
	make_stored(&st, 5000, 100, true, "{\"o\":[[1024,20],[400,8],[200,4],[100,2]],\"a\":[]}");
	const char *want = "!100,100=100 100,2=100 100,=100 ,2=100 "
			   "!200,200=200 200,4=200 200,=200 ,4=200 "
			   "!400,400=400 400,8=400 400,=400 ,8=400 "
			   "!1024,1024=1024 1024,20=1024 1024,=1024";
	CHECK_STR(aliases_text(&st, 5000, 100, THUMB_ALIAS_DEFAULT_MAX_AREA), want);
}

static void test_upscaled_policy_size(void)
{
	struct stored st;
	/* a ^!2000,2000 policy: 3.0 needs "^" for it, so no alias */
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[2000,1400],[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 1000, 700, THUMB_ALIAS_DEFAULT_MAX_AREA),
		  ALL4(100, 100, 70) " " ALL4(200, 200, 140) " " ALL4(400, 400, 280) " " ALL4(
			  1000, 1000, 700));
}

static void test_max_area(void)
{
	struct stored st;
	make_stored(&st, 1000, 700, true,
		    "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	/* /iiif-img/ refuses 400x280 (112000 px) and 1000x700 above 100000 px */
	CHECK_STR(aliases_text(&st, 1000, 700, 100000), ALL4(100, 100, 70) " " ALL4(200, 200, 140));
	CHECK_STR(aliases_text(&st, 1000, 700, 0), aliases_text(&st, 1000, 700, 16777216));
	/* without the pyramid only /thumbs/ counts, which has no limit */
	make_stored(&st, 1000, 700, false,
		    "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 1000, 700, 100000),
		  ALL4(100, 100, 70) " " ALL4(200, 200, 140) " " ALL4(400, 400, 280) " " ALL4(
			  1000, 1000, 700));
}

static void test_no_thumbnails(void)
{
	struct stored st;
	memset(&st, 0, sizeof st);
	CHECK(stored_parse_info("1000 700 256 1 2 4", &st) == 0);
	CHECK_STR(aliases_text(&st, 1000, 700, 0), "");
	make_stored(&st, 1000, 700, true, "{\"o\":[],\"a\":[]}");
	CHECK_STR(aliases_text(&st, 1000, 700, 0), "");
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

static const char *link_of(const char *dir, const char *name)
{
	static char target[256];
	char path[512];
	snprintf(path, sizeof path, "%s/thumbs/%s", dir, name);
	ssize_t n = readlink(path, target, sizeof target - 1);
	if (n < 0)
		return errno == EINVAL ? "(not a link)" : "(none)";
	target[n] = '\0';
	return target;
}

static int count_links(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "find '%s/thumbs' -type l | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void test_sync(void)
{
	char err[256] = "";
	char dir[300], thumbs[320];
	snprintf(dir, sizeof dir, "%s/asset", tmp);
	CHECK(mkdir(dir, 0755) == 0);
	/* no thumbs/: nothing to do */
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, 0, err, sizeof err) == 0);

	snprintf(thumbs, sizeof thumbs, "%s/thumbs", dir);
	CHECK(mkdir(thumbs, 0755) == 0);
	put(dir, "info.txt", "1000 700 256 1 2 4\n");
	put(dir, "s.json", "{\"o\":[[1000,700],[400,280],[200,140],[100,70]],\"a\":[]}");
	put(thumbs, "1000.jpg", "1000");
	put(thumbs, "400.jpg", "400");
	put(thumbs, "200.jpg", "200");
	/* 100.jpg is missing: none of its aliases is made */
	put(thumbs, "999,.jpg", "a regular file is never touched");
	char path[512];
	snprintf(path, sizeof path, "%s/123,.jpg", thumbs);
	CHECK(symlink("1000.jpg", path) == 0); /* stale */
	snprintf(path, sizeof path, "%s/!400,400.jpg", thumbs);
	CHECK(symlink("200.jpg", path) == 0); /* wrong */
	snprintf(path, sizeof path, "%s/,70.jpg", thumbs);
	CHECK(symlink("100.jpg", path) == 0); /* to the missing thumbnail */

	int made = thumb_aliases_sync(A, dir, 1000, 700, THUMB_ALIAS_DEFAULT_MAX_AREA, err,
				      sizeof err);
	if (made < 0)
		fprintf(stderr, "  sync: %s\n", err);
	CHECK(made == 12);
	CHECK(count_links(dir) == 12);
	CHECK_STR(link_of(dir, "!400,400.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "400,280.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "400,.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, ",280.jpg"), "400.jpg");
	CHECK_STR(link_of(dir, "!1000,1000.jpg"), "1000.jpg");
	CHECK_STR(link_of(dir, ",140.jpg"), "200.jpg");
	CHECK_STR(link_of(dir, "123,.jpg"), "(none)");
	CHECK_STR(link_of(dir, ",70.jpg"), "(none)");
	CHECK_STR(link_of(dir, "100,.jpg"), "(none)");
	CHECK_STR(link_of(dir, "999,.jpg"), "(not a link)");
	CHECK_STR(link_of(dir, "400.jpg"), "(not a link)");
	/* the links resolve to the thumbnails */
	snprintf(path, sizeof path, "%s/!400,400.jpg", thumbs);
	FILE *f = fopen(path, "r");
	char got[16] = "";
	CHECK(f && fgets(got, sizeof got, f));
	if (f)
		fclose(f);
	CHECK_STR(got, "400");

	/* again: nothing to do */
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, THUMB_ALIAS_DEFAULT_MAX_AREA, err,
				 sizeof err) == 0);
	CHECK(count_links(dir) == 12);
	/* the thumbnail appears: its four links follow */
	put(thumbs, "100.jpg", "100");
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, THUMB_ALIAS_DEFAULT_MAX_AREA, err,
				 sizeof err) == 4);
	CHECK(count_links(dir) == 16);
	CHECK_STR(link_of(dir, ",70.jpg"), "100.jpg");
	/* the sizes change (a lower image_max_area): the others go */
	CHECK(thumb_aliases_sync(A, dir, 1000, 700, 100000, err, sizeof err) == 0);
	CHECK(count_links(dir) == 8);
	CHECK_STR(link_of(dir, "400,.jpg"), "(none)");
	CHECK_STR(link_of(dir, "200,.jpg"), "200.jpg");
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
	test_upscaled_policy_size();
	test_max_area();
	test_no_thumbnails();
	test_sync();
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	arena_free(A);
	return check_done();
}
