/* The data generation: a 64-bit counter in a small file that every process
 * using the database on this host maps MAP_SHARED (fcgi/db.c opens it). A
 * writer adds one after its change is committed; a reader takes the value
 * before it queries. A response computed under generation G is therefore
 * current exactly while the counter still reads G: any write that could have
 * raced with it moved the counter on.
 *
 * The path is checked before each read and bump, so a file that was deleted
 * or replaced is noticed: the mapping is renewed and its `map` number
 * changes, which invalidates everything stamped under the old one. When the
 * file cannot be opened or mapped, reads fail (callers then cache nothing)
 * and bumps are lost: both are logged once per process.
 *
 * The counter is host-local: processes on other hosts, or edits made with a
 * SQL client, do not move it (`dlcs-admin bump-generation` does). */
#ifndef DLCS_GENERATION_H
#define DLCS_GENERATION_H

#include <stdbool.h>
#include <stdint.h>

struct generation;

struct gen_stamp {
	uint64_t map;   /* which mapping of the file (changes when the file is replaced) */
	uint64_t value; /* the counter */
};

/* Opens (creating it, mode 0666 & ~umask, when absent) and maps path. Never
 * NULL; a file that cannot be mapped now is retried at each read and bump.
 * Owns a copy of path. */
struct generation *generation_open(const char *path);
void generation_close(struct generation *g);
/* The current stamp; false when the file is unusable (cache nothing). */
bool generation_read(struct generation *g, struct gen_stamp *out);
/* Adds one to the counter (after a committed write); false when it could
 * not (logged once). */
bool generation_bump(struct generation *g);
/* Two stamps are equal: the data has not changed between them. */
static inline bool gen_stamp_eq(const struct gen_stamp *a, const struct gen_stamp *b)
{
	return a->map == b->map && a->value == b->value;
}

#endif
