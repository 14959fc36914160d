/* The response cache (fcgi/respcache.c) alone, then through the request
 * core (fcgi/serve.c, included for app_handle's collaborators): what the key
 * holds, that authentication and authorisation come first, what is stored,
 * Cache-Control, and invalidation by the data generation. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/serve.c"
#include "config.h"
#include "generation.h"
#include "respcache.h"
#include "check.h"
#include "fake_req.h"

/* ---- the cache alone ------------------------------------------------- */

static struct resp_view view(const char *body)
{
	struct resp_view v = {
		.content_type = "application/ld+json", .body = body, .body_len = strlen(body)};
	return v;
}

static bool get_body(struct respcache *c, const char *key, const struct gen_stamp *s,
		     const char *want)
{
	struct resp_view v;
	return respcache_get(c, key, s, &v) && v.body_len == strlen(want) &&
	       memcmp(v.body, want, v.body_len) == 0 && v.body[v.body_len] == '\0';
}

static void test_cache_alone(void)
{
	struct gen_stamp g1 = {1, 10}, g2 = {1, 11}, other_map = {2, 10};
	struct respcache *c = respcache_new(64 * 1024);
	struct resp_view v;
	CHECK(!respcache_get(c, "a", &g1, &v));

	struct kv hdrs[] = {{"Link", "<x>; rel=\"next\""}, {"ETag", "\"abc\""}};
	struct resp_view in = view("{\"a\":1}");
	in.headers = hdrs;
	in.nheaders = 2;
	respcache_put(c, "a", &g1, &in);
	CHECK(respcache_get(c, "a", &g1, &v));
	CHECK_STR(v.content_type, "application/ld+json");
	CHECK(v.nheaders == 2);
	CHECK_STR(v.headers[0].key, "Link");
	CHECK_STR(v.headers[0].value, "<x>; rel=\"next\"");
	CHECK_STR(v.headers[1].key, "ETag");
	CHECK(get_body(c, "a", &g1, "{\"a\":1}"));
	CHECK(!respcache_get(c, "b", &g1, &v));

	/* Replacing a key keeps one entry. */
	in = view("{\"a\":2}");
	in.content_type = NULL;
	respcache_put(c, "a", &g1, &in);
	CHECK(respcache_count(c) == 1);
	CHECK(respcache_get(c, "a", &g1, &v) && v.content_type == NULL && v.nheaders == 0);
	CHECK(get_body(c, "a", &g1, "{\"a\":2}"));

	/* Another generation (or another mapping of the file): nothing is valid,
	 * and everything is freed at once. */
	in = view("b");
	respcache_put(c, "b", &g1, &in);
	CHECK(respcache_count(c) == 2);
	CHECK(!respcache_get(c, "a", &g2, &v));
	CHECK(respcache_count(c) == 0 && respcache_bytes(c) == 0);
	respcache_put(c, "a", &g2, &in);
	CHECK(!respcache_get(c, "a", &other_map, &v));
	CHECK(!respcache_get(c, "a", &g2, &v));

	/* Bounded in bytes, least recently used out first. */
	char body[4000], key[32];
	memset(body, 'x', sizeof body - 1);
	body[sizeof body - 1] = '\0';
	in = view(body);
	for (int i = 0; i < 20; i++) { /* about 15 fit */
		xsnprintf(key, sizeof key, "k%d", i);
		respcache_put(c, key, &g2, &in);
		CHECK(respcache_bytes(c) <= 64 * 1024);
		if (i == 5)
			CHECK(get_body(c, "k0", &g2, body)); /* k0 is now recent */
	}
	CHECK(get_body(c, "k19", &g2, body));
	CHECK(get_body(c, "k0", &g2, body));
	CHECK(!respcache_get(c, "k1", &g2, &v)); /* the least recently used went first */
	for (int i = 0; i < 100; i++) {
		xsnprintf(key, sizeof key, "k%d", 100 + i);
		respcache_put(c, key, &g2, &in);
	}
	CHECK(respcache_bytes(c) <= 64 * 1024);
	CHECK(respcache_count(c) >= 10 && respcache_count(c) <= 16);
	CHECK(get_body(c, "k199", &g2, body));

	/* A response above an eighth of the bound is not kept. */
	char *big = malloc(9000);
	memset(big, 'y', 8999);
	big[8999] = '\0';
	in = view(big);
	respcache_put(c, "big", &g2, &in);
	CHECK(!respcache_get(c, "big", &g2, &v));
	free(big);
	respcache_free(c);

	/* Many small entries: the table grows and finds them all. */
	c = respcache_new(16 * 1024 * 1024);
	in = view("v");
	for (int i = 0; i < 5000; i++) {
		xsnprintf(key, sizeof key, "key-%d", i);
		respcache_put(c, key, &g1, &in);
	}
	CHECK(respcache_count(c) == 5000);
	int found = 0;
	for (int i = 0; i < 5000; i++) {
		xsnprintf(key, sizeof key, "key-%d", i);
		found += get_body(c, key, &g1, "v");
	}
	CHECK(found == 5000);
	respcache_free(c);
}

