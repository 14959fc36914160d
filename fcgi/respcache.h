/* The per-worker response cache: whole 200 responses (content type, the
 * headers the handler set, body) of routes flagged R_CACHE, keyed by
 * everything the response depends on besides the database (see serve.c),
 * and stamped with the data generation (generation.h) read before the
 * handler ran. An entry is valid iff its stamp equals the current one, so a
 * committed write anywhere on the host invalidates every entry at once; the
 * first lookup under a new stamp frees them all. Bounded in bytes, least
 * recently used first out. Owned by struct app; not shared between
 * processes. */
#ifndef DLCS_RESPCACHE_H
#define DLCS_RESPCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "generation.h"

struct kv;
struct respcache;

/* A stored response; its memory belongs to the cache and stays valid until
 * the next call on the cache. */
struct resp_view {
	const char *content_type; /* NULL: the core's default */
	const struct kv *headers;
	size_t nheaders;
	const char *body;
	size_t body_len;
};

/* max_bytes > 0: the most memory entries may hold (keys, headers, bodies
 * and bookkeeping); a response larger than an eighth of it is not kept. */
struct respcache *respcache_new(size_t max_bytes);
void respcache_free(struct respcache *c);
/* The response stored under key if it was stored under stamp `now`. */
bool respcache_get(struct respcache *c, const char *key, const struct gen_stamp *now,
		   struct resp_view *out);
/* Stores (or replaces) the response for key, computed under `stamp`. */
void respcache_put(struct respcache *c, const char *key, const struct gen_stamp *stamp,
		   const struct resp_view *resp);
void respcache_clear(struct respcache *c);
/* Entries held and the bytes they take (for tests and logs). */
size_t respcache_count(const struct respcache *c);
size_t respcache_bytes(const struct respcache *c);

#endif
