/* The core: FastCGI accept loop and the checks every request goes through
 * before its handler (route, method, database, credentials, caller, body).
 * The response is buffered whole and written with Content-Length. */
#include <errno.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "base64.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "resp_head.h"
#include "respcache.h"
#include "metrics.h"
#include "router.h"
#include "str.h"
#include "banned.h"

/* The one piece of mutable process state outside struct app: a signal
 * handler can reach nothing else. */
static struct app *signalled_app;

static void on_term(int sig)
{
	(void)sig;
	if (signalled_app)
		signalled_app->stopping = 1;
	/* libfcgi drops an idle kept-alive connection and goes back to accept()
	 * without looking at our flag; this makes its accept fail instead. */
	FCGX_ShutdownPending();
}

/* Decodes the query string into rq->query_params. NULL, or why it is
 * refused: a malformed escape, an encoded NUL, or a name or value that is
 * not UTF-8 (parameters reach SQL and JSON as text). */
static const char *parse_query(struct req *rq)
{
	const char *q = rq->query;
	size_t cap = 0;
	rq->nquery_params = 0;
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len) {
			const char *eq = memchr(q, '=', len);
			size_t klen = eq ? (size_t)(eq - q) : len;
			char *k = url_decode(rq->arena, q, klen, true);
			char *v = eq ? url_decode(rq->arena, eq + 1, len - klen - 1, true)
				     : arena_strdup(rq->arena, "");
			if (!k || !v)
				return "malformed query string";
			if (!utf8_valid(k, strlen(k)))
				return "a query parameter name is not valid UTF-8";
			if (!utf8_valid(v, strlen(v)))
				return arena_printf(rq->arena,
						    "query parameter '%s' is not valid UTF-8", k);
			if (rq->nquery_params == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				rq->query_params = arena_realloc(rq->arena, rq->query_params,
								 cap * sizeof(struct kv),
								 ncap * sizeof(struct kv));
				cap = ncap;
			}
			rq->query_params[rq->nquery_params].key = k;
			rq->query_params[rq->nquery_params].value = v;
			rq->nquery_params++;
		}
		if (!amp)
			break;
		q = amp + 1;
	}
	return NULL;
}

/* Host names come from the client: keep only characters a host can have. */
static bool host_ok(const char *h)
{
	if (!h || !*h || strlen(h) > 255)
		return false;
	for (; *h; h++) {
		char c = *h;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
			return false;
	}
	return true;
}

static const char *derive_base_url(struct req *rq)
{
	if (rq->app->base_url)
		return rq->app->base_url;
	const char *scheme = req_env(rq, "HTTP_X_FORWARDED_PROTO");
	if (!str_eq(scheme, "http") && !str_eq(scheme, "https")) {
		scheme = req_env(rq, "REQUEST_SCHEME");
		if (!str_eq(scheme, "http") && !str_eq(scheme, "https"))
			scheme = str_eq(req_env(rq, "HTTPS"), "on") ? "https" : "http";
	}
	const char *host = req_env(rq, "HTTP_X_FORWARDED_HOST");
	if (!host_ok(host))
		host = req_env(rq, "HTTP_HOST");
	if (!host_ok(host)) {
		const char *name = req_env(rq, "SERVER_NAME");
		const char *port = req_env(rq, "SERVER_PORT");
		host = host_ok(name) ? name : "localhost";
		if (port && !str_eq(port, "80") && !str_eq(port, "443"))
			host = arena_printf(rq->arena, "%s:%s", host, port);
	}
	return arena_printf(rq->arena, "%s://%s", scheme, host);
}

static bool json_content_type(const char *ct)
{
	if (!ct || !*ct)
		return true; /* absent: take the body for what the route expects */
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	const char *plus = NULL;
	for (size_t i = 0; i < n; i++)
		if (ct[i] == '+')
			plus = ct + i;
	if (plus && (size_t)(ct + n - plus) == 5 && strncasecmp(plus, "+json", 5) == 0)
		return true;
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	       (n == 19 && strncasecmp(ct, "application/ld+json", 19) == 0);
}

