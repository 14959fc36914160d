/* Portal users (CONTRACT section 11): a customer's people, who log in with
 * an e-mail address and a password. The API manages them
 * (api/portal_users.c); the access-control flow's "portal" role provider
 * will log them in with portal_user_verify and grant their roles. Both
 * apply the rules here, so what the API accepts is what a login checks.
 *
 * Passwords are stored only as yescrypt hashes ("$y$..."), made and checked
 * with libxcrypt's crypt_r and crypt_gensalt_rn: a fresh random salt each,
 * and a cost that makes guessing slow. Nothing here logs a password or
 * puts one in a message. */
#ifndef DLCS_ASSET_PORTAL_USER_H
#define DLCS_ASSET_PORTAL_USER_H

#include <stdbool.h>

struct arena;
struct db;

#define PORTAL_PASSWORD_MIN_CHARS 12  /* CONTRACT section 11 */
#define PORTAL_PASSWORD_MAX_BYTES 511 /* libxcrypt takes less than CRYPT_MAX_PASSPHRASE_SIZE */
#define PORTAL_EMAIL_MAX_BYTES    254 /* RFC 5321's longest forward path, less <> */

/* NULL when email is an address this platform takes, else why not (for a
 * 400 on 'email'; the address itself is not repeated): ASCII, one '@', a
 * local part of 1-64 RFC 5322 "atext" characters and dots (no dot first,
 * last or twice in a row), a domain of two or more labels of letters,
 * digits and '-' (1-63 each, no '-' first or last), at most 254 bytes. */
const char *portal_email_problem(const char *email);

/* NULL when password may be set, else why not (never quoting it): at least
 * PORTAL_PASSWORD_MIN_CHARS characters (UTF-8 code points), at most
 * PORTAL_PASSWORD_MAX_BYTES bytes, and no control characters. */
const char *portal_password_problem(const char *password);

/* The stored form of password: a yescrypt hash with a new salt, in a.
 * NULL when libcrypt fails (logged, without the password). */
const char *portal_password_hash(struct arena *a, const char *password);

/* True when password is the one hash was made from (hash as stored; any
 * other form, or a failure of libcrypt, is false). */
bool portal_password_matches(struct arena *a, const char *password, const char *hash);

/* A portal user who logged in. */
struct portal_user {
	const char *id;    /* the GUID */
	const char *email; /* as stored */
	const char *roles; /* JSON array text of role URIs */
};

enum portal_verdict {
	PORTAL_OK,       /* *out is the user */
	PORTAL_REFUSED,  /* unknown e-mail, wrong password, or a disabled user */
	PORTAL_DB_ERROR, /* the database could not be read (db_last_err) */
};

/* The login check of customer c's portal users: the user whose e-mail is
 * email (in any case) when password is theirs and they are enabled. The
 * three refusals are one verdict, and each costs one yescrypt computation
 * (an unknown e-mail is checked against a dummy hash), so neither the
 * answer nor its time tells which addresses exist. Strings of *out are in
 * a. */
enum portal_verdict portal_user_verify(struct db *db, struct arena *a, int c, const char *email,
				       const char *password, struct portal_user *out);

#endif
