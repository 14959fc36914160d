/* A customer's role providers (vocab:RoleProvider, CONTRACT section 9):
 * what a login through an auth service grants. type clickthrough (the
 * service's roles, on the confirm button), portal (the portal user's
 * roles, after the e-mail and password check) or external
 * (configuration.url, to which the form's token is POSTed; its answer is a
 * JSON array of role URIs). credentials ({"user","password"}, Basic for the
 * external URL) are write-only: shown as "xxx" when set. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "req.h"
#include "api/common.h"
#include "api/handlers.h"
#include "banned.h"

#define CONFIG_MAX_BYTES 16384
#define URL_MAX_CHARS    2000

#define RP_COLS "id, type, configuration, credentials IS NOT NULL"
enum { COL_ID, COL_TYPE, COL_CONFIG, COL_HAS_CREDENTIALS };

enum {
	SQL_RP_COUNT,
	SQL_RP_LIST,
	SQL_RP_GET,
	SQL_RP_INSERT,
	SQL_RP_UPDATE,
	SQL_RP_DELETE,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_RP_COUNT] = "SELECT COUNT(*) FROM role_providers WHERE customer_id = ?",
	[SQL_RP_LIST] = "SELECT " RP_COLS " FROM role_providers WHERE customer_id = ?"
			" ORDER BY created, id LIMIT ? OFFSET ?",
	[SQL_RP_GET] = "SELECT " RP_COLS " FROM role_providers WHERE customer_id = ? AND id = ?",
	[SQL_RP_INSERT] = "INSERT INTO role_providers (type, configuration, credentials,"
			  " customer_id, id, created) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	/* credentials: NULL keeps them, "" drops them */
	[SQL_RP_UPDATE] = "UPDATE role_providers SET type = ?, configuration = ?,"
			  " credentials = NULLIF(COALESCE(?, credentials), '')"
			  " WHERE customer_id = ? AND id = ?",
	[SQL_RP_DELETE] = "DELETE FROM role_providers WHERE customer_id = ? AND id = ?",
};

static const char *provider_url(struct req *rq, int c, const char *id)
{
	return req_url(rq, "/customers/%d/roleProviders/%s", c, id);
}

static void rp_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	const char *id = db_str(r, i, COL_ID);
	resource_begin(w, provider_url(rq, (int)rq->ints[0], id), "vocab:RoleProvider");
	jw_kstr(w, "id", id);
	jw_kstr(w, "type", db_str(r, i, COL_TYPE));
	jw_key(w, "configuration");
	jw_json_text(w, db_str(r, i, COL_CONFIG));
	if (db_int(r, i, COL_HAS_CREDENTIALS))
		jw_kstr(w, "credentials", "xxx");
	jw_obj_end(w);
}

static int rp_answer(struct req *rq, int c, const char *id, int status)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_RP_GET], "is", c, id);
	if (!r)
		return req_db_fail(rq, "reading the role provider");
	if (r->n == 0)
		return req_fail(rq, 404, "role provider %s not found", id);
	if (status == 201)
		req_header(rq, "Location", provider_url(rq, c, id));
	rp_write(req_json(rq), rq, r, 0);
	return status;
}

struct rp_in {
	const char *type, *config, *credentials; /* credentials: NULL keeps, "" none */
};

/* An http(s) URL without blanks or control characters. */
static bool url_ok(const char *u)
{
	if (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8))
		return false;
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++, n++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return n <= URL_MAX_CHARS;
}

