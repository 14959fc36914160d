/* A customer's origin strategies (vocab:CustomerOriginStrategy): which
 * regex of origin URLs is fetched how, and with which credentials. The
 * validation rules live in ingest/origin.c so that what is stored here is
 * exactly what ingest applies. Stored credentials never leave the database
 * through the API: they are not even selected, and show as "xxx". */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/origin_rules.h"
#include "banned.h"

#define REGEX_MAX          1000  /* origin_strategies.regex VARCHAR(1000) */
#define CREDENTIALS_HIDDEN "xxx" /* what output shows for stored credentials */

#define OS_COLS "id, regex, strategy, credentials IS NOT NULL, optimised, sort_order"
enum { COL_ID, COL_REGEX, COL_STRATEGY, COL_HAS_CREDS, COL_OPTIMISED, COL_ORDER };

enum {
	SQL_OS_COUNT,
	SQL_OS_LIST,
	SQL_OS_GET,
	SQL_OS_LOCK_CUSTOMER,
	SQL_OS_REGEX_OWNER,
	SQL_OS_INSERT,
	SQL_OS_UPDATE,
	SQL_OS_UPDATE_KEEP_CREDS,
	SQL_OS_DELETE,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_OS_COUNT] = "SELECT COUNT(*) FROM origin_strategies WHERE customer_id = ?",
	[SQL_OS_LIST] = "SELECT " OS_COLS " FROM origin_strategies WHERE customer_id = ?"
			" ORDER BY sort_order, created, id LIMIT ? OFFSET ?",
	[SQL_OS_GET] = "SELECT " OS_COLS " FROM origin_strategies WHERE customer_id = ? AND id = ?",
	/* Serialises writers of one customer's strategies, so the duplicate
	 * regex check cannot race (a TEXT-sized regex has no unique key). */
	[SQL_OS_LOCK_CUSTOMER] = "SELECT id FROM customers WHERE id = ? FOR UPDATE",
	[SQL_OS_REGEX_OWNER] = "SELECT id FROM origin_strategies WHERE customer_id = ?"
			       " AND regex = ?",
	[SQL_OS_INSERT] = "INSERT INTO origin_strategies (id, customer_id, regex, strategy,"
			  " credentials, optimised, sort_order, created)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	[SQL_OS_UPDATE] = "UPDATE origin_strategies SET regex = ?, strategy = ?, credentials = ?,"
			  " optimised = ?, sort_order = ? WHERE customer_id = ? AND id = ?",
	[SQL_OS_UPDATE_KEEP_CREDS] = "UPDATE origin_strategies SET regex = ?, strategy = ?,"
				     " optimised = ?, sort_order = ?"
				     " WHERE customer_id = ? AND id = ?",
	[SQL_OS_DELETE] = "DELETE FROM origin_strategies WHERE customer_id = ? AND id = ?",
};

static void os_write(struct jw *w, struct req *rq, int c, const struct db_rows *r, size_t i)
{
	const char *id = db_str(r, i, COL_ID);
	resource_begin(w, req_url(rq, "/customers/%d/originStrategies/%s", c, id),
		       "vocab:CustomerOriginStrategy");
	jw_kstr(w, "id", id);
	jw_kstr(w, "regex", db_str(r, i, COL_REGEX));
	jw_kstr(w, "strategy", req_url(rq, "/originStrategies/%s", db_str(r, i, COL_STRATEGY)));
	if (db_int(r, i, COL_HAS_CREDS))
		jw_kstr(w, "credentials", CREDENTIALS_HIDDEN);
	jw_kbool(w, "optimised", db_int(r, i, COL_OPTIMISED) != 0);
	jw_kint(w, "order", db_int(r, i, COL_ORDER));
	jw_obj_end(w);
}

/* The writable fields of a strategy, read from a body. */
struct os_input {
	const char *regex;
	const char *strategy;    /* canonical name */
	const char *credentials; /* canonical JSON text, NULL when none */
	bool keep_credentials;   /* "xxx" sent back: keep what is stored (PUT only) */
	bool optimised;
	long long order;
};

