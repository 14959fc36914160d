/* Directories, links and trees on disk (files.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "files.h"
#include "ids.h"
#include "banned.h"

int files_mkdirs(struct arena *a, const char *path)
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

int files_link_swap(struct arena *a, const char *target, const char *link)
{
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

int files_link_replace(struct arena *a, const char *target, const char *link)
{
	const char *slash = strrchr(link, '/');
	if (!slash || files_mkdirs(a, arena_strndup(a, link, (size_t)(slash - link))) != 0)
		return -1;
	return files_link_swap(a, target, link);
}

int files_touch(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash || files_mkdirs(a, arena_strndup(a, path, (size_t)(slash - path))) != 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	int rc = futimens(fd, NULL);
	close(fd);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT ? -1 : 0;
}

int files_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

unsigned char *files_read(struct arena *a, const char *path, long long max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	unsigned char *data = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= max) {
		data = arena_alloc(a, (size_t)st.st_size);
		size_t done = 0;
		while (done < (size_t)st.st_size) {
			ssize_t r = read(fd, data + done, (size_t)st.st_size - done);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			done += (size_t)r;
		}
		if (done != (size_t)st.st_size)
			data = NULL;
		*len = done;
	}
	close(fd);
	return data;
}

int files_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}
