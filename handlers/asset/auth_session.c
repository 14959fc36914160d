/* Sessions of the access flow (asset/auth_session.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "cache.h"
#include "files.h"
#include "db.h"
#include "ids.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "sha256.h"
#include "asset/auth_session.h"
#include "asset/grant.h"
#include "asset/role_uri.h"
#include "banned.h"

enum {
	SQL_INSERT,
	SQL_SLIDE_COOKIE,
	SQL_SLIDE_TOKEN,
	SQL_GET_COOKIE,
	SQL_GET_TOKEN,
	SQL_END,
	SQL_ROLE_SIDS,
	SQL_ROLE_END,
	SQL_PURGE,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	[SQL_INSERT] =
		"INSERT INTO auth_sessions (cookie_hash, token_hash, sid, customer_id, roles,"
		" origin, ttl, expires, created) VALUES (?, ?, ?, ?, ?, ?, ?,"
		" UTC_TIMESTAMP(6) + INTERVAL ? SECOND, UTC_TIMESTAMP(6))",
	/* sliding expiry: a live session's is moved on by its ttl */
	[SQL_SLIDE_COOKIE] =
		"UPDATE auth_sessions SET expires = UTC_TIMESTAMP(6) + INTERVAL ttl SECOND"
		" WHERE cookie_hash = ? AND customer_id = ? AND revoked = 0"
		" AND expires > UTC_TIMESTAMP(6)",
	[SQL_SLIDE_TOKEN] =
		"UPDATE auth_sessions SET expires = UTC_TIMESTAMP(6) + INTERVAL ttl SECOND"
		" WHERE token_hash = ? AND customer_id = ? AND revoked = 0"
		" AND expires > UTC_TIMESTAMP(6)",
	[SQL_GET_COOKIE] = "SELECT roles, origin, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), expires)"
			   " FROM auth_sessions WHERE cookie_hash = ? AND customer_id = ?"
			   " AND revoked = 0 AND expires > UTC_TIMESTAMP(6)",
	[SQL_GET_TOKEN] = "SELECT roles, origin, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), expires)"
			  " FROM auth_sessions WHERE token_hash = ? AND customer_id = ?"
			  " AND revoked = 0 AND expires > UTC_TIMESTAMP(6)",
	[SQL_END] =
		"UPDATE auth_sessions SET revoked = 1 WHERE cookie_hash = ? AND customer_id = ?",
	/* (c, '"' name '"'): sessions hold role names */
	[SQL_ROLE_SIDS] = "SELECT sid FROM auth_sessions WHERE customer_id = ? AND revoked = 0"
			  " AND expires > UTC_TIMESTAMP(6) AND sid IS NOT NULL"
			  " AND LOCATE(?, roles) > 0",
	[SQL_ROLE_END] = "UPDATE auth_sessions SET revoked = 1 WHERE customer_id = ?"
			 " AND LOCATE(?, roles) > 0",
	/* bounded, so that a login never waits on a long delete: at most
	 * PURGE_BATCH per login, more than logins make expire */
	[SQL_PURGE] = "DELETE FROM auth_sessions WHERE expires < UTC_TIMESTAMP(6)"
		      " ORDER BY expires LIMIT ?",
};

/* Expired sessions deleted at each login (auth_session_create). */
#define PURGE_BATCH 100

/* A token as made here: 64 lower-case hex digits. A cookie: 96 ({sid}
 * {secret}), or 64 for a session made before sids. Anything else is
 * looked up nowhere. */
static bool secret_valid(const char *s, bool cookie)
{
	return hex_lower_n(s, AUTH_SECRET_HEX) || (cookie && hex_lower_n(s, AUTH_COOKIE_HEX));
}

void auth_session_token(const char *cookie, char token[AUTH_SECRET_HEX + 1])
{
	char buf[32 + AUTH_COOKIE_HEX + 1];
	size_t n = strlen(cookie);
	if (n > AUTH_COOKIE_HEX)
		n = AUTH_COOKIE_HEX;
	memcpy(buf, "dlcs-auth2-token:", 17);
	memcpy(buf + 17, cookie, n);
	sha256_hex(buf, 17 + n, token);
}

/* Deletes the revocation markers older than AUTH_REVOKED_KEEP, looking at
 * no more than a bounded number of them per call. */
