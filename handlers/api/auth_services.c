/* A customer's auth services (vocab:AuthService, CONTRACT section 9): the
 * IIIF Authorization Flow 2.0 access services a viewer opens. name (the
 * path id; token, gesture and probe are the flow's own routes), profile
 * (active, kiosk or external), the texts a viewer shows (plain strings
 * here, language maps in IIIF output), timeToLive (of a session, seconds),
 * roleProvider (who decides what a login grants) and roles (the role URIs
 * it grants; stored as names). */
#include <stdbool.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "req.h"
#include "api/assets.h"
#include "api/common.h"
#include "api/handlers.h"
#include "api/roles.h"
#include "asset/role_uri.h"
#include "banned.h"

#define TEXT_MAX_CHARS 1000
#define ROLES_MAX      100
#define TTL_MAX        (366 * 86400)

#define AS_COLS                                                                                    \
	"name, profile, label, heading, note, confirm_label, logout_label, token_error_heading,"   \
	" token_error_note, ttl, role_provider, roles"
enum {
	COL_NAME,
	COL_PROFILE,
	COL_LABEL, /* the texts: COL_LABEL + i, in the order of texts[] */
	COL_TTL = COL_LABEL + 7,
	COL_PROVIDER,
	COL_ROLES
};

/* The texts, API key and column, in column order. */
static const char *const texts[7] = {"label",
				     "heading",
				     "note",
				     "confirmLabel",
				     "logoutLabel",
				     "accessTokenErrorHeading",
				     "accessTokenErrorNote"};

enum {
	SQL_AS_COUNT,
	SQL_AS_LIST,
	SQL_AS_GET,
	SQL_AS_INSERT,
	SQL_AS_REPLACE,
	SQL_AS_DELETE,
	SQL_PROVIDER_EXISTS,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_AS_COUNT] = "SELECT COUNT(*) FROM auth_services WHERE customer_id = ?",
	[SQL_AS_LIST] = "SELECT " AS_COLS " FROM auth_services WHERE customer_id = ?"
			" ORDER BY name LIMIT ? OFFSET ?",
	[SQL_AS_GET] = "SELECT " AS_COLS " FROM auth_services WHERE customer_id = ? AND name = ?",
	[SQL_AS_INSERT] = "INSERT INTO auth_services (profile, label, heading, note, confirm_label,"
			  " logout_label, token_error_heading, token_error_note, ttl,"
			  " role_provider, roles, customer_id, name, created)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	[SQL_AS_REPLACE] = "UPDATE auth_services SET profile = ?, label = ?, heading = ?, note = ?,"
			   " confirm_label = ?, logout_label = ?, token_error_heading = ?,"
			   " token_error_note = ?, ttl = ?, role_provider = ?, roles = ?"
			   " WHERE customer_id = ? AND name = ?",
	[SQL_AS_DELETE] = "DELETE FROM auth_services WHERE customer_id = ? AND name = ?",
	[SQL_PROVIDER_EXISTS] = "SELECT 1 FROM role_providers WHERE customer_id = ? AND id = ?",
};

static const char *service_url(struct req *rq, int c, const char *name)
{
	return req_url(rq, "/customers/%d/authServices/%s", c, name);
}

static void as_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	int c = (int)rq->ints[0];
	const char *name = db_str(r, i, COL_NAME);
	resource_begin(w, service_url(rq, c, name), "vocab:AuthService");
	jw_kstr(w, "name", name);
	jw_kstr(w, "profile", db_str(r, i, COL_PROFILE));
	for (size_t t = 0; t < 7; t++)
		jw_kstr(w, texts[t], db_str(r, i, COL_LABEL + t));
	jw_kint(w, "timeToLive", db_int(r, i, COL_TTL));
	const char *rp = db_str(r, i, COL_PROVIDER);
	jw_kstr(w, "roleProvider",
		rp ? req_url(rq, "/customers/%d/roleProviders/%s", c, rp) : NULL);
	jw_key(w, "roles");
	jw_arr(w);
	yajl_val names = json_parse(rq->arena, db_str(r, i, COL_ROLES),
				    strlen(db_str(r, i, COL_ROLES)), NULL);
	for (size_t k = 0; names && YAJL_IS_ARRAY(names) && k < names->u.array.len; k++)
		if (YAJL_IS_STRING(names->u.array.values[k]))
			jw_str(w, role_uri(rq, c, names->u.array.values[k]->u.string));
	jw_arr_end(w);
	jw_obj_end(w);
}

