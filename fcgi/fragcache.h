/* A per-worker cache of text fragments, each stored under a key and a
 * stamp: a lookup finds the fragment only when the caller's stamp is the
 * very one it was stored with, so the caller keeps its data the truth
 * (e.g. a fragment made from a database row, stamped with that row's cells,
 * is used only while the row is unchanged) and nothing ever needs to be
 * invalidated. Set-associative (a key can sit in one of a few slots; the
 * least recently used one is replaced) and bounded in bytes. Owned by struct
 * app; not shared between processes. */
#ifndef DLCS_FRAGCACHE_H
#define DLCS_FRAGCACHE_H

#include <stddef.h>

struct fragcache;

/* max_bytes > 0: the most memory the fragments, keys and stamps may take;
 * a fragment larger than a 64th of it is not kept. */
struct fragcache *fragcache_new(size_t max_bytes);
void fragcache_free(struct fragcache *c);
/* The fragment stored under key with exactly this stamp, its length in
 * *len; NULL when there is none. Valid until the next fragcache_put. */
const char *fragcache_get(struct fragcache *c, const char *key, size_t klen, const char *stamp,
			  size_t slen, size_t *len);
/* Stores (or replaces) the fragment for key; silently keeps nothing when it
 * does not fit. */
void fragcache_put(struct fragcache *c, const char *key, size_t klen, const char *stamp,
		   size_t slen, const char *text, size_t len);
/* Fragments held and the bytes they take (for tests). */
size_t fragcache_count(const struct fragcache *c);
size_t fragcache_bytes(const struct fragcache *c);

#endif
