/* Stored manifests of named queries (asset/manifest_store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "files.h"
#include "ids.h"
#include "log.h"
#include "sha256.h"
#include "str.h"
#include "asset/manifest_store.h"
#include "banned.h"

/* Adds a length-prefixed part to b: no two lists of parts give one text. */
static void add_part(struct sbuf *b, const void *s, size_t len)
{
	uint64_t n = s ? (uint64_t)len : UINT64_MAX;
	sbuf_add(b, &n, sizeof n);
	if (s)
		sbuf_add(b, s, len);
}

/* The program that runs: its file as the kernel knows it, taken once. A
 * rebuilt or reinstalled program (which may write manifests differently)
 * is a new file: another inode, size or time. */
static const struct stat *program_file(void)
{
	static struct stat st;
	static bool known;
	if (!known) {
		if (stat("/proc/self/exe", &st) != 0)
			memset(&st, 0, sizeof st);
		known = true;
	}
	return &st;
}

void mstore_key_request(struct arena *a, struct mstore_key *k, int c, const char *const *parts,
			size_t n)
{
	struct sbuf b;
	sbuf_init(&b, a);
	const struct stat *prog = program_file();
	long long prog_id[5] = {(long long)prog->st_dev, (long long)prog->st_ino,
				(long long)prog->st_size, (long long)prog->st_mtim.tv_sec,
				(long long)prog->st_mtim.tv_nsec};
	add_part(&b, prog_id, sizeof prog_id);
	add_part(&b, &c, sizeof c);
	for (size_t i = 0; i < n; i++)
		add_part(&b, parts[i], parts[i] ? strlen(parts[i]) : 0);
	sha256_hex(b.buf, b.len, k->request);
	k->c = c;
}

void mstore_key_state(struct mstore_key *k, const char *versions)
{
	sha256_hex(versions, strlen(versions), k->rows);
}

const char *mstore_etag(struct arena *a, const struct mstore_key *k)
{
	char both[129], hex[65];
	memcpy(both, k->request, 64);
	memcpy(both + 64, k->rows, 64);
	sha256_hex(both, 128, hex);
	hex[32] = '\0';
	return arena_printf(a, "\"m%s\"", hex);
}

const char *mstore_rel(struct arena *a, const struct mstore_key *k)
{
	return arena_printf(a, MSTORE_DIR "/%d/%s/%s.json", k->c, k->request, k->rows);
}

bool mstore_ready(struct arena *a, const char *root, const struct mstore_key *k)
{
	const char *path = arena_printf(a, "%s/%s", root, mstore_rel(a, k));
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	time_t now = time(NULL);
	if (st.st_mtime > now - MSTORE_TOUCH_SECONDS)
		return true;
	if (st.st_mtime <= now - MSTORE_SEND_SECONDS)
		return false; /* a sweep may be deleting it: made again instead */
	/* utimensat on the path, not creating it: a sweep that took the file
	 * meanwhile leaves nothing to send. */
	return utimensat(AT_FDCWD, path, NULL, 0) == 0;
}

