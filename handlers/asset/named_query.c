/* Named queries: lookup, run and seeds (asset/named_query.h). */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "ids.h"
#include "asset/named_query.h"
#include "asset/nq_template.h"
#include "asset/query.h"
#include "asset/row.h"
#include "banned.h"

#define NQ_COLS "id, customer_id, name, template, is_global"
enum { COL_ID, COL_CUSTOMER, COL_NAME, COL_TEMPLATE, COL_GLOBAL };

enum { SQL_LOOKUP, SQL_INSERT, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	/* (name, c, c): the customer's own first, then the globals by owner */
	[SQL_LOOKUP] = "SELECT " NQ_COLS " FROM named_queries WHERE name = ?"
		       " AND (customer_id = ? OR is_global = 1)"
		       " ORDER BY customer_id = ? DESC, customer_id LIMIT 1",
	/* (id, customer, name, template, global) */
	[SQL_INSERT] = "INSERT IGNORE INTO named_queries"
		       " (id, customer_id, name, template, is_global, created)"
		       " VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
};

/* Assets that are delivered: their channels are written by the API's
 * channels_resolve (compact, canonical), so this pattern finds "none" as
 * asset/channel_rules.h's channels_has does. */
#define NOT_DELIVERED "%\"channel\":\"none\"%"

bool nq_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > 100 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._~()-", c)))
			return false;
	}
	return true;
}

int nq_lookup(struct db *db, struct arena *a, int c, const char *name, struct named_query *out,
	      bool *found)
{
	*found = false;
	if (!nq_name_valid(name))
		return DB_OK;
	struct db_rows *r = db_query(db, a, SQL[SQL_LOOKUP], "sii", name, c, c);
	if (!r)
		return db_last_err(db);
	if (r->n == 0)
		return DB_OK;
	out->id = db_str(r, 0, COL_ID);
	out->customer = (int)db_int(r, 0, COL_CUSTOMER);
	out->name = db_str(r, 0, COL_NAME);
	out->template_text = db_str(r, 0, COL_TEMPLATE);
	out->global = db_int(r, 0, COL_GLOBAL) != 0;
	*found = true;
	return DB_OK;
}

/* The template of nq bound to the arguments: its WHERE (from " WHERE"),
 * ORDER BY and their parameters, with room for two more. 0 or 400. */
static int bind_query(struct arena *a, int c, const struct named_query *nq, const char *const *args,
		      size_t nargs, struct nq_result *out, const char **where, const char **order,
		      struct db_param **params, size_t *np, const char **why)
{
	struct nq_template t;
	struct asset_query *q = arena_alloc(a, sizeof *q);
	if ((*why = nq_template_parse(a, nq->template_text, &t)))
		return 400;
	if ((*why = nq_bind(a, &t, args, nargs, q, out->texts)))
		return 400;
	struct db_param *p;
	asset_query_sql(q, a, c, -1, where, order, &p, np);
	*params = arena_alloc(a, (*np + 2) * sizeof **params);
	memcpy(*params, p, *np * sizeof *p);
	return 0;
}

int nq_run(struct db *db, struct arena *a, int c, const struct named_query *nq,
	   const char *const *args, size_t nargs, size_t limit, struct nq_result *out,
	   const char **why)
{
	memset(out, 0, sizeof *out);
	const char *where, *order;
	struct db_param *all;
	size_t np;
	int rc = bind_query(a, c, nq, args, nargs, out, &where, &order, &all, &np, why);
	if (rc)
		return rc;
	all[np] = (struct db_param){.type = 's', .s = NOT_DELIVERED, .len = strlen(NOT_DELIVERED)};
	/* One more than the limit tells whether there were more. */
	all[np + 1] = (struct db_param){.type = 'l', .i = (long long)limit + 1};
	const char *sql = arena_printf(a,
				       "SELECT " ASSET_COLUMNS " FROM assets a%s"
				       " AND a.delivery_channels NOT LIKE ?%s LIMIT ?",
				       where, order);
	struct db_rows *r = db_query_params(db, a, sql, all, np + 2);
	if (!r)
		return -1;
	if (r->n > limit) {
		r->n = limit;
		out->truncated = true;
	}
	out->rows = r;
	return 0;
}

