/* Named queries as stored (schema/007-named-queries.sql) and run: the one
 * lookup by name that delivery and the runners share, and nq_run, which
 * turns a named query and a request's arguments into the ordered asset rows
 * it selects, in one SQL statement. The API's CRUD is api/named_queries.c;
 * the template syntax is asset/nq_template.h. */
#ifndef DLCS_ASSET_NAMED_QUERY_H
#define DLCS_ASSET_NAMED_QUERY_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct db;
struct db_rows;

/* A name: 1..100 of [A-Za-z0-9._~()-], not "." or ".." (it is a path
 * segment of public URLs). */
bool nq_name_valid(const char *name);

struct named_query {
	const char *id; /* GUID */
	int customer;   /* the owner */
	const char *name, *template_text;
	bool global;
};

/* The query `name` as customer c sees it: its own, else a global one (of
 * the lowest customer id). DB_OK with *found set, or the db error. */
int nq_lookup(struct db *db, struct arena *a, int c, const char *name, struct named_query *out,
	      bool *found);

/* What running a named query gives. */
struct nq_result {
	struct db_rows *rows; /* ASSET_COLUMNS (asset/row.h), in the template's order */
	bool truncated;       /* more assets matched than the limit: rows holds the first */
	const char *texts[3]; /* objectname, coverpage, redactedmessage (asset/nq_template.h) */
};

/* Runs named query nq for customer c with the request's arguments (decoded
 * path segments): its template parsed, bound, and run as one statement over
 * c's assets that have a delivery channel, at most `limit` rows. 0; or 400
 * with *why (arena text: a template that no longer parses, arguments that
 * do not fit it); or -1 for a database error (db_last_err). */
int nq_run(struct db *db, struct arena *a, int c, const struct named_query *nq,
	   const char *const *args, size_t nargs, size_t limit, struct nq_result *out,
	   const char **why);

/* The state of what nq_run would select, without reading it: how many
 * assets match the query (those without a delivery channel too, so that
 * the count may be above nq_run's) and their row versions (asset/row.h),
 * as "v1;,v2;,..." (arena text, "" for none). A row version is never given
 * twice, so two different states never give the same text (one state may
 * give two, should MariaDB read the rows in another order); which assets
 * nq_run shows, and in which order, follows from the rows. *versions is
 * NULL when MariaDB could not give the whole list (more than `limit`
 * versions, or more than its max_allowed_packet). Returns as nq_run. */
int nq_state(struct db *db, struct arena *a, int c, const struct named_query *nq,
	     const char *const *args, size_t nargs, size_t limit, long long *count,
	     const char **versions, const char **why);

/* The sample queries every new customer gets, and the global ones of the
 * admin customer, inside the caller's transaction (asset/customer.c). DB_OK
 * or the db error. */
int nq_seed(struct db *db, int customer, bool admin);

#endif
