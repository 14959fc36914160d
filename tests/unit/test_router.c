#include <string.h>

#include "arena.h"
#include "router.h"
#include "check.h"
#include "fake_req.h"

static int h_a(struct req *rq)
{
	(void)rq;
	return 1;
}
static int h_b(struct req *rq)
{
	(void)rq;
	return 2;
}

static const struct route table[] = {
	{M_GET, "/", h_a, R_ANON, 0},
	{M_GET, "/customers/%d", h_a, 0, 0},
	{M_PATCH, "/customers/%d", h_b, 0, 0},
	{M_GET, "/customers/%d/spaces/%d/images/%s", h_a, 0, 0},
	{M_PUT, "/customers/%d/spaces/%d/images/%s", h_b, 0, 0},
	{M_DELETE, "/customers/%d/spaces/%d/images/%s", h_b, 0, 0},
	{M_GET, "/customers/%d/deliveryChannelPolicies/%s/%s", h_a, 0, 0},
	{M_GET, "/iiif-resource/v2/%s/%s/%*", h_b, R_ANON, 0},
	{M_GET, "/iiif-resource/%s/%s/%*", h_a, R_ANON, 0},
	{M_GET, "/v2/%s", h_b, R_ANON, 2},
};
#define N (sizeof table / sizeof table[0])

static enum route_result run(struct arena *a, enum http_method m, const char *path,
			     const struct route **found, const char **allow, struct req *rq)
{
	fake_req(rq, a, NULL, m, path, NULL);
	*found = NULL;
	*allow = NULL;
	return router_match(table, N, rq, found, allow);
}

