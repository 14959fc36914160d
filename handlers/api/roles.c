/* A customer's roles (vocab:Role, CONTRACT section 9): name (the path id),
 * label, aliases, authService (the service a viewer is shown for it). The
 * role's @id is its URI, which assets', spaces', portal users' and auth
 * services' roles hold (asset/role_uri.h); roles_check is how every one of
 * them is checked against the customer's roles. A role an asset or a space
 * uses cannot be deleted (409); deleting one ends at once every session
 * that held it. */
#include <stdbool.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "input.h"
#include "json.h"
#include "req.h"
#include "api/common.h"
#include "api/handlers.h"
#include "api/roles.h"
#include "asset/auth_session.h"
#include "asset/role_uri.h"
#include "asset/settings.h"
#include "banned.h"

#define TEXT_MAX_CHARS 1000
#define ALIASES_MAX    100

#define ROLE_COLS "name, label, aliases, auth_service"
enum { COL_NAME, COL_LABEL, COL_ALIASES, COL_SERVICE };

enum {
	SQL_ROLE_COUNT,
	SQL_ROLE_LIST,
	SQL_ROLE_GET,
	SQL_ROLE_INSERT,
	SQL_ROLE_UPSERT,
	SQL_ROLE_DELETE,
	SQL_ROLE_ASSET_USES,
	SQL_ROLE_SPACE_USES,
	SQL_SERVICE_EXISTS,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_ROLE_COUNT] = "SELECT COUNT(*) FROM roles WHERE customer_id = ?",
	[SQL_ROLE_LIST] = "SELECT " ROLE_COLS " FROM roles WHERE customer_id = ?"
			  " ORDER BY name LIMIT ? OFFSET ?",
	[SQL_ROLE_GET] = "SELECT " ROLE_COLS " FROM roles WHERE customer_id = ? AND name = ?",
	[SQL_ROLE_INSERT] = "INSERT INTO roles (customer_id, name, label, aliases, auth_service,"
			    " created) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	/* affected rows: 1 inserted, 2 replaced, 0 the same as stored */
	[SQL_ROLE_UPSERT] = "INSERT INTO roles (customer_id, name, label, aliases, auth_service,"
			    " created) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))"
			    " ON DUPLICATE KEY UPDATE label = VALUES(label),"
			    " aliases = VALUES(aliases), auth_service = VALUES(auth_service)",
	[SQL_ROLE_DELETE] = "DELETE FROM roles WHERE customer_id = ? AND name = ?",
	/* (c, tail, tail): tail is "/customers/{c}/roles/{name}", whatever
	 * the base of the URI the asset holds */
	[SQL_ROLE_ASSET_USES] = "SELECT 1 FROM asset_roles WHERE customer_id = ?"
				" AND RIGHT(role, CHAR_LENGTH(?)) = ? LIMIT 1",
	/* (c, tail + '"'): the end of a URI in the JSON array text */
	[SQL_ROLE_SPACE_USES] = "SELECT 1 FROM spaces WHERE customer_id = ?"
				" AND LOCATE(?, default_roles) > 0 LIMIT 1",
	[SQL_SERVICE_EXISTS] = "SELECT 1 FROM auth_services WHERE customer_id = ? AND name = ?",
};

const char *role_uri(struct req *rq, int c, const char *name)
{
	return req_url(rq, "/customers/%d/roles/%s", c, name);
}

int roles_check(struct req *rq, int c, const char *key, const char *const *uris, size_t n,
		const char **names)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = role_uri_name(rq->arena, uris[i], c);
		if (!name)
			return req_fail(rq, 400,
					"'%s': '%s' is not a role URI of customer %d"
					" ({api base}/customers/%d/roles/{name})",
					key, uris[i], c, c);
		struct db_rows *r =
			db_query(rq->app->db, rq->arena, SQL[SQL_ROLE_GET], "is", c, name);
		if (!r)
			return req_db_fail(rq, "reading the roles");
		if (r->n == 0)
			return req_fail(rq, 400, "'%s': customer %d has no role '%s'", key, c,
					name);
		if (names)
			names[i] = name;
	}
	return 0;
}

