/* The auth services of a restricted asset (asset/auth_doc.h). */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "json.h"
#include "asset/auth_doc.h"
#include "asset/role_uri.h"
#include "banned.h"

#define MAX_SERVICES 8

static const char *const SQL_ROLES =
	"SELECT name, auth_service FROM roles WHERE customer_id = ? ORDER BY name";
static const char *const SQL_SERVICES =
	"SELECT name, profile, label, heading, note, confirm_label, logout_label,"
	" token_error_heading, token_error_note FROM auth_services WHERE customer_id = ?"
	" ORDER BY name";

static void lang(struct jw *w, const char *key, const char *text)
{
	if (!text || !*text)
		return;
	jw_klang(w, key, "en", text);
}

static void access_service(struct jw *w, struct arena *a, const char *base, int c,
			   const struct db_rows *r, size_t i)
{
	const char *name = db_str(r, i, 0), *profile = db_str(r, i, 1);
	jw_obj(w);
	if (strcmp(profile, "external") != 0)
		jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/access/%d/%s", base, c, name));
	jw_kstr(w, "type", "AuthAccessService2");
	jw_kstr(w, "profile", profile);
	lang(w, "label", db_str(r, i, 2));
	lang(w, "heading", db_str(r, i, 3));
	lang(w, "note", db_str(r, i, 4));
	lang(w, "confirmLabel", db_str(r, i, 5));
	jw_key(w, "service");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/access/%d/token", base, c));
	jw_kstr(w, "type", "AuthAccessTokenService2");
	lang(w, "errorHeading", db_str(r, i, 7));
	lang(w, "errorNote", db_str(r, i, 8));
	jw_obj_end(w);
	if (strcmp(profile, "external") != 0) {
		jw_obj(w);
		jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/access/%d/%s/logout", base, c, name));
		jw_kstr(w, "type", "AuthLogoutService2");
		lang(w, "label", db_str(r, i, 6));
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

int auth_doc_load(struct auth_doc *d, struct db *db, struct arena *a, int c)
{
	d->c = c;
	d->roles = db_query(db, a, SQL_ROLES, "i", c);
	d->services = d->roles ? db_query(db, a, SQL_SERVICES, "i", c) : NULL;
	return d->services ? 0 : -1;
}

/* The row of d's services named name, or -1. */
static long service_row(const struct auth_doc *d, const char *name)
{
	for (size_t i = 0; name && i < d->services->n; i++)
		if (!strcmp(db_str(d->services, i, 0), name))
			return (long)i;
	return -1;
}

/* The row of the service role uri names, or -1. */
static long role_service(const struct auth_doc *d, struct arena *a, const char *uri)
{
	const char *role = role_uri_name(a, uri, d->c);
	for (size_t i = 0; role && i < d->roles->n; i++)
		if (!strcmp(db_str(d->roles, i, 0), role))
			return service_row(d, db_str(d->roles, i, 1));
	return -1;
}

void auth_doc_write_probe(struct jw *w, const struct auth_doc *d, struct arena *a, const char *base,
			  const char *cpart, int s, const char *id, const char *roles)
{
	/* the services the roles name, once each, in the roles' order */
	long rows[MAX_SERVICES];
	size_t n = 0;
	yajl_val v = roles && *roles ? json_parse(a, roles, strlen(roles), NULL) : NULL;
	for (size_t i = 0; v && YAJL_IS_ARRAY(v) && i < v->u.array.len && n < MAX_SERVICES; i++) {
		yajl_val u = v->u.array.values[i];
		long row = YAJL_IS_STRING(u) ? role_service(d, a, u->u.string) : -1;
		for (size_t k = 0; row >= 0 && k < n; k++)
			if (rows[k] == row)
				row = -1;
		if (row >= 0)
			rows[n++] = row;
	}
	if (n == 0 && (rows[0] = service_row(d, "clickthrough")) >= 0)
		n = 1;
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/auth/v2/probe/%s/%d/%s", base, cpart, s, id));
	jw_kstr(w, "type", "AuthProbeService2");
	jw_key(w, "service");
	jw_arr(w);
	for (size_t k = 0; k < n; k++)
		access_service(w, a, base, d->c, d->services, (size_t)rows[k]);
	jw_arr_end(w);
	jw_obj_end(w);
}

int auth_doc_probe_service(struct jw *w, struct db *db, struct arena *a, const char *base,
			   const char *cpart, int c, int s, const char *id, const char *roles)
{
	struct auth_doc d;
	if (auth_doc_load(&d, db, a, c) < 0)
		return -1;
	auth_doc_write_probe(w, &d, a, base, cpart, s, id, roles);
	return 0;
}
