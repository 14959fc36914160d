#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "generation.h"
#include "log.h"
#include "banned.h"

/* One page: the counter is its first 8 bytes (native byte order). */
#define GEN_FILE_SIZE 4096

struct generation {
	char *path;
	int fd;            /* -1 while unmapped */
	uint64_t *counter; /* in the shared mapping, NULL while unusable */
	dev_t dev;
	ino_t ino;
	uint64_t map; /* how many times this process mapped the file */
	bool warned;  /* the current failure has been logged */
};

static void unmap(struct generation *g)
{
	if (g->counter)
		munmap(g->counter, GEN_FILE_SIZE);
	if (g->fd >= 0)
		close(g->fd);
	g->counter = NULL;
	g->fd = -1;
}

static bool fail(struct generation *g, const char *what, int err)
{
	if (!g->warned)
		log_err("data generation file %s: %s: %s; API workers cache no responses, and "
			"their cached responses may miss this process's writes",
			g->path, what, strerror(err));
	g->warned = true;
	unmap(g);
	return false;
}

/* Maps the file the path names now (creating it when absent). Open
 * O_CREAT without O_EXCL is atomic, so processes racing here share one file;
 * ftruncate only ever grows it to the page, so a racing one changes nothing. */
static bool map_file(struct generation *g)
{
	int fd = open(g->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return fail(g, "cannot open", errno);
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int err = errno ? errno : EINVAL;
		close(fd);
		return fail(g, "not a regular file", err);
	}
	if (st.st_size < GEN_FILE_SIZE && ftruncate(fd, GEN_FILE_SIZE) != 0) {
		int err = errno;
		close(fd);
		return fail(g, "cannot size", err);
	}
	void *p = mmap(NULL, GEN_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;
		close(fd);
		return fail(g, "cannot map", err);
	}
	unmap(g);
	g->fd = fd;
	g->counter = p;
	g->dev = st.st_dev;
	g->ino = st.st_ino;
	g->map++;
	g->warned = false;
	return true;
}

/* The mapping matches the file at the path (renewed when the file was
 * deleted or replaced). The mapping keeps the old inode alive, so its number
 * cannot be reused by a new file while we compare. */
static bool refresh(struct generation *g)
{
	struct stat st;
	if (g->counter && stat(g->path, &st) == 0 && st.st_dev == g->dev && st.st_ino == g->ino)
		return true;
	return map_file(g);
}

struct generation *generation_open(const char *path)
{
	struct generation *g = calloc(1, sizeof *g);
	if (!g)
		abort();
	g->path = strdup(path);
	if (!g->path)
		abort();
	g->fd = -1;
	map_file(g);
	return g;
}

void generation_close(struct generation *g)
{
	if (!g)
		return;
	unmap(g);
	free(g->path);
	free(g);
}

bool generation_read(struct generation *g, struct gen_stamp *out)
{
	if (!refresh(g))
		return false;
	out->map = g->map;
	/* Acquire: the caller's queries are not issued before this load. */
	out->value = __atomic_load_n(g->counter, __ATOMIC_ACQUIRE);
	return true;
}

bool generation_bump(struct generation *g)
{
	if (!refresh(g))
		return false;
	__atomic_add_fetch(g->counter, 1, __ATOMIC_SEQ_CST);
	return true;
}