static int as_answer(struct req *rq, int c, const char *name, int status)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_AS_GET], "is", c, name);
	if (!r)
		return req_db_fail(rq, "reading the auth service");
	if (r->n == 0)
		return req_fail(rq, 404, "auth service %s not found", name);
	if (status == 201)
		req_header(rq, "Location", service_url(rq, c, name));
	as_write(req_json(rq), rq, r, 0);
	return status;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* An auth service as stored: the body over `base` (the stored row for a
 * PATCH, NULL for POST and PUT, where what is omitted takes its default). */
struct as_in {
	const char *profile, *text[7], *provider, *roles_json;
	long long ttl;
};

/* The role provider a link names: a URI ending in
 * /customers/{c}/roleProviders/{id}, or the id. */
static int provider_link(struct req *rq, int c, const char *link, const char **out)
{
	const char *id = strrchr(link, '/');
	if (id) {
		const char *tail = arena_printf(rq->arena, "/customers/%d/roleProviders/", c);
		size_t tl = strlen(tail);
		if ((size_t)(id + 1 - link) <= tl || strncmp(id + 1 - tl, tail, tl) != 0 ||
		    (strncmp(link, "http://", 7) && strncmp(link, "https://", 8)))
			return req_fail(rq, 400,
					"'roleProvider' is not a role provider of customer %d", c);
		id++;
	} else {
		id = link;
	}
	const char *uuid = uuid_canonical(rq->arena, id);
	struct db_rows *r =
		uuid ? db_query(rq->app->db, rq->arena, SQL[SQL_PROVIDER_EXISTS], "is", c, uuid)
		     : NULL;
	if (uuid && !r)
		return req_db_fail(rq, "reading the role providers");
	if (!uuid || r->n == 0)
		return req_fail(rq, 400, "'roleProvider': customer %d has no role provider '%s'", c,
				id);
	*out = uuid;
	return 0;
}

static int as_read(struct req *rq, int c, const struct db_rows *base, struct as_in *in)
{
	static const char *const allowed[] = {"@context",
					      "@id",
					      "@type",
					      "id",
					      "name",
					      "profile",
					      "label",
					      "heading",
					      "note",
					      "confirmLabel",
					      "logoutLabel",
					      "accessTokenErrorHeading",
					      "accessTokenErrorNote",
					      "timeToLive",
					      "roleProvider",
					      "roles",
					      NULL};
	bool has;
	int st;
	memset(in, 0, sizeof *in);
	if ((st = jin_only_keys(rq, rq->json, allowed)))
		return st;
	in->profile = base ? db_str(base, 0, COL_PROFILE) : NULL;
	if ((st = jin_str(rq, rq->json, "profile", &in->profile, &has)))
		return st;
	if (!in->profile)
		return req_fail(rq, 400, "'profile' is required");
	if (strcmp(in->profile, "active") && strcmp(in->profile, "kiosk") &&
	    strcmp(in->profile, "external"))
		return req_fail(rq, 400, "'profile' must be active, kiosk or external");
	for (size_t t = 0; t < 7; t++) {
		in->text[t] = base ? db_str(base, 0, COL_LABEL + t) : "";
		if ((st = jin_str(rq, rq->json, texts[t], &in->text[t], &has)))
			return st;
		if (utf8_chars(in->text[t]) > TEXT_MAX_CHARS)
			return req_fail(rq, 400, "'%s' must be at most %d characters", texts[t],
					TEXT_MAX_CHARS);
	}
	in->ttl = base ? db_int(base, 0, COL_TTL) : 600;
	if ((st = jin_int(rq, rq->json, "timeToLive", 1, TTL_MAX, &in->ttl, &has)))
		return st;
	in->provider = base ? db_str(base, 0, COL_PROVIDER) : NULL;
	const char *link = NULL;
	if ((st = jin_str(rq, rq->json, "roleProvider", &link, &has)))
		return st;
	if (has && (st = provider_link(rq, c, link, &in->provider)))
		return st;
	if (json_get(rq->json, "roleProvider") && YAJL_IS_NULL(json_get(rq->json, "roleProvider")))
		in->provider = NULL;
	in->roles_json = base ? db_str(base, 0, COL_ROLES) : "[]";
	yajl_val roles = NULL;
	if ((st = jin_str_array(rq, rq->json, "roles", &roles, &has)))
		return st;
	if (has) {
		size_t n = roles->u.array.len;
		if (n > ROLES_MAX)
			return req_fail(rq, 400, "'roles' may hold at most %d roles", ROLES_MAX);
		const char **uris = arena_alloc(rq->arena, (n ? n : 1) * sizeof *uris);
		const char **names = arena_alloc(rq->arena, (n ? n : 1) * sizeof *names);
		for (size_t i = 0; i < n; i++)
			uris[i] = roles->u.array.values[i]->u.string;
		if ((st = roles_check(rq, c, "roles", uris, n, names)))
			return st;
		in->roles_json = asset_list_json(rq->arena, names, n);
	}
	return 0;
}