static void revoked_sweep(const char *root)
{
	char dir[4096];
	if (!root || snprintf(dir, sizeof dir, "%s/" AUTH_REVOKED_DIR, root) >= (int)sizeof dir)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	for (int seen = 0; seen < 1000 && (e = readdir(d)); seen++) {
		struct stat st;
		if (!hex_lower_n(e->d_name, AUTH_SID_HEX) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (st.st_mtime < now - AUTH_REVOKED_KEEP)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int auth_session_create(struct db *db, struct arena *a, const char *root, int c, const char *roles,
			int ttl, const char *origin, char cookie[AUTH_COOKIE_HEX + 1],
			char token[AUTH_SECRET_HEX + 1])
{
	char ch[65], th[65];
	random_hex(cookie, AUTH_COOKIE_HEX / 2);
	auth_session_token(cookie, token);
	sha256_hex(cookie, AUTH_COOKIE_HEX, ch);
	sha256_hex(token, AUTH_SECRET_HEX, th);
	char sid[AUTH_SID_HEX + 1];
	memcpy(sid, cookie, AUTH_SID_HEX);
	sid[AUTH_SID_HEX] = 0;
	if (db_exec(db, SQL[SQL_INSERT], "sssissii", ch, th, sid, c, roles, origin ? origin : "",
		    ttl, ttl) < 0)
		return db_last_err(db);
	/* expired sessions (a revoked one stays until its expiry passes) are
	 * of no use: the login has its session whatever this does */
	if (db_exec(db, SQL[SQL_PURGE], "i", PURGE_BATCH) < 0)
		log_err("auth sessions: cannot purge the expired ones: %s", db_last_msg(db));
	revoked_sweep(root);
	grant_sweep(a, root, PURGE_BATCH);
	return DB_OK;
}

int auth_sid_revoke(struct arena *a, const char *root, const char *sid)
{
	if (!root || !hex_lower_n(sid, AUTH_SID_HEX))
		return -1;
	return files_touch(a, arena_printf(a, "%s/" AUTH_REVOKED_DIR "/%s", root, sid));
}

static void sid_revoke_logged(struct arena *a, const char *root, const char *sid)
{
	if (auth_sid_revoke(a, root, sid) != 0)
		log_err("cannot write the revocation marker of session %s under "
			"%s/" AUTH_REVOKED_DIR
			": nginx may trust its cached access decisions a few seconds more",
			sid, root);
}

int auth_session_find(struct db *db, struct arena *a, int c, const char *secret, bool by_token,
		      struct auth_session *out)
{
	if (!secret || !secret_valid(secret, !by_token))
		return 0;
	char h[65];
	sha256_hex(secret, strlen(secret), h);
	if (db_exec(db, SQL[by_token ? SQL_SLIDE_TOKEN : SQL_SLIDE_COOKIE], "si", h, c) < 0)
		return -1;
	struct db_rows *r =
		db_query(db, a, SQL[by_token ? SQL_GET_TOKEN : SQL_GET_COOKIE], "si", h, c);
	if (!r)
		return -1;
	if (r->n == 0)
		return 0;
	out->roles = db_str(r, 0, 0);
	out->origin = db_str(r, 0, 1);
	out->expires_in = db_int(r, 0, 2);
	out->expires_at = (long long)time(NULL) + out->expires_in;
	return 1;
}

int auth_session_end(struct db *db, struct arena *a, const char *root, int c, const char *cookie)
{
	if (!cookie || !secret_valid(cookie, true))
		return DB_OK;
	char h[65];
	sha256_hex(cookie, strlen(cookie), h);
	if (db_exec(db, SQL[SQL_END], "si", h, c) < 0)
		return db_last_err(db);
	if (strlen(cookie) == AUTH_COOKIE_HEX && root) {
		char sid[AUTH_SID_HEX + 1];
		memcpy(sid, cookie, AUTH_SID_HEX);
		sid[AUTH_SID_HEX] = 0;
		sid_revoke_logged(a, root, sid);
		/* after the marker: a grant made meanwhile is undone by its maker */
		if (grant_revoke_session(a, root, c, cookie) != 0)
			log_err("cannot remove the grants of session %s under %s/" GRANT_DIR, sid,
				root);
	}
	return DB_OK;
}

int auth_session_end_role(struct db *db, struct arena *a, const char *root, int c, const char *name)
{
	const char *quoted = arena_printf(a, "\"%s\"", name);
	struct db_rows *r = db_query(db, a, SQL[SQL_ROLE_SIDS], "is", c, quoted);
	if (!r || db_exec(db, SQL[SQL_ROLE_END], "is", c, quoted) < 0)
		return db_last_err(db);
	for (size_t i = 0; root && i < r->n; i++)
		sid_revoke_logged(a, root, db_str(r, i, 0));
	/* every session's: which of them held the role is not worth the
	 * search, and the others' grants come back at their next tiles */
	if (root && r->n && grant_revoke_customer(a, root, c) != 0)
		log_err("cannot remove the grants of customer %d under %s/" GRANT_DIR, c, root);
	return DB_OK;
}

int auth_session_decide(struct arena *a, int c, const char *asset_roles,
			const struct auth_session *s)
{
	if (!s)
		return 401;
	yajl_val want = asset_roles && *asset_roles
				? json_parse(a, asset_roles, strlen(asset_roles), NULL)
				: NULL;
	/* no roles: restricted by maxUnauthorised alone */
	if (!asset_roles || !*asset_roles ||
	    (want && YAJL_IS_ARRAY(want) && want->u.array.len == 0))
		return 200;
	yajl_val held = s->roles ? json_parse(a, s->roles, strlen(s->roles), NULL) : NULL;
	if (!want || !YAJL_IS_ARRAY(want) || !held || !YAJL_IS_ARRAY(held))
		return 403; /* fails closed */
	for (size_t i = 0; i < want->u.array.len; i++) {
		yajl_val w = want->u.array.values[i];
		const char *name = YAJL_IS_STRING(w) ? role_uri_name(a, w->u.string, c) : NULL;
		for (size_t k = 0; name && k < held->u.array.len; k++) {
			yajl_val h = held->u.array.values[k];
			if (YAJL_IS_STRING(h) && strcmp(h->u.string, name) == 0)
				return 200;
		}
	}
	return 403;
}

const char *auth_cookie_value(struct arena *a, const char *header, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t vl = len - nl - 1;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			char *out = arena_alloc(a, vl + 1);
			memcpy(out, v, vl);
			out[vl] = 0;
			return out;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

#define CACHE_SECONDS 30

/* Empties cache when the revocation file changed since it was last seen. */
static void cache_check_revocations(struct cache *cache, const char *path)
{
	struct stat st;
	char stamp[64] = "none";
	if (stat(path, &st) == 0)
		xsnprintf(stamp, sizeof stamp, "%lld.%09ld", (long long)st.st_mtim.tv_sec,
			  st.st_mtim.tv_nsec);
	const char *seen = cache_get(cache, "@revocations");
	if (!seen || strcmp(seen, stamp) != 0) {
		cache_clear(cache);
		cache_put(cache, "@revocations", stamp, 1e9);
	}
}

int auth_session_find_cached(struct db *db, struct cache *cache, const char *revocation_file,
			     struct arena *a, int c, const char *cookie, struct auth_session *out)
{
	if (!cookie || !secret_valid(cookie, true))
		return 0;
	if (!cache || !revocation_file)
		return auth_session_find(db, a, c, cookie, false, out);
	cache_check_revocations(cache, revocation_file);
	char key[32 + AUTH_COOKIE_HEX];
	xsnprintf(key, sizeof key, "s%d:%s", c, cookie);
	/* an entry is "{expires_at} {roles}": a hit does not move it on */
	const char *kept = cache_get(cache, key);
	char *roles;
	long long expires_at = kept ? strtoll(kept, &roles, 10) : 0;
	if (kept && *roles == ' ') {
		long long left = expires_at - (long long)time(NULL);
		*out = (struct auth_session){.roles = arena_strdup(a, roles + 1),
					     .origin = "",
					     .expires_in = left > 0 ? left : 0,
					     .expires_at = expires_at};
		return 1;
	}
	int found = auth_session_find(db, a, c, cookie, false, out);
	if (found == 1 && out->expires_in > 1)
		cache_put(cache, key, arena_printf(a, "%lld %s", out->expires_at, out->roles),
			  out->expires_in < CACHE_SECONDS ? (double)out->expires_in - 1
							  : CACHE_SECONDS);
	return found;
}

void auth_revocations_touch(const char *path)
{
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || futimens(fd, NULL) != 0)
		log_err("cannot touch %s: cached sessions stay valid up to 30 seconds", path);
	if (fd >= 0)
		close(fd);
}
