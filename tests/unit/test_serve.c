/* The request core (fcgi/serve.c, included for app_handle's collaborators)
 * between a matched route and its handler: the order of its checks
 * (credentials and caller 401, body 413/415/400, then the path's customer
 * and space 404 through app->path_check), the route row's arg reaching the
 * handler, and the body's JSON errors: formatted into the request's arena,
 * bounded, whatever member name the body holds (a key of 40 to 63 bytes
 * once aborted a worker: its message did not fit a 64-byte buffer). */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fcgi/serve.c"
#include "config.h"
#include "check.h"
#include "fake_req.h"

static int handler_runs, handler_arg;

static int h_ok(struct req *rq)
{
	handler_runs++;
	handler_arg = rq->route_arg;
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kint(w, "arg", rq->route_arg);
	jw_obj_end(w);
	return 200;
}

/* The resource layer's lookups, as the API's api_path_check words them:
 * customer 2 exists, with its space 1. */
static int path_checks;
static unsigned path_check_flags;

static int fake_path_check(struct req *rq, unsigned flags)
{
	path_checks++;
	path_check_flags = flags;
	int c = (int)rq->ints[0];
	if (c != 2)
		return req_fail(rq, 404, "customer %d not found", c);
	if ((flags & R_SPACE) && rq->ints[1] != 1)
		return req_fail(rq, 404, "space %d not found", (int)rq->ints[1]);
	return 0;
}

/* R_ANON keeps the core from needing a database server for the route;
 * R_AUTH_OPT authenticates whenever credentials come. */
#define OPEN (R_ANON | R_AUTH_OPT | R_CUSTOMER)
static const struct route routes[] = {
	{M_GET, "/customers/%d", h_ok, OPEN, 0},
	{M_PUT, "/customers/%d/spaces/%d/things/%s", h_ok, OPEN | R_SPACE | R_JSON, 7},
	{M_GET, "/open", h_ok, R_ANON, 0},
};

static int fake_auth(struct req *rq, const char *key, const char *secret)
{
	(void)secret;
	if (strcmp(key, "admin") == 0) {
		rq->caller_customer = 1;
		rq->caller_admin = true;
	} else if (strcmp(key, "c2") == 0) {
		rq->caller_customer = 2;
	} else {
		return 401;
	}
	return 0;
}

#define C2    "HTTP_AUTHORIZATION=Basic YzI6eA=="     /* c2:x */
#define ADMIN "HTTP_AUTHORIZATION=Basic YWRtaW46eA==" /* admin:x */

struct answer {
	int status;
	const char *description; /* of an error document, else NULL */
};

static void capture(void *ctx, const char *data, size_t len)
{
	sbuf_add(ctx, data, len);
}

/* Serves one request and reads the status and the error's description
 * from what the core wrote. */
static struct answer serve_one(struct app *app, struct arena *a, const char *method,
			       const char *uri, const char *auth, const char *content_type,
			       const char *body, bool too_large)
{
	const char *env[] = {
		arena_printf(a, "REQUEST_METHOD=%s", method),
		arena_printf(a, "REQUEST_URI=%s", uri),
		"HTTP_HOST=api.example.org",
		auth ? auth : "HTTP_X_NONE=1",
		content_type ? arena_printf(a, "CONTENT_TYPE=%s", content_type) : "HTTP_X_NONE=1",
		NULL,
	};
	struct sbuf out;
	sbuf_init(&out, a);
	sbuf_adds(&out, "");
	app_handle(app, a, fake_getenv, (void *)env, body, body ? strlen(body) : 0, too_large,
		   capture, &out);
	struct answer ans = {0, NULL};
	if (strncmp(out.buf, "Status: ", 8) == 0)
		ans.status = atoi(out.buf + 8);
	const char *doc = strstr(out.buf, "\r\n\r\n");
	yajl_val v = doc ? json_parse(a, doc + 4, strlen(doc + 4), NULL) : NULL;
	yajl_val d = json_get(v, "description");
	if (d && YAJL_IS_STRING(d))
		ans.description = d->u.string;
	return ans;
}

