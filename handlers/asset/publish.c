#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "asset/access.h"
#include "asset/av_stored.h"
#include "asset/channel_rules.h"
#include "asset/publish.h"
#include "asset/row.h"
#include "asset/store.h"
#include "asset/settings.h"
#include "banned.h"

enum { SQL_ASSET_LOCK, SQL_CUSTOMERS, SQL_ASSETS_PAGE, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_ASSET_LOCK] = "SELECT " ASSET_COLUMNS " FROM assets a"
			   " WHERE a.customer_id = ? AND a.space_id = ? AND a.id = ? FOR UPDATE",
	[SQL_CUSTOMERS] = "SELECT id, name FROM customers ORDER BY id",
	/* Keyset pages of PUBLISH_PAGE assets after (c, s, id); customer 0: all. */
	[SQL_ASSETS_PAGE] =
		"SELECT customer_id, space_id, id, width, height FROM assets"
		" WHERE (? = 0 OR customer_id = ?) AND (customer_id, space_id, id) > (?, ?, ?)"
		" ORDER BY customer_id, space_id, id LIMIT 1000",
};

int asset_publish(struct db *db, struct arena *a, const char *root, int c, int s, const char *id)
{
	bool own = !db_in_txn(db);
	if (own && db_begin(db) != DB_OK) {
		log_err("publish %d/%d/%s: %s; links removed", c, s, id, db_last_msg(db));
		store_unpublish(a, root, c, s, id);
		return -1;
	}
	struct db_rows *r = db_query(db, a, SQL[SQL_ASSET_LOCK], "iis", c, s, id);
	bool img = false, thumbs = false, av = false;
	if (r && r->n) {
		const char *error = db_str(r, 0, ACOL_ERROR);
		bool open = asset_is_open(a, db_str(r, 0, ACOL_ROLES),
					  (int)db_int(r, 0, ACOL_MAX_UNAUTHORISED)) &&
			    !(error && *error);
		const char *channels = db_str(r, 0, ACOL_DELIVERY_CHANNELS);
		const char *dir = store_asset_dir(a, root, c, s, id);
		img = open && channels_has(channels, "iiif-img") &&
		      store_file_exists(a, dir, "info.txt");
		thumbs = open && channels_has(channels, "thumbs") &&
			 store_file_exists(a, dir, "s.json");
		av = open && channels_has(channels, "iiif-av") &&
		     store_file_exists(a, dir, AV_STORED_FILE);
	}
	int rc = store_publish(a, root, c, s, id, img, thumbs, av);
	if (rc != 0)
		log_err("publish %d/%d/%s: cannot update the public links under %s/public", c, s,
			id, root);
	if (!r) {
		log_err("publish %d/%d/%s: %s; links removed", c, s, id, db_last_msg(db));
		rc = -1;
	}
	if (own) {
		if (r)
			db_commit(db); /* only releases the row lock */
		else
			db_rollback(db);
	}
	return rc;
}

int asset_publish_cfg(struct db *db, struct arena *a, const struct config *cfg, int c, int s,
		      const char *id)
{
	return asset_publish(db, a, setting_str(cfg, S_STORAGE_ROOT), c, s, id);
}

int publish_names_all(struct db *db, struct arena *a, const char *root)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_CUSTOMERS], "");
	if (!r)
		return -1;
	int failed = 0;
	for (size_t i = 0; i < r->n; i++) {
		const char *name = db_str(r, i, 1);
		if (strspn(name, "0123456789") == strlen(name)) {
			log_warn("customer %s: the name '%s' is all digits: no name link",
				 db_str(r, i, 0), name);
			continue;
		}
		if (store_publish_name(a, root, (int)db_int(r, i, 0), name) != 0) {
			log_err("customer %s: cannot link public/*/%s", db_str(r, i, 0), name);
			failed++;
		}
	}
	return failed;
}

int publish_assets_all(struct db *db, const char *root, int c,
		       int (*repair)(struct arena *a, const char *dir, int w, int h, void *ctx),
		       void *ctx)
{
	int failed = 0, last_c = 0, last_s = 0;
	char last_id[256] = "";
	for (;;) {
		/* One arena a page: a repair of millions of assets stays small. */
		struct arena *pa = arena_new(64 * 1024);
		struct db_rows *r = db_query(db, pa, SQL[SQL_ASSETS_PAGE], "iiiis", c, c, last_c,
					     last_s, last_id);
		if (!r) {
			arena_free(pa);
			return -1;
		}
		size_t n = r->n;
		for (size_t i = 0; i < n; i++) {
			int ac = (int)db_int(r, i, 0), as = (int)db_int(r, i, 1);
			const char *id = db_str(r, i, 2);
			if (repair && repair(pa, store_asset_dir(pa, root, ac, as, id),
					     (int)db_int(r, i, 3), (int)db_int(r, i, 4), ctx) != 0)
				failed++;
			if (asset_publish(db, pa, root, ac, as, id) != 0)
				failed++;
		}
		if (n) {
			last_c = (int)db_int(r, n - 1, 0);
			last_s = (int)db_int(r, n - 1, 1);
			xsnprintf(last_id, sizeof last_id, "%s", db_str(r, n - 1, 2));
		}
		arena_free(pa);
		if (n < 1000)
			return failed;
	}
}
