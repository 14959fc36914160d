/* Small pieces several resources share. */
#ifndef DLCS_COMMON_H
#define DLCS_COMMON_H

#include <stdbool.h>

struct jw;
struct req;

/* JSON-LD context of the DLCS vocabulary, written on every resource. */
#define DLCS_CONTEXT "https://dlcs.github.io/vocab/context/future.json"

/* The customer a delivery path names, by id or by name (manifests, the
 * auth flow): 0 with *c, else the 404 (or 503) it answered. */
int customer_resolve(struct req *rq, const char *cpart, int *c);
/* 0 when customer c exists, else the 404 (or 503) it answered. */
int customer_require(struct req *rq, int c);
/* 0 when space s of customer c exists, else the 404 (or 503) it answered:
 * "customer c not found" when the customer is missing too. */
int space_require(struct req *rq, int c, int s);
/* The core's path_check (fcgi/app.h): customer_require of the path's
 * customer (R_CUSTOMER), space_require of its space (R_SPACE), before a
 * handler runs; so handlers check only what their route does not say
 * (a space named in a body, a batch, an asset). */
int api_path_check(struct req *rq, unsigned flags);

/* Starts a resource object: {"@context":DLCS_CONTEXT,"@id":id,"@type":type, */
void resource_begin(struct jw *w, const char *id, const char *type);

/* Checks a member "@id" or "id" of a body against the resource the path
 * names; 400 when they disagree. id_url: the absolute @id; id: the short id
 * (NULL if the resource has none). */
struct yajl_val_s;
int body_id_agrees(struct req *rq, struct yajl_val_s *body, const char *id_url, const char *id);
/* The same for a PUT of a resource named by a UUID: the body's "@id" must
 * name id_url, and its "id", when given, the UUID id (in any case). */
int body_uuid_agrees(struct req *rq, const char *id_url, const char *id);

/* Writes row i of r as one member of a collection. */
struct db_rows;
typedef void (*row_writer_fn)(struct jw *w, struct req *rq, const struct db_rows *r, size_t i);

/* Answers the paged Collection at `path` of customer c's rows: count_sql
 * takes (c) and returns one count, list_sql takes (c, limit, offset); `what`
 * names the listing in errors. */
#include <stddef.h>
int customer_rows_page(struct req *rq, int c, const char *path, const char *count_sql,
		       const char *list_sql, row_writer_fn write, const char *what);

#endif