static void test_order(struct app *app, struct arena *a)
{
	const char *thing = "/customers/2/spaces/1/things/x";
	const char *body = "{\"a\":1}";
	struct answer r;

	/* Found: the handler runs after one lookup, with its row's arg. */
	handler_runs = path_checks = 0;
	r = serve_one(app, a, "PUT", thing, C2, NULL, body, false);
	CHECK(r.status == 200 && handler_runs == 1 && handler_arg == 7);
	CHECK(path_checks == 1 && path_check_flags == (OPEN | R_SPACE | R_JSON));
	r = serve_one(app, a, "GET", "/customers/2", C2, NULL, NULL, false);
	CHECK(r.status == 200 && handler_runs == 2 && handler_arg == 0 && path_checks == 2);
	CHECK(path_check_flags == OPEN);
	/* A route that names no customer looks nothing up. */
	r = serve_one(app, a, "GET", "/open", NULL, NULL, NULL, false);
	CHECK(r.status == 200 && handler_runs == 3 && path_checks == 2);

	/* Missing: the 404 the lookup words, and no handler. */
	handler_runs = path_checks = 0;
	r = serve_one(app, a, "GET", "/customers/9", ADMIN, NULL, NULL, false);
	CHECK(r.status == 404 && handler_runs == 0 && path_checks == 1);
	CHECK_STR(r.description, "customer 9 not found");
	r = serve_one(app, a, "PUT", "/customers/2/spaces/5/things/x", C2, NULL, body, false);
	CHECK(r.status == 404 && handler_runs == 0);
	CHECK_STR(r.description, "space 5 not found");
	r = serve_one(app, a, "PUT", "/customers/9/spaces/5/things/x", ADMIN, NULL, body, false);
	CHECK(r.status == 404 && handler_runs == 0);
	CHECK_STR(r.description, "customer 9 not found");

	/* Before the lookup: another customer's path is 401, whether it exists
	 * or not (nothing is learnt of it); a bad body is refused whatever the
	 * path names. */
	path_checks = 0;
	r = serve_one(app, a, "GET", "/customers/9", C2, NULL, NULL, false);
	CHECK(r.status == 401);
	r = serve_one(app, a, "PUT", "/customers/3/spaces/1/things/x", C2, NULL, body, false);
	CHECK(r.status == 401);
	r = serve_one(app, a, "PUT", "/customers/2/spaces/5/things/x", C2, NULL, "{\"a\":", false);
	CHECK(r.status == 400 && r.description &&
	      strncmp(r.description, "malformed JSON: ", 16) == 0);
	r = serve_one(app, a, "PUT", "/customers/2/spaces/5/things/x", C2, NULL, "[1]", false);
	CHECK(r.status == 400);
	CHECK_STR(r.description, "the body must be a JSON object");
	r = serve_one(app, a, "PUT", "/customers/2/spaces/5/things/x", C2, NULL, NULL, false);
	CHECK(r.status == 400);
	CHECK_STR(r.description, "a JSON body is required");
	r = serve_one(app, a, "PUT", "/customers/2/spaces/5/things/x", C2, "text/plain", body,
		      false);
	CHECK(r.status == 415);
	r = serve_one(app, a, "PUT", "/customers/9/spaces/5/things/x", ADMIN, NULL, NULL, true);
	CHECK(r.status == 413);
	CHECK(path_checks == 0 && handler_runs == 0);
}

/* A body whose member name is n bytes of 'k' and whose value is not UTF-8. */
static const char *bad_body(struct arena *a, size_t n)
{
	char *name = arena_alloc(a, n + 1);
	memset(name, 'k', n);
	name[n] = '\0';
	return arena_printf(a, "{\"%s\":\"\xc0\xaf\"}", name);
}

static void test_json_errors(struct app *app, struct arena *a)
{
	const char *thing = "/customers/2/spaces/1/things/x";
	handler_runs = 0;
	for (size_t n = 1; n <= 300; n++) {
		struct answer r = serve_one(app, a, "PUT", thing, C2, NULL, bad_body(a, n), false);
		/* The name is quoted whole up to 40 bytes, then cut with "...":
		 * the description is never cut, and never longer than this. */
		size_t shown = n <= 40 ? n : 40;
		const char *want = arena_printf(
			a, "malformed JSON: '%.*s%s' is not valid UTF-8", (int)shown,
			"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", n <= 40 ? "" : "...");
		bool ok = r.status == 400 && r.description && strcmp(r.description, want) == 0 &&
			  strlen(r.description) <= 16 + JSON_ERR_MAX;
		if (!ok)
			fprintf(stderr, "member name of %zu bytes: %d %s\n", n, r.status,
				r.description ? r.description : "(none)");
		CHECK(ok);
	}
	/* A member name not UTF-8, inside a member with a long name: bounded
	 * too. */
	char big[400];
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct answer r = serve_one(app, a, "PUT", thing, C2, NULL,
				    arena_printf(a, "{\"%s\":{\"\xed\xa0\x80\":1}}", big), false);
	CHECK(r.status == 400 && r.description && strlen(r.description) <= 16 + JSON_ERR_MAX);
	CHECK(r.description && strstr(r.description, "a member name in 'mmmm") &&
	      strstr(r.description, "...' is not valid UTF-8"));
	CHECK(handler_runs == 0);
}

int main(void)
{
	struct config *cfg = config_empty(NULL);
	config_set(cfg, "db_socket", "/nonexistent/mysqld.sock");
	config_set(cfg, "db_connect_timeout", "1");
	struct app app = {
		.cfg = cfg,
		.db = db_new(cfg),
		.routes = routes,
		.nroutes = sizeof routes / sizeof routes[0],
		.authenticate = fake_auth,
		.path_check = fake_path_check,
		.max_body = 1024,
	};
	struct arena *a = arena_new(64 * 1024);
	test_order(&app, a);
	arena_reset(a);
	test_json_errors(&app, a);
	arena_free(a);
	db_free(app.db);
	config_free(cfg);
	mysql_library_end();
	return check_done();
}
