#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "ids.h"
#include "str.h"
#include "asset/store.h"
#include "banned.h"

const char *store_asset_dir(struct arena *a, const char *root, int c, int s, const char *id)
{
	return arena_printf(a, "%s/%d/%d/%s", root, c, s, id);
}

/* mkdir -p; 0 or -1. */
static int mkdirs(struct arena *a, const char *path)
{
	char *p = arena_strdup(a, path);
	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -1;
		*q = '/';
	}
	return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

const char *store_upload_root(struct arena *a, const char *root)
{
	return arena_printf(a, "%s/.uploads", root);
}

const char *store_upload_path(struct arena *a, const char *root, int c, int s, const char *id)
{
	return arena_printf(a, "%s/.uploads/%d/%d/upload-%s", root, c, s, id);
}

int store_upload_write(struct arena *a, const char *root, int c, int s, const char *id,
		       const void *bytes, size_t len, char *err, size_t errlen)
{
	const char *dir = arena_printf(a, "%s/.uploads/%d/%d", root, c, s);
	const char *final = store_upload_path(a, root, c, s, id);
	const char *tmp = arena_printf(a, "%s/.tmp-%d-upload-%s", dir, (int)getpid(), id);
	if (mkdirs(a, dir) != 0) {
		xsnprintf(err, errlen, "cannot create the upload directory: %s", strerror(errno));
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		xsnprintf(err, errlen, "cannot write the upload: %s", strerror(errno));
		return -1;
	}
	const char *p = bytes;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			xsnprintf(err, errlen, "cannot write the upload: %s",
				  strerror(w < 0 ? errno : EIO));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, final) != 0) {
		xsnprintf(err, errlen, "cannot write the upload: %s", strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

const char *store_work_dir(struct arena *a, const char *root, const char *tag, char *err,
			   size_t errlen)
{
	const char *base = arena_printf(a, "%s/.work", root);
	if (mkdirs(a, base) != 0) {
		xsnprintf(err, errlen, "cannot create %s: %s", base, strerror(errno));
		return NULL;
	}
	const char *dir = arena_printf(a, "%s/%s", base, tag);
	store_rm_rf(dir); /* a leftover from a runner that died */
	if (mkdir(dir, 0755) != 0) {
		xsnprintf(err, errlen, "cannot create a work directory: %s", strerror(errno));
		return NULL;
	}
	return dir;
}

int store_install(struct arena *a, const char *work_dir, const char *final_dir, char *err,
		  size_t errlen)
{
	const char *slash = strrchr(final_dir, '/');
	if (!slash || mkdirs(a, arena_strndup(a, final_dir, (size_t)(slash - final_dir))) != 0) {
		xsnprintf(err, errlen, "cannot create the asset's directory: %s", strerror(errno));
		return -1;
	}
	if (rename(work_dir, final_dir) == 0)
		return 0; /* first version */
	if (errno != EEXIST && errno != ENOTEMPTY) {
		xsnprintf(err, errlen, "cannot install derivatives: %s", strerror(errno));
		return -1;
	}
	/* Replace: swap the two directories in one step, then delete the old
	 * version, now at work_dir. */
	if (renameat2(AT_FDCWD, work_dir, AT_FDCWD, final_dir, RENAME_EXCHANGE) != 0) {
		xsnprintf(err, errlen, "cannot replace derivatives: %s", strerror(errno));
		return -1;
	}
	store_rm_rf(work_dir);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT ? -1 : 0;
}

int store_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int store_remove(struct arena *a, const char *root, int c, int s, const char *id)
{
	const char *dir = store_asset_dir(a, root, c, s, id);
	/* A direct upload was its origin: it goes with the asset. */
	if (unlink(store_upload_path(a, root, c, s, id)) != 0 && errno != ENOENT)
		return -1;
	/* Move it aside first so a reader never sees a half-deleted asset. */
	const char *trash =
		arena_printf(a, "%s/.work/delete-%d-%d-%d-%s", root, (int)getpid(), c, s, id);
	if (mkdirs(a, arena_printf(a, "%s/.work", root)) == 0 && rename(dir, trash) == 0)
		return store_rm_rf(trash);
	return store_rm_rf(dir);
}

long long store_du(struct arena *a, const char *path, const char *except_subdir)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	long long total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (except_subdir && strcmp(e->d_name, except_subdir) == 0)
			continue;
		const char *p = arena_printf(a, "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			total += store_du(a, p, NULL);
		else if (S_ISREG(st.st_mode))
			total += st.st_size;
	}
	closedir(d);
	return total;
}

void store_clean_stale(struct arena *a, const char *root, const char *prefix)
{
	const char *base = arena_printf(a, "%s/.work", root);
	DIR *d = opendir(base);
	if (!d)
		return;
	size_t plen = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		char *end;
		long pid = strtol(e->d_name + plen, &end, 10);
		if (end == e->d_name + plen || *end != '-' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* still running (or not ours to judge) */
		store_rm_rf(arena_printf(a, "%s/%s", base, e->d_name));
	}
	closedir(d);
}

/* ---- public links ------------------------------------------------------ */

static const char *const PUBLIC_CHANNELS[] = {"iiif-img", "thumbs", "iiif-av"};

/* Points `link` at `target`, replacing whatever link is there in one
 * rename. 0 or -1. */
static int link_replace(struct arena *a, const char *target, const char *link)
{
	const char *slash = strrchr(link, '/');
	if (!slash || mkdirs(a, arena_strndup(a, link, (size_t)(slash - link))) != 0)
		return -1;
	char rnd[9];
	random_hex(rnd, 4);
	const char *tmp = arena_printf(a, "%s@%d.%s", link, (int)getpid(), rnd);
	if (symlink(target, tmp) != 0)
		return -1;
	if (rename(tmp, link) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

static int link_remove(const char *link)
{
	return unlink(link) != 0 && errno != ENOENT ? -1 : 0;
}

/* The restricted link and the changed mark of an asset. */
static const char *restricted_link(struct arena *a, const char *root, int c, int s, const char *id)
{
	return arena_printf(a, "%s/restricted/iiif-img/%d/%d/%s", root, c, s, id);
}

static const char *restricted_mark(struct arena *a, const char *root, int c, int s, const char *id)
{
	return arena_printf(a, "%s/restricted/changed/%d/%d/%s", root, c, s, id);
}

/* True when the asset was changed less than STORE_RESTRICTED_SETTLE
 * seconds ago (a mark in the future counts as fresh). */
static bool restricted_fresh(const char *mark)
{
	struct stat st;
	return lstat(mark, &st) == 0 && st.st_mtime > time(NULL) - STORE_RESTRICTED_SETTLE;
}

int store_publish(struct arena *a, const char *root, int c, int s, const char *id, bool iiif_img,
		  bool thumbs, bool av)
{
	const bool on[] = {iiif_img, thumbs, av};
	const char *target = arena_printf(a, "../../../../%d/%d/%s", c, s, id);
	int rc = 0;
	for (size_t i = 0; i < sizeof PUBLIC_CHANNELS / sizeof PUBLIC_CHANNELS[0]; i++) {
		const char *link = arena_printf(a, "%s/public/%s/%d/%d/%s", root,
						PUBLIC_CHANNELS[i], c, s, id);
		if ((on[i] ? link_replace(a, target, link) : link_remove(link)) != 0)
			rc = -1;
	}
	/* public tiles are found first: nginx never asks for a decision on
	 * them, and no mark is needed (nor left for every open asset) */
	if (iiif_img) {
		if (link_remove(restricted_link(a, root, c, s, id)) != 0 ||
		    link_remove(restricted_mark(a, root, c, s, id)) != 0)
			rc = -1;
	} else if (store_restricted_unlink(a, root, c, s, id) != 0) {
		rc = -1;
	}
	return rc;
}

int store_restricted_unlink(struct arena *a, const char *root, int c, int s, const char *id)
{
	const char *mark = restricted_mark(a, root, c, s, id);
	const char *slash = strrchr(mark, '/');
	if (mkdirs(a, arena_strndup(a, mark, (size_t)(slash - mark))) != 0)
		return -1;
	/* the mark first: a link made meanwhile is undone by its maker
	 * (store_restricted_link) */
	int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	int rc = futimens(fd, NULL);
	close(fd);
	return link_remove(restricted_link(a, root, c, s, id)) != 0 ? -1 : rc;
}

int store_restricted_link(struct arena *a, const char *root, int c, int s, const char *id)
{
	const char *link = restricted_link(a, root, c, s, id);
	struct stat st;
	if (lstat(link, &st) == 0)
		return 1;
	const char *mark = restricted_mark(a, root, c, s, id);
	if (restricted_fresh(mark))
		return 0;
	if (link_replace(a, arena_printf(a, "../../../../%d/%d/%s", c, s, id), link) != 0)
		return -1;
	/* changed while it was being made: not yet after all */
	if (restricted_fresh(mark))
		return link_remove(link) != 0 ? -1 : 0;
	return 1;
}

int store_unpublish(struct arena *a, const char *root, int c, int s, const char *id)
{
	return store_publish(a, root, c, s, id, false, false, false);
}

int store_publish_name(struct arena *a, const char *root, int c, const char *name)
{
	if (!customer_name_valid(name) || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strspn(name, "0123456789") == strlen(name)) {
		errno = EINVAL;
		return -1;
	}
	const char *target = arena_printf(a, "%d", c);
	int rc = 0;
	for (size_t i = 0; i < sizeof PUBLIC_CHANNELS / sizeof PUBLIC_CHANNELS[0]; i++)
		if (link_replace(a, target,
				 arena_printf(a, "%s/public/%s/%s", root, PUBLIC_CHANNELS[i],
					      name)) != 0)
			rc = -1;
	return rc;
}

bool store_file_exists(struct arena *a, const char *dir, const char *name)
{
	struct stat st;
	return stat(arena_printf(a, "%s/%s", dir, name), &st) == 0 && S_ISREG(st.st_mode);
}
