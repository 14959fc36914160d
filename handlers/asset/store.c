#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "files.h"
#include "ids.h"
#include "str.h"
#include "asset/grant.h"
#include "asset/store.h"
#include "banned.h"

const char *store_asset_dir(struct arena *a, const char *root, int c, int s, const char *id)
{
	return arena_printf(a, "%s/%d/%d/%s", root, c, s, id);
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
	if (files_mkdirs(a, dir) != 0) {
		xsnprintf(err, errlen, "cannot create the upload directory: %s", strerror(errno));
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		xsnprintf(err, errlen, "cannot write the upload: %s", strerror(errno));
		return -1;
	}
	if (files_write_all(fd, bytes, len) != 0) {
		xsnprintf(err, errlen, "cannot write the upload: %s", strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
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
	if (files_mkdirs(a, base) != 0) {
		xsnprintf(err, errlen, "cannot create %s: %s", base, strerror(errno));
		return NULL;
	}
	const char *dir = arena_printf(a, "%s/%s", base, tag);
	files_rm_rf(dir); /* a leftover from a runner that died */
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
	if (!slash ||
	    files_mkdirs(a, arena_strndup(a, final_dir, (size_t)(slash - final_dir))) != 0) {
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
	files_rm_rf(work_dir);
	return 0;
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
	if (files_mkdirs(a, arena_printf(a, "%s/.work", root)) == 0 && rename(dir, trash) == 0)
		return files_rm_rf(trash);
	return files_rm_rf(dir);
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
		files_rm_rf(arena_printf(a, "%s/%s", base, e->d_name));
	}
	closedir(d);
}

/* ---- public links ------------------------------------------------------ */

static const char *const PUBLIC_CHANNELS[] = {"iiif-img", "thumbs", "iiif-av"};

static int link_remove(const char *link)
{
	return unlink(link) != 0 && errno != ENOENT ? -1 : 0;
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
		if ((on[i] ? files_link_replace(a, target, link) : link_remove(link)) != 0)
			rc = -1;
	}
	/* public tiles are found first: nginx never looks for a grant of
	 * them, and no changed mark is needed (nor left for every open asset) */
	if ((iiif_img ? grant_asset_open(a, root, c, s, id)
		      : grant_asset_changed(a, root, c, s, id)) != 0)
		rc = -1;
	return rc;
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
		if (files_link_replace(a, target,
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