static int rp_read(struct req *rq, struct rp_in *in)
{
	static const char *const allowed[] = {"@context", "@id",           "@type",       "id",
					      "type",     "configuration", "credentials", NULL};
	int st;
	memset(in, 0, sizeof *in);
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str_req(rq, rq->json, "type", &in->type)))
		return st;
	bool external = !strcmp(in->type, "external");
	if (!external && strcmp(in->type, "clickthrough") && strcmp(in->type, "portal"))
		return req_fail(rq, 400, "'type' must be clickthrough, portal or external");
	yajl_val cfg = json_get(rq->json, "configuration");
	if (cfg && !YAJL_IS_NULL(cfg) && !YAJL_IS_OBJECT(cfg))
		return req_fail(rq, 400, "'configuration' must be an object");
	in->config = cfg && YAJL_IS_OBJECT(cfg) ? json_to_text(rq->arena, cfg) : "{}";
	if (!in->config || strlen(in->config) > CONFIG_MAX_BYTES)
		return req_fail(rq, 400, "'configuration' is too long");
	if (external) {
		yajl_val url = cfg && YAJL_IS_OBJECT(cfg) ? json_get(cfg, "url") : NULL;
		if (!url || !YAJL_IS_STRING(url) || !url_ok(url->u.string))
			return req_fail(rq, 400,
					"'configuration': an external role provider needs 'url',"
					" an http or https URL");
	}
	yajl_val cred = json_get(rq->json, "credentials");
	if (cred && YAJL_IS_NULL(cred)) {
		in->credentials = "";
	} else if (cred) {
		yajl_val u = YAJL_IS_OBJECT(cred) ? json_get(cred, "user") : NULL;
		yajl_val p = YAJL_IS_OBJECT(cred) ? json_get(cred, "password") : NULL;
		if (!u || !p || !YAJL_IS_STRING(u) || !YAJL_IS_STRING(p) ||
		    strchr(u->u.string, ':') || strlen(u->u.string) + strlen(p->u.string) > 1000 ||
		    cred->u.object.len != 2)
			return req_fail(rq, 400,
					"'credentials' must be {\"user\": ..., \"password\": ...}"
					" (a user without ':')");
		in->credentials = json_to_text(rq->arena, cred);
	}
	return 0;
}

static const char *path_provider(struct req *rq)
{
	return uuid_canonical(rq->arena, rq->strs[0]);
}

int role_providers_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/roleProviders", c),
				  SQL[SQL_RP_COUNT], SQL[SQL_RP_LIST], rp_write,
				  "listing role providers");
}

int role_providers_create(struct req *rq)
{
	int c = (int)rq->ints[0];
	if (json_get(rq->json, "id") || json_get(rq->json, "@id"))
		return req_fail(rq, 400, "'id' is assigned by the server: POST without it");
	struct rp_in in;
	int st = rp_read(rq, &in);
	if (st)
		return st;
	char id[37];
	uuid_make(id);
	const char *cred = in.credentials && *in.credentials ? in.credentials : NULL;
	if (db_exec(rq->app->db, SQL[SQL_RP_INSERT], "sssis", in.type, in.config, cred, c, id) < 0)
		return req_db_fail(rq, "creating the role provider");
	return rp_answer(rq, c, id, 201);
}

int role_provider_get(struct req *rq)
{
	const char *id = path_provider(rq);
	if (!id)
		return req_fail(rq, 404, "role provider not found");
	return rp_answer(rq, (int)rq->ints[0], id, 200);
}

/* PUT: replaces the provider (credentials omitted: kept; null: dropped). */
int role_provider_put(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *id = path_provider(rq);
	if (!id)
		return req_fail(rq, 404, "role provider not found");
	int st = body_uuid_agrees(rq, provider_url(rq, c, id), id);
	struct rp_in in;
	if (st || (st = rp_read(rq, &in)))
		return st;
	struct db_rows *cur = db_query(rq->app->db, rq->arena, SQL[SQL_RP_GET], "is", c, id);
	if (!cur)
		return req_db_fail(rq, "reading the role provider");
	if (cur->n == 0)
		return req_fail(rq, 404, "role provider %s not found", id);
	if (db_exec(rq->app->db, SQL[SQL_RP_UPDATE], "sssis", in.type, in.config, in.credentials, c,
		    id) < 0)
		return req_db_fail(rq, "updating the role provider");
	return rp_answer(rq, c, id, 200);
}

int role_provider_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *id = path_provider(rq);
	if (!id)
		return req_fail(rq, 404, "role provider not found");
	long long n = db_exec(rq->app->db, SQL[SQL_RP_DELETE], "is", c, id);
	if (n < 0 && db_last_err(rq->app->db) == DB_EFK)
		return req_fail(rq, 409, "role provider %s is an auth service's roleProvider", id);
	if (n < 0)
		return req_db_fail(rq, "deleting the role provider");
	if (n == 0)
		return req_fail(rq, 404, "role provider %s not found", id);
	return 204;
}
