/* Sessions of the IIIF Authorization Flow 2.0 (CONTRACT section 9). A login
 * (api/auth_flow.c) makes one: a cookie value and a bearer token, each 256
 * random bits, different, and only their SHA-256 stored (auth_sessions), so
 * a copy of the database opens nothing. A session holds role names of one
 * customer and lives timeToLive seconds from its last use (sliding); a
 * logout or the deletion of a role it holds ends it at once (revoked).
 *
 * Delivery (iiif/delivery.c) and the probe ask auth_session_decide: the one
 * rule of who may see a restricted asset. */
#ifndef DLCS_ASSET_AUTH_SESSION_H
#define DLCS_ASSET_AUTH_SESSION_H

#include <stdbool.h>

struct arena;
struct db;

#define AUTH_SECRET_HEX 64 /* a token, or a cookie's secret: 32 bytes in hex */
/* A cookie value is {sid}{secret}: the session's public id, 16 random
 * bytes in hex, which names its revocation marker (auth_sid_revoke), then
 * the secret. Cookies of sessions made before sids (AUTH_SECRET_HEX long)
 * stay valid, with no sid. */
#define AUTH_SID_HEX    32
#define AUTH_COOKIE_HEX (AUTH_SID_HEX + AUTH_SECRET_HEX)

struct auth_session {
	const char *roles;    /* JSON array text of role names */
	const char *origin;   /* the origin the login came from ("" when none) */
	long long expires_in; /* seconds left */
	long long expires_at; /* when it ends unless used: seconds since the epoch */
};

/* The bearer token of the session whose cookie value is cookie:
 * SHA-256("dlcs-auth2-token:" cookie) in hex, so that the token page can
 * give it again without it being stored, and neither the token nor what
 * the database holds tells the cookie value. */
void auth_session_token(const char *cookie, char token[AUTH_SECRET_HEX + 1]);

/* A new session of customer c holding roles (JSON array of names), for
 * ttl seconds; cookie and token receive its secrets. Expired sessions,
 * any customer's, are deleted on the way (a bounded number each time),
 * and revocation markers older than AUTH_REVOKED_KEEP and grants that no
 * longer serve under root (NULL: none) too. DB_OK or the error. */
int auth_session_create(struct db *db, struct arena *a, const char *root, int c, const char *roles,
			int ttl, const char *origin, char cookie[AUTH_COOKIE_HEX + 1],
			char token[AUTH_SECRET_HEX + 1]);

/* Revocation markers: {root}/auth-revoked/{sid}, an empty file, written
 * when a session ends by logout or a role's deletion, before its grants
 * are removed (asset/grant.h): dlcs-image, making a grant from a decision
 * taken before the session ended, finds the marker and undoes the grant.
 * A decision is never that old, so the marker is deleted after
 * AUTH_REVOKED_KEEP seconds. 0, or -1 when it could not be written. */
#define AUTH_REVOKED_DIR  "auth-revoked"
#define AUTH_REVOKED_KEEP 120
int auth_sid_revoke(struct arena *a, const char *root, const char *sid);

/* The live session of customer c whose cookie value (by_token false) or
 * bearer token is secret, its expiry moved on: 1 with *out, 0 when there
 * is none (unknown, expired, revoked, another customer's, malformed),
 * negative on a database error. */
int auth_session_find(struct db *db, struct arena *a, int c, const char *secret, bool by_token,
		      struct auth_session *out);

/* auth_session_find by cookie, through a per-worker cache (cache: NULL,
 * none) of the live sessions' roles, so that a viewer's tiles cost no
 * database round trip each: an entry lives at most 30 seconds and never
 * past the session's expiry, and the whole cache is emptied when the
 * revocation file (auth_revocation_file, the same as API keys use) has
 * changed, which a logout and a role's deletion touch (one stat() per
 * call). A hit does not move the expiry on: a miss, at least every 30
 * seconds of use, does. */
struct cache;
int auth_session_find_cached(struct db *db, struct cache *cache, const char *revocation_file,
			     struct arena *a, int c, const char *cookie, struct auth_session *out);

/* Touches the revocation file, so that every worker's cache of sessions
 * (and of API keys) is emptied at its next request. */
void auth_revocations_touch(const char *revocation_file);

/* Ends the session whose cookie value is cookie (none: nothing happens),
 * with its revocation marker and its grants under root (NULL: none).
 * DB_OK or the error. */
int auth_session_end(struct db *db, struct arena *a, const char *root, int c, const char *cookie);

/* Ends the live sessions of customer c that hold role `name`, with their
 * revocation markers under root, and the grants of all the customer's
 * sessions. DB_OK or the error. */
int auth_session_end_role(struct db *db, struct arena *a, const char *root, int c,
			  const char *name);

/* The decision on a restricted asset of customer c with roles asset_roles
 * (JSON array of role URIs) for a caller holding session s (NULL: none):
 * 200 when s holds one of the roles (an asset without roles, restricted
 * by maxUnauthorised alone: any session of the customer), 401 without a
 * session, 403 with one that lacks them. */
int auth_session_decide(struct arena *a, int c, const char *asset_roles,
			const struct auth_session *s);

/* The value of cookie `name` in a Cookie header (NULL when absent), in a. */
const char *auth_cookie_value(struct arena *a, const char *cookie_header, const char *name);

#endif