/* Basic credentials; 0 when the caller is now known, else the status to answer. */
static int authenticate(struct req *rq, bool optional)
{
	const char *h = req_env(rq, "HTTP_AUTHORIZATION");
	if (!h || !*h)
		return optional ? 0 : req_fail(rq, 401, "credentials required");
	if (strncasecmp(h, "Basic ", 6) != 0)
		return req_fail(rq, 401, "unsupported authorization scheme (use Basic)");
	const char *b64 = h + 6;
	while (*b64 == ' ')
		b64++;
	size_t len;
	char *pair = base64_decode(rq->arena, b64, &len);
	if (!pair || strlen(pair) != len)
		return req_fail(rq, 401, "malformed Basic credentials");
	char *colon = strchr(pair, ':');
	if (!colon)
		return req_fail(rq, 401, "malformed Basic credentials");
	*colon = '\0';
	int st = rq->app->authenticate(rq, pair, colon + 1);
	if (st)
		return rq->status == st ? st : req_fail(rq, st, "invalid credentials");
	return 0;
}

/* True when the comma-separated header value h holds the directive name
 * (before any "=value"), compared without case. */
static bool has_directive(const char *h, const char *name)
{
	size_t n = strlen(name);
	while (*h) {
		h += strspn(h, " \t,");
		size_t len = strcspn(h, ",=");
		size_t t = len;
		while (t && (h[t - 1] == ' ' || h[t - 1] == '\t'))
			t--;
		if (t == n && strncasecmp(h, name, n) == 0)
			return true;
		h += strcspn(h, ",");
	}
	return false;
}

/* The response cache, for GET/HEAD of an R_CACHE route once the caller is
 * known and allowed (so a revoked key, or another customer, is refused
 * before the cache is looked at). The key holds everything such a route's
 * 200 depends on besides the database: the route, the request URI exactly as
 * received (path and query string), the caller, and the base URL of the
 * links (configured, or derived from Host / X-Forwarded-*); HEAD shares
 * GET's entries (the core drops the body). The data generation is taken
 * here, before the handler's first query, so a write that commits while the
 * handler runs leaves the stored entry already stale. `Cache-Control:
 * no-cache` (or `Pragma: no-cache`) skips the lookup and stores the fresh
 * answer; `no-store` skips both. True when the cache answered (200). */
static bool cache_lookup(struct req *rq, const struct route *route)
{
	struct app *app = rq->app;
	if (!app->response_cache || !(route->flags & R_CACHE) ||
	    (rq->method != M_GET && rq->method != M_HEAD))
		return false;
	if (!db_generation(app->db, &rq->cache_stamp)) {
		rq->cache = RC_NOSTORE;
		return false;
	}
	const char *cc = req_env(rq, "HTTP_CACHE_CONTROL");
	const char *pragma = req_env(rq, "HTTP_PRAGMA");
	if (cc && has_directive(cc, "no-store")) {
		rq->cache = RC_NOSTORE;
		return false;
	}
	rq->cache_key =
		arena_printf(rq->arena, "%zu %d %d %zu:%s %s", (size_t)(route - app->routes),
			     rq->caller_customer, rq->caller_admin ? 1 : 0, strlen(rq->base_url),
			     rq->base_url, rq->uri);
	if (cc ? has_directive(cc, "no-cache") : pragma && has_directive(pragma, "no-cache")) {
		rq->cache = RC_BYPASS;
		return false;
	}
	struct resp_view v;
	if (!respcache_get(app->response_cache, rq->cache_key, &rq->cache_stamp, &v)) {
		rq->cache = RC_MISS;
		return false;
	}
	rq->cache = RC_HIT;
	rq->content_type = v.content_type ? arena_strdup(rq->arena, v.content_type) : NULL;
	for (size_t i = 0; i < v.nheaders; i++)
		req_header(rq, v.headers[i].key, v.headers[i].value);
	/* Cache memory: valid until the next cache call, which comes after
	 * this response is written. */
	rq->cache_body = v.body;
	rq->cache_body_len = v.body_len;
	rq->status = 200;
	return true;
}

