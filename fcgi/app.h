/* Process-wide state, in one visible struct handed to every request: the
 * configuration, the database connection, the route table and the hooks the
 * resource layer gives the core. Nothing else outlives a request. */
#ifndef DLCS_APP_H
#define DLCS_APP_H

#include "outage.h"
#include <stdbool.h>
#include <stddef.h>

struct cache;
struct config;
struct db;
struct fragcache;
struct req;
struct respcache;
struct route;

/* Checks key/secret for rq (rq->ints are already captured). Sets
 * rq->caller_customer and rq->caller_admin and returns 0, or returns the
 * status to answer (401, or 503 when the database is down). */
typedef int (*auth_fn)(struct req *rq, const char *key, const char *secret);

/* Checks that what the path names exists, as the route's flags say
 * (R_CUSTOMER: the customer ints[0]; R_SPACE: its space ints[1]). The core
 * knows when to ask, the resource layer which tables hold them. Returns 0,
 * or the status it answered (404 naming what is missing, 503 when the
 * database is down). */
typedef int (*path_check_fn)(struct req *rq, unsigned flags);

struct app {
	struct config *cfg;
	struct db *db;
	const struct route *routes;
	size_t nroutes;
	auth_fn authenticate;
	path_check_fn path_check; /* NULL: the routes' flags name nothing to look up */
	size_t max_body;
	const char *base_url;     /* from config, NULL to derive from each request */
	struct cache *auth_cache; /* verified credentials (keys.c), NULL: none */
	/* whole responses of R_CACHE routes (respcache.h), NULL: none */
	struct respcache *response_cache;
	/* text fragments kept between requests, each valid while its stamp
	 * matches (fragcache.h), NULL: none */
	struct fragcache *fragments;
	unsigned long long served;
	struct outage db_outage; /* the database unreachable: logged now and then */
	volatile int stopping;   /* set by SIGTERM: finish the request in hand, then exit */
};

/* Runs the FastCGI accept loop on stdin (spawn-fcgi's socket) until SIGTERM.
 * Returns the process exit status. */
int serve(struct app *app);

/* Serves one request whose environment comes from getenv/ctx and whose body
 * is given; writes the whole response (status line as CGI "Status:",
 * headers, body) with the emit callback. Used by serve() and by tests. */
struct arena;
void app_handle(struct app *app, struct arena *a, const char *(*getenv)(void *, const char *),
		void *ctx, const char *body, size_t body_len, bool body_too_large,
		void (*emit)(void *, const char *, size_t), void *emit_ctx);

#endif
