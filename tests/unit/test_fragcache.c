/* The fragment cache (fcgi/fragcache.c): a fragment is found only under its
 * key and the very stamp it was stored with, a new stamp replaces it, the
 * memory stays within its bound, and keys that share a set push out the
 * least recently used. */
#include <stdio.h>
#include <string.h>

#include "fragcache.h"
#include "str.h"
#include "check.h"

#define S(x) x, strlen(x)

int main(void)
{
	struct fragcache *c = fragcache_new(1 << 20);
	size_t len = 0;
	CHECK(fragcache_get(c, S("a"), S("1"), &len) == NULL);
	fragcache_put(c, S("a"), S("1"), S("text of a"));
	const char *t = fragcache_get(c, S("a"), S("1"), &len);
	CHECK(t && len == 9 && memcmp(t, "text of a", 9) == 0);
	/* another stamp (the row changed): not found, and a put replaces */
	CHECK(fragcache_get(c, S("a"), S("2"), &len) == NULL);
	CHECK(fragcache_get(c, S("a"), S("11"), &len) == NULL);
	CHECK(fragcache_get(c, S("a"), S(""), &len) == NULL);
	fragcache_put(c, S("a"), S("2"), S("new"));
	CHECK(fragcache_get(c, S("a"), S("1"), &len) == NULL);
	t = fragcache_get(c, S("a"), S("2"), &len);
	CHECK(t && len == 3 && memcmp(t, "new", 3) == 0);
	CHECK(fragcache_count(c) == 1);
	/* a key that is a prefix of another is another key */
	CHECK(fragcache_get(c, S("ab"), S("2"), &len) == NULL);
	/* bytes with NULs inside keys, stamps and text are kept exactly */
	fragcache_put(c, "k\0x", 3, "s\0y", 3, "t\0z", 3);
	t = fragcache_get(c, "k\0x", 3, "s\0y", 3, &len);
	CHECK(t && len == 3 && memcmp(t, "t\0z", 3) == 0);
	CHECK(fragcache_get(c, "k\0y", 3, "s\0y", 3, &len) == NULL);
	/* too large for the cache (over a 64th): not kept */
	static char big[20000];
	memset(big, 'x', sizeof big);
	fragcache_put(c, S("big"), S("1"), big, sizeof big);
	CHECK(fragcache_get(c, S("big"), S("1"), &len) == NULL);
	/* bounded: 10,000 fragments of 1 KB in 1 MB keep under 1 MB, and the
	 * most recent ones are there */
	char key[32];
	static char kb[1024];
	memset(kb, 'v', sizeof kb);
	for (int i = 0; i < 10000; i++) {
		xsnprintf(key, sizeof key, "k%d", i);
		fragcache_put(c, S(key), S("s"), kb, sizeof kb);
	}
	CHECK(fragcache_bytes(c) <= (1 << 20));
	CHECK(fragcache_count(c) > 0 && fragcache_count(c) < 1024);
	fragcache_free(c);
	/* a roomy cache keeps 2,000 fragments (a 1,000-canvas manifest in two
	 * versions) nearly all */
	c = fragcache_new(64u << 20);
	for (int i = 0; i < 2000; i++) {
		xsnprintf(key, sizeof key, "manifest-canvas/%d/7/1/a%d", 2 + i % 2, i / 2);
		fragcache_put(c, S(key), S("s"), kb, sizeof kb);
	}
	int found = 0;
	for (int i = 0; i < 2000; i++) {
		xsnprintf(key, sizeof key, "manifest-canvas/%d/7/1/a%d", 2 + i % 2, i / 2);
		found += fragcache_get(c, S(key), S("s"), &len) != NULL;
	}
	CHECK(found >= 1990);
	fragcache_free(c);
	return check_done();
}
