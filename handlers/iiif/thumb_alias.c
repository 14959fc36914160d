/* Aliases of the stored thumbnails (see thumb_alias.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "ids.h"
#include "iiif_parse.h"
#include "info.h"
#include "str.h"
#include "thumb_alias.h"
#include "banned.h"

/* What delivery.c's img_image sends for /iiif-img/[v2/]…/full/{size}/0/default.jpg
 * of an open asset: the index of the stored thumbnail, or -1 for anything
 * else (an error, a stored tile, which it tries first, or a render). */
static int iiif_img_answer(const struct stored *st, int version, const char *size,
			   long long max_area)
{
	struct iiif_params p;
	struct iiif_resolved r;
	const char *why;
	if (iiif_parse(version, "full", size, "0", "default.jpg", &p, &why) != 0)
		return -1;
	struct iiif_limits lim = {.max_area = max_area};
	if (iiif_resolve(&p, st->W, st->H, &lim, &r, &why) != 0)
		return -1;
	char name[96];
	int tw, th;
	if (stored_match_tile(st, &r, name, sizeof name, &tw, &th))
		return -1;
	return stored_match_size(st->sizes, st->nsizes, st->W, st->H, &r);
}

/* The same for delivery.c's thumbs_image (/thumbs/[v2/]…): no limits, no
 * tiles, W×H the asset's. */
static int thumbs_answer(const struct stored *st, int W, int H, int version, const char *size)
{
	struct iiif_params p;
	struct iiif_resolved r;
	const char *why;
	if (iiif_parse(version, "full", size, "0", "default.jpg", &p, &why) != 0)
		return -1;
	if (iiif_resolve(&p, W, H, NULL, &r, &why) != 0)
		return -1;
	return stored_match_size(st->sizes, st->nsizes, W, H, &r);
}

static int longest(int w, int h)
{
	return w > h ? w : h;
}

size_t thumb_aliases(const struct stored *st, int W, int H, long long max_area,
		     struct thumb_alias *out, size_t max)
{
	if (!st->has_sizes || st->nsizes == 0)
		return 0;
	if (W <= 0 || H <= 0) { /* delivery.c's thumbs_dims: the largest thumbnail */
		const struct stored_size *big = &st->sizes[0];
		for (size_t i = 1; i < st->nsizes; i++)
			if ((long long)st->sizes[i].w * st->sizes[i].h > (long long)big->w * big->h)
				big = &st->sizes[i];
		W = big->w;
		H = big->h;
	}
	size_t n = 0;
	for (size_t i = 0; i < st->nsizes; i++) {
		const struct stored_size *t = &st->sizes[i];
		const int edge = longest(t->w, t->h);
		char forms[THUMB_ALIAS_FORMS][32];
		xsnprintf(forms[0], sizeof forms[0], "!%d,%d", edge, edge);
		xsnprintf(forms[1], sizeof forms[1], "%d,%d", t->w, t->h);
		xsnprintf(forms[2], sizeof forms[2], "%d,", t->w);
		xsnprintf(forms[3], sizeof forms[3], ",%d", t->h);
		for (int k = 0; k < THUMB_ALIAS_FORMS; k++) {
			bool same = true;
			for (int version = 2; version <= 3 && same; version++)
				same = thumbs_answer(st, W, H, version, forms[k]) == (int)i &&
				       (!st->has_tiles ||
					iiif_img_answer(st, version, forms[k], max_area) == (int)i);
			for (size_t j = 0; j < n && same; j++)
				same = strcmp(out[j].name, forms[k]) != 0;
			if (!same || n == max)
				continue;
			xsnprintf(out[n].name, sizeof out[n].name, "%s", forms[k]);
			out[n].edge = edge;
			n++;
		}
	}
	return n;
}

/* True when name is "{alias}.jpg" of one of al[0..n). */
static bool wanted(const char *name, const struct thumb_alias *al, size_t n)
{
	size_t len = strlen(name);
	if (len < 5 || strcmp(name + len - 4, ".jpg") != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strlen(al[i].name) == len - 4 && strncmp(al[i].name, name, len - 4) == 0)
			return true;
	return false;
}

/* Makes thumbs/{link} -> target in one rename. 1 made, 0 already right or
 * not ours to replace, -1 (errno set). */
static int link_one(int dfd, const char *link, const char *target)
{
	char cur[64];
	ssize_t len = readlinkat(dfd, link, cur, sizeof cur - 1);
	if (len >= 0) {
		cur[len] = '\0';
		if (strcmp(cur, target) == 0)
			return 0;
	} else if (errno == EINVAL) {
		return 0; /* not a symlink: never replaced */
	} else if (errno != ENOENT) {
		return -1;
	}
	char rnd[9], tmp[96];
	random_hex(rnd, 4);
	xsnprintf(tmp, sizeof tmp, ".%s.%d.%s", link, (int)getpid(), rnd);
	if (symlinkat(target, dfd, tmp) != 0)
		return -1;
	if (renameat(dfd, tmp, dfd, link) != 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 1;
}

int thumb_aliases_sync(struct arena *a, const char *asset_dir, int W, int H, long long max_area,
		       char *err, size_t errlen)
{
	const char *dir = arena_printf(a, "%s/thumbs", asset_dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		xsnprintf(err, errlen, "opening thumbs/: %s", strerror(errno));
		return -1;
	}
	struct stored st;
	stored_load(a, asset_dir, &st);
	struct thumb_alias *al = arena_alloc(a, THUMB_ALIAS_MAX * sizeof *al);
	size_t n = thumb_aliases(&st, W, H, max_area, al, THUMB_ALIAS_MAX);
	int made = 0, rc = 0;
	for (size_t i = 0; i < n; i++) {
		char link[48], target[24];
		xsnprintf(link, sizeof link, "%s.jpg", al[i].name);
		xsnprintf(target, sizeof target, "%d.jpg", al[i].edge);
		struct stat sb;
		if (fstatat(dfd, target, &sb, 0) != 0 || !S_ISREG(sb.st_mode)) {
			al[i].name[0] = '\0'; /* no thumbnail: no link, and an old one goes */
			continue;
		}
		int r = link_one(dfd, link, target);
		if (r < 0 && rc == 0) {
			xsnprintf(err, errlen, "linking thumbs/%s: %s", link, strerror(errno));
			rc = -1;
		}
		if (r > 0)
			made++;
	}
	/* Links that are no alias any more (the sizes changed): removed. */
	int dfd2 = dup(dfd);
	DIR *d = dfd2 >= 0 ? fdopendir(dfd2) : NULL;
	if (!d) {
		if (dfd2 >= 0)
			close(dfd2);
		if (rc == 0)
			xsnprintf(err, errlen, "listing thumbs/: %s", strerror(errno));
		rc = -1;
	}
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat sb;
		if (e->d_name[0] == '.' || wanted(e->d_name, al, n) ||
		    fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(sb.st_mode))
			continue;
		if (unlinkat(dfd, e->d_name, 0) != 0 && errno != ENOENT && rc == 0) {
			xsnprintf(err, errlen, "removing thumbs/%.60s: %s", e->d_name,
				  strerror(errno));
			rc = -1;
		}
	}
	if (d)
		closedir(d);
	close(dfd);
	return rc < 0 ? -1 : made;
}
