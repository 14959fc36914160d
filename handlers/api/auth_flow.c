/* The IIIF Authorization Flow 2.0 (CONTRACT section 9), served by the API
 * workers under /auth/v2/ (nginx sends /auth there), {c} the customer's id
 * or name:
 *   GET  /auth/v2/probe/{c}/{s}/{id}        AuthProbeResult2, HTTP 200 always
 *   GET  /auth/v2/access/{c}/token          the token page (postMessage)
 *   GET  /auth/v2/access/{c}/{service}      the access service's page
 *   POST /auth/v2/access/{c}/{service}      its form: the login
 *   GET  /auth/v2/access/{c}/{service}/logout
 * A login makes a session (asset/auth_session.h): the cookie
 * dlcs-auth2-{customer id} (HttpOnly; SameSite=None and Secure on https)
 * for the image requests, and a bearer token, different, for the probe.
 *
 * Every value that reaches a page is HTML-escaped (html_add); the one
 * script, the token page's, carries JSON made by yajl with <, >, & and the
 * JavaScript line separators escaped (js_json), so no value ends the
 * script. The token goes to window.parent with targetOrigin the origin the
 * page was asked for, which must be an origin and the login's. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "json.h"
#include "req.h"
#include "str.h"
#include "api/auth_flow.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/access.h"
#include "asset/auth_doc.h"
#include "asset/auth_session.h"
#include "asset/role_uri.h"
#include "asset/settings.h"
#include "banned.h"

#define NO_STORE "no-store"

enum { SQL_ASSET, SQL_ASSET_SERVICE, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_ASSET] = "SELECT roles, max_unauthorised FROM assets"
		      " WHERE customer_id = ? AND space_id = ? AND id = ?",
	/* the texts of the service a probe's 401/403 quotes: the first
	 * service of the asset's roles, else clickthrough */
	[SQL_ASSET_SERVICE] = "SELECT heading, note FROM auth_services WHERE customer_id = ?"
			      " AND name = ?",
};

void html_add(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			sbuf_adds(b, "&amp;");
			break;
		case '<':
			sbuf_adds(b, "&lt;");
			break;
		case '>':
			sbuf_adds(b, "&gt;");
			break;
		case '"':
			sbuf_adds(b, "&quot;");
			break;
		case '\'':
			sbuf_adds(b, "&#39;");
			break;
		default:
			sbuf_addc(b, *s);
		}
	}
}

/* JSON text as a JavaScript expression inside <script>: <, >, & and
 * U+2028/U+2029 as \u escapes (only strings hold them in yajl's output). */
static void js_json(struct sbuf *b, const char *json)
{
	for (const unsigned char *p = (const unsigned char *)json; *p; p++) {
		if (*p == '<')
			sbuf_adds(b, "\\u003c");
		else if (*p == '>')
			sbuf_adds(b, "\\u003e");
		else if (*p == '&')
			sbuf_adds(b, "\\u0026");
		else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			sbuf_adds(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else
			sbuf_addc(b, (char)*p);
	}
}

int auth_page(struct req *rq, int status, const char *title, const char *body_html)
{
	sbuf_init(&rq->out, rq->arena);
	sbuf_adds(&rq->out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	html_add(&rq->out, title);
	sbuf_adds(&rq->out, "</title></head><body>\n");
	sbuf_adds(&rq->out, body_html);
	sbuf_adds(&rq->out, "\n</body></html>\n");
	rq->content_type = "text/html; charset=utf-8";
	req_header(rq, "Cache-Control", NO_STORE);
	/* the pages run no script but the token page's own, and load nothing */
	req_header(rq, "Content-Security-Policy",
		   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
		   " form-action 'self'; base-uri 'none'");
	req_header(rq, "X-Content-Type-Options", "nosniff");
	rq->status = status;
	return status;
}

bool auth_origin_valid(const char *o)
{
	const char *host;
	if (!strncmp(o, "https://", 8))
		host = o + 8;
	else if (!strncmp(o, "http://", 7))
		host = o + 7;
	else
		return false;
	if (!*host || strlen(o) > 300)
		return false;
	for (const char *p = host; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' ||
		      ch == '[' || ch == ']'))
			return false;
	}
	return true;
}