static const char *service_url(struct req *rq, int c, const char *name)
{
	return req_url(rq, "/customers/%d/authServices/%s", c, name);
}

static void role_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	int c = (int)rq->ints[0];
	const char *name = db_str(r, i, COL_NAME);
	resource_begin(w, role_uri(rq, c, name), "vocab:Role");
	jw_kstr(w, "name", name);
	jw_kstr(w, "label", db_str(r, i, COL_LABEL));
	jw_key(w, "aliases");
	jw_json_text(w, db_str(r, i, COL_ALIASES));
	const char *svc = db_str(r, i, COL_SERVICE);
	jw_kstr(w, "authService", svc ? service_url(rq, c, svc) : NULL);
	jw_obj_end(w);
}

static int role_answer(struct req *rq, int c, const char *name, int status)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_ROLE_GET], "is", c, name);
	if (!r)
		return req_db_fail(rq, "reading the role");
	if (r->n == 0)
		return req_fail(rq, 404, "role %s not found", name);
	if (status == 201)
		req_header(rq, "Location", role_uri(rq, c, name));
	role_write(req_json(rq), rq, r, 0);
	return status;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The auth service a body's link names (a URI ending in
 * /customers/{c}/authServices/{name}, or the name): 0 with *out its name,
 * or the 400. */
int auth_service_link(struct req *rq, int c, const char *key, const char *link, const char **out)
{
	const char *name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (name != link) {
		const char *tail =
			arena_printf(rq->arena, "/customers/%d/authServices/%s", c, name);
		size_t tl = strlen(tail), ll = strlen(link);
		if (ll <= tl || strcmp(link + ll - tl, tail) != 0 ||
		    (strncmp(link, "http://", 7) && strncmp(link, "https://", 8)))
			return req_fail(rq, 400, "'%s' is not an auth service of customer %d", key,
					c);
	}
	if (!role_name_valid(name))
		return req_fail(rq, 400, "'%s' is not an auth service of customer %d", key, c);
	struct db_rows *r =
		db_query(rq->app->db, rq->arena, SQL[SQL_SERVICE_EXISTS], "is", c, name);
	if (!r)
		return req_db_fail(rq, "reading the auth services");
	if (r->n == 0)
		return req_fail(rq, 400, "'%s': customer %d has no auth service '%s'", key, c,
				name);
	*out = name;
	return 0;
}

/* Reads a role body: name (must agree with path_name when given), label,
 * aliases, authService; writes it. */
