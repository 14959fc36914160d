/* Fragment cache (fragcache.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fragcache.h"
#include "banned.h"

/* 16,384 sets of 4: a few thousand live fragments (a 1,000-canvas manifest
 * in two versions) rarely push each other out. */
#define SETS 16384
#define WAYS 4

struct frag {
	char *mem; /* key, then stamp, then text; NULL: the slot is free */
	uint64_t hash, used;
	size_t klen, slen, len;
};

struct fragcache {
	struct frag *slots; /* SETS * WAYS */
	size_t max_bytes, bytes, count;
	uint64_t tick;
};

static uint64_t hash_of(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

struct fragcache *fragcache_new(size_t max_bytes)
{
	struct fragcache *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->slots = calloc((size_t)SETS * WAYS, sizeof *c->slots);
	if (!c->slots)
		abort();
	c->max_bytes = max_bytes;
	return c;
}

static size_t frag_bytes(const struct frag *f)
{
	return f->klen + f->slen + f->len + sizeof *f;
}

static void frag_drop(struct fragcache *c, struct frag *f)
{
	if (!f->mem)
		return;
	c->bytes -= frag_bytes(f);
	c->count--;
	free(f->mem);
	memset(f, 0, sizeof *f);
}

void fragcache_free(struct fragcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < (size_t)SETS * WAYS; i++)
		free(c->slots[i].mem);
	free(c->slots);
	free(c);
}

/* The slot holding key in its set, or NULL. */
static struct frag *find(struct fragcache *c, uint64_t h, const char *key, size_t klen)
{
	struct frag *set = &c->slots[(h % SETS) * WAYS];
	for (int i = 0; i < WAYS; i++)
		if (set[i].mem && set[i].hash == h && set[i].klen == klen &&
		    memcmp(set[i].mem, key, klen) == 0)
			return &set[i];
	return NULL;
}

const char *fragcache_get(struct fragcache *c, const char *key, size_t klen, const char *stamp,
			  size_t slen, size_t *len)
{
	struct frag *f = find(c, hash_of(key, klen), key, klen);
	if (!f || f->slen != slen || memcmp(f->mem + klen, stamp, slen) != 0)
		return NULL;
	f->used = ++c->tick;
	*len = f->len;
	return f->mem + klen + slen;
}

void fragcache_put(struct fragcache *c, const char *key, size_t klen, const char *stamp,
		   size_t slen, const char *text, size_t len)
{
	uint64_t h = hash_of(key, klen);
	struct frag *f = find(c, h, key, klen);
	if (!f) { /* the free slot of the set, else its least recently used */
		struct frag *set = &c->slots[(h % SETS) * WAYS];
		f = &set[0];
		for (int i = 1; i < WAYS && f->mem; i++)
			if (!set[i].mem || set[i].used < f->used)
				f = &set[i];
	}
	frag_drop(c, f);
	size_t need = klen + slen + len + sizeof *f;
	if (need > c->max_bytes / 64 || c->bytes + need > c->max_bytes)
		return;
	f->mem = malloc(klen + slen + len + 1);
	if (!f->mem)
		return;
	memcpy(f->mem, key, klen);
	memcpy(f->mem + klen, stamp, slen);
	memcpy(f->mem + klen + slen, text, len);
	f->mem[klen + slen + len] = '\0';
	f->hash = h;
	f->used = ++c->tick;
	f->klen = klen;
	f->slen = slen;
	f->len = len;
	c->bytes += need;
	c->count++;
}

size_t fragcache_count(const struct fragcache *c)
{
	return c->count;
}

size_t fragcache_bytes(const struct fragcache *c)
{
	return c->bytes;
}
