/* A small process-local cache of strings with an expiry, for state that
 * outlives a request (e.g. verified credentials). Bounded: when full it is
 * emptied. Owned by struct app; not shared between processes. */
#ifndef DLCS_CACHE_H
#define DLCS_CACHE_H

#include <stddef.h>

struct cache;

struct cache *cache_new(size_t slots);
void cache_free(struct cache *c);
/* The value stored for key if it has not expired, else NULL (valid until
 * the next cache call). */
const char *cache_get(struct cache *c, const char *key);
void cache_put(struct cache *c, const char *key, const char *value, double ttl_seconds);
void cache_del(struct cache *c, const char *key);
void cache_clear(struct cache *c);

#endif