static void cache_store(struct req *rq, const char *body, size_t len)
{
	struct resp_view v = {
		.content_type = rq->content_type,
		.headers = rq->resp_headers,
		.nheaders = rq->nresp_headers,
		.body = body,
		.body_len = len,
	};
	respcache_put(rq->app->response_cache, rq->cache_key, &rq->cache_stamp, &v);
}

/* Everything between a matched route and the handler, in this order:
 * credentials (401), the caller against the path's customer (401), admin
 * only (403), the body (413, 400, 415), the response cache, then whether
 * the path's customer and space exist (404). */
static int dispatch(struct req *rq, const struct route *route, bool body_too_large)
{
	if (route->flags & (R_ANON | R_AUTH_OPT)) {
		if ((route->flags & R_AUTH_OPT) && req_env(rq, "HTTP_AUTHORIZATION")) {
			int st = authenticate(rq, true);
			if (st)
				return st;
		}
	} else {
		int st = authenticate(rq, false);
		if (st)
			return st;
	}
	if ((route->flags & R_CUSTOMER) && !rq->caller_admin && rq->ints[0] != rq->caller_customer)
		return req_fail(rq, 401, "these credentials are not valid for customer %lld",
				rq->ints[0]);
	if ((route->flags & R_ADMIN) && !rq->caller_admin)
		return req_fail(rq, 403, "only the admin customer may do this");

	if (route->flags & (R_JSON | R_JSON_OPT)) {
		if (body_too_large)
			return req_fail(rq, 413, "request body exceeds %zu bytes",
					rq->app->max_body);
		bool empty = rq->body_len == 0;
		if (empty && (route->flags & R_JSON))
			return req_fail(rq, 400, "a JSON body is required");
		if (!empty) {
			if (!json_content_type(req_env(rq, "CONTENT_TYPE")))
				return req_fail(rq, 415,
						"the body must be JSON (application/json or "
						"application/ld+json)");
			const char *err;
			rq->json = json_parse(rq->arena, rq->body, rq->body_len, &err);
			if (!rq->json)
				return req_fail(rq, 400, "malformed JSON: %s", err);
			if (rq->json->type != yajl_t_object)
				return req_fail(rq, 400, "the body must be a JSON object");
		}
	} else if (body_too_large) {
		return req_fail(rq, 413, "request body exceeds %zu bytes", rq->app->max_body);
	}
	if (cache_lookup(rq, route))
		return 200;
	/* The path's customer and space exist: asked last, as the handlers
	 * asked first, so a caller learns nothing of another customer's ids
	 * (401 above) and a refused body is refused whatever the path. A
	 * cached answer needs no lookup: the resource is unchanged since. */
	if ((route->flags & (R_CUSTOMER | R_SPACE)) && rq->app->path_check) {
		int st = rq->app->path_check(rq, route->flags);
		if (st)
			return st;
	}
	return route->handler(rq);
}

/* name as the log may show it: printable ASCII, the rest as \xNN, at most
 * 64 bytes of it. */
/* An id from nginx: 1 to 64 letters, digits or '-' (nginx's are 32 hex
 * digits), nothing that could forge a log line or a field. */
static bool request_id_ok(const char *id)
{
	if (!id || !*id)
		return false;
	size_t n = strspn(id, "0123456789abcdefABCDEFghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ-");
	return n <= 64 && id[n] == '\0';
}

