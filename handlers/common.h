/* Small pieces several resources share. */
#ifndef DLCS_COMMON_H
#define DLCS_COMMON_H

#include <stdbool.h>

struct jw;
struct req;

/* JSON-LD context of the DLCS vocabulary, written on every resource. */
#define DLCS_CONTEXT "https://dlcs.github.io/vocab/context/future.json"

/* 0 when customer c exists, else the 404 (or 503) it answered. */
int customer_require(struct req *rq, int c);
/* 0 when space s of customer c exists, else the 404 (or 503) it answered. */
int space_require(struct req *rq, int c, int s);

/* Starts a resource object: {"@context":DLCS_CONTEXT,"@id":id,"@type":type, */
void resource_begin(struct jw *w, const char *id, const char *type);

/* Checks a member "@id" or "id" of a body against the resource the path
 * names; 400 when they disagree. id_url: the absolute @id; id: the short id
 * (NULL if the resource has none). */
struct yajl_val_s;
int body_id_agrees(struct req *rq, struct yajl_val_s *body, const char *id_url, const char *id);

#endif
