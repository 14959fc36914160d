/* dlcs-image's render cache on disk (iiif/render_cache.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"
#include "iiif/render_cache.h"
#include "banned.h"

struct cache_entry {
	const char *path;
	time_t atime;
	long long size;
};

static int cache_entry_cmp(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;
	return x->atime < y->atime ? -1 : x->atime > y->atime;
}

/* Removes the least recently used entries (atime, which every hit sets)
 * until the cache is at 90% of limit. One process at a time: the others
 * skip while the lock is held. Stale temporary files go too. */
void render_cache_evict(struct arena *a, const char *cache_dir, long long limit)
{
	int lock = open(arena_printf(a, "%s/.lock", cache_dir), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0)
		return;
	if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
		close(lock);
		return;
	}
	struct cache_entry *e = NULL;
	size_t n = 0, cap = 0;
	long long total = 0;
	time_t now = time(NULL);
	DIR *top = opendir(cache_dir);
	struct dirent *d;
	while (top && (d = readdir(top))) {
		if (strlen(d->d_name) != 2 || d->d_name[0] == '.')
			continue;
		const char *sub = arena_printf(a, "%s/%s", cache_dir, d->d_name);
		DIR *dir = opendir(sub);
		struct dirent *f;
		while (dir && (f = readdir(dir))) {
			if (strcmp(f->d_name, ".") == 0 || strcmp(f->d_name, "..") == 0)
				continue;
			const char *path = arena_printf(a, "%s/%s", sub, f->d_name);
			struct stat st;
			if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (f->d_name[0] == '.') { /* a writer's temporary file */
				if (now - st.st_mtime > 3600)
					unlink(path);
				continue;
			}
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				e = arena_realloc(a, e, cap * sizeof *e, ncap * sizeof *e);
				cap = ncap;
			}
			e[n++] = (struct cache_entry){path, st.st_atime, (long long)st.st_size};
			total += st.st_size;
		}
		if (dir)
			closedir(dir);
	}
	if (top)
		closedir(top);
	if (total > limit) {
		qsort(e, n, sizeof *e, cache_entry_cmp);
		long long target = limit / 10 * 9;
		size_t removed = 0;
		for (size_t i = 0; i < n && total > target; i++)
			if (unlink(e[i].path) == 0) {
				total -= e[i].size;
				removed++;
			}
		log_info("render cache: removed %zu files, %lld bytes left", removed, total);
	}
	flock(lock, LOCK_UN);
	close(lock);
}

/* Writes data as rel atomically; false on any failure (nothing left). */
bool render_cache_store(struct arena *a, const char *root, const char *sub, const char *rel,
			const void *data, size_t len)
{
	const char *cache = arena_printf(a, "%s/.cache", root);
	const char *dir = arena_printf(a, "%s/%s", cache, sub);
	if ((mkdir(cache, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) != 0 && errno != EEXIST))
		return false;
	const char *final = arena_printf(a, "%s/%s", root, rel);
	const char *tmp =
		arena_printf(a, "%s/.tmp-%d-%s", dir, (int)getpid(), strrchr(rel, '/') + 1);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	const char *p = data;
	size_t left = len;
	bool ok = true;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ok = false;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, final) != 0) {
		unlink(tmp);
		return false;
	}
	return true;
}
