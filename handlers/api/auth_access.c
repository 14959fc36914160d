/* The access services of the IIIF Authorization Flow 2.0 (CONTRACT section
 * 9): GET /auth/v2/access/{c}/{service}?origin= is the page a viewer opens;
 * its form POSTs back to the same URL, and the role provider of the service
 * decides what the login grants:
 *   clickthrough  the service's roles, on the confirm button
 *   portal        the portal user's roles, after the e-mail and password
 *                 check (asset/portal_user.h)
 *   external      the roles the configured URL answers for the form's token
 *                 (api/auth_external.c)
 * A kiosk service grants its roles on the GET itself. Success sets the
 * session cookie and answers a page that closes its window. */
#include <stdbool.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "json.h"
#include "req.h"
#include "str.h"
#include "api/assets.h"
#include "api/auth_flow.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/auth_session.h"
#include "asset/portal_user.h"
#include "asset/role_uri.h"
#include "asset/settings.h"
#include "banned.h"

enum { SQL_SERVICE, SQL_ROLE_EXISTS, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_SERVICE] = "SELECT s.profile, s.label, s.heading, s.note, s.confirm_label, s.ttl,"
			" s.roles, p.type, p.configuration, p.credentials"
			" FROM auth_services s LEFT JOIN role_providers p ON p.id = s.role_provider"
			" WHERE s.customer_id = ? AND s.name = ?",
	[SQL_ROLE_EXISTS] = "SELECT 1 FROM roles WHERE customer_id = ? AND name = ?",
};
enum {
	COL_PROFILE,
	COL_LABEL,
	COL_HEADING,
	COL_NOTE,
	COL_CONFIRM,
	COL_TTL,
	COL_ROLES,
	COL_PTYPE,
	COL_PCONFIG,
	COL_PCRED
};

/* A value of the form body (application/x-www-form-urlencoded), decoded;
 * NULL when absent or not decodable. */
static const char *form_value(struct req *rq, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = rq->body; p && *p;) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			/* NULL for a bad escape or %00 */
			return url_decode(rq->arena, p + kl + 1, len - kl - 1, true);
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The origin the viewer gave (?origin= on the GET, the hidden field on the
 * POST): "" when none, NULL when it is not an origin. */
static const char *given_origin(struct req *rq, bool post)
{
	const char *o = post ? form_value(rq, "origin") : req_query(rq, "origin");
	if (!o || !*o)
		return "";
	return auth_origin_valid(o) ? o : NULL;
}

static int load_service(struct req *rq, int *c, struct db_rows **svc)
{
	int st = customer_resolve(rq, rq->strs[0], c);
	if (st)
		return st;
	if (!role_name_valid(rq->strs[1]))
		return auth_page(rq, 404, "Not found", "<p>There is no such access service.</p>");
	*svc = db_query(rq->app->db, rq->arena, SQL[SQL_SERVICE], "is", *c, rq->strs[1]);
	if (!*svc)
		return req_db_fail(rq, "reading the access service");
	if ((*svc)->n == 0)
		return auth_page(rq, 404, "Not found", "<p>There is no such access service.</p>");
	return 0;
}

/* The provider's type ("clickthrough" when the service has none). */
static const char *provider_type(const struct db_rows *svc)
{
	const char *t = db_str(svc, 0, COL_PTYPE);
	return t ? t : "clickthrough";
}

/* The page of an active service: heading, note and the form its provider
 * needs; `problem` (escaped here) above the form after a refused login. */
static int access_form(struct req *rq, const struct db_rows *svc, const char *origin,
		       const char *problem, int status)
{
	struct sbuf b;
	sbuf_init(&b, rq->arena);
	const char *heading = db_str(svc, 0, COL_HEADING), *label = db_str(svc, 0, COL_LABEL);
	sbuf_adds(&b, "<h1>");
	html_add(&b, *heading ? heading : label);
	sbuf_adds(&b, "</h1>\n<p>");
	html_add(&b, db_str(svc, 0, COL_NOTE));
	sbuf_adds(&b, "</p>\n");
	if (problem) {
		sbuf_adds(&b, "<p role=\"alert\">");
		html_add(&b, problem);
		sbuf_adds(&b, "</p>\n");
	}
	sbuf_adds(&b, "<form method=\"post\">\n<input type=\"hidden\" name=\"origin\" value=\"");
	html_add(&b, origin);
	sbuf_adds(&b, "\">\n");
	const char *type = provider_type(svc);
	if (!strcmp(type, "portal"))
		sbuf_adds(&b,
			  "<label>E-mail <input type=\"email\" name=\"email\" required></label>\n"
			  "<label>Password <input type=\"password\" name=\"password\" required>"
			  "</label>\n");
	else if (!strcmp(type, "external"))
		sbuf_adds(&b, "<label>Token <input name=\"token\" required></label>\n");
	sbuf_adds(&b, "<button type=\"submit\" id=\"confirm\">");
	const char *confirm = db_str(svc, 0, COL_CONFIRM);
	html_add(&b, *confirm ? confirm : "Continue");
	sbuf_adds(&b, "</button>\n</form>");
	return auth_page(rq, status, label, b.buf);
}

