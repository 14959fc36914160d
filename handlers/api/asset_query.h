/* The asset query syntax (seeds/asset-query-syntax.txt, all of it) as the
 * API reads it from a request: ?q={json} with string1..3, number1..3, tags,
 * roles, id, space, manifests (a single value or an array meaning OR), the
 * shortcut parameters ?string1= ... ?number3= (and ?space= customer-wide),
 * and orderBy / orderByDescending on a whitelisted field. The typed query
 * and its SQL are asset/query.h's. */
#ifndef DLCS_API_ASSET_QUERY_H
#define DLCS_API_ASSET_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "asset/query.h"

struct req;

/* Reads the query parameters of rq. customer_wide allows "space" (allImages).
 * Returns 0, or the 400 it answered naming the problem (malformed q, unknown
 * key, wrong type, unknown order field). */
int asset_query_parse(struct req *rq, bool customer_wide, struct asset_query *q);

#endif