static int os_read(struct req *rq, struct os_input *in)
{
	static const char *const allowed[] = {"@context", "@id",      "@type",       "id",
					      "regex",    "strategy", "credentials", "optimised",
					      "order",    NULL};
	const char *strategy, *why;
	bool present;
	int st;
	memset(in, 0, sizeof *in);
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str_req(rq, rq->json, "regex", &in->regex)) ||
	    (st = jin_str_req(rq, rq->json, "strategy", &strategy)) ||
	    (st = jin_bool(rq, rq->json, "optimised", &in->optimised, &present)) ||
	    (st = jin_int(rq, rq->json, "order", INT32_MIN, INT32_MAX, &in->order, &present)))
		return st;
	if (strlen(in->regex) > REGEX_MAX)
		return req_fail(rq, 400, "'regex' must be at most %d characters", REGEX_MAX);
	if ((why = origin_regex_check(rq->arena, in->regex)))
		return req_fail(rq, 400, "'regex' %s", why);
	if (!(in->strategy = origin_strategy_name(strategy)))
		return req_fail(rq, 400,
				"'strategy' must be default or basic-http-authentication"
				" (or a URL ending in /originStrategies/<name>)");

	yajl_val cv = json_get(rq->json, "credentials");
	bool given = cv && cv->type != yajl_t_null &&
		     !(cv->type == yajl_t_string && cv->u.string[0] == '\0');
	if (!origin_strategy_needs_credentials(in->strategy)) {
		if (given)
			return req_fail(rq, 400,
					"'credentials' can only be given with"
					" basic-http-authentication");
		return 0;
	}
	if (!given)
		return req_fail(rq, 400,
				"'credentials' are required for basic-http-authentication");
	if (cv->type == yajl_t_string && strcmp(cv->u.string, CREDENTIALS_HIDDEN) == 0) {
		in->keep_credentials = true;
		return 0;
	}
	const char *user, *password;
	if ((why = origin_credentials_read(rq->arena, cv, &user, &password)))
		return req_fail(rq, 400, "'credentials' %s", why);
	/* Stored re-serialised: exactly {"user","password"}, nothing else kept. */
	struct jw *w = jw_new(rq->arena);
	jw_obj(w);
	jw_kstr(w, "user", user);
	jw_kstr(w, "password", password);
	jw_obj_end(w);
	if (!(in->credentials = jw_text(w, NULL)))
		return req_fail(rq, 400, "'credentials' must be valid UTF-8");
	return 0;
}

static int os_answer(struct req *rq, int c, const char *id, int status)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_OS_GET], "is", c, id);
	if (!r)
		return req_db_fail(rq, "reading the origin strategy");
	if (r->n == 0)
		return req_fail(rq, 404, "origin strategy %s not found", id);
	if (status == 201)
		req_header(rq, "Location", req_url(rq, "/customers/%d/originStrategies/%s", c, id));
	os_write(req_json(rq), rq, c, r, 0);
	return status;
}

/* Inserts or (when it exists and !create_only) replaces strategy id, in one
 * transaction that holds the customer's lock. Returns 0 or the status it
 * answered: 409 for a regex another strategy of the customer has, an id
 * another customer uses, or an existing id with create_only (the caller
 * returns it, and the core rolls the transaction back). */