int mstore_put(struct arena *a, const char *root, const struct mstore_key *k, const char *body,
	       size_t len)
{
	const char *path = arena_printf(a, "%s/%s", root, mstore_rel(a, k));
	const char *dir = arena_printf(a, "%s/" MSTORE_DIR "/%d/%s", root, k->c, k->request);
	char rnd[9];
	random_hex(rnd, 4);
	const char *tmp = arena_printf(a, "%s/.tmp-%d-%s", dir, (int)getpid(), rnd);
	struct statvfs fs;
	if (statvfs(root, &fs) == 0 && fs.f_bavail < fs.f_blocks / 20)
		return -1; /* the ingests' space: sent without storing */
	int fd = -1;
	for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
		/* a sweep may remove the empty directory between the two steps */
		if (files_mkdirs(a, dir) != 0)
			break;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	}
	if (fd < 0) {
		log_err("cannot store a manifest in %s: %s", dir, strerror(errno));
		return -1;
	}
	/* readable by nginx whatever the umask: only manifests of open assets
	 * are stored */
	bool ok = files_write_all(fd, body, len) == 0 && fchmod(fd, 0644) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		log_err("cannot store the manifest %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A file of the store, as the sweep finds it. */
struct stored_file {
	const char *path;
	time_t mtime;
	long long size;
};

struct sweep {
	struct arena *a;
	struct stored_file *files;
	size_t n, cap;
};

static void sweep_add(struct sweep *sw, const char *path, const struct stat *st)
{
	if (sw->n == sw->cap) {
		size_t cap = sw->cap ? sw->cap * 2 : 256;
		struct stored_file *f = arena_alloc(sw->a, cap * sizeof *f);
		if (sw->n)
			memcpy(f, sw->files, sw->n * sizeof *f);
		sw->files = f;
		sw->cap = cap;
	}
	sw->files[sw->n++] = (struct stored_file){path, st->st_mtime, (long long)st->st_size};
}

/* Lists the files of one request's directory into the sweep ctx. */
static void list_request(void *ctx, const char *dir)
{
	struct sweep *sw = ctx;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && strncmp(e->d_name, ".tmp-", 5) != 0)
			continue;
		const char *path = arena_printf(sw->a, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			sweep_add(sw, path, &st);
	}
	closedir(d);
}

static int by_mtime(const void *x, const void *y)
{
	const struct stored_file *a = x, *b = y;
	return (a->mtime > b->mtime) - (a->mtime < b->mtime);
}

/* Calls fn(ctx, dir) for each {top}/{c}/{request} directory. */
static void each_request_dir(struct arena *a, const char *top,
			     void (*fn)(void *ctx, const char *dir), void *ctx)
{
	DIR *d = opendir(top);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		const char *cdir = arena_printf(a, "%s/%s", top, e->d_name);
		DIR *cd = opendir(cdir);
		if (!cd)
			continue;
		struct dirent *r;
		while ((r = readdir(cd)))
			if (hex_lower_n(r->d_name, 64))
				fn(ctx, arena_printf(a, "%s/%s", cdir, r->d_name));
		closedir(cd);
	}
	closedir(d);
}

/* Removes a request directory left empty (rmdir fails on the others). */
static void remove_if_empty(void *ctx, const char *dir)
{
	(void)ctx;
	rmdir(dir);
}

int mstore_sweep(struct arena *a, const char *root, long long max_bytes)
{
	if (!root)
		return 0;
	const char *top = arena_printf(a, "%s/" MSTORE_DIR, root);
	/* One sweep at a time on the host: the runners all call it. */
	int lock = open(arena_printf(a, "%s/.sweep.lock", top),
			O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
		if (lock >= 0)
			close(lock);
		return 0;
	}
	struct sweep sw = {.a = a};
	each_request_dir(a, top, list_request, &sw);
	if (sw.n)
		qsort(sw.files, sw.n, sizeof *sw.files, by_mtime);
	long long total = 0;
	for (size_t i = 0; i < sw.n; i++)
		total += sw.files[i].size;
	time_t now = time(NULL);
	int done = 0;
	/* Oldest first: every idle file, then, while the store is over its
	 * size, those unused for MSTORE_EVICT_SECONDS. */
	for (size_t i = 0; i < sw.n; i++) {
		const struct stored_file *f = &sw.files[i];
		bool idle = f->mtime < now - MSTORE_IDLE_SECONDS;
		bool evict = total > max_bytes && f->mtime < now - MSTORE_EVICT_SECONDS;
		if (!idle && !evict)
			break;
		if (unlink(f->path) == 0) {
			total -= f->size;
			done++;
		}
	}
	each_request_dir(a, top, remove_if_empty, NULL);
	close(lock); /* and the lock with it */
	return done;
}
