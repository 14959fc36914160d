/* The projections' table and keys (asset/projection.h). */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "json.h"
#include "sha256.h"
#include "str.h"
#include "asset/named_query.h"
#include "asset/projection.h"
#include "asset/row.h"
#include "banned.h"

#define PROJ_COLUMNS                                                                               \
	"id, customer_id, kind, query_name, args, want_hash, made_hash, state, file, created,"     \
	" item_count, size_bytes, roles, error, TIMESTAMPDIFF(SECOND, requested, NOW(6))"
enum {
	PC_ID,
	PC_CUSTOMER,
	PC_KIND,
	PC_NAME,
	PC_ARGS,
	PC_WANT,
	PC_MADE,
	PC_STATE,
	PC_FILE,
	PC_CREATED,
	PC_ITEMS,
	PC_BYTES,
	PC_ROLES,
	PC_ERROR,
	PC_REQUESTED_AGE,
};

enum { SQL_GET, SQL_REQUEST, SQL_CLAIM, SQL_CLAIMED, SQL_RENEW, SQL_COMPLETE, SQL_FAIL, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_GET] = "SELECT " PROJ_COLUMNS " FROM projections"
		    " WHERE customer_id = ? AND kind = ? AND query_name = ? AND args_key = ?",
	/* A new request, or another result: queued, and whoever was making
	 * the old one loses the lease (its completion matches no row). */
	[SQL_REQUEST] =
		"INSERT INTO projections (customer_id, kind, query_name, args_key, args,"
		" want_hash, state, requested) VALUES (?, ?, ?, ?, ?, ?, 'queued', NOW(6))"
		" ON DUPLICATE KEY UPDATE args = VALUES(args), want_hash = VALUES(want_hash),"
		" state = 'queued', requested = NOW(6), error = NULL, lease_owner = NULL,"
		" lease_until = NULL",
	[SQL_CLAIM] = "UPDATE projections SET state = 'making', lease_owner = ?,"
		      " lease_until = NOW(6) + INTERVAL ? SECOND"
		      " WHERE state = 'queued' OR (state = 'making' AND lease_until < NOW(6))"
		      " ORDER BY requested LIMIT 1",
	[SQL_CLAIMED] = "SELECT " PROJ_COLUMNS " FROM projections"
			" WHERE lease_owner = ? AND state = 'making' ORDER BY requested LIMIT 1",
	[SQL_RENEW] = "UPDATE projections SET lease_until = NOW(6) + INTERVAL ? SECOND"
		      " WHERE id = ? AND lease_owner = ? AND state = 'making'",
	[SQL_COMPLETE] =
		"UPDATE projections SET state = IF(want_hash = ?, 'done', 'queued'),"
		" made_hash = ?, file = ?, created = NOW(6), item_count = ?,"
		" size_bytes = ?, roles = ?, error = NULL, lease_owner = NULL,"
		" lease_until = NULL WHERE id = ? AND lease_owner = ? AND state = 'making'",
	[SQL_FAIL] = "UPDATE projections SET state = 'error',"
		     " error = ?, lease_owner = NULL, lease_until = NULL"
		     " WHERE id = ? AND lease_owner = ? AND state = 'making'",
};

static const char *const KIND[] = {[PROJ_PDF] = "pdf", [PROJ_ZIP] = "zip"};

const char *proj_kind_name(enum proj_kind k)
{
	return KIND[k];
}

bool proj_kind_parse(const char *name, enum proj_kind *out)
{
	for (int k = PROJ_PDF; k <= PROJ_ZIP; k++)
		if (name && strcmp(name, KIND[k]) == 0) {
			*out = (enum proj_kind)k;
			return true;
		}
	return false;
}

void proj_args_key(const char *name, const char *const *args, size_t nargs, char hex[65])
{
	/* the parts with their terminating NULs: ("a", "b/c") and ("a/b", "c")
	 * differ */
	size_t len = strlen(name) + 1;
	for (size_t i = 0; i < nargs; i++)
		len += strlen(args[i]) + 1;
	struct arena *a = arena_new(len + 64);
	char *buf = arena_alloc(a, len), *p = buf;
	memcpy(p, name, strlen(name) + 1);
	p += strlen(name) + 1;
	for (size_t i = 0; i < nargs; i++) {
		memcpy(p, args[i], strlen(args[i]) + 1);
		p += strlen(args[i]) + 1;
	}
	sha256_hex(buf, len, hex);
	arena_free(a);
}

const char *proj_args_json(struct arena *a, const char *const *args, size_t nargs)
{
	struct jw *w = jw_new(a);
	jw_arr(w);
	for (size_t i = 0; i < nargs; i++)
		jw_str(w, args[i]);
	jw_arr_end(w);
	return jw_text(w, NULL);
}

const char **proj_args_parse(struct arena *a, const char *json, size_t *n)
{
	yajl_val v = json ? json_parse(a, json, strlen(json), NULL) : NULL;
	if (!v || !YAJL_IS_ARRAY(v))
		return NULL;
	size_t len = v->u.array.len;
	const char **out = arena_alloc(a, (len ? len : 1) * sizeof *out);
	for (size_t i = 0; i < len; i++) {
		if (!YAJL_IS_STRING(v->u.array.values[i]))
			return NULL;
		out[i] = v->u.array.values[i]->u.string;
	}
	*n = len;
	return out;
}

