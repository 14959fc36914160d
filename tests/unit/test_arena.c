#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "str.h"
#include "check.h"

static int cleanup_order[4], ncleanup;
static void note(void *p)
{
	cleanup_order[ncleanup++] = (int)(intptr_t)p;
}

int main(void)
{
	struct arena *a = arena_new(1024);

	/* Allocations are zeroed, aligned and distinct. */
	char *p = arena_alloc(a, 10), *q = arena_alloc(a, 10);
	CHECK(p != q);
	CHECK(((uintptr_t)p % 16) == 0 && ((uintptr_t)q % 16) == 0);
	CHECK(p[0] == 0 && p[9] == 0);

	/* Larger than a block: a new block is chained. */
	char *big = arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	CHECK(big[99999] == 'x');

	CHECK_STR(arena_printf(a, "%s-%d", "a", 42), "a-42");
	/* arena_vprintf (under arena_printf) measures, then formats a copy of
	 * the arguments: a result far past any fixed buffer comes out whole */
	char *wide = arena_alloc(a, 100001);
	memset(wide, 'x', 100000);
	const char *twice = arena_printf(a, "%s|%s|%d", wide, wide, 7);
	CHECK(strlen(twice) == 200003 && twice[100000] == '|' && strcmp(twice + 200001, "|7") == 0);
	CHECK_STR(arena_strndup(a, "hello", 3), "hel");
	CHECK(arena_strdup(a, NULL) == NULL);

	/* realloc keeps contents. */
	char *r = arena_alloc(a, 4);
	memcpy(r, "abc", 4);
	r = arena_realloc(a, r, 4, 4000);
	CHECK_STR(r, "abc");

	/* Cleanups run once, last registered first, on reset. */
	arena_cleanup(a, note, (void *)1);
	arena_cleanup(a, note, (void *)2);
	arena_reset(a);
	CHECK(ncleanup == 2 && cleanup_order[0] == 2 && cleanup_order[1] == 1);
	CHECK(arena_used(a) == 0);
	arena_reset(a);
	CHECK(ncleanup == 2);

	/* sbuf grows. */
	struct sbuf b;
	sbuf_init(&b, a);
	for (int i = 0; i < 1000; i++)
		sbuf_printf(&b, "%d,", i % 10);
	CHECK(b.len == 2000);
	CHECK(strncmp(b.buf, "0,1,2,", 6) == 0);

	/* url helpers. */
	CHECK_STR(url_decode(a, "a%20b+c", 7, true), "a b c");
	CHECK_STR(url_decode(a, "a%2Fb", 5, false), "a/b");
	CHECK(url_decode(a, "a%2", 3, false) == NULL);
	CHECK(url_decode(a, "a%zz", 4, false) == NULL);
	CHECK(url_decode(a, "%00", 3, false) == NULL);
	CHECK_STR(url_encode(a, "{\"a\":1} &"), "%7B%22a%22%3A1%7D%20%26");

	long long v;
	CHECK(str_to_ll("123", 0, 1000, &v) && v == 123);
	CHECK(!str_to_ll("12a", 0, 1000, &v));
	CHECK(!str_to_ll("", 0, 1000, &v));
	CHECK(!str_to_ll("2000", 0, 1000, &v));
	CHECK(str_to_ll("-1", -1, 1000, &v) && v == -1);
	CHECK(!str_to_ll("99999999999999999999999", 0, 1LL << 62, &v));

	arena_free(a);
	return check_done();
}