/* The names of the role URIs (a JSON array) that are customer c's roles. */
static const char *role_names(struct req *rq, int c, const char *uris_json)
{
	yajl_val v = uris_json ? json_parse(rq->arena, uris_json, strlen(uris_json), NULL) : NULL;
	size_t n = v && YAJL_IS_ARRAY(v) ? v->u.array.len : 0, k = 0;
	const char **names = arena_alloc(rq->arena, (n ? n : 1) * sizeof *names);
	for (size_t i = 0; i < n; i++) {
		yajl_val u = v->u.array.values[i];
		const char *name =
			YAJL_IS_STRING(u) ? role_uri_name(rq->arena, u->u.string, c) : NULL;
		struct db_rows *r =
			name ? db_query(rq->app->db, rq->arena, SQL[SQL_ROLE_EXISTS], "is", c, name)
			     : NULL;
		if (r && r->n)
			names[k++] = name;
	}
	return asset_list_json(rq->arena, names, k);
}

/* The session, its cookie, and the page that closes the window. */
static int grant(struct req *rq, int c, const struct db_rows *svc, const char *roles,
		 const char *origin)
{
	char cookie[AUTH_COOKIE_HEX + 1], token[AUTH_SECRET_HEX + 1];
	if (auth_session_create(rq->app->db, rq->arena, setting_str(rq->app->cfg, S_STORAGE_ROOT),
				c, roles, (int)db_int(svc, 0, COL_TTL), origin, cookie,
				token) != DB_OK)
		return req_db_fail(rq, "creating the session");
	req_header(rq, "Set-Cookie", auth_cookie_header(rq, c, cookie));
	return auth_page(rq, 200, "Access granted",
			 "<p>Access granted: this window closes itself; if it does not,"
			 " close it.</p><script>window.close()</script>");
}

int auth_access_get(struct req *rq)
{
	int c, st;
	struct db_rows *svc;
	if ((st = load_service(rq, &c, &svc)))
		return st;
	const char *origin = given_origin(rq, false);
	if (!origin)
		return auth_page(rq, 400, "Bad request", "<p>'origin' is not an origin.</p>");
	const char *profile = db_str(svc, 0, COL_PROFILE);
	if (!strcmp(profile, "external"))
		return auth_page(rq, 404, "Not found",
				 "<p>An external access service has no page.</p>");
	if (!strcmp(profile, "kiosk") && !strcmp(provider_type(svc), "clickthrough"))
		return grant(rq, c, svc, db_str(svc, 0, COL_ROLES), origin);
	return access_form(rq, svc, origin, NULL, 200);
}

/* A form POSTed from elsewhere than this server's own page is refused: a
 * page of another site may not log a visitor in. */
static bool same_origin_post(struct req *rq)
{
	const char *o = req_header_in(rq, "Origin");
	if (!o)
		return true; /* not sent by every browser on a same-origin POST */
	return rq->base_url && strcmp(o, rq->base_url) == 0;
}

int auth_access_post(struct req *rq)
{
	int c, st;
	struct db_rows *svc;
	if ((st = load_service(rq, &c, &svc)))
		return st;
	const char *origin = given_origin(rq, true);
	if (!origin)
		return auth_page(rq, 400, "Bad request", "<p>'origin' is not an origin.</p>");
	if (!same_origin_post(rq))
		return auth_page(rq, 403, "Forbidden",
				 "<p>This form is posted from its own page.</p>");
	const char *type = provider_type(svc);
	if (!strcmp(db_str(svc, 0, COL_PROFILE), "external"))
		return auth_page(rq, 404, "Not found",
				 "<p>An external access service has no form.</p>");
	if (!strcmp(type, "clickthrough"))
		return grant(rq, c, svc, db_str(svc, 0, COL_ROLES), origin);
	if (!strcmp(type, "portal")) {
		const char *email = form_value(rq, "email"), *password = form_value(rq, "password");
		struct portal_user u;
		enum portal_verdict v =
			email && password
				? portal_user_verify(rq->app->db, rq->arena, c, email, password, &u)
				: PORTAL_REFUSED;
		if (v == PORTAL_DB_ERROR)
			return req_db_fail(rq, "checking the login");
		if (v != PORTAL_OK)
			return access_form(rq, svc, origin, "The e-mail or the password is wrong.",
					   401);
		/* the provider rule of the external login below: a user who
		 * holds none of the customer's roles gets no session */
		const char *names = role_names(rq, c, u.roles);
		if (!strcmp(names, "[]"))
			return access_form(rq, svc, origin,
					   "This account has not been given access here.", 403);
		return grant(rq, c, svc, names, origin);
	}
	const char *token = form_value(rq, "token");
	bool refused = false;
	const char *uris = token && *token ? auth_external_roles(rq, svc, COL_PCONFIG, COL_PCRED,
								 token, &refused)
					   : NULL;
	if (refused)
		return access_form(rq, svc, origin,
				   "The role provider's address is not allowed; "
				   "the token was not sent.",
				   502);
	/* a provider that grants none of the customer's roles has not accepted
	 * the token: a session without roles would still open every asset
	 * restricted by maxUnauthorised alone (auth_session_decide) */
	const char *names = uris ? role_names(rq, c, uris) : NULL;
	if (!names || !strcmp(names, "[]"))
		return access_form(rq, svc, origin, "The token was not accepted.", 401);
	return grant(rq, c, svc, names, origin);
}
