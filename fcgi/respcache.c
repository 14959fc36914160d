#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"
#include "respcache.h"
#include "str.h"
#include "banned.h"

/* One allocation per entry: this header, then the header array, the key,
 * the content type, the header strings and the body. */
struct entry {
	struct entry *chain;       /* next in the hash bucket */
	struct entry *prev, *next; /* recency list: head is the most recent */
	uint64_t hash;
	struct gen_stamp stamp;
	size_t size; /* bytes charged against the bound */
	const char *key;
	struct resp_view view; /* points into this block */
};

struct respcache {
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count, bytes, max_bytes;
	struct entry *head, *tail;
	struct gen_stamp stamp; /* every entry's stamp (all are equal) */
	bool have_stamp;
};

static struct entry **buckets_new(size_t n)
{
	struct entry **b = calloc(n, sizeof *b);
	if (!b)
		abort();
	return b;
}

struct respcache *respcache_new(size_t max_bytes)
{
	struct respcache *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->max_bytes = max_bytes;
	c->nbuckets = 64;
	c->buckets = buckets_new(c->nbuckets);
	return c;
}

void respcache_clear(struct respcache *c)
{
	struct entry *e = c->head;
	while (e) {
		struct entry *next = e->next;
		free(e);
		e = next;
	}
	memset(c->buckets, 0, c->nbuckets * sizeof *c->buckets);
	c->head = c->tail = NULL;
	c->count = c->bytes = 0;
}

void respcache_free(struct respcache *c)
{
	if (!c)
		return;
	respcache_clear(c);
	free(c->buckets);
	free(c);
}

size_t respcache_count(const struct respcache *c)
{
	return c->count;
}

size_t respcache_bytes(const struct respcache *c)
{
	return c->bytes;
}

static void list_unlink(struct respcache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_push_front(struct respcache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static struct entry **slot_of(struct respcache *c, const char *key, uint64_t h)
{
	struct entry **p = &c->buckets[h & (c->nbuckets - 1)];
	while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
		p = &(*p)->chain;
	return p;
}

static void remove_entry(struct respcache *c, struct entry *e)
{
	struct entry **p = slot_of(c, e->key, e->hash);
	if (*p == e)
		*p = e->chain;
	list_unlink(c, e);
	c->count--;
	c->bytes -= e->size;
	free(e);
}

/* A stamp other than the entries' means the data changed: none is valid. */
static void sync_stamp(struct respcache *c, const struct gen_stamp *now)
{
	if (c->have_stamp && gen_stamp_eq(&c->stamp, now))
		return;
	respcache_clear(c);
	c->stamp = *now;
	c->have_stamp = true;
}

bool respcache_get(struct respcache *c, const char *key, const struct gen_stamp *now,
		   struct resp_view *out)
{
	sync_stamp(c, now);
	uint64_t h = str_hash(key);
	struct entry *e = *slot_of(c, key, h);
	if (!e)
		return false;
	if (!gen_stamp_eq(&e->stamp, now)) {
		remove_entry(c, e);
		return false;
	}
	list_unlink(c, e);
	list_push_front(c, e);
	*out = e->view;
	return true;
}

static void grow(struct respcache *c)
{
	size_t n = c->nbuckets * 2;
	struct entry **b = buckets_new(n);
	for (struct entry *e = c->head; e; e = e->next) {
		struct entry **p = &b[e->hash & (n - 1)];
		e->chain = *p;
		*p = e;
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static char *put_str(char **cursor, const char *s, size_t len)
{
	char *dst = *cursor;
	memcpy(dst, s, len);
	dst[len] = '\0';
	*cursor += len + 1;
	return dst;
}

void respcache_put(struct respcache *c, const char *key, const struct gen_stamp *stamp,
		   const struct resp_view *resp)
{
	sync_stamp(c, stamp);
	uint64_t h = str_hash(key);
	struct entry *old = *slot_of(c, key, h);
	if (old)
		remove_entry(c, old);

	size_t key_len = strlen(key);
	size_t ct_len = resp->content_type ? strlen(resp->content_type) : 0;
	size_t size = sizeof(struct entry) + resp->nheaders * sizeof(struct kv) + key_len + 1 +
		      ct_len + 1 + resp->body_len + 1;
	for (size_t i = 0; i < resp->nheaders; i++)
		size += strlen(resp->headers[i].key) + strlen(resp->headers[i].value) + 2;
	size += sizeof(struct entry *); /* its share of the buckets */
	if (size > c->max_bytes / 8)
		return;
	while (c->tail && c->bytes + size > c->max_bytes)
		remove_entry(c, c->tail);

	struct entry *e = malloc(size);
	if (!e)
		abort();
	memset(e, 0, sizeof *e);
	struct kv *kv = (struct kv *)(e + 1);
	char *cursor = (char *)(kv + resp->nheaders);
	e->hash = h;
	e->stamp = *stamp;
	e->size = size;
	e->key = put_str(&cursor, key, key_len);
	e->view.content_type =
		resp->content_type ? put_str(&cursor, resp->content_type, ct_len) : NULL;
	for (size_t i = 0; i < resp->nheaders; i++) {
		const struct kv *src = &resp->headers[i];
		kv[i].key = put_str(&cursor, src->key, strlen(src->key));
		kv[i].value = put_str(&cursor, src->value, strlen(src->value));
	}
	e->view.headers = kv;
	e->view.nheaders = resp->nheaders;
	e->view.body = put_str(&cursor, resp->body ? resp->body : "", resp->body_len);
	e->view.body_len = resp->body_len;

	if (c->count + 1 > c->nbuckets)
		grow(c);
	struct entry **p = &c->buckets[h & (c->nbuckets - 1)];
	e->chain = *p;
	*p = e;
	list_push_front(c, e);
	c->count++;
	c->bytes += size;
}