static int role_save(struct req *rq, int c, const char *path_name)
{
	static const char *const allowed[] = {"@context", "@id",     "@type",       "id", "name",
					      "label",    "aliases", "authService", NULL};
	const char *name = NULL, *label = NULL, *svc_link = NULL, *svc = NULL;
	bool has_name = false, has_label = false, has_svc = false, has_aliases = false;
	yajl_val aliases = NULL;
	int st;
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str(rq, rq->json, "name", &name, &has_name)) ||
	    (st = jin_str(rq, rq->json, "label", &label, &has_label)) ||
	    (st = jin_str(rq, rq->json, "authService", &svc_link, &has_svc)) ||
	    (st = jin_str_array(rq, rq->json, "aliases", &aliases, &has_aliases)))
		return st;
	if (path_name) {
		if (has_name && strcmp(name, path_name) != 0)
			return req_fail(rq, 400, "'name' does not match the name in the URL");
		name = path_name;
		if ((st = body_id_agrees(rq, rq->json, role_uri(rq, c, name), NULL)))
			return st;
	} else if (!has_name) {
		return req_fail(rq, 400, "'name' is required");
	}
	if (!role_name_valid(name))
		return req_fail(rq, 400, "'name' must be 1 to %d of A-Z a-z 0-9 _ -",
				ROLE_NAME_MAX);
	if (!has_label)
		label = name;
	if (utf8_chars(label) > TEXT_MAX_CHARS)
		return req_fail(rq, 400, "'label' must be at most %d characters", TEXT_MAX_CHARS);
	const char *aliases_json = "[]";
	if (has_aliases) {
		if (aliases->u.array.len > ALIASES_MAX)
			return req_fail(rq, 400, "'aliases' may hold at most %d values",
					ALIASES_MAX);
		for (size_t i = 0; i < aliases->u.array.len; i++) {
			size_t n = utf8_chars(aliases->u.array.values[i]->u.string);
			if (n == 0 || n > 500)
				return req_fail(
					rq, 400,
					"'aliases': each value must be 1 to 500 characters");
		}
		aliases_json = json_to_text(rq->arena, aliases);
	}
	if (has_svc && (st = auth_service_link(rq, c, "authService", svc_link, &svc)))
		return st;
	long long n = db_exec(rq->app->db, SQL[path_name ? SQL_ROLE_UPSERT : SQL_ROLE_INSERT],
			      "issss", c, name, label, aliases_json, svc);
	if (n < 0 && db_last_err(rq->app->db) == DB_EDUP)
		return req_fail(rq, 409, "customer %d already has a role '%s'", c, name);
	if (n < 0)
		return req_db_fail(rq, "writing the role");
	return role_answer(rq, c, name, n == 1 ? 201 : 200);
}

int roles_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/roles", c),
				  SQL[SQL_ROLE_COUNT], SQL[SQL_ROLE_LIST], role_write,
				  "listing roles");
}

/* POST: a new role; 409 when the name is taken. */
int roles_create(struct req *rq)
{
	return role_save(rq, (int)rq->ints[0], NULL);
}

int role_get(struct req *rq)
{
	if (!role_name_valid(rq->strs[0]))
		return req_fail(rq, 404, "role not found");
	return role_answer(rq, (int)rq->ints[0], rq->strs[0], 200);
}

/* PUT: creates (201) or replaces (200) the role the path names. */
int role_put(struct req *rq)
{
	if (!role_name_valid(rq->strs[0]))
		return req_fail(rq, 400, "'name' must be 1 to %d of A-Z a-z 0-9 _ -",
				ROLE_NAME_MAX);
	return role_save(rq, (int)rq->ints[0], rq->strs[0]);
}

int role_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *name = rq->strs[0];
	if (!role_name_valid(name))
		return req_fail(rq, 404, "role not found");
	struct db *db = rq->app->db;
	const char *tail = arena_printf(rq->arena, "/customers/%d/roles/%s", c, name);
	struct db_rows *a = db_query(db, rq->arena, SQL[SQL_ROLE_ASSET_USES], "iss", c, tail, tail);
	struct db_rows *s = a ? db_query(db, rq->arena, SQL[SQL_ROLE_SPACE_USES], "is", c,
					 arena_printf(rq->arena, "%s\"", tail))
			      : NULL;
	if (!a || !s)
		return req_db_fail(rq, "checking the role's use");
	if (a->n || s->n)
		return req_fail(rq, 409, "role %s is used by %s", name,
				a->n ? "an asset" : "a space's defaultRoles");
	long long n = db_exec(db, SQL[SQL_ROLE_DELETE], "is", c, name);
	if (n < 0)
		return req_db_fail(rq, "deleting the role");
	if (n == 0)
		return req_fail(rq, 404, "role %s not found", name);
	if (auth_session_end_role(db, rq->arena, setting_str(rq->app->cfg, S_STORAGE_ROOT), c,
				  name) != DB_OK)
		return req_db_fail(rq, "ending the role's sessions");
	/* dlcs-image's workers forget their cached sessions */
	auth_revocations_touch(setting_str(rq->app->cfg, S_AUTH_REVOCATION_FILE));
	return 204;
}
