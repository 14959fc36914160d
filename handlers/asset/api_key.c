/* API keys as they are made and stored (asset/api_key.h). */
#include <string.h>

#include "config.h"
#include "db.h"
#include "ids.h"
#include "sha256.h"
#include "str.h"
#include "asset/api_key.h"
#include "asset/settings.h"
#include "banned.h"

static const char SQL_KEY_INSERT[] = "INSERT INTO api_keys (api_key, customer_id, secret_hash,"
				     " created) VALUES (?, ?, ?, UTC_TIMESTAMP(6))";

void key_secret_hash(const struct config *cfg, const char *key, const char *secret, char out[65])
{
	const char *salt = setting_str(cfg, S_API_KEY_SALT);
	size_t n = strlen(salt) + strlen(key) + strlen(secret) + 3;
	char buf[n];
	xsnprintf(buf, n, "%s:%s:%s", salt, key, secret);
	sha256_hex(buf, n - 1, out);
}

int keys_issue(struct db *db, const struct config *cfg, int c, char key[37], char secret[65])
{
	uuid_make(key);
	random_hex(secret, 32);
	char hash[65];
	key_secret_hash(cfg, key, secret, hash);
	long long rc = db_exec(db, SQL_KEY_INSERT, "sis", key, c, hash);
	return rc < 0 ? (int)rc : DB_OK;
}
