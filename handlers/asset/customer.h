/* A new customer, as both the API (POST /customers) and dlcs-admin
 * (bootstrap) make it. */
#ifndef DLCS_ASSET_CUSTOMER_H
#define DLCS_ASSET_CUSTOMER_H

#include <stdbool.h>

struct arena;
struct db;

/* Creates customer `id` (0: mint the next id) with its own copies of the
 * non-system delivery channel policies (thumbs/default,
 * iiif-av/default-audio, iiif-av/default-video) and the seeded defaults
 * ("image/" + '*' -> iiif-img/default + thumbs/default, audio ->
 * iiif-av/default-audio, video -> iiif-av/default-video, application ->
 * file/none), the sample named queries (and for the admin customer the
 * global ones: asset/named_query.h), inside the caller's transaction. *out_id receives the id.
 * Returns DB_OK or the db error. */
int customer_insert(struct db *db, struct arena *a, int id, const char *name,
		    const char *display_name, bool admin, int *out_id);

#endif