static const char *log_safe(struct arena *a, const char *name)
{
	struct sbuf b;
	sbuf_init(&b, a);
	for (size_t i = 0; name[i] && i < 64; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			sbuf_addc(&b, (char)c);
		else
			sbuf_printf(&b, "\\x%02x", c);
	}
	return b.buf ? b.buf : "";
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The request as the server gave it: method, URI, path, query, base URL. */
static void handle_init(struct req *rq, struct app *app, struct arena *a,
			const char *(*getenv_fn)(void *, const char *), void *ctx, const char *body,
			size_t body_len)
{
	memset(rq, 0, sizeof *rq);
	rq->arena = a;
	rq->app = app;
	rq->getenv = getenv_fn;
	rq->env_ctx = ctx;
	rq->body = body;
	rq->body_len = body_len;
	rq->status = 0;
	rq->route_row = app->nroutes;
	app->served++;
	/* nginx's $request_id (dlcs.conf passes it as REQUEST_ID), so that its
	 * access log and ours name a request alike; our own when absent or
	 * not the shape nginx gives it. */
	const char *nginx_id = req_env(rq, "REQUEST_ID");
	if (request_id_ok(nginx_id))
		rq->request_id = nginx_id;
	else
		rq->request_id = arena_printf(a, "%d-%llu", (int)getpid(), app->served);

	const char *m = req_env(rq, "REQUEST_METHOD");
	rq->method_name = m ? m : "?";
	rq->method = http_method_parse(m);
	const char *uri = req_env(rq, "REQUEST_URI");
	if (!uri || uri[0] != '/')
		uri = req_env(rq, "DOCUMENT_URI");
	if (!uri)
		uri = "/";
	rq->uri = uri;
	const char *qmark = strchr(uri, '?');
	rq->path = qmark ? arena_strndup(a, uri, (size_t)(qmark - uri)) : uri;
	rq->query = qmark ? qmark + 1 : "";
	rq->base_url = derive_base_url(rq);
}

/* The connection, made if needed: each request that finds the database
 * unreachable answers 503, and the worker says so in its log when that
 * begins, every 30 s while it lasts and when it ends (outage.h), not on
 * every request nor never. */
static bool db_up(struct app *app)
{
	bool up = db_ensure(app->db) == DB_OK;
	long long lasted;
	switch (outage_note(&app->db_outage, up, outage_clock_ms(), 30000, &lasted)) {
	case OUTAGE_DOWN:
		log_err("database unreachable: %s", db_last_msg(app->db));
		break;
	case OUTAGE_STILL_DOWN:
		log_err("database still unreachable after %lld s: %s", lasted / 1000,
			db_last_msg(app->db));
		break;
	case OUTAGE_BACK:
		log_info("database reachable again after %lld s", lasted / 1000);
		break;
	case OUTAGE_QUIET:
		break;
	}
	return up;
}

/* Routes the request and runs its handler, or answers what the core
 * answers itself (400 query or path, 404, 405 with Allow, the CORS
 * preflight, 503 without a database). The status. */
static int handle_route(struct req *rq, bool body_too_large)
{
	struct app *app = rq->app;
	const struct route *route = NULL;
	const char *allow = NULL;
	int status;
	const char *query_err = parse_query(rq);
	if (query_err)
		return req_fail(rq, 400, "%s", query_err);
	if (rq->method == METHOD__MAX)
		return req_fail(rq, 405, "method not supported");
	enum route_result rr = router_match(app->routes, app->nroutes, rq, &route, &allow);
	if (rr == ROUTE_FOUND && route)
		rq->route_row = (size_t)(route - app->routes);
	if (rq->method == M_OPTIONS && rr == ROUTE_BAD_METHOD) {
		/* CORS preflight: no route takes OPTIONS, so the path's
		 * methods are exactly the Allow list. */
		req_header(rq, "Allow", allow);
		req_header(rq, "Access-Control-Allow-Methods", allow);
		req_header(rq, "Access-Control-Allow-Headers", "Authorization, Content-Type");
		req_header(rq, "Access-Control-Max-Age", "86400");
		rr = ROUTE_FOUND;
		route = NULL;
	}
	switch (rr) {
	case ROUTE_FOUND:
		if (!route) {
			status = rq->status = 204;
		} else if (!db_up(app) && !(route->flags & R_ANON)) {
			status = req_fail(rq, 503, "database unavailable, try again");
		} else {
			status = dispatch(rq, route, body_too_large);
		}
		break;
	case ROUTE_BAD_METHOD:
		req_header(rq, "Allow", allow);
		status = req_fail(rq, 405, "%s is not allowed here; allowed: %s", rq->method_name,
				  allow);
		break;
	case ROUTE_BAD_PATH:
		status = req_fail(rq, 400,
				  "malformed percent-encoding or invalid UTF-8 in the path");
		break;
	case ROUTE_BAD_ID:
		status = req_fail(rq, 400,
				  "'%.40s' is not a valid id here: ids are whole numbers "
				  "from 1 to 2147483647",
				  allow);
		break;
	default:
		status = req_fail(rq, 404, "no resource at this path");
		break;
	}
	return status;
}

/* The body to send: the cached one, the JSON written, or the bytes put in
 * rq->out. A JSON writer that failed turns the answer into a 500 (*status). */
static const char *handle_body(struct req *rq, int *status, size_t *out_len)
{
	const char *out = rq->out.buf;
	*out_len = rq->out.len;
	if (rq->cache == RC_HIT) {
		out = rq->cache_body;
		*out_len = rq->cache_body_len;
	} else if (rq->jw) {
		out = jw_text(rq->jw, out_len);
		if (!out) {
			log_err("%s: JSON generation failed", rq->request_id);
			*status = req_fail(rq, 500, "could not generate the response");
			out = jw_text(rq->jw, out_len);
			if (!out) {
				out = "";
				*out_len = 0;
			}
		}
	}
	if (!out)
		*out_len = 0;
	return out;
}

/* Writes the response head into h. A header the head writer refuses turns
 * the answer into a plain 500 (*status, *out, *out_len replaced). */
static void handle_head(struct req *rq, struct sbuf *h, int *status, const char **out,
			size_t *out_len)
{
	struct arena *a = rq->arena;
	sbuf_init(h, a);
	struct resp_head head = {
		.status = *status,
		.content_type = rq->content_type,
		.content_length = *out_len,
		.has_body = *status != 204 && *status != 304,
		.headers = rq->resp_headers,
		.nheaders = rq->nresp_headers,
	};
	const char *refused = resp_head_write(h, &head);
	if (!refused)
		return;
	/* A stored or computed string that would have split the head: the
	 * client gets a plain 500, and nothing of what was refused. */
	log_err("%s: response header '%s' refused (not a token, a reserved name, "
		"or a control character in its value); answering 500",
		rq->request_id, log_safe(a, refused));
	rq->nresp_headers = 0;
	rq->cache = RC_NONE;
	*status = req_fail(rq, 500, "the response could not be written");
	*out = jw_text(rq->jw, out_len);
	if (!*out) {
		*out = "";
		*out_len = 0;
	}
	static const struct kv no_store = {"Cache-Control", "no-store"};
	head = (struct resp_head){.status = *status,
				  .content_type = rq->content_type,
				  .content_length = *out_len,
				  .has_body = true,
				  .headers = &no_store,
				  .nheaders = 1};
	sbuf_init(h, a);
	if (resp_head_write(h, &head))
		abort(); /* the framework's own error head: cannot happen */
}

void app_handle(struct app *app, struct arena *a, const char *(*getenv_fn)(void *, const char *),
		void *ctx, const char *body, size_t body_len, bool body_too_large,
		void (*emit)(void *, const char *, size_t), void *emit_ctx)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct req rq_storage;
	struct req *rq = &rq_storage;
	handle_init(rq, app, a, getenv_fn, ctx, body, body_len);

	int status = handle_route(rq, body_too_large);
	if (db_in_txn(app->db)) {
		/* The one place a transaction is rolled back: a handler that
		 * refuses or fails part-way just returns its status (req_fail,
		 * req_db_fail), and nothing half done persists. A success with
		 * the transaction still open is a handler's bug: its writes were
		 * never committed, so it must not be reported as done. */
		db_rollback(app->db);
		if (status < 400) {
			log_err("%s: handler answered %d with its transaction open; rolled back",
				rq->request_id, status);
			status = req_fail(rq, 500, "internal error: the change was not saved");
		}
	}
	if (status < 100 || status > 599) {
		log_err("%s: handler returned status %d", rq->request_id, status);
		status = req_fail(rq, 500, "internal error");
	}
	/* The Basic challenge belongs to the API; a delivery 401 (a restricted
	 * image in a viewer) must not pop up a browser's login box. */
	if (status == 401 && app->authenticate)
		req_header(rq, "WWW-Authenticate", "Basic realm=\"DLCS-API\"");

	size_t out_len;
	const char *out = handle_body(rq, &status, &out_len);
	struct sbuf h;
	handle_head(rq, &h, &status, &out, &out_len);
	if (status == 200 && (rq->cache == RC_MISS || rq->cache == RC_BYPASS))
		cache_store(rq, out, out_len);
	emit(emit_ctx, h.buf, h.len);
	if (rq->method != M_HEAD && status != 204 && status != 304 && out_len)
		emit(emit_ctx, out, out_len);

	static const char *const cache_word[] = {
		[RC_NONE] = "",
		[RC_HIT] = " cache=hit",
		[RC_MISS] = " cache=miss",
		[RC_BYPASS] = " cache=bypass",
		[RC_NOSTORE] = " cache=off",
	};
	/* The query as received (cut at 1 KiB; log_line masks control
	 * characters), the client as nginx saw it, and the authenticated
	 * customer (0: anonymous). */
	const char *client = req_env(rq, "REMOTE_ADDR");
	log_info("%s %s %s%s%.1024s %d %zuB %.2fms client=%.64s customer=%d%s", rq->request_id,
		 rq->method_name, rq->path, rq->query && *rq->query ? "?" : "",
		 rq->query ? rq->query : "", status, out_len, ms_since(&t0),
		 client && *client ? client : "-", rq->caller_customer, cache_word[rq->cache]);
	metrics_request(rq->route_row, app->nroutes, status);
}

