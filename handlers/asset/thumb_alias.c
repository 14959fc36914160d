/* Size aliases of the stored tiles and thumbnails (see thumb_alias.h). */
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
#include "str.h"
#include "asset/iiif_parse.h"
#include "asset/stored.h"
#include "asset/thumb_alias.h"
#include "banned.h"

/* What delivery.c's img_image sends for /iiif-img/[v2/]…/full/{size}/0/default.jpg
 * of an open asset, as a path relative to the asset directory into file:
 * a stored tile (tried first) or thumbnail. False for anything else (an
 * error, or a render). */
static bool img_answer(const struct stored *st, int version, const char *size, long long max_area,
		       char *file, size_t len)
{
	struct iiif_params p;
	struct iiif_resolved r;
	const char *why;
	if (iiif_parse(version, "full", size, "0", "default.jpg", &p, &why) != 0)
		return false;
	struct iiif_limits lim = {.max_area = max_area};
	if (iiif_resolve(&p, st->W, st->H, &lim, &r, &why) != 0)
		return false;
	char name[64];
	int tw, th;
	if (stored_match_tile(st, &r, name, sizeof name, &tw, &th)) {
		xsnprintf(file, len, "tiles/%s", name);
		return true;
	}
	int k = stored_match_size(st->sizes, st->nsizes, st->W, st->H, &r);
	if (k < 0)
		return false;
	const struct stored_size *t = &st->sizes[k];
	xsnprintf(file, len, "thumbs/%d.jpg", t->w > t->h ? t->w : t->h);
	return true;
}

/* The same for delivery.c's thumbs_image_v (/thumbs/[v2/]…): no limits, no
 * tiles, W×H the asset's. */
static bool thumbs_answer(const struct stored *st, int W, int H, int version, const char *size,
			  char *file, size_t len)
{
	struct iiif_params p;
	struct iiif_resolved r;
	const char *why;
	if (iiif_parse(version, "full", size, "0", "default.jpg", &p, &why) != 0)
		return false;
	if (iiif_resolve(&p, W, H, NULL, &r, &why) != 0)
		return false;
	int k = stored_match_size(st->sizes, st->nsizes, W, H, &r);
	if (k < 0)
		return false;
	const struct stored_size *t = &st->sizes[k];
	xsnprintf(file, len, "thumbs/%d.jpg", t->w > t->h ? t->w : t->h);
	return true;
}

/* The candidate names of a stored w×h file (THUMB_ALIAS_FORMS at most). */
static int forms_of(int w, int h, char out[THUMB_ALIAS_FORMS][32])
{
	const int n = w > h ? w : h;
	int k = 0;
	xsnprintf(out[k++], sizeof out[0], "!%d,%d", n, n);
	if (w != h)
		xsnprintf(out[k++], sizeof out[0], "!%d,%d", w, h);
	xsnprintf(out[k++], sizeof out[0], "%d,%d", w, h);
	xsnprintf(out[k++], sizeof out[0], "%d,", w);
	xsnprintf(out[k++], sizeof out[0], ",%d", h);
	return k;
}

enum family { FAMILY_IMG, FAMILY_THUMBS };

struct decide {
	enum family family;
	const struct stored *st;
	int W, H; /* FAMILY_THUMBS */
	long long max_area;
	struct thumb_alias *out;
	size_t n, max;
};

/* Adds name when every API version whose URLs nginx maps to it gets the
 * same stored file. */
static void consider(struct decide *d, const char *name)
{
	for (size_t j = 0; j < d->n; j++)
		if (strcmp(d->out[j].name, name) == 0)
			return;
	if (d->n == d->max)
		return;
	/* nginx/dlcs.conf maps "full" for 2.1 only: 3.0 has no such size */
	const int first = 2, last = strcmp(name, "full") == 0 ? 2 : 3;
	char file[96] = "", got[96];
	for (int version = first; version <= last; version++) {
		bool ok =
			d->family == FAMILY_IMG
				? img_answer(d->st, version, name, d->max_area, got, sizeof got)
				: thumbs_answer(d->st, d->W, d->H, version, name, got, sizeof got);
		if (!ok || (version > first && strcmp(got, file) != 0))
			return;
		memcpy(file, got, sizeof file);
	}
	struct thumb_alias *al = &d->out[d->n++];
	xsnprintf(al->name, sizeof al->name, "%s", name);
	xsnprintf(al->file, sizeof al->file, "%s", file);
}

static void consider_forms(struct decide *d, int w, int h)
{
	char forms[THUMB_ALIAS_FORMS][32];
	int k = forms_of(w, h, forms);
	for (int i = 0; i < k; i++)
		consider(d, forms[i]);
}

size_t thumb_aliases_img(const struct stored *st, long long max_area, struct thumb_alias *out,
			 size_t max)
{
	if (!st->has_tiles)
		return 0;
	struct decide d = {FAMILY_IMG, st, 0, 0, max_area, out, 0, max};
	/* the one-tile levels (stored_match_tile's arithmetic), smallest first */
	for (int i = st->nsf - 1; i >= 0; i--) {
		long long f = st->sf[i], span = (long long)st->tile * f;
		if (st->W <= span && st->H <= span)
			consider_forms(&d, (int)((st->W + f - 1) / f), (int)((st->H + f - 1) / f));
	}
	for (size_t i = 0; i < st->nsizes; i++)
		consider_forms(&d, st->sizes[i].w, st->sizes[i].h);
	consider(&d, "max");
	consider(&d, "full");
	return d.n;
}

