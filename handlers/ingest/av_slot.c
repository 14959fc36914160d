/* The host's transcode slots (ingest/av_slot.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"
#include "ingest/av_slot.h"
#include "banned.h"

int av_slot_take(struct arena *a, const char *root, const char *host, int n)
{
	if (n <= 0)
		return -1;
	const char *dir = arena_printf(a, "%s/.av-slots", root);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	/* '/' cannot be in a host name that is a file name. */
	char *h = arena_strdup(a, host);
	for (char *p = h; *p; p++)
		if (*p == '/')
			*p = '_';
	for (int k = 0; k < n; k++) {
		const char *path = arena_printf(a, "%s/%s.%d", dir, h, k);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			log_err("cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

void av_slot_give(int fd)
{
	if (fd >= 0)
		close(fd); /* the lock goes with the last descriptor of the open file */
}
