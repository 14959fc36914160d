/* Directories, links, trees and whole files on disk: the steps the storage's link trees
 * (asset/store.h, asset/grant.h) and the programs' work directories are
 * made of. */
#ifndef DLCS_FILES_H
#define DLCS_FILES_H

#include <stddef.h>

struct arena;

/* mkdir -p, each new directory with mode 0755. 0 or -1 (errno set). */
int files_mkdirs(struct arena *a, const char *path);
/* Points `link` at `target` (a symlink), replacing whatever link is there
 * in one rename, its directory made first. 0 or -1 (errno set). */
int files_link_replace(struct arena *a, const char *target, const char *link);
/* The same in a directory that must already exist. */
int files_link_swap(struct arena *a, const char *target, const char *link);
/* Creates the file at path (and its directory) if it is missing, and sets
 * its times to now, following no symlink. 0 or -1 (errno set). */
int files_touch(struct arena *a, const char *path);
/* Deletes a tree, following no symlink (a missing one is fine). 0 or -1. */
int files_rm_rf(const char *path);
/* Writes all of data[0..len) to fd (again after EINTR and short writes).
 * 0, or -1 with errno set (EIO for a write that wrote nothing). */
int files_write_all(int fd, const void *data, size_t len);
/* The whole regular file at path (a symlink followed), of 1..max bytes,
 * into the arena, its size in *len; NULL when it cannot be read whole or
 * is empty or larger. */
unsigned char *files_read(struct arena *a, const char *path, long long max, size_t *len);

#endif
