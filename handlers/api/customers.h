#ifndef DLCS_CUSTOMERS_H
#define DLCS_CUSTOMERS_H

#include <stdbool.h>

struct arena;
struct db;

/* Creates customer `id` (0: mint the next id) with its seeded delivery
 * channel policies and defaults, inside the caller's transaction. *out_id
 * receives the id. Returns DB_OK or the db error. */
int customer_insert(struct db *db, struct arena *a, int id, const char *name,
		    const char *display_name, bool admin, int *out_id);

#endif