size_t thumb_aliases_thumbs(const struct stored *st, int W, int H, struct thumb_alias *out,
			    size_t max)
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
	struct decide d = {FAMILY_THUMBS, st, W, H, 0, out, 0, max};
	for (size_t i = 0; i < st->nsizes; i++)
		consider_forms(&d, st->sizes[i].w, st->sizes[i].h);
	return d.n;
}

/* True when name is "{alias}.jpg" of one of al[0..n) still wanted (a
 * cleared name is not). */
static bool wanted(const char *name, const struct thumb_alias *al, size_t n)
{
	size_t len = strlen(name);
	if (len < 5 || strcmp(name + len - 4, ".jpg") != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (al[i].name[0] && strlen(al[i].name) == len - 4 &&
		    strncmp(al[i].name, name, len - 4) == 0)
			return true;
	return false;
}

/* Makes {dir}/{link} -> target in one rename. 1 made, 0 already right or
 * not ours to replace, -1 (errno set). */
static int link_one(int dfd, const char *link, const char *target)
{
	char cur[256];
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

/* The first error only: later ones are usually the same cause. */
static void fail(int *rc, char *err, size_t errlen, const char *what, const char *dir,
		 const char *name, int e)
{
	if (*rc == 0)
		xsnprintf(err, errlen, "%s %s/%.60s: %s", what, dir, name, strerror(e));
	*rc = -1;
}

/* Brings the links in {asset}/{dir}/ in line with al[0..n): a link's target
 * is the file's path from the asset directory behind "../" (from_parent:
 * full/) or its name alone (thumbs/, the files' own directory). Adds the
 * links made to *made; an error sets *rc to -1 (the first one in err). */
static void sync_dir(int afd, const char *dir, bool from_parent, struct thumb_alias *al, size_t n,
		     int *made, int *rc, char *err, size_t errlen)
{
	int dfd = openat(afd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT) /* none: no thumbs channel, or no pyramid */
			fail(rc, err, errlen, "opening", dir, "", errno);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char link[48], target[128];
		xsnprintf(link, sizeof link, "%s.jpg", al[i].name);
		const char *slash = strchr(al[i].file, '/');
		if (from_parent)
			xsnprintf(target, sizeof target, "../%s", al[i].file);
		else
			xsnprintf(target, sizeof target, "%s", slash ? slash + 1 : al[i].file);
		struct stat sb;
		if (fstatat(afd, al[i].file, &sb, 0) != 0 || !S_ISREG(sb.st_mode)) {
			al[i].name[0] = '\0'; /* no such file: no link, and an old one goes */
			continue;
		}
		int r = link_one(dfd, link, target);
		if (r < 0)
			fail(rc, err, errlen, "linking", dir, link, errno);
		if (r > 0)
			(*made)++;
	}
	/* Links that are no alias any more (the sizes changed): removed. */
	int dfd2 = dup(dfd);
	DIR *d = dfd2 >= 0 ? fdopendir(dfd2) : NULL;
	if (!d) {
		fail(rc, err, errlen, "listing", dir, "", errno);
		if (dfd2 >= 0)
			close(dfd2);
	}
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat sb;
		if (e->d_name[0] == '.' || wanted(e->d_name, al, n) ||
		    fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(sb.st_mode))
			continue;
		if (unlinkat(dfd, e->d_name, 0) != 0 && errno != ENOENT)
			fail(rc, err, errlen, "removing", dir, e->d_name, errno);
	}
	if (d)
		closedir(d);
	close(dfd);
}

int thumb_aliases_sync(struct arena *a, const char *asset_dir, int W, int H, long long max_area,
		       char *err, size_t errlen)
{
	int afd = open(asset_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (afd < 0) {
		if (errno == ENOENT)
			return 0; /* never ingested */
		xsnprintf(err, errlen, "opening the asset directory: %s", strerror(errno));
		return -1;
	}
	struct stored st;
	stored_load(a, asset_dir, &st);
	struct thumb_alias *al = arena_alloc(a, THUMB_ALIAS_MAX * sizeof *al);
	int made = 0, rc = 0;

	size_t n = thumb_aliases_img(&st, max_area, al, THUMB_ALIAS_MAX);
	if (st.has_tiles && mkdirat(afd, "full", 0755) != 0 && errno != EEXIST)
		fail(&rc, err, errlen, "creating", "full", "", errno);
	else
		sync_dir(afd, "full", true, al, n, &made, &rc, err, errlen);

	n = thumb_aliases_thumbs(&st, W, H, al, THUMB_ALIAS_MAX);
	sync_dir(afd, "thumbs", false, al, n, &made, &rc, err, errlen);
	close(afd);
	return rc < 0 ? -1 : made;
}
