/* Counters shared by every process of a pool, for GET /metrics (Prometheus
 * text format). Each pool's supervisor maps one file,
 * <storage_root>/.metrics/<program>, before it forks: its workers inherit
 * the mapping and add to it with relaxed atomics (no lock, no system call:
 * nothing measurable per request), and dlcs-api reads every pool's file to
 * answer /metrics. A pool that starts again starts its counters at zero (a
 * counter reset, which Prometheus expects). */
#ifndef DLCS_METRICS_H
#define DLCS_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct route;
struct sbuf;

/* Named counters beside the requests. */
enum metrics_counter {
	MC_RENDER_CACHE_HIT,  /* dlcs-image: a rendered region from its cache */
	MC_RENDER_CACHE_MISS, /* dlcs-image: rendered anew */
	MC_INGEST_OK,         /* dlcs-runner: an item ingested */
	MC_INGEST_ERROR,      /* dlcs-runner: an item that ended in an error */
	MC__MAX
};

/* The pool's file made anew and mapped (the supervisor, before it forks;
 * or a lone worker). false, with errno, when it cannot be: counting is then
 * off and everything else goes on. */
bool metrics_open(const char *storage_root, const char *program);
/* The route table's patterns written once into the file, so that dlcs-api
 * can name another pool's routes (a worker, at its start). */
void metrics_routes(const struct route *routes, size_t n);
/* One answered request: its row of the route table (n, the table's size,
 * for none matched) and its status. */
void metrics_request(size_t route, size_t n, int status);
void metrics_count(enum metrics_counter c);
/* An ingest's duration, into the histogram. */
void metrics_ingest_seconds(double seconds);

/* Every pool's counters found under storage_root, in the Prometheus text
 * exposition format, appended to out. */
void metrics_render(struct sbuf *out, const char *storage_root);

#endif