/* ---- through the core ------------------------------------------------- */

static int handler_runs;
static int handler_status = 200;

/* Answers with the link it builds from the base URL and the query. */
static int h_thing(struct req *rq)
{
	handler_runs++;
	if (handler_status != 200)
		return req_fail(rq, handler_status, "no");
	req_header(rq, "Link", "<http://example.org/>; rel=\"describedby\"");
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kstr(w, "@id", req_url(rq, "/customers/%lld/things/%s", rq->ints[0], rq->strs[0]));
	jw_kstr(w, "q", rq->query);
	jw_kint(w, "run", handler_runs);
	jw_obj_end(w);
	return 200;
}

static int h_uncached(struct req *rq)
{
	handler_runs++;
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kint(w, "run", handler_runs);
	jw_obj_end(w);
	return 200;
}

/* R_ANON keeps the core from asking the (absent) database server before the
 * route; R_AUTH_OPT authenticates whenever credentials come. */
#define OPEN (R_ANON | R_AUTH_OPT | R_CUSTOMER)
static const struct route routes[] = {
	{M_GET, "/customers/%d/things/%s", h_thing, OPEN | R_CACHE, 0},
	{M_GET, "/customers/%d/other/%s", h_uncached, OPEN, 0},
	{M_PUT, "/customers/%d/things/%s", h_thing, OPEN | R_CACHE, 0},
};

static int fake_auth(struct req *rq, const char *key, const char *secret)
{
	(void)secret;
	if (strcmp(key, "admin") == 0) {
		rq->caller_customer = 1;
		rq->caller_admin = true;
	} else if (key[0] == 'c' && (key[1] == '2' || key[1] == '3') && !key[2]) {
		rq->caller_customer = key[1] - '0';
	} else {
		return 401;
	}
	return 0;
}

struct out {
	struct sbuf text;
};

static void capture(void *ctx, const char *data, size_t len)
{
	struct out *o = ctx;
	sbuf_add(&o->text, data, len);
}

#define C2    "HTTP_AUTHORIZATION=Basic YzI6eA=="     /* c2:x */
#define C3    "HTTP_AUTHORIZATION=Basic YzM6eA=="     /* c3:x */
#define ADMIN "HTTP_AUTHORIZATION=Basic YWRtaW46eA==" /* admin:x */

