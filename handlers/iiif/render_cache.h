/* dlcs-image's render cache: one file per canonical request and asset
 * version under {storage_root}/.cache/{2 hex}/ (named by delivery.c), kept
 * under image_cache_bytes by evicting the least recently used. */
#ifndef DLCS_IIIF_RENDER_CACHE_H
#define DLCS_IIIF_RENDER_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

/* Removes the least recently used entries (atime, which every hit sets)
 * until the cache is at 90% of limit. One process at a time: the others
 * skip while the lock is held. Stale temporary files go too. */
void render_cache_evict(struct arena *a, const char *cache_dir, long long limit);

/* Writes data as root/rel (in root/.cache/sub) atomically; false on any
 * failure (nothing left). */
bool render_cache_store(struct arena *a, const char *root, const char *sub, const char *rel,
			const void *data, size_t len);

#endif
