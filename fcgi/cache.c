#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "str.h"
#include "banned.h"

struct entry {
	char *key, *value;
	double expires; /* monotonic seconds */
};

struct cache {
	struct entry *e;
	size_t slots, used;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct cache *cache_new(size_t slots)
{
	struct cache *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->slots = slots < 16 ? 16 : slots;
	c->e = calloc(c->slots, sizeof *c->e);
	if (!c->e)
		abort();
	return c;
}

void cache_clear(struct cache *c)
{
	for (size_t i = 0; i < c->slots; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
		c->e[i].key = c->e[i].value = NULL;
	}
	c->used = 0;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	free(c->e);
	free(c);
}

/* The slot holding key, or the empty slot where it would go. */
static struct entry *find(struct cache *c, const char *key)
{
	size_t i = (size_t)(str_hash(key) % c->slots);
	while (c->e[i].key && strcmp(c->e[i].key, key) != 0)
		i = (i + 1) % c->slots;
	return &c->e[i];
}

const char *cache_get(struct cache *c, const char *key)
{
	struct entry *e = find(c, key);
	if (!e->key || e->expires < now())
		return NULL;
	return e->value;
}

void cache_put(struct cache *c, const char *key, const char *value, double ttl_seconds)
{
	struct entry *e = find(c, key);
	if (!e->key) {
		/* Open addressing needs free slots: empty the table at 3/4 full. */
		if ((c->used + 1) * 4 > c->slots * 3) {
			cache_clear(c);
			e = find(c, key);
		}
		e->key = strdup(key);
		c->used++;
	} else {
		free(e->value);
	}
	e->value = strdup(value);
	if (!e->key || !e->value)
		abort();
	e->expires = now() + ttl_seconds;
}

void cache_del(struct cache *c, const char *key)
{
	struct entry *e = find(c, key);
	if (!e->key)
		return;
	/* Deleting from open addressing would break probe chains: expire it. */
	e->expires = 0;
}
