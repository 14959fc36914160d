#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "str.h"
#include "check.h"

int main(void)
{
	struct cache *c = cache_new(16);
	CHECK(cache_get(c, "a") == NULL);
	cache_put(c, "a", "1", 60);
	CHECK_STR(cache_get(c, "a"), "1");
	cache_put(c, "a", "2", 60);
	CHECK_STR(cache_get(c, "a"), "2");
	cache_del(c, "a");
	CHECK(cache_get(c, "a") == NULL);

	/* Expiry. */
	cache_put(c, "short", "x", 0.05);
	CHECK_STR(cache_get(c, "short"), "x");
	struct timespec ts = {0, 80 * 1000000L};
	nanosleep(&ts, NULL);
	CHECK(cache_get(c, "short") == NULL);

	/* Bounded: filling past 3/4 empties it instead of growing or looping. */
	char key[32];
	for (int i = 0; i < 100; i++) {
		xsnprintf(key, sizeof key, "k%d", i);
		cache_put(c, key, "v", 60);
		CHECK_STR(cache_get(c, key), "v");
	}
	cache_clear(c);
	CHECK(cache_get(c, "k99") == NULL);
	cache_free(c);
	return check_done();
}