static const char *fcgx_getenv(void *ctx, const char *name)
{
	FCGX_Request *r = ctx;
	return FCGX_GetParam(name, r->envp);
}

static void fcgx_emit(void *ctx, const char *data, size_t len)
{
	FCGX_Request *r = ctx;
	while (len) {
		int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
		if (FCGX_PutStr(data, chunk, r->out) < 0)
			return; /* client went away */
		data += chunk;
		len -= (size_t)chunk;
	}
}

/* Reads up to max bytes of the body; *too_large when there was more. */
static char *read_body(FCGX_Request *r, struct arena *a, size_t max, size_t *len, bool *too_large)
{
	*len = 0;
	*too_large = false;
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
	long long declared = 0;
	if (cl && *cl && !str_to_ll(cl, 0, 1LL << 50, &declared))
		declared = 0;
	if (declared > (long long)max) {
		*too_large = true;
		return NULL;
	}
	size_t cap = declared > 0 ? (size_t)declared : 0;
	char *buf = arena_alloc(a, cap + 1);
	size_t got = 0;
	for (;;) {
		if (got == cap) {
			if (cap >= max + 1)
				break;
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > max + 1)
				ncap = max + 1;
			buf = arena_realloc(a, buf, got + 1, ncap + 1);
			cap = ncap;
		}
		int n = FCGX_GetStr(buf + got, (int)(cap - got), r->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		*too_large = true;
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return got ? buf : NULL;
}

int serve(struct app *app)
{
	signalled_app = app;
	metrics_routes(app->routes, app->nroutes);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: accept() must return so the loop can end */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		log_err("FCGX_Init failed");
		return 1;
	}
	FCGX_Request r;
	if (FCGX_InitRequest(&r, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_err("FCGX_InitRequest failed");
		return 1;
	}
	/* Keep freed memory in the process: returning it to the kernel after
	 * every request (and faulting it back in) cost more than the request. */
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	struct arena *a = arena_new(64 * 1024);
	log_info("serving (%zu routes)", app->nroutes);
	while (!app->stopping) {
		if (FCGX_Accept_r(&r) < 0) {
			if (app->stopping)
				break;
			if (errno == EINTR)
				continue;
			log_err("FCGX_Accept_r failed: %s", strerror(errno));
			break;
		}
		size_t len;
		bool too_large;
		char *body = read_body(&r, a, app->max_body, &len, &too_large);
		app_handle(app, a, fcgx_getenv, &r, body, len, too_large, fcgx_emit, &r);
		FCGX_Finish_r(&r);
		arena_reset(a);
	}
	FCGX_Free(&r, 1);
	arena_free(a);
	log_info("stopping after %llu requests", app->served);
	return 0;
}