int main(void)
{
	struct arena *a = arena_new(4096);
	struct req rq;
	const struct route *f;
	const char *allow;

	CHECK(run(a, M_GET, "/", &f, &allow, &rq) == ROUTE_FOUND && f == &table[0]);
	CHECK(run(a, M_GET, "/customers/12", &f, &allow, &rq) == ROUTE_FOUND && f == &table[1]);
	CHECK(rq.nints == 1 && rq.ints[0] == 12);
	CHECK(rq.route_arg == 0);
	/* A row's arg reaches the handler with the captures. */
	CHECK(run(a, M_GET, "/v2/x", &f, &allow, &rq) == ROUTE_FOUND && f == &table[N - 1]);
	CHECK(rq.route_arg == 2 && rq.nstrs == 1);
	CHECK_STR(rq.strs[0], "x");
	CHECK(run(a, M_GET, "/customers/12/", &f, &allow, &rq) == ROUTE_FOUND);
	CHECK(run(a, M_PATCH, "/customers/3", &f, &allow, &rq) == ROUTE_FOUND && f == &table[2]);
	CHECK(run(a, M_HEAD, "/customers/3", &f, &allow, &rq) == ROUTE_FOUND && f == &table[1]);

	/* Non-decimal segments do not match; numbers that cannot be ids (0,
	 * negative, past INT_MAX) are the client's error, naming the segment. */
	CHECK(run(a, M_GET, "/customers/abc", &f, &allow, &rq) == ROUTE_NOT_FOUND);
	CHECK(run(a, M_GET, "/customers/-1", &f, &allow, &rq) == ROUTE_BAD_ID);
	CHECK_STR(allow, "-1");
	CHECK(run(a, M_GET, "/customers/0", &f, &allow, &rq) == ROUTE_BAD_ID);
	CHECK_STR(allow, "0");
	CHECK(run(a, M_GET, "/customers/000", &f, &allow, &rq) == ROUTE_BAD_ID);
	CHECK(run(a, M_GET, "/customers/2147483648", &f, &allow, &rq) == ROUTE_BAD_ID);
	CHECK(run(a, M_GET, "/customers/99999999999", &f, &allow, &rq) == ROUTE_BAD_ID);
	CHECK(run(a, M_GET, "/customers/99999999999999999999999", &f, &allow, &rq) ==
	      ROUTE_NOT_FOUND);
	CHECK(run(a, M_GET, "/customers/2147483647", &f, &allow, &rq) == ROUTE_FOUND);
	CHECK(rq.ints[0] == 2147483647);
	CHECK(run(a, M_GET, "/customers/1/spaces/0/images/x", &f, &allow, &rq) == ROUTE_BAD_ID);
	CHECK_STR(allow, "0");
	CHECK(run(a, M_GET, "/customers/-", &f, &allow, &rq) == ROUTE_NOT_FOUND);
	CHECK(run(a, M_GET, "/customers/1x", &f, &allow, &rq) == ROUTE_NOT_FOUND);
	CHECK(run(a, M_GET, "/nothing", &f, &allow, &rq) == ROUTE_NOT_FOUND);
	CHECK(run(a, M_GET, "/customers//1", &f, &allow, &rq) == ROUTE_NOT_FOUND);

	/* Wrong method: 405 with the path's methods. */
	CHECK(run(a, M_POST, "/customers/3", &f, &allow, &rq) == ROUTE_BAD_METHOD);
	CHECK_STR(allow, "GET, HEAD, PATCH");
	CHECK(run(a, M_POST, "/customers/1/spaces/2/images/x", &f, &allow, &rq) ==
	      ROUTE_BAD_METHOD);
	CHECK_STR(allow, "GET, HEAD, PUT, DELETE");

	/* String captures are percent-decoded; validation is the handler's job. */
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/a%2Fb", &f, &allow, &rq) == ROUTE_FOUND);
	CHECK(rq.nstrs == 1);
	CHECK_STR(rq.strs[0], "a/b");
	CHECK(rq.ints[0] == 1 && rq.ints[1] == 2);
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/a%20b", &f, &allow, &rq) == ROUTE_FOUND);
	CHECK_STR(rq.strs[0], "a b");
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/..", &f, &allow, &rq) == ROUTE_FOUND);
	CHECK_STR(rq.strs[0], "..");
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/a%zz", &f, &allow, &rq) ==
	      ROUTE_BAD_PATH);
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/a%00", &f, &allow, &rq) ==
	      ROUTE_BAD_PATH);
	CHECK(run(a, M_GET, "/customers/1/deliveryChannelPolicies/thumbs/x", &f, &allow, &rq) ==
	      ROUTE_FOUND);
	CHECK_STR(rq.strs[0], "thumbs");
	CHECK_STR(rq.strs[1], "x");

	/* Segments must be UTF-8 once decoded (they reach SQL and JSON as
	 * text): overlong forms, surrogates and raw bytes are the client's error. */
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/%C3%A9t%C3%A9", &f, &allow, &rq) ==
	      ROUTE_FOUND);
	CHECK_STR(rq.strs[0], "\xc3\xa9t\xc3\xa9");
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/%C0%AF", &f, &allow, &rq) ==
	      ROUTE_BAD_PATH);
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/a%ED%A0%80", &f, &allow, &rq) ==
	      ROUTE_BAD_PATH);
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/%F4%90%80%80", &f, &allow, &rq) ==
	      ROUTE_BAD_PATH);
	CHECK(run(a, M_GET, "/customers/1/spaces/2/images/\xc0\xaf", &f, &allow, &rq) ==
	      ROUTE_BAD_PATH);
	CHECK(run(a, M_GET, "/nothing/%E2%82", &f, &allow, &rq) == ROUTE_BAD_PATH);

	/* A trailing %* takes the rest, none included, each segment decoded
	 * (an encoded slash stays inside its segment); the first row that
	 * matches wins, so a literal row before a capture takes precedence. */
	CHECK(run(a, M_GET, "/iiif-resource/2/nq", &f, &allow, &rq) == ROUTE_FOUND &&
	      f == &table[8]);
	CHECK(rq.nstrs == 2 && rq.nrest == 0 && rq.rest == NULL);
	CHECK(run(a, M_GET, "/iiif-resource/2/nq/a%2Fb/%C3%A9/x", &f, &allow, &rq) == ROUTE_FOUND);
	CHECK(rq.nrest == 3);
	CHECK_STR(rq.rest[0], "a/b");
	CHECK_STR(rq.rest[1], "\xc3\xa9");
	CHECK_STR(rq.rest[2], "x");
	CHECK(run(a, M_GET, "/iiif-resource/v2/2/nq/5", &f, &allow, &rq) == ROUTE_FOUND &&
	      f == &table[7]);
	CHECK_STR(rq.strs[0], "2");
	CHECK(rq.nrest == 1);
	CHECK_STR(rq.rest[0], "5");
	CHECK(run(a, M_GET, "/iiif-resource/2", &f, &allow, &rq) == ROUTE_NOT_FOUND);
	CHECK(run(a, M_GET, "/iiif-resource/2/nq/a%zz", &f, &allow, &rq) == ROUTE_BAD_PATH);
	CHECK(run(a, M_GET, "/iiif-resource/2/nq/a//b", &f, &allow, &rq) == ROUTE_NOT_FOUND);
	CHECK(run(a, M_POST, "/iiif-resource/2/nq/a", &f, &allow, &rq) == ROUTE_BAD_METHOD);

	/* Too many segments never match (and never overflow). */
	CHECK(run(a, M_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", &f, &allow, &rq) ==
	      ROUTE_NOT_FOUND);

	arena_free(a);
	return check_done();
}
