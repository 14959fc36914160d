/* The open/restricted rule of assets (handlers/asset/access.c), which
 * delivery and the public links both follow: roles null, "", [] and
 * ["x"] against maxUnauthorised -1, 0 and N, what fails closed, and the
 * sizes a restricted asset opens. */
#include <stdbool.h>

#include "arena.h"
#include "asset/access.h"
#include "check.h"

static struct arena *A;

/* Each stored roles text: does it hold no role? */
static void test_roles(void)
{
	/* none */
	CHECK(asset_roles_empty(A, NULL));
	CHECK(asset_roles_empty(A, "")); /* Protagonist's roles "" */
	CHECK(asset_roles_empty(A, "[]"));
	CHECK(asset_roles_empty(A, " [ ] "));
	/* some */
	CHECK(!asset_roles_empty(A, "[\"x\"]"));
	CHECK(!asset_roles_empty(A,
				 "[\"https://api.example.org/customers/2/roles/clickthrough\"]"));
	CHECK(!asset_roles_empty(A, "[\"\"]")); /* an empty role is still a role */
	CHECK(!asset_roles_empty(A, "[\"a\",\"b\"]"));
	/* unreadable or not an array: restricted, never opened by accident */
	CHECK(!asset_roles_empty(A, "x"));
	CHECK(!asset_roles_empty(A, "["));
	CHECK(!asset_roles_empty(A, "[]x"));
	CHECK(!asset_roles_empty(A, "{}"));
	CHECK(!asset_roles_empty(A, "null"));
	CHECK(!asset_roles_empty(A, "\"\""));
	CHECK(!asset_roles_empty(A, "0"));
	CHECK(!asset_roles_empty(A, " "));
	CHECK(!asset_roles_empty(A, "[\"\xff\"]")); /* not UTF-8 */
}

/* roles null/""/[]/["x"] × maxUnauthorised -1/0/N. */
static void test_open(void)
{
	const char *none[] = {NULL, "", "[]"};
	for (int i = 0; i < 3; i++) {
		CHECK(asset_is_open(A, none[i], -1));
		CHECK(!asset_is_open(A, none[i], 0));
		CHECK(!asset_is_open(A, none[i], 400));
		CHECK(!asset_is_open(A, none[i], 2147483647));
	}
	CHECK(!asset_is_open(A, "[\"x\"]", -1));
	CHECK(!asset_is_open(A, "[\"x\"]", 0));
	CHECK(!asset_is_open(A, "[\"x\"]", 400));
	CHECK(!asset_is_open(A, "not json", -1));
	/* below -1 (never accepted on input): still "no limit", as >= 0 restricts */
	CHECK(asset_is_open(A, "[]", -2));
}

/* Which whole-image sizes go to anyone. */
static void test_sizes(void)
{
	/* an open asset: every size, and what has none */
	CHECK(asset_size_is_open(true, -1, 1000, 700));
	CHECK(asset_size_is_open(true, -1, 0, 0));
	/* maxUnauthorised 0: nothing */
	CHECK(!asset_size_is_open(false, 0, 1, 1));
	CHECK(!asset_size_is_open(false, 0, 100, 100));
	CHECK(!asset_size_is_open(false, 0, 0, 0));
	/* N: up to N on the longest edge, either orientation */
	CHECK(asset_size_is_open(false, 400, 400, 280));
	CHECK(asset_size_is_open(false, 400, 280, 400));
	CHECK(asset_size_is_open(false, 400, 100, 100));
	CHECK(!asset_size_is_open(false, 400, 401, 280));
	CHECK(!asset_size_is_open(false, 400, 280, 401));
	/* the whole service or the original: never, whatever N */
	CHECK(!asset_size_is_open(false, 400, 0, 0));
	CHECK(!asset_size_is_open(false, 400, -1, 100));
	CHECK(!asset_size_is_open(false, 400, 100, 0));
	/* roles with maxUnauthorised -1: restricted, nothing opens */
	CHECK(!asset_size_is_open(false, -1, 1, 1));
	CHECK(!asset_size_is_open(false, -1, 0, 0));
}

int main(void)
{
	A = arena_new(4096);
	test_roles();
	test_open();
	test_sizes();
	arena_free(A);
	return check_done();
}