/* A cell, with its length first: no value can pass for two. */
static void hash_cell(struct sbuf *b, const char *s)
{
	sbuf_printf(b, "%zu:", s ? strlen(s) : (size_t)0);
	sbuf_adds(b, s ? s : "");
}

void proj_result_hash(enum proj_kind k, const struct nq_result *res, char hex[65])
{
	static const int cols[] = {ACOL_SPACE,    ACOL_ID,
				   ACOL_FINISHED, ACOL_WIDTH,
				   ACOL_HEIGHT,   ACOL_DELIVERY_CHANNELS,
				   ACOL_ROLES,    ACOL_MAX_UNAUTHORISED,
				   ACOL_ERROR};
	struct arena *a = arena_new(64 * 1024);
	struct sbuf b;
	sbuf_init(&b, a);
	sbuf_printf(&b, "%s\n", KIND[k]);
	hash_cell(&b, res->texts[0]); /* objectname */
	hash_cell(&b, res->texts[2]); /* redactedmessage */
	/* only when given: the hashes of projections without one stay as
	 * they were before covers were made */
	if (res->texts[1] && *res->texts[1])
		hash_cell(&b, res->texts[1]); /* coverpage */
	for (size_t i = 0; i < res->rows->n; i++) {
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
			hash_cell(&b, db_str(res->rows, i, (size_t)cols[c]));
		sbuf_addc(&b, '\n');
	}
	sha256_hex(b.buf, b.len, hex);
	arena_free(a);
}

static enum proj_state state_of(const char *s)
{
	return !s                         ? PROJ_ERROR
	       : strcmp(s, "queued") == 0 ? PROJ_QUEUED
	       : strcmp(s, "making") == 0 ? PROJ_MAKING
	       : strcmp(s, "done") == 0   ? PROJ_DONE
					  : PROJ_ERROR;
}

static void from_row(struct arena *a, const struct db_rows *r, struct projection *p)
{
	memset(p, 0, sizeof *p);
	p->id = db_int(r, 0, PC_ID);
	p->customer = (int)db_int(r, 0, PC_CUSTOMER);
	if (!proj_kind_parse(db_str(r, 0, PC_KIND), &p->kind))
		p->kind = PROJ_PDF;
	p->name = db_str(r, 0, PC_NAME);
	p->args_json = db_str(r, 0, PC_ARGS);
	p->want_hash = db_str(r, 0, PC_WANT);
	p->made_hash = db_str(r, 0, PC_MADE);
	p->state = state_of(db_str(r, 0, PC_STATE));
	p->file = db_str(r, 0, PC_FILE);
	p->created = db_time(a, r, 0, PC_CREATED);
	p->item_count = db_int(r, 0, PC_ITEMS);
	p->size_bytes = db_int(r, 0, PC_BYTES);
	p->roles = db_str(r, 0, PC_ROLES);
	p->error = db_str(r, 0, PC_ERROR);
	p->requested_age = db_int(r, 0, PC_REQUESTED_AGE);
}

int proj_get(struct db *db, struct arena *a, int c, enum proj_kind k, const char *name,
	     const char *key, struct projection *out)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_GET], "isss", c, KIND[k], name, key);
	if (!r)
		return db_last_err(db) ? db_last_err(db) : DB_EFAIL;
	if (r->n == 0)
		return 0;
	from_row(a, r, out);
	return 1;
}

int proj_request(struct db *db, int c, enum proj_kind k, const char *name, const char *key,
		 const char *args_json, const char *want_hash)
{
	long long rc = db_exec(db, SQL[SQL_REQUEST], "isssss", c, KIND[k], name, key, args_json,
			       want_hash);
	return rc < 0 ? (int)rc : DB_OK;
}

int proj_claim(struct db *db, struct arena *a, const char *owner, int lease_seconds,
	       struct projection *out)
{
	long long rc = db_exec(db, SQL[SQL_CLAIM], "si", owner, lease_seconds);
	if (rc <= 0)
		return (int)rc;
	struct db_rows *r = db_query(db, a, SQL[SQL_CLAIMED], "s", owner);
	if (!r)
		return db_last_err(db) ? db_last_err(db) : DB_EFAIL;
	if (r->n == 0)
		return 0;
	from_row(a, r, out);
	return 1;
}

int proj_renew(struct db *db, long long id, const char *owner, int lease_seconds)
{
	long long rc = db_exec(db, SQL[SQL_RENEW], "ils", lease_seconds, id, owner);
	return rc < 0 ? (int)rc : rc > 0;
}

int proj_complete(struct db *db, long long id, const char *owner, const char *made_hash,
		  const char *file, long long item_count, long long size_bytes, const char *roles)
{
	long long rc = db_exec(db, SQL[SQL_COMPLETE], "sssllsls", made_hash, made_hash, file,
			       item_count, size_bytes, roles, id, owner);
	return rc < 0 ? (int)rc : rc > 0;
}

int proj_fail(struct db *db, long long id, const char *owner, const char *error)
{
	long long rc = db_exec(db, SQL[SQL_FAIL], "sls", error, id, owner);
	return rc < 0 ? (int)rc : rc > 0;
}

const char *proj_file_rel(struct arena *a, int c, enum proj_kind k, const char *key,
			  const char *hash)
{
	return arena_printf(a, "projections/%d/%s/%.64s-%.16s.%s", c, KIND[k], key, hash, KIND[k]);
}
