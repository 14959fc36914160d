/* The typed asset query and the one SQL statement it becomes: the filters of
 * the asset query syntax (seeds/asset-query-syntax.txt: string1..3,
 * number1..3, tags, roles, id, space, manifests; several values mean OR)
 * and those only named queries have (batch, spacename), then the order.
 * The API reads a query from a request (api/asset_query.h), a named query
 * from its template (asset/nq_template.h); both are run through
 * asset_query_sql, made only of fixed fragments and whitelisted column
 * names, with every value bound. */
#ifndef DLCS_ASSET_QUERY_H
#define DLCS_ASSET_QUERY_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct db_param;

#define AQ_MAX_VALUES 100
#define AQ_MAX_ORDER  8

struct aq_values {
	size_t n;
	const char *s[AQ_MAX_VALUES]; /* string values */
	long long i[AQ_MAX_VALUES];   /* integer values (number*, space, batch) */
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
	AQ_BATCH,     /* named queries: in any of these batches (batch_assets, the history) */
	AQ_SPACENAME, /* named queries: in the space of this name */
	AQ__MAX
};

enum aq_kind {
	AQK_STRING,    /* string values compared with a scalar column */
	AQK_NUMBER,    /* non-negative integers */
	AQK_SPACE,     /* a space id */
	AQK_LIST,      /* strings matched against an indexed list table */
	AQK_ID,        /* asset ids */
	AQK_BATCH,     /* batch ids */
	AQK_SPACENAME, /* space names */
};

struct aq_def {
	const char *name; /* key in q, and the shortcut parameter when shortcut */
	enum aq_kind kind;
	bool shortcut;      /* also a ?name= parameter of the API */
	bool api;           /* part of the API's asset query syntax */
	const char *column; /* scalar column of alias a, or the list table's value column */
	const char *table;  /* list table (AQK_LIST) */
};

extern const struct aq_def aq_defs[AQ__MAX];

/* True for the fields whose values are integers (v.i), false for strings (v.s). */
bool aq_field_numeric(enum aq_field f);

/* One key of an ORDER BY: a whitelisted column of alias a. */
struct aq_order {
	const char *column;
	bool descending;
};

struct asset_query {
	struct aq_values v[AQ__MAX]; /* v[f].n == 0: no filter on f */
	const char *order_column;    /* whitelisted SQL column, NULL = default order */
	const char *order_field;     /* the API field name it came from */
	bool descending;
	/* further keys after order_column (named queries' assetOrder) */
	struct aq_order then[AQ_MAX_ORDER - 1];
	size_t nthen;
	const char *q_text; /* canonical re-serialised q (for paging links), or NULL */
};

/* Builds, for table alias "a" of `assets`:
 *   *where: " WHERE a.customer_id=? [AND a.space_id=?] AND ..." (space < 0: all spaces)
 *   *order: " ORDER BY <col> [DESC][, <then>...], a.space_id, a.id" (default:
 *           a.created, a.space_id, a.id)
 * and the parameters for the '?' of *where, in order, in the arena. */
void asset_query_sql(const struct asset_query *q, struct arena *a, int customer, int space,
		     const char **where, const char **order, struct db_param **params,
		     size_t *nparams);

#endif
