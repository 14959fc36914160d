/* libFuzzer driver: the request line as the API core reads it, through the
 * query-string decoder (fcgi/serve.c, included for its static parse_query),
 * the router with the API's route table (fcgi/router.c, handlers/routes.c)
 * and the id validators the handlers apply to what the router captured
 * (fcgi/ids.c). The input is "METHOD URI", as in the corpus
 * tests/data/fuzz/router/ (one trailing newline is ignored).
 *
 * Invariants: decoded query parameters and path captures are UTF-8 without
 * NUL; a found route has the request's method and one capture per %d / %s,
 * integers in 0..INT_MAX; a 405 lists methods; each validator agrees with
 * its contract in fcgi/ids.h, written out again here. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "../../fcgi/serve.c"
#include "ids.h"
#include "api/routes.h"
#include "fuzz.h"
#include "../unit/fake_req.h"

/* fcgi/ids.h's contracts, independently. */
static bool asset_id_contract(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 200 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-()") ==
		       n &&
	       !strstr(s, "..") && strcmp(s, ".") != 0;
}

static bool customer_name_contract(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 60 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static bool uuid_contract(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	}
	return true;
}

static void check_ids(struct arena *a, const char *s)
{
	FUZZ_ASSERT(asset_id_valid(s) == asset_id_contract(s));
	FUZZ_ASSERT(customer_name_valid(s) == customer_name_contract(s));
	FUZZ_ASSERT(uuid_valid(s) == uuid_contract(s));
	char *canon = uuid_canonical(a, s);
	FUZZ_ASSERT((canon != NULL) == uuid_valid(s));
	if (canon) {
		FUZZ_ASSERT(uuid_valid(canon) && strcasecmp(canon, s) == 0);
		FUZZ_ASSERT(strspn(canon, "0123456789abcdef-") == 36);
	}
}

static void count_captures(const char *pattern, size_t *ints, size_t *strs)
{
	*ints = *strs = 0;
	for (const char *p = pattern; (p = strchr(p, '%')); p++) {
		if (p[1] == 'd')
			(*ints)++;
		else if (p[1] == 's')
			(*strs)++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	/* FastCGI parameters are C strings: no NUL reaches the core. */
	if (memchr(data, '\0', size))
		return 0;
	char *line = arena_strndup(a, (const char *)data, size);
	size_t len = size;
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	char *sp = strchr(line, ' ');
	if (!sp)
		return 0;
	*sp = '\0';
	const char *uri = sp + 1;

	/* As app_handle splits REQUEST_URI. */
	struct req rq;
	const char *qmark = strchr(uri, '?');
	const char *path = qmark ? arena_strndup(a, uri, (size_t)(qmark - uri)) : uri;
	fake_req(&rq, a, NULL, http_method_parse(line), path, NULL);
	rq.uri = uri;
	rq.query = qmark ? qmark + 1 : "";

	const char *qerr = parse_query(&rq);
	if (!qerr) {
		for (size_t i = 0; i < rq.nquery_params; i++) {
			const struct kv *p = &rq.query_params[i];
			FUZZ_ASSERT(p->key && p->value);
			FUZZ_ASSERT(utf8_valid(p->key, strlen(p->key)));
			FUZZ_ASSERT(utf8_valid(p->value, strlen(p->value)));
			FUZZ_ASSERT(req_query(&rq, p->key) != NULL);
		}
	}
	if (rq.method == METHOD__MAX || path[0] != '/')
		return 0;

	const struct route *found = NULL;
	const char *allow = NULL;
	enum route_result rr = router_match(api_routes, api_routes_count, &rq, &found, &allow);
	switch (rr) {
	case ROUTE_FOUND: {
		enum http_method want = rq.method == M_HEAD ? M_GET : rq.method;
		FUZZ_ASSERT(found && found->method == want);
		size_t ni, ns;
		count_captures(found->pattern, &ni, &ns);
		FUZZ_ASSERT(rq.nints == ni && rq.nstrs == ns);
		for (size_t i = 0; i < rq.nints; i++)
			FUZZ_ASSERT(rq.ints[i] >= 0 && rq.ints[i] <= INT_MAX);
		for (size_t i = 0; i < rq.nstrs; i++) {
			const char *s = rq.strs[i];
			FUZZ_ASSERT(s && *s && utf8_valid(s, strlen(s)));
			check_ids(a, s);
		}
		break;
	}
	case ROUTE_BAD_METHOD:
		FUZZ_ASSERT(allow && *allow);
		FUZZ_ASSERT(strspn(allow, "ABCDEFGHIJKLMNOPQRSTUVWXYZ, ") == strlen(allow));
		break;
	default:
		break;
	}
	/* Whatever the route, the last segment goes through the validators
	 * (a handler of any %s route may be handed it). */
	const char *last = strrchr(path, '/');
	char *seg = last ? url_decode(a, last + 1, strlen(last + 1), false) : NULL;
	if (seg)
		check_ids(a, seg);
	return 0;
}
