/* One HTTP request and its response. The core fills the request part, runs
 * the checks a route's flags ask for, calls the handler, and writes the
 * buffered response with Content-Length: partial JSON never reaches a client. */
#ifndef DLCS_REQ_H
#define DLCS_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "generation.h"
#include "str.h"

struct app;
struct arena;
struct jw;

enum http_method { M_GET, M_HEAD, M_POST, M_PUT, M_PATCH, M_DELETE, M_OPTIONS, METHOD__MAX };

struct kv {
	const char *key, *value;
};

#define REQ_MAX_ARGS 6

struct req {
	struct arena *arena;
	struct app *app;

	/* request */
	const char *request_id;
	enum http_method method;
	const char *method_name;
	const char *uri;         /* REQUEST_URI as received: path and query string */
	const char *path;        /* raw path of REQUEST_URI, without the query string */
	const char *query;       /* raw query string ("" when none) */
	struct kv *query_params; /* decoded, in order */
	size_t nquery_params;
	const char *body; /* NUL-terminated copy of the body, NULL when empty */
	size_t body_len;
	yajl_val json;        /* parsed body for routes with R_JSON */
	const char *base_url; /* public scheme://host[:port], no trailing slash */

	/* route captures: %d segments in ints[], %s segments (decoded) in strs[] */
	long long ints[REQ_MAX_ARGS];
	const char *strs[REQ_MAX_ARGS];
	size_t nints, nstrs;
	int route_arg; /* the matched row's arg (router.h) */
	/* the matched row of app->routes, app->nroutes when none (metrics.h) */
	size_t route_row;
	const char **rest; /* a trailing %* capture: the remaining segments, decoded */
	size_t nrest;

	/* caller, once authenticated */
	int caller_customer; /* 0 when anonymous */
	bool caller_admin;

	/* response */
	int status;
	const char *content_type;
	struct kv *resp_headers;
	size_t nresp_headers, resp_headers_cap;
	struct sbuf out;
	struct jw *jw;            /* set by req_json(); its text becomes the body */
	const char *fail_context; /* when set, req_fail prefixes descriptions with it
				     (e.g. "member 3 ('page-7')" while validating a batch) */

	/* the response cache (serve.c), for R_CACHE routes */
	enum req_cache {
		RC_NONE,   /* not a cached route, or no cache */
		RC_HIT,    /* answered from the cache: cache_body is the body */
		RC_MISS,   /* the handler ran; a 200 is stored under cache_key */
		RC_BYPASS, /* Cache-Control: no-cache: the handler ran, a 200 is stored */
		RC_NOSTORE /* no-store, or no usable data generation: nothing stored */
	} cache;
	const char *cache_key;
	struct gen_stamp cache_stamp; /* the data generation taken before the handler */
	const char *cache_body;
	size_t cache_body_len;

	/* how the request reaches the outside world (FastCGI or a test) */
	const char *(*getenv)(void *ctx, const char *name);
	void *env_ctx;
};

/* A FastCGI parameter such as "HTTP_HOST", or NULL. */
const char *req_env(struct req *rq, const char *name);
/* A request header by its HTTP name ("If-None-Match"), or NULL. */
const char *req_header_in(struct req *rq, const char *name);
/* The first decoded query parameter with this name, or NULL. */
const char *req_query(struct req *rq, const char *name);

/* True when the request's If-None-Match names etag (a strong tag, "..."),
 * compared weakly as RFC 9110 asks for GET, or is "*". */
bool req_not_modified(struct req *rq, const char *etag);

/* Adds a response header (name and value are copied into the arena). */
void req_header(struct req *rq, const char *name, const char *value);
/* Starts a JSON body (application/ld+json). */
struct jw *req_json(struct req *rq);
/* An absolute URL: base_url followed by the formatted path. */
const char *req_url(struct req *rq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replaces any body with the error document of CONTRACT section 3 and
 * returns status, so handlers can `return req_fail(rq, 404, "space %d not found", s);` */
int req_fail(struct req *rq, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The error for the database's last failure: 409 for a duplicate, 503 when
 * the database is unavailable, 500 otherwise. `what` names the operation. */
int req_db_fail(struct req *rq, const char *what);

const char *http_reason(int status);
const char *http_method_name(enum http_method m);
enum http_method http_method_parse(const char *s);

#endif
