/* The auth services of a restricted asset (asset/auth_doc.h). */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "json.h"
#include "asset/auth_doc.h"
#include "asset/role_uri.h"
#include "banned.h"

#define MAX_SERVICES 8

static const char *const SQL_ROLE_SERVICE =
	"SELECT auth_service FROM roles WHERE customer_id = ? AND name = ?";
static const char *const SQL_SERVICE =
	"SELECT name, profile, label, heading, note, confirm_label, logout_label,"
	" token_error_heading, token_error_note FROM auth_services WHERE customer_id = ? AND name "
	"= ?";

static void lang(struct jw *w, const char *key, const char *text)
{
	if (!text || !*text)
		return;
	jw_key(w, key);
	jw_obj(w);
	jw_key(w, "en");
	jw_arr(w);
	jw_str(w, text);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void access_service(struct jw *w, struct arena *a, const char *base, int c,
			   const struct db_rows *r)
{
	const char *name = db_str(r, 0, 0), *profile = db_str(r, 0, 1);
	jw_obj(w);
	if (strcmp(profile, "external") != 0)
		jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/access/%d/%s", base, c, name));
	jw_kstr(w, "type", "AuthAccessService2");
	jw_kstr(w, "profile", profile);
	lang(w, "label", db_str(r, 0, 2));
	lang(w, "heading", db_str(r, 0, 3));
	lang(w, "note", db_str(r, 0, 4));
	lang(w, "confirmLabel", db_str(r, 0, 5));
	jw_key(w, "service");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/access/%d/token", base, c));
	jw_kstr(w, "type", "AuthAccessTokenService2");
	lang(w, "errorHeading", db_str(r, 0, 7));
	lang(w, "errorNote", db_str(r, 0, 8));
	jw_obj_end(w);
	if (strcmp(profile, "external") != 0) {
		jw_obj(w);
		jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/access/%d/%s/logout", base, c, name));
		jw_kstr(w, "type", "AuthLogoutService2");
		lang(w, "label", db_str(r, 0, 6));
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

int auth_doc_probe_service(struct jw *w, struct db *db, struct arena *a, const char *base,
			   const char *cpart, int c, int s, const char *id, const char *roles)
{
	/* the services the roles name, once each, in the roles' order */
	const char *names[MAX_SERVICES];
	size_t n = 0;
	yajl_val v = roles && *roles ? json_parse(a, roles, strlen(roles), NULL) : NULL;
	for (size_t i = 0; v && YAJL_IS_ARRAY(v) && i < v->u.array.len && n < MAX_SERVICES; i++) {
		yajl_val u = v->u.array.values[i];
		const char *role = YAJL_IS_STRING(u) ? role_uri_name(a, u->u.string, c) : NULL;
		struct db_rows *r = role ? db_query(db, a, SQL_ROLE_SERVICE, "is", c, role) : NULL;
		if (role && !r)
			return -1;
		const char *svc = r && r->n ? db_str(r, 0, 0) : NULL;
		for (size_t k = 0; svc && k < n; k++)
			if (!strcmp(names[k], svc))
				svc = NULL;
		if (svc)
			names[n++] = svc;
	}
	if (n == 0)
		names[n++] = "clickthrough";
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/probe/%s/%d/%s", base, cpart, s, id));
	jw_kstr(w, "type", "AuthProbeService2");
	jw_key(w, "service");
	jw_arr(w);
	for (size_t k = 0; k < n; k++) {
		struct db_rows *r = db_query(db, a, SQL_SERVICE, "is", c, names[k]);
		if (!r)
			return -1;
		if (r->n)
			access_service(w, a, base, c, r);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	return 0;
}