static int os_save(struct req *rq, int c, const char *id, const struct os_input *in,
		   bool create_only, bool *created)
{
	struct db *db = rq->app->db;
	const char *what = "saving the origin strategy";
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, what);
	struct db_rows *lock = db_query(db, rq->arena, SQL[SQL_OS_LOCK_CUSTOMER], "i", c);
	struct db_rows *cur = lock ? db_query(db, rq->arena, SQL[SQL_OS_GET], "is", c, id) : NULL;
	struct db_rows *dup =
		cur ? db_query(db, rq->arena, SQL[SQL_OS_REGEX_OWNER], "is", c, in->regex) : NULL;
	int st = 0;
	if (!dup) {
		st = req_db_fail(rq, what);
	} else if (lock->n == 0) {
		st = req_fail(rq, 404, "customer %d not found", c);
	} else if (create_only && cur->n) {
		st = req_fail(rq, 409, "origin strategy %s already exists (use PUT to replace it)",
			      id);
	} else if (dup->n && !str_ieq(db_str(dup, 0, 0), id)) {
		st = req_fail(rq, 409, "an origin strategy with regex '%s' already exists (%s)",
			      in->regex, db_str(dup, 0, 0));
	} else if (in->keep_credentials && (cur->n == 0 || !db_int(cur, 0, COL_HAS_CREDS))) {
		st = req_fail(rq, 400,
			      "'credentials' must be JSON {\"user\",\"password\"}"
			      " (\"" CREDENTIALS_HIDDEN "\" keeps stored credentials)");
	}
	if (st)
		return st;
	*created = cur->n == 0;
	long long rc;
	if (*created)
		rc = db_exec(db, SQL[SQL_OS_INSERT], "sisssii", id, c, in->regex, in->strategy,
			     in->credentials, (int)in->optimised, (int)in->order);
	else if (in->keep_credentials)
		rc = db_exec(db, SQL[SQL_OS_UPDATE_KEEP_CREDS], "ssiiis", in->regex, in->strategy,
			     (int)in->optimised, (int)in->order, c, id);
	else
		rc = db_exec(db, SQL[SQL_OS_UPDATE], "sssiiis", in->regex, in->strategy,
			     in->credentials, (int)in->optimised, (int)in->order, c, id);
	if (rc < 0)
		return db_last_err(db) == DB_EDUP
			       ? req_fail(rq, 409, "origin strategy id %s is already in use", id)
			       : req_db_fail(rq, what);
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, what);
	return 0;
}

static void os_member(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	os_write(w, rq, (int)rq->ints[0], r, i);
}

int origin_strategies_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(
		rq, c, arena_printf(rq->arena, "/customers/%d/originStrategies", c),
		SQL[SQL_OS_COUNT], SQL[SQL_OS_LIST], os_member, "listing origin strategies");
}

int origin_strategies_create(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st;
	/* The seed lets a POST choose the id; otherwise one is minted. */
	char minted[37];
	const char *given = NULL, *id;
	bool present;
	if ((st = jin_str(rq, rq->json, "id", &given, &present)))
		return st;
	if (present) {
		if (!(id = uuid_canonical(rq->arena, given)))
			return req_fail(rq, 400, "'id' must be a UUID");
	} else {
		uuid_make(minted);
		id = minted;
	}
	if ((st = body_id_agrees(rq, rq->json,
				 req_url(rq, "/customers/%d/originStrategies/%s", c, id), NULL)))
		return st;
	struct os_input in;
	if ((st = os_read(rq, &in)))
		return st;
	if (in.keep_credentials)
		return req_fail(rq, 400, "'credentials' must be JSON {\"user\",\"password\"}");
	bool created = false;
	if ((st = os_save(rq, c, id, &in, true, &created)))
		return st;
	return os_answer(rq, c, id, 201);
}

int origin_strategy_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 404, "origin strategy not found");
	return os_answer(rq, c, id, 200);
}

int origin_strategy_put(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st;
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 400, "origin strategy id '%s' is not a UUID", rq->strs[0]);
	if ((st = body_uuid_agrees(rq, req_url(rq, "/customers/%d/originStrategies/%s", c, id),
				   id)))
		return st;
	struct os_input in;
	if ((st = os_read(rq, &in)))
		return st;
	bool created = false;
	if ((st = os_save(rq, c, id, &in, false, &created)))
		return st;
	return os_answer(rq, c, id, created ? 201 : 200);
}

int origin_strategy_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *id = uuid_canonical(rq->arena, rq->strs[0]);
	if (!id)
		return req_fail(rq, 404, "origin strategy not found");
	long long n = db_exec(rq->app->db, SQL[SQL_OS_DELETE], "is", c, id);
	if (n < 0)
		return req_db_fail(rq, "deleting the origin strategy");
	if (n == 0)
		return req_fail(rq, 404, "origin strategy %s not found", id);
	return 204;
}