/* Serves one request; returns the whole response text (arena memory). */
static const char *serve_one(struct app *app, struct arena *a, const char *method, const char *uri,
			     const char *e1, const char *e2, const char *e3)
{
	char m[64], u[512];
	xsnprintf(m, sizeof m, "REQUEST_METHOD=%s", method);
	xsnprintf(u, sizeof u, "REQUEST_URI=%s", uri);
	const char *env[] = {m, u, "HTTP_HOST=api.example.org", e1, e2, e3, NULL};
	/* A NULL among the extras ends the list early: compact it. */
	const char *list[8];
	size_t n = 0;
	for (size_t i = 0; i < 6; i++)
		if (env[i])
			list[n++] = env[i];
	list[n] = NULL;
	struct out o;
	sbuf_init(&o.text, a);
	sbuf_adds(&o.text, "");
	app_handle(app, a, fake_getenv, (void *)list, NULL, 0, false, capture, &o);
	return o.text.buf;
}

static void test_core(void)
{
	char dir[] = "/tmp/dlcs-test-respcache-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		check_failed++;
		return;
	}
	char gen_path[128];
	xsnprintf(gen_path, sizeof gen_path, "%s/gen", dir);
	struct config *cfg = config_empty(NULL);
	config_set(cfg, "data_generation_file", gen_path);
	config_set(cfg, "db_socket", "/nonexistent/mysqld.sock");
	config_set(cfg, "db_connect_timeout", "1");
	struct app app = {
		.cfg = cfg,
		.db = db_new(cfg),
		.routes = routes,
		.nroutes = sizeof routes / sizeof routes[0],
		.authenticate = fake_auth,
		.response_cache = respcache_new(1024 * 1024),
		.max_body = 1024,
	};
	struct generation *writer = generation_open(gen_path);
	struct arena *a = arena_new(64 * 1024);
	const char *thing = "/customers/2/things/a?q=%7B%7D";

	handler_runs = 0;
	const char *first = serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	CHECK(handler_runs == 1);
	CHECK(strstr(first, "Status: 200 OK\r\n") != NULL);
	CHECK(strstr(first, "\"@id\":\"http://api.example.org/customers/2/things/a\"") != NULL);
	CHECK(strstr(first, "Link: <http://example.org/>; rel=\"describedby\"\r\n") != NULL);
	/* The same request again: the same bytes, and no handler. */
	const char *second = serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	CHECK(handler_runs == 1);
	CHECK_STR(second, first);
	CHECK(respcache_count(app.response_cache) == 1);

	/* HEAD shares GET's entry (headers only). */
	const char *head = serve_one(&app, a, "HEAD", thing, C2, NULL, NULL);
	CHECK(handler_runs == 1);
	CHECK(strstr(head, "Status: 200 OK\r\n") && strstr(head, "Content-Length: "));
	CHECK(strstr(head, "\"@id\"") == NULL);

	/* Another customer is refused before the cache is looked at; so is a
	 * bad key, and no credentials at all. */
	const char *r = serve_one(&app, a, "GET", thing, C3, NULL, NULL);
	CHECK(strstr(r, "Status: 401 ") != NULL && handler_runs == 1);
	r = serve_one(&app, a, "GET", thing, "HTTP_AUTHORIZATION=Basic eHg6eA==", NULL, NULL);
	CHECK(strstr(r, "Status: 401 ") != NULL && handler_runs == 1);
	r = serve_one(&app, a, "GET", thing, NULL, NULL, NULL);
	CHECK(strstr(r, "Status: 401 ") != NULL && handler_runs == 1);

	/* The admin is another caller: its own entry. */
	r = serve_one(&app, a, "GET", thing, ADMIN, NULL, NULL);
	CHECK(strstr(r, "Status: 200 ") != NULL && handler_runs == 2);
	serve_one(&app, a, "GET", thing, ADMIN, NULL, NULL);
	CHECK(handler_runs == 2);

	/* The base URL is part of the key: Host, X-Forwarded-Host/Proto. */
	r = serve_one(&app, a, "GET", thing, C2, "HTTP_X_FORWARDED_PROTO=https", NULL);
	CHECK(handler_runs == 3);
	CHECK(strstr(r, "\"@id\":\"https://api.example.org/customers/2/things/a\"") != NULL);
	r = serve_one(&app, a, "GET", thing, C2, "HTTP_X_FORWARDED_HOST=iiif.example.net", NULL);
	CHECK(handler_runs == 4);
	CHECK(strstr(r, "\"@id\":\"http://iiif.example.net/customers/2/things/a\"") != NULL);
	r = serve_one(&app, a, "GET", thing, C2, "HTTP_X_FORWARDED_PROTO=https", NULL);
	CHECK(handler_runs == 4);
	CHECK(strstr(r, "\"@id\":\"https://api.example.org/") != NULL);

	/* So is the whole URI: another query string, even an equivalent
	 * spelling, is another entry. */
	serve_one(&app, a, "GET", "/customers/2/things/a?q=%7b%7d", C2, NULL, NULL);
	CHECK(handler_runs == 5);
	serve_one(&app, a, "GET", "/customers/2/things/a", C2, NULL, NULL);
	CHECK(handler_runs == 6);

	/* Cache-Control: no-cache runs the handler and refreshes the entry. */
	r = serve_one(&app, a, "GET", thing, C2, "HTTP_CACHE_CONTROL=max-age=0, No-Cache", NULL);
	CHECK(handler_runs == 7);
	CHECK(strstr(r, "\"run\":7") != NULL);
	r = serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	CHECK(handler_runs == 7 && strstr(r, "\"run\":7") != NULL);
	serve_one(&app, a, "GET", thing, C2, "HTTP_PRAGMA=no-cache", NULL);
	CHECK(handler_runs == 8);
	/* no-store: runs, and keeps nothing (the entry of run 8 stays). */
	serve_one(&app, a, "GET", thing, C2, "HTTP_CACHE_CONTROL=no-store", NULL);
	CHECK(handler_runs == 9);
	r = serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	CHECK(handler_runs == 9 && strstr(r, "\"run\":8") != NULL);
	/* "no-cache-ish" is not no-cache. */
	serve_one(&app, a, "GET", thing, C2, "HTTP_CACHE_CONTROL=no-cachex", NULL);
	CHECK(handler_runs == 9);

	/* A committed write anywhere moves the generation: the next read runs. */
	CHECK(generation_bump(writer));
	r = serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	CHECK(handler_runs == 10 && strstr(r, "\"run\":10") != NULL);
	CHECK(respcache_count(app.response_cache) == 1);
	serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	CHECK(handler_runs == 10);

	/* Only 200s are kept. */
	handler_status = 404;
	serve_one(&app, a, "GET", "/customers/2/things/gone", C2, NULL, NULL);
	r = serve_one(&app, a, "GET", "/customers/2/things/gone", C2, NULL, NULL);
	CHECK(handler_runs == 12 && strstr(r, "Status: 404 ") != NULL);
	handler_status = 200;

	/* Only GET and HEAD; routes without R_CACHE never. */
	serve_one(&app, a, "PUT", thing, C2, NULL, NULL);
	serve_one(&app, a, "PUT", thing, C2, NULL, NULL);
	CHECK(handler_runs == 14);
	serve_one(&app, a, "GET", "/customers/2/other/a", C2, NULL, NULL);
	serve_one(&app, a, "GET", "/customers/2/other/a", C2, NULL, NULL);
	CHECK(handler_runs == 16);

	/* The generation file gone for good: nothing is served from the cache. */
	arena_reset(a);
	CHECK(unlink(gen_path) == 0 && rmdir(dir) == 0);
	serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	serve_one(&app, a, "GET", thing, C2, NULL, NULL);
	CHECK(handler_runs == 18);

	arena_free(a);
	generation_close(writer);
	respcache_free(app.response_cache);
	db_free(app.db);
	config_free(cfg);
}

int main(void)
{
	test_cache_alone();
	test_core();
	mysql_library_end();
	return check_done();
}
