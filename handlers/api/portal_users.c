/* A customer's portal users (vocab:PortalUser, CONTRACT section 11): e-mail,
 * password, enabled, roles. The rules and the password hashing are
 * asset/portal_user.h's, which the login of the access-control flow uses
 * too. The password is write-only: it is hashed before it reaches the
 * database, never selected back, never in a message or a log line. */
#include <stdbool.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/roles.h"
#include "api/handlers.h"
#include "asset/portal_user.h"
#include "banned.h"

#define ROLE_MAX_CHARS 500   /* as an asset's roles */
#define ROLES_MAX      100   /* per user */
#define ROLES_MAX_TEXT 65535 /* portal_users.roles TEXT */

#define PU_COLS "id, email, enabled, roles, created"
enum { COL_ID, COL_EMAIL, COL_ENABLED, COL_ROLES, COL_CREATED };

enum {
	SQL_PU_COUNT,
	SQL_PU_LIST,
	SQL_PU_GET,
	SQL_PU_INSERT,
	SQL_PU_UPDATE,
	SQL_PU_DELETE,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_PU_COUNT] = "SELECT COUNT(*) FROM portal_users WHERE customer_id = ?",
	[SQL_PU_LIST] = "SELECT " PU_COLS " FROM portal_users WHERE customer_id = ?"
			" ORDER BY created, id LIMIT ? OFFSET ?",
	[SQL_PU_GET] = "SELECT " PU_COLS " FROM portal_users WHERE customer_id = ? AND id = ?",
	[SQL_PU_INSERT] = "INSERT INTO portal_users (id, customer_id, email, password_hash,"
			  " enabled, roles, created) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	/* A PATCH: a NULL parameter keeps the field. */
	[SQL_PU_UPDATE] = "UPDATE portal_users SET email = COALESCE(?, email),"
			  " password_hash = COALESCE(?, password_hash),"
			  " enabled = COALESCE(?, enabled), roles = COALESCE(?, roles)"
			  " WHERE customer_id = ? AND id = ?",
	[SQL_PU_DELETE] = "DELETE FROM portal_users WHERE customer_id = ? AND id = ?",
};

static const char *user_url(struct req *rq, int c, const char *id)
{
	return req_url(rq, "/customers/%d/portalUsers/%s", c, id);
}

static void pu_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	const char *id = db_str(r, i, COL_ID);
	resource_begin(w, user_url(rq, (int)rq->ints[0], id), "vocab:PortalUser");
	jw_kstr(w, "id", id);
	jw_kstr(w, "email", db_str(r, i, COL_EMAIL));
	jw_kstr(w, "created", db_time(rq->arena, r, i, COL_CREATED));
	jw_kbool(w, "enabled", db_int(r, i, COL_ENABLED) != 0);
	jw_key(w, "roles");
	jw_json_text(w, db_str(r, i, COL_ROLES));
	jw_obj_end(w);
}

/* What a body sets; NULL (or !has_enabled) keeps what is stored. */
struct pu_input {
	const char *email;
	const char *password_hash;
	bool has_enabled, enabled;
	const char *roles; /* JSON array text */
};

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int read_roles(struct req *rq, struct pu_input *in)
{
	yajl_val roles = NULL;
	bool present = false;
	int st = jin_str_array(rq, rq->json, "roles", &roles, &present);
	if (st || !present)
		return st;
	if (roles->u.array.len > ROLES_MAX)
		return req_fail(rq, 400, "'roles' may hold at most %d roles", ROLES_MAX);
	for (size_t i = 0; i < roles->u.array.len; i++) {
		size_t n = utf8_chars(roles->u.array.values[i]->u.string);
		if (n == 0 || n > ROLE_MAX_CHARS)
			return req_fail(rq, 400, "'roles': each value must be 1 to %d characters",
					ROLE_MAX_CHARS);
	}
	const char **uris = arena_alloc(rq->arena, roles->u.array.len * sizeof *uris + 1);
	for (size_t i = 0; i < roles->u.array.len; i++)
		uris[i] = roles->u.array.values[i]->u.string;
	if ((st = roles_check(rq, (int)rq->ints[0], "roles", uris, roles->u.array.len, NULL)))
		return st;
	in->roles = json_to_text(rq->arena, roles);
	if (strlen(in->roles) > ROLES_MAX_TEXT)
		return req_fail(rq, 400, "'roles' is too long");
	return 0;
}

/* Reads a POST (create: email and password required) or PATCH body. The
 * messages name the field, never the password's value. */
