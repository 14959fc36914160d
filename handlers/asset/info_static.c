/* nginx's copies of info.json (asset/info_static.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "ids.h"
#include "json.h"
#include "str.h"
#include "asset/info.h"
#include "asset/info_static.h"
#include "asset/stored.h"
#include "banned.h"

/* Larger than any document (64 sizes, 32 scale factors): what is read of
 * an existing file to compare. */
#define DOC_MAX_BYTES 16384

const struct info_static_spec INFO_STATIC[INFO_STATIC__MAX] = {
	[INFO_IMG_V3] = {INFO_FILE_IMG_V3, "/iiif-img", false, 3},
	[INFO_IMG_V2] = {INFO_FILE_IMG_V2, "/iiif-img/v2", false, 2},
	[INFO_THUMBS_V3] = {INFO_FILE_THUMBS_V3, "/thumbs", true, 3},
	[INFO_THUMBS_V2] = {INFO_FILE_THUMBS_V2, "/thumbs/v2", true, 2},
};

const char *info_static_text(struct arena *a, const struct stored *st, int width, int height,
			     const struct info_static_opts *o, enum info_static_doc doc,
			     size_t *len)
{
	const struct info_static_spec *spec = &INFO_STATIC[doc];
	const char *id = arena_printf(a, "%s" INFO_PATH_MARK,
				      o->base_url && *o->base_url ? o->base_url : INFO_BASE_MARK);
	struct info_doc d;
	if (spec->thumbs) {
		/* thumbs_info_v's answer to anyone, for an open asset */
		if (!st->has_sizes || st->nsizes == 0)
			return NULL;
		info_doc_thumbs(&d, st, st->sizes, st->nsizes, width, height, spec->version, id);
	} else {
		if (!st->has_tiles)
			return NULL;
		info_doc_image(&d, a, st, spec->version, id, o->max_area, o->webp);
	}
	struct jw *w = jw_new(a);
	info_write(w, &d);
	return jw_text(w, len);
}

/* The file's bytes equal text[0..len). */
static bool same_file(struct arena *a, const char *path, const char *text, size_t len)
{
	if (len >= DOC_MAX_BYTES)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	char *buf = arena_alloc(a, DOC_MAX_BYTES);
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, DOC_MAX_BYTES - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == DOC_MAX_BYTES)
			break;
	}
	close(fd);
	return got == len && memcmp(buf, text, len) == 0;
}

/* Gives path an mtime past old (seconds) unless it has one already. */
static void mtime_past(const char *path, time_t old)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || sb.st_mtime > old)
		return;
	struct timespec ts[2] = {{0, UTIME_OMIT}, {old + 1, 0}};
	(void)utimensat(AT_FDCWD, path, ts, 0);
}

void info_static_after(struct arena *a, const char *new_dir, const char *old_dir)
{
	for (int k = 0; k < INFO_STATIC__MAX; k++) {
		struct stat old;
		const char *file = INFO_STATIC[k].file;
		if (stat(arena_printf(a, "%s/" INFO_STATIC_DIR "/%s", old_dir, file), &old) == 0)
			mtime_past(arena_printf(a, "%s/" INFO_STATIC_DIR "/%s", new_dir, file),
				   old.st_mtime);
	}
}

/* Writes text as path, through a temporary file renamed into place, with
 * an mtime past the file it replaces (info_static_after). */
static int write_replace(struct arena *a, const char *path, const char *text, size_t len)
{
	struct stat old;
	bool replaces = stat(path, &old) == 0;
	char rnd[9];
	random_hex(rnd, 4);
	const char *tmp = arena_printf(a, "%s@%d.%s", path, (int)getpid(), rnd);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	bool ok = true;
	for (size_t done = 0; ok && done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0;
		if (ok)
			done += (size_t)n;
	}
	if (close(fd) != 0)
		ok = false;
	if (ok && replaces)
		mtime_past(tmp, old.st_mtime);
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

int info_static_sync(struct arena *a, const char *asset_dir, int width, int height,
		     const struct info_static_opts *o, char *err, size_t errlen)
{
	struct stat sb;
	if (stat(asset_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return 0;
	struct stored st;
	stored_load(a, asset_dir, &st);
	const char *dir = arena_printf(a, "%s/" INFO_STATIC_DIR, asset_dir);
	int changed = 0;
	for (int k = 0; k < INFO_STATIC__MAX; k++) {
		const char *path = arena_printf(a, "%s/%s", dir, INFO_STATIC[k].file);
		size_t len = 0;
		const char *text = info_static_text(a, &st, width, height, o, k, &len);
		if (!text) {
			if (unlink(path) == 0) {
				changed++;
			} else if (errno != ENOENT && errno != ENOTDIR) {
				xsnprintf(err, errlen, "cannot remove " INFO_STATIC_DIR "/%s: %s",
					  INFO_STATIC[k].file, strerror(errno));
				return -1;
			}
			continue;
		}
		if (same_file(a, path, text, len))
			continue;
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			xsnprintf(err, errlen, "cannot create " INFO_STATIC_DIR "/: %s",
				  strerror(errno));
			return -1;
		}
		if (write_replace(a, path, text, len) != 0) {
			xsnprintf(err, errlen, "cannot write " INFO_STATIC_DIR "/%s: %s",
				  INFO_STATIC[k].file, strerror(errno));
			return -1;
		}
		changed++;
	}
	return changed;
}
