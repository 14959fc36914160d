/* Portal users' rules, passwords and login check (asset/portal_user.h). */
#include <crypt.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "str.h"
#include "asset/portal_user.h"
#include "banned.h"

/* yescrypt, at libxcrypt's default cost (count 0: "$y$j9T$", about 16 MiB
 * and a few hundredths of a second per hash). */
#define HASH_PREFIX "$y$"

/* A hash of a password nobody has, at the same cost: what an unknown
 * e-mail's password is checked against, so that it takes as long. */
#define DUMMY_HASH "$y$j9T$x209bdYASJuJwtriuJedT0$yF6IluC6CWVpxKLXc15c6hy9IvH4f3e2EARMH9LT0l7"

static const char SQL_LOGIN[] = "SELECT id, email, password_hash, enabled, roles"
				" FROM portal_users WHERE customer_id = ? AND email = ?";

/* RFC 5322 "atext" besides letters and digits. */
static bool atext(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+/=?^_`{|}~-", ch));
}

static bool label_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-';
}

const char *portal_email_problem(const char *email)
{
	size_t len = strlen(email);
	if (len == 0)
		return "must not be empty";
	if (len > PORTAL_EMAIL_MAX_BYTES)
		return "must be at most 254 characters";
	const char *at = strchr(email, '@');
	if (!at || strchr(at + 1, '@'))
		return "must be an e-mail address (one '@')";
	size_t local = (size_t)(at - email);
	if (local == 0 || local > 64)
		return "must have 1 to 64 characters before the '@'";
	for (size_t i = 0; i < local; i++) {
		char ch = email[i];
		if (ch == '.') {
			if (i == 0 || i + 1 == local || email[i + 1] == '.')
				return "must not have a '.' first, last or twice in a row before "
				       "the '@'";
		} else if (!atext(ch)) {
			return "must be an e-mail address of letters, digits and "
			       "!#$%&'*+/=?^_`{|}~.- before the '@'";
		}
	}
	const char *d = at + 1;
	int labels = 0;
	for (;;) {
		size_t n = 0;
		while (label_char(d[n]))
			n++;
		if (n == 0 || n > 63 || d[0] == '-' || d[n - 1] == '-')
			return "must have a domain of labels of 1 to 63 letters, digits or '-' "
			       "(not first or last) after the '@'";
		labels++;
		if (d[n] == '\0')
			break;
		if (d[n] != '.')
			return "must have a domain of letters, digits, '-' and '.' after the '@'";
		d += n + 1;
	}
	if (labels < 2)
		return "must have a domain of two or more labels (example.org) after the '@'";
	return NULL;
}

const char *portal_password_problem(const char *password)
{
	size_t chars = 0, bytes = 0;
	for (const unsigned char *p = (const unsigned char *)password; *p; p++, bytes++) {
		if (*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
		chars += (*p & 0xc0) != 0x80;
	}
	if (chars < PORTAL_PASSWORD_MIN_CHARS)
		return "must be at least 12 characters long";
	if (bytes > PORTAL_PASSWORD_MAX_BYTES)
		return "must be at most 511 bytes long";
	return NULL;
}

/* crypt_r into data (zeroed first, wiped by the caller): the hash, or NULL
 * when libcrypt failed (its failure tokens start with '*'). */
static const char *hash_with(struct crypt_data *data, const char *password, const char *setting)
{
	memset(data, 0, sizeof *data);
	const char *h = crypt_r(password, setting, data);
	return h && h[0] != '*' ? h : NULL;
}

const char *portal_password_hash(struct arena *a, const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	/* rbytes NULL: libxcrypt draws the salt from the kernel's CSPRNG. */
	if (!crypt_gensalt_rn(HASH_PREFIX, 0, NULL, 0, setting, (int)sizeof setting)) {
		log_err("portal users: crypt_gensalt_rn(yescrypt) failed");
		return NULL;
	}
	struct crypt_data *data = arena_alloc(a, sizeof *data);
	const char *h = hash_with(data, password, setting);
	const char *out = h ? arena_strdup(a, h) : NULL;
	explicit_bzero(data, sizeof *data);
	if (!out)
		log_err("portal users: crypt_r(yescrypt) failed");
	return out;
}

/* x and y equal, in a time that depends on their lengths only. */
static bool same_bytes(const char *x, const char *y)
{
	size_t n = strlen(x);
	if (n != strlen(y))
		return false;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(x[i] ^ y[i]);
	return diff == 0;
}

bool portal_password_matches(struct arena *a, const char *password, const char *hash)
{
	if (!hash || !str_starts(hash, HASH_PREFIX))
		return false;
	struct crypt_data *data = arena_alloc(a, sizeof *data);
	const char *h = hash_with(data, password, hash);
	bool ok = h && same_bytes(h, hash);
	explicit_bzero(data, sizeof *data);
	return ok;
}

enum portal_verdict portal_user_verify(struct db *db, struct arena *a, int c, const char *email,
				       const char *password, struct portal_user *out)
{
	memset(out, 0, sizeof *out);
	struct db_rows *r = NULL;
	/* An address that could not be stored matches nobody; it still costs
	 * a hash below. */
	if (!portal_email_problem(email)) {
		r = db_query(db, a, SQL_LOGIN, "is", c, email);
		if (!r)
			return PORTAL_DB_ERROR;
	}
	bool found = r && r->n == 1;
	bool ok = portal_password_matches(a, password, found ? db_str(r, 0, 2) : DUMMY_HASH);
	if (!found || !ok || db_int(r, 0, 3) == 0)
		return PORTAL_REFUSED;
	out->id = db_str(r, 0, 0);
	out->email = db_str(r, 0, 1);
	out->roles = db_str(r, 0, 4);
	return PORTAL_OK;
}