static int pu_read(struct req *rq, bool create, struct pu_input *in)
{
	static const char *const allowed[] = {"@context", "@id",     "@type", "id", "email",
					      "password", "enabled", "roles", NULL};
	const char *password = NULL, *why;
	bool has_email = false, has_password = false;
	int st;
	memset(in, 0, sizeof *in);
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str(rq, rq->json, "email", &in->email, &has_email)) ||
	    (st = jin_str(rq, rq->json, "password", &password, &has_password)) ||
	    (st = jin_bool(rq, rq->json, "enabled", &in->enabled, &in->has_enabled)) ||
	    (st = read_roles(rq, in)))
		return st;
	if (create && !has_email)
		return req_fail(rq, 400, "'email' is required");
	if (has_email && (why = portal_email_problem(in->email)))
		return req_fail(rq, 400, "'email' %s", why);
	if (create && !has_password)
		return req_fail(rq, 400, "'password' is required");
	if (has_password) {
		if ((why = portal_password_problem(password)))
			return req_fail(rq, 400, "'password' %s", why);
		if (!(in->password_hash = portal_password_hash(rq->arena, password)))
			return req_fail(rq, 500, "the password could not be hashed");
	}
	if (create && !in->roles)
		in->roles = "[]";
	return 0;
}

static int pu_answer(struct req *rq, int c, const char *id, int status)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_PU_GET], "is", c, id);
	if (!r)
		return req_db_fail(rq, "reading the portal user");
	if (r->n == 0)
		return req_fail(rq, 404, "portal user %s not found", id);
	if (status == 201)
		req_header(rq, "Location", user_url(rq, c, id));
	pu_write(req_json(rq), rq, r, 0);
	return status;
}

/* A write that failed: 409 when the e-mail is another user's (the unique
 * key), else the database's error. */
static int pu_write_fail(struct req *rq, int c, const char *email, const char *what)
{
	if (db_last_err(rq->app->db) == DB_EDUP)
		return req_fail(rq, 409, "customer %d already has a portal user with e-mail '%s'",
				c, email ? email : "");
	return req_db_fail(rq, what);
}

/* The path's user id, canonical; NULL when it is not a UUID. */
static const char *path_user(struct req *rq)
{
	return uuid_canonical(rq->arena, rq->strs[0]);
}

int portal_users_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/portalUsers", c),
				  SQL[SQL_PU_COUNT], SQL[SQL_PU_LIST], pu_write,
				  "listing portal users");
}

int portal_users_create(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st;
	if (json_get(rq->json, "id") || json_get(rq->json, "@id"))
		return req_fail(rq, 400, "'id' is assigned by the server: POST without it");
	struct pu_input in;
	if ((st = pu_read(rq, true, &in)))
		return st;
	char id[37];
	uuid_make(id);
	if (db_exec(rq->app->db, SQL[SQL_PU_INSERT], "sissis", id, c, in.email, in.password_hash,
		    in.has_enabled ? (int)in.enabled : 1, in.roles) < 0)
		return pu_write_fail(rq, c, in.email, "creating the portal user");
	return pu_answer(rq, c, id, 201);
}

int portal_user_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *id = path_user(rq);
	if (!id)
		return req_fail(rq, 404, "portal user not found");
	return pu_answer(rq, c, id, 200);
}

/* Changes the fields the body has; the others stay. */
int portal_user_patch(struct req *rq)
{
	int c = (int)rq->ints[0];
	int st;
	const char *id = path_user(rq);
	if (!id)
		return req_fail(rq, 404, "portal user not found");
	if ((st = body_uuid_agrees(rq, user_url(rq, c, id), id)))
		return st;
	struct pu_input in;
	if ((st = pu_read(rq, false, &in)))
		return st;
	const char *enabled = in.has_enabled ? (in.enabled ? "1" : "0") : NULL;
	long long n = db_exec(rq->app->db, SQL[SQL_PU_UPDATE], "ssssis", in.email, in.password_hash,
			      enabled, in.roles, c, id);
	if (n < 0)
		return pu_write_fail(rq, c, in.email, "updating the portal user");
	if (n == 0)
		return req_fail(rq, 404, "portal user %s not found", id);
	return pu_answer(rq, c, id, 200);
}

int portal_user_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *id = path_user(rq);
	if (!id)
		return req_fail(rq, 404, "portal user not found");
	long long n = db_exec(rq->app->db, SQL[SQL_PU_DELETE], "is", c, id);
	if (n < 0)
		return req_db_fail(rq, "deleting the portal user");
	if (n == 0)
		return req_fail(rq, 404, "portal user %s not found", id);
	return 204;
}