/* Writes in as customer c's service `name`: insert (POST, PUT of a new
 * one) or update. */
static struct db_param str_param(const char *s)
{
	return (struct db_param){.type = 's', .s = s, .len = s ? strlen(s) : 0};
}

static int as_store(struct req *rq, int c, const char *name, const struct as_in *in, bool insert)
{
	struct db_param p[13];
	size_t k = 0;
	p[k++] = str_param(in->profile);
	for (size_t t = 0; t < 7; t++)
		p[k++] = str_param(in->text[t]);
	p[k++] = (struct db_param){.type = 'i', .i = in->ttl};
	p[k++] = str_param(in->provider);
	p[k++] = str_param(in->roles_json);
	p[k++] = (struct db_param){.type = 'i', .i = c};
	p[k++] = str_param(name);
	long long n =
		db_exec_params(rq->app->db, SQL[insert ? SQL_AS_INSERT : SQL_AS_REPLACE], p, k);
	if (n < 0 && db_last_err(rq->app->db) == DB_EDUP)
		return req_fail(rq, 409, "customer %d already has an auth service '%s'", c, name);
	if (n < 0)
		return req_db_fail(rq, "writing the auth service");
	return 0;
}

static int name_check(struct req *rq, const char *name, int status)
{
	if (!role_name_valid(name))
		return req_fail(rq, status, "'name' must be 1 to %d of A-Z a-z 0-9 _ -",
				ROLE_NAME_MAX);
	if (!strcmp(name, "token") || !strcmp(name, "gesture") || !strcmp(name, "probe"))
		return req_fail(rq, status, "'name' %s is reserved", name);
	return 0;
}

int auth_services_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/authServices", c),
				  SQL[SQL_AS_COUNT], SQL[SQL_AS_LIST], as_write,
				  "listing auth services");
}

int auth_services_create(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *name = NULL;
	int st = jin_str_req(rq, rq->json, "name", &name);
	if (st || (st = name_check(rq, name, 400)))
		return st;
	struct as_in in;
	if ((st = as_read(rq, c, NULL, &in)) || (st = as_store(rq, c, name, &in, true)))
		return st;
	return as_answer(rq, c, name, 201);
}

int auth_service_get(struct req *rq)
{
	if (!role_name_valid(rq->strs[0]))
		return req_fail(rq, 404, "auth service not found");
	return as_answer(rq, (int)rq->ints[0], rq->strs[0], 200);
}

/* PUT (replace: what is omitted takes its default; creates a new one) and
 * PATCH (what is omitted stays). */
static int as_write_path(struct req *rq, bool patch)
{
	int c = (int)rq->ints[0];
	const char *name = rq->strs[0];
	int st = name_check(rq, name, patch ? 404 : 400);
	if (st)
		return st;
	const char *given = NULL;
	bool has = false;
	if ((st = jin_str(rq, rq->json, "name", &given, &has)))
		return st;
	if (has && strcmp(given, name) != 0)
		return req_fail(rq, 400, "'name' does not match the name in the URL");
	if ((st = body_id_agrees(rq, rq->json, service_url(rq, c, name), NULL)))
		return st;
	struct db_rows *cur = db_query(rq->app->db, rq->arena, SQL[SQL_AS_GET], "is", c, name);
	if (!cur)
		return req_db_fail(rq, "reading the auth service");
	if (patch && cur->n == 0)
		return req_fail(rq, 404, "auth service %s not found", name);
	struct as_in in;
	if ((st = as_read(rq, c, patch ? cur : NULL, &in)) ||
	    (st = as_store(rq, c, name, &in, cur->n == 0)))
		return st;
	return as_answer(rq, c, name, cur->n == 0 ? 201 : 200);
}

int auth_service_put(struct req *rq)
{
	return as_write_path(rq, false);
}

int auth_service_patch(struct req *rq)
{
	return as_write_path(rq, true);
}

int auth_service_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *name = rq->strs[0];
	if (!role_name_valid(name))
		return req_fail(rq, 404, "auth service not found");
	long long n = db_exec(rq->app->db, SQL[SQL_AS_DELETE], "is", c, name);
	if (n < 0 && db_last_err(rq->app->db) == DB_EFK)
		return req_fail(rq, 409, "auth service %s is a role's authService", name);
	if (n < 0)
		return req_db_fail(rq, "deleting the auth service");
	if (n == 0)
		return req_fail(rq, 404, "auth service %s not found", name);
	return 204;
}
