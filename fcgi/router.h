/* The dispatch table is data: { method, pattern, handler, flags, arg } rows.
 * Patterns are '/'-separated literal segments and captures:
 *   %d  an id: a decimal integer 1..INT_MAX (goes to rq->ints[]); a path
 *       whose segment there is 0, negative or too large is ROUTE_BAD_ID (400:
 *       ids start at 1, and 0 stands for "the customer level" in tables such
 *       as default_delivery_channels and customer_storage)
 *   %s  any non-empty segment, percent-decoded (goes to rq->strs[])
 *   %*  only last: zero or more further segments, each percent-decoded
 *       (so "%2F" in one is a '/' inside it), in order in rq->rest[]
 * Every segment must decode (no malformed escape, no %00) to UTF-8, else the
 * path is ROUTE_BAD_PATH (400).
 * A path matching no pattern is 404; a path matching only other methods'
 * rows is 405 with Allow listing them (HEAD follows GET). */
#ifndef DLCS_ROUTER_H
#define DLCS_ROUTER_H

#include <stddef.h>

#include "req.h"

typedef int (*handler_fn)(struct req *rq);

enum route_flags {
	R_ANON = 1 << 0,  /* no authentication needed */
	R_ADMIN = 1 << 1, /* admin customer's keys only (403 otherwise) */
	/* ints[0] is a customer id the caller must own or be admin (401), and
	 * that exists (404: app->path_check, see app.h) */
	R_CUSTOMER = 1 << 2,
	R_JSON = 1 << 3,     /* body must be a JSON object (400/413/415 before the handler) */
	R_JSON_OPT = 1 << 4, /* body may be empty; if present, as R_JSON */
	R_AUTH_OPT = 1 << 5, /* authenticate when credentials are sent, else anonymous */
	/* GET/HEAD answers may be kept in the worker's response cache (app.h):
	 * only for routes whose 200 depends on nothing but the database, the
	 * request URI, the caller and the base URL (see serve.c). */
	R_CACHE = 1 << 6,
	/* with R_CUSTOMER: ints[1] is a space of that customer, which must
	 * exist (404: app->path_check) */
	R_SPACE = 1 << 7,
};

struct route {
	enum http_method method;
	const char *pattern;
	handler_fn handler;
	unsigned flags;
	/* handed to the handler as rq->route_arg, so that one handler serves
	 * rows that differ only in a value (the IIIF version of /v2/ paths);
	 * 0 when the row names none */
	int arg;
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD, ROUTE_BAD_PATH, ROUTE_BAD_ID };

/* Matches rq->method and rq->path against the table. On ROUTE_FOUND the
 * captures and the row's arg are in rq and *found is the row; on
 * ROUTE_BAD_METHOD *detail holds the comma-separated methods the path
 * accepts, on ROUTE_BAD_ID the (raw) segment that is not an id (arena
 * memory). */
enum route_result router_match(const struct route *table, size_t n, struct req *rq,
			       const struct route **found, const char **detail);

#endif