/* The longest decimal BIGINT UNSIGNED, its ';' and its ','. */
#define VERSION_TEXT_MAX 22

int nq_state(struct db *db, struct arena *a, int c, const struct named_query *nq,
	     const char *const *args, size_t nargs, size_t limit, long long *count,
	     const char **versions, const char **why)
{
	struct nq_result res;
	memset(&res, 0, sizeof res);
	const char *where, *order;
	struct db_param *all;
	size_t np;
	int rc = bind_query(a, c, nq, args, nargs, &res, &where, &order, &all, &np, why);
	if (rc)
		return rc;
	/* One aggregate row instead of a row per asset: a thousand rows cost
	 * MariaDB twice as much to send as to read, and sorting the versions
	 * as much again (unsorted, they come in the order of the plan's index;
	 * a new order only costs a rebuild, as two different sets of versions
	 * never give one text). The text holds `limit` versions whole; a longer
	 * one is cut (*count tells). Without the delivery filter, so that an
	 * index on the template's fields alone serves it; an asset's channels
	 * are in its row, so in its version. */
	const char *sql = arena_printf(a,
				       "SET STATEMENT group_concat_max_len = %zu FOR"
				       " SELECT COUNT(*), GROUP_CONCAT(a.row_version, ';'"
				       " SEPARATOR ',') FROM assets a%s",
				       (limit + 1) * VERSION_TEXT_MAX, where);
	struct db_rows *r = db_query_params(db, a, sql, all, np);
	if (!r || r->n != 1)
		return -1;
	*count = db_int(r, 0, 0);
	*versions = db_str(r, 0, 1) ? db_str(r, 0, 1) : "";
	/* Whole, or NULL: MariaDB cuts a GROUP_CONCAT longer than
	 * group_concat_max_len or max_allowed_packet with a mere warning, and a
	 * cut list could be another state's. Each version ends with ';': a cut
	 * list has fewer of them than the count (one cut inside a number too). */
	long long n = 0;
	for (const char *p = *versions; *p; p++)
		n += *p == ';';
	if (n != *count)
		*versions = NULL;
	return 0;
}

/* What a new customer finds in its namedQueries (CONTRACT section 10: "a
 * few samples"); README, "Named queries", documents them. */
static const struct {
	const char *name, *template_text;
} samples[] = {
	/* the classic: one book's pages, by string1, in number1 order */
	{"manifest", "s1=p1&canvas=n1"},
	/* a space, optionally narrowed to a string1, in number1 order */
	{"space-manifest", "space=p1&s1=p2&canvas=n1"},
	/* the PDF of one book, named after it */
	{"pdf", "s1=p1&canvas=n1&objectname={s1}.pdf"},
};

/* The admin customer's globals (also schema/007-named-queries.sql). */
static const struct {
	const char *name, *template_text;
} globals[] = {
	{"manifest-query", "manifest=p1&canvas=n1"},
	{"batch-query", "batch=p1&canvas=n1"},
};

int nq_seed(struct db *db, int customer, bool admin)
{
	char id[37];
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		uuid_make(id);
		if (db_exec(db, SQL[SQL_INSERT], "sissi", id, customer, samples[i].name,
			    samples[i].template_text, 0) < 0)
			return db_last_err(db);
	}
	for (size_t i = 0; admin && i < sizeof globals / sizeof globals[0]; i++) {
		uuid_make(id);
		if (db_exec(db, SQL[SQL_INSERT], "sissi", id, customer, globals[i].name,
			    globals[i].template_text, 1) < 0)
			return db_last_err(db);
	}
	return DB_OK;
}
