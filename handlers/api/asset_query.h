/* The asset query syntax (seeds/asset-query-syntax.txt, all of it): ?q={json}
 * with string1..3, number1..3, tags, roles, id, space, manifests (a single
 * value or an array meaning OR), the shortcut parameters ?string1= ...
 * ?number3= (and ?space= customer-wide), and orderBy / orderByDescending on
 * a whitelisted field. Turned into SQL from fixed fragments and whitelisted
 * column names, with every value bound. */
#ifndef DLCS_ASSET_QUERY_H
#define DLCS_ASSET_QUERY_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct db_param;
struct req;

#define AQ_MAX_VALUES 100

struct aq_values {
	size_t n;
	const char *s[AQ_MAX_VALUES]; /* string values */
	long long i[AQ_MAX_VALUES];   /* integer values (number*, space) */
};

enum aq_field {
	AQ_STRING1,
	AQ_STRING2,
	AQ_STRING3,
	AQ_NUMBER1,
	AQ_NUMBER2,
	AQ_NUMBER3,
	AQ_TAGS,
	AQ_ROLES,
	AQ_ID,
	AQ_SPACE,
	AQ_MANIFESTS,
	AQ__MAX
};

struct asset_query {
	struct aq_values v[AQ__MAX]; /* v[f].n == 0: no filter on f */
	const char *order_column;    /* whitelisted SQL column, NULL = default order */
	const char *order_field;     /* the API field name it came from */
	bool descending;
	const char *q_text; /* canonical re-serialised q (for paging links), or NULL */
};

/* Reads the query parameters of rq. customer_wide allows "space" (allImages).
 * Returns 0, or the 400 it answered naming the problem (malformed q, unknown
 * key, wrong type, unknown order field). */
int asset_query_parse(struct req *rq, bool customer_wide, struct asset_query *q);

/* Builds, for table alias "a" of `assets`:
 *   *where: " WHERE a.customer_id=? [AND a.space_id=?] AND ..." (space < 0: all spaces)
 *   *order: " ORDER BY <col> [DESC], a.space_id, a.id" (default: a.created, a.space_id, a.id)
 * and the parameters for the '?' of *where, in order, in the arena. */
void asset_query_sql(const struct asset_query *q, struct arena *a, int customer, int space,
		     const char **where, const char **order, struct db_param **params,
		     size_t *nparams);

#endif