/* --- probe --- */

static void probe_texts(struct req *rq, int c, const char *roles, const char **heading,
			const char **note)
{
	const char *svc = "clickthrough";
	yajl_val v = roles && *roles ? json_parse(rq->arena, roles, strlen(roles), NULL) : NULL;
	if (v && YAJL_IS_ARRAY(v) && v->u.array.len && YAJL_IS_STRING(v->u.array.values[0])) {
		const char *name = role_uri_name(rq->arena, v->u.array.values[0]->u.string, c);
		struct db_rows *r = name ? db_query(rq->app->db, rq->arena,
						    "SELECT auth_service FROM roles WHERE "
						    "customer_id = ? AND name = ?",
						    "is", c, name)
					 : NULL;
		if (r && r->n && db_str(r, 0, 0))
			svc = db_str(r, 0, 0);
	}
	struct db_rows *t = db_query(rq->app->db, rq->arena, SQL[SQL_ASSET_SERVICE], "is", c, svc);
	*heading = t && t->n ? db_str(t, 0, 0) : "";
	*note = t && t->n ? db_str(t, 0, 1) : "";
}

/* The bearer token of an Authorization header, or NULL. */
static const char *bearer(struct req *rq)
{
	const char *h = req_header_in(rq, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

int auth_probe(struct req *rq)
{
	int c, st = customer_resolve(rq, rq->strs[0], &c);
	if (st)
		return st;
	req_header(rq, "Access-Control-Allow-Origin", "*");
	req_header(rq, "Cache-Control", NO_STORE);
	struct db_rows *a = db_query(rq->app->db, rq->arena, SQL[SQL_ASSET], "iis", c,
				     (int)rq->ints[0], rq->strs[1]);
	if (!a)
		return req_db_fail(rq, "reading the asset");
	if (a->n == 0)
		return req_fail(rq, 404, "asset not found");
	const char *roles = db_str(a, 0, 0);
	int verdict = 200;
	if (!asset_is_open(rq->arena, roles, (int)db_int(a, 0, 1))) {
		struct auth_session s;
		int found = auth_session_find(rq->app->db, rq->arena, c, bearer(rq), true, &s);
		if (found < 0)
			return req_db_fail(rq, "reading the session");
		verdict = auth_session_decide(rq->arena, c, roles, found ? &s : NULL);
	}
	struct jw *w = jw_new(rq->arena);
	jw_obj(w);
	jw_kstr(w, "@context", AUTH2_CONTEXT);
	jw_kstr(w, "type", "AuthProbeResult2");
	jw_kint(w, "status", verdict);
	if (verdict != 200) {
		const char *heading, *note;
		probe_texts(rq, c, roles, &heading, &note);
		if (verdict == 403) {
			heading = "Access denied";
			note = "Your session does not hold a role this material needs.";
		}
		if (*heading)
			jw_klang(w, "heading", "en", heading);
		if (*note)
			jw_klang(w, "note", "en", note);
	}
	jw_obj_end(w);
	size_t len;
	const char *text = jw_text(w, &len);
	if (!text)
		return req_fail(rq, 500, "could not write the probe result");
	sbuf_init(&rq->out, rq->arena);
	sbuf_add(&rq->out, text, len);
	rq->content_type = "application/json";
	rq->status = 200;
	return 200;
}

/* --- token --- */

/* The page that posts msg (a JSON object) to window.parent at origin. */
static int token_page(struct req *rq, struct jw *msg, const char *origin)
{
	const char *text = jw_text(msg, NULL);
	if (!text)
		return req_fail(rq, 500, "could not write the token message");
	/* origin: auth_origin_valid's characters only, or "null" (which
	 * postMessage refuses: the message goes nowhere) */
	const char *o = arena_printf(rq->arena, "\"%s\"", origin);
	struct sbuf b;
	sbuf_init(&b, rq->arena);
	sbuf_adds(&b, "<script>window.parent.postMessage(");
	js_json(&b, text);
	sbuf_adds(&b, ", ");
	js_json(&b, o);
	sbuf_adds(&b, ");</script>");
	return auth_page(rq, 200, "Access token", b.buf);
}

static int token_error(struct req *rq, const char *profile, const char *message_id,
		       const char *origin, const char *heading, const char *note)
{
	struct jw *w = jw_new(rq->arena);
	jw_obj(w);
	jw_kstr(w, "@context", AUTH2_CONTEXT);
	jw_kstr(w, "type", "AuthAccessTokenError2");
	jw_kstr(w, "profile", profile);
	jw_kstr(w, "messageId", message_id ? message_id : "");
	if (heading && *heading)
		jw_klang(w, "heading", "en", heading);
	if (note && *note)
		jw_klang(w, "note", "en", note);
	jw_obj_end(w);
	return token_page(rq, w, origin);
}

int auth_token(struct req *rq)
{
	int c, st = customer_resolve(rq, rq->strs[0], &c);
	if (st)
		return st;
	const char *mid = req_query(rq, "messageId"), *origin = req_query(rq, "origin");
	/* an origin that is not one gets nothing: the message goes nowhere */
	if (!origin || !auth_origin_valid(origin))
		return token_error(rq, "invalidOrigin", mid, "null", NULL, NULL);
	if (!mid || !*mid || strlen(mid) > 1000)
		return token_error(rq, "invalidRequest", mid, origin, NULL, NULL);
	const char *cookie = auth_cookie_value(rq->arena, req_header_in(rq, "Cookie"),
					       arena_printf(rq->arena, "dlcs-auth2-%d", c));
	if (!cookie)
		return token_error(rq, "missingAspect", mid, origin, NULL, NULL);
	struct auth_session s;
	int found = auth_session_find(rq->app->db, rq->arena, c, cookie, false, &s);
	if (found < 0)
		return token_error(rq, "unavailable", mid, origin, NULL, NULL);
	if (!found)
		return token_error(rq, "invalidAspect", mid, origin, "Access unavailable",
				   "Your session has ended or is not valid: log in again.");
	if (*s.origin && strcmp(s.origin, origin) != 0)
		return token_error(rq, "invalidOrigin", mid, origin, NULL, NULL);
	char token[AUTH_SECRET_HEX + 1];
	auth_session_token(cookie, token);
	struct jw *w = jw_new(rq->arena);
	jw_obj(w);
	jw_kstr(w, "@context", AUTH2_CONTEXT);
	jw_kstr(w, "type", "AuthAccessToken2");
	jw_kstr(w, "messageId", mid);
	jw_kstr(w, "accessToken", token);
	jw_kint(w, "expiresIn", s.expires_in);
	jw_obj_end(w);
	return token_page(rq, w, origin);
}

/* --- logout --- */

int auth_logout(struct req *rq)
{
	int c, st = customer_resolve(rq, rq->strs[0], &c);
	if (st)
		return st;
	const char *name = arena_printf(rq->arena, "dlcs-auth2-%d", c);
	const char *cookie = auth_cookie_value(rq->arena, req_header_in(rq, "Cookie"), name);
	if (auth_session_end(rq->app->db, rq->arena, setting_str(rq->app->cfg, S_STORAGE_ROOT), c,
			     cookie) != DB_OK)
		return req_db_fail(rq, "ending the session");
	if (cookie) /* dlcs-image's workers forget their cached sessions */
		auth_revocations_touch(setting_str(rq->app->cfg, S_AUTH_REVOCATION_FILE));
	req_header(rq, "Set-Cookie", auth_cookie_header(rq, c, NULL));
	return auth_page(rq, 200, "Logged out",
			 "<p>You are logged out.</p><script>window.close()</script>");
}

const char *auth_cookie_header(struct req *rq, int c, const char *value)
{
	bool https = rq->base_url && !strncmp(rq->base_url, "https://", 8);
	return arena_printf(rq->arena, "dlcs-auth2-%d=%s; Path=/; HttpOnly; %s%s", c,
			    value ? value : "", https ? "SameSite=None; Secure" : "SameSite=Lax",
			    value ? "" : "; Max-Age=0");
}
