#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "ids.h"
#include "json.h"
#include "log.h"
#include "page.h"
#include "req.h"
#include "sha256.h"
#include "str.h"
#include "api/common.h"
#include "api/handlers.h"
#include "api/keys.h"
#include "asset/api_key.h"
#include "asset/settings.h"
#include "banned.h"

enum { SQL_KEY_LOOKUP, SQL_KEYS_COUNT, SQL_KEYS_LIST, SQL_KEY_DELETE, SQL_KEYS_OF_ADMIN, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_KEY_LOOKUP] = "SELECT k.customer_id, k.secret_hash, c.is_admin FROM api_keys k"
			   " JOIN customers c ON c.id = k.customer_id WHERE k.api_key = ?",
	[SQL_KEYS_COUNT] = "SELECT COUNT(*) FROM api_keys WHERE customer_id = ?",
	[SQL_KEYS_LIST] = "SELECT api_key FROM api_keys WHERE customer_id = ?"
			  " ORDER BY created, api_key LIMIT ? OFFSET ?",
	[SQL_KEY_DELETE] = "DELETE FROM api_keys WHERE customer_id = ? AND api_key = ?",
	[SQL_KEYS_OF_ADMIN] = "SELECT c.is_admin, (SELECT COUNT(*) FROM api_keys k WHERE"
			      " k.customer_id = c.id) FROM customers c WHERE c.id = ?",
};

/* Equal-time comparison so response timing says nothing about the hash. */
static bool same_hash(const char *a, const char *b)
{
	if (strlen(a) != 64 || strlen(b) != 64)
		return false;
	unsigned char diff = 0;
	for (int i = 0; i < 64; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* Verified credentials are cached per process (a database round trip is
 * most of a small request's cost). A deleted key must stop working at once
 * on every worker and host, so deletion touches a file on the shared
 * storage whose change empties every worker's cache: one stat() per request
 * instead of a query. Without that file there is no cache. */
static const char *revocation_file(struct req *rq)
{
	return setting_str(rq->app->cfg, S_AUTH_REVOCATION_FILE);
}

/* The cache when it may be used: emptied first if keys were revoked since. */
static struct cache *auth_cache(struct req *rq)
{
	struct cache *c = rq->app->auth_cache;
	const char *path = c ? revocation_file(rq) : NULL;
	if (!path)
		return NULL;
	struct stat st;
	char stamp[64] = "none";
	if (stat(path, &st) == 0)
		xsnprintf(stamp, sizeof stamp, "%lld.%09ld", (long long)st.st_mtim.tv_sec,
			  st.st_mtim.tv_nsec);
	const char *seen = cache_get(c, "@revocations");
	if (!seen || strcmp(seen, stamp) != 0) {
		cache_clear(c);
		cache_put(c, "@revocations", stamp, 1e9);
	}
	return c;
}

static void revoke_cached_keys(struct req *rq)
{
	const char *path = revocation_file(rq);
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || futimens(fd, NULL) != 0)
		log_err("cannot touch %s: cached credentials stay valid up to their expiry", path);
	if (fd >= 0)
		close(fd);
	if (rq->app->auth_cache)
		cache_clear(rq->app->auth_cache);
}

int keys_authenticate(struct req *rq, const char *key, const char *secret)
{
	if (!uuid_valid(key) || strlen(secret) > 256)
		return req_fail(rq, 401, "invalid credentials");
	char want[65];
	key_secret_hash(rq->app->cfg, key, secret, want);
	struct cache *cache = auth_cache(rq);
	const char *hit = cache ? cache_get(cache, key) : NULL;
	int customer, admin;
	char hash[65];
	if (hit && sscanf(hit, "%64s %d %d", hash, &customer, &admin) == 3 &&
	    same_hash(hash, want)) {
		rq->caller_customer = customer;
		rq->caller_admin = admin != 0;
		return 0;
	}
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_KEY_LOOKUP], "s", key);
	if (!r)
		return req_db_fail(rq, "checking credentials");
	if (r->n != 1 || !same_hash(db_str(r, 0, 1), want))
		return req_fail(rq, 401, "invalid credentials");
	rq->caller_customer = (int)db_int(r, 0, 0);
	rq->caller_admin = db_int(r, 0, 2) != 0;
	if (cache) {
		char value[100];
		xsnprintf(value, sizeof value, "%s %d %d", want, rq->caller_customer,
			  rq->caller_admin ? 1 : 0);
		cache_put(cache, key, value,
			  (double)setting_int(rq->app->cfg, S_AUTH_CACHE_SECONDS));
	}
	return 0;
}

static void key_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	jw_obj(w);
	jw_kstr(w, "@id", req_url(rq, "/customers/%d/keys/%s", (int)rq->ints[0], db_str(r, i, 0)));
	jw_kstr(w, "@type", "vocab:Key");
	jw_kstr(w, "key", db_str(r, i, 0));
	jw_obj_end(w);
}

int keys_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/keys", c),
				  SQL[SQL_KEYS_COUNT], SQL[SQL_KEYS_LIST], key_write,
				  "listing keys");
}

int keys_create(struct req *rq)
{
	int c = (int)rq->ints[0];
	if (rq->json && rq->json->u.object.len) {
		static const char *const allowed[] = {"@context", "@type", NULL};
		for (size_t i = 0; i < rq->json->u.object.len; i++) {
			const char *k = rq->json->u.object.keys[i];
			if (strcmp(k, allowed[0]) && strcmp(k, allowed[1]))
				return req_fail(rq, 400, "'%s' cannot be set: keys are generated",
						k);
		}
	}
	char key[37], secret[65];
	if (keys_issue(rq->app->db, rq->app->cfg, c, key, secret) != DB_OK)
		return req_db_fail(rq, "creating a key");
	struct jw *w = req_json(rq);
	resource_begin(w, req_url(rq, "/customers/%d/keys/%s", c, key), "vocab:Key");
	jw_kstr(w, "key", key);
	jw_kstr(w, "secret", secret);
	jw_obj_end(w);
	/* The seed (and Protagonist) answer 200 here, not 201. */
	return 200;
}

int key_delete(struct req *rq)
{
	int c = (int)rq->ints[0];
	const char *key = rq->strs[0];
	if (!uuid_valid(key))
		return req_fail(rq, 404, "key not found");
	struct db *db = rq->app->db;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "deleting a key");
	struct db_rows *adm = db_query(db, rq->arena, SQL[SQL_KEYS_OF_ADMIN], "i", c);
	long long n = adm ? db_exec(db, SQL[SQL_KEY_DELETE], "is", c, key) : -1;
	if (n < 0 || !adm)
		return req_db_fail(rq, "deleting a key");
	if (n == 0)
		return req_fail(rq, 404, "key not found");
	if (adm->n && db_int(adm, 0, 0) && db_int(adm, 0, 1) <= 1)
		return req_fail(rq, 400, "the admin customer's last key cannot be deleted");
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "deleting a key");
	revoke_cached_keys(rq);
	return 204;
}
