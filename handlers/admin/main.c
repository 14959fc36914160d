/* dlcs-admin: command-line administration.
 *   dlcs-admin migrate            apply schema migrations
 *   dlcs-admin bootstrap KEYFILE  create the admin customer (id 1) and, when
 *                                 KEYFILE does not exist, a key for it, written
 *                                 there as "key:secret" (mode 0600)
 *   dlcs-admin create-key C       print a new "key:secret" for customer C
 *   dlcs-admin render-headers     rewrite the nginx include of the custom
 *                                 headers (nginx_custom_headers) and reload
 *                                 nginx (nginx_pid_file)
 *   dlcs-admin publish-names      the public name links of every customer
 *                                 (storage_root/public/{iiif-img,thumbs}/{name})
 *   dlcs-admin publish-assets [C] re-derive the public links of every asset
 *                                 (of customer C), and the size aliases of
 *                                 its tiles and thumbnails (iiif/thumb_alias.h), for
 *                                 assets stored before they existed: a
 *                                 repair, safe to run again at any time
 *   dlcs-admin bump-generation    move the data generation on (fcgi/generation.h):
 *                                 after editing the database with a SQL client,
 *                                 so the API workers drop their cached responses */
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "asset/nginx_include.h"
#include "asset/customer.h"
#include "db.h"
#include "asset/thumb_alias.h"
#include "asset/api_key.h"
#include "log.h"
#include "migrate.h"
#include "asset/publish.h"
#include "asset/store.h"
#include "str.h"
#include "banned.h"

static const char SQL_ADMIN_EXISTS[] = "SELECT 1 FROM customers WHERE id = 1";
static const char SQL_CUSTOMER_EXISTS[] = "SELECT 1 FROM customers WHERE id = ?";

static int usage(void)
{
	fputs("usage: dlcs-admin [-c CONFIG] migrate | bootstrap KEYFILE | create-key CUSTOMER\n"
	      "       | render-headers | publish-names | publish-assets [CUSTOMER]\n"
	      "       | bump-generation\n",
	      stderr);
	return 2;
}

static int write_keyfile(const char *path, const char *key, const char *secret)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		log_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	char line[128];
	xsnprintf(line, sizeof line, "%s:%s\n", key, secret);
	size_t len = strlen(line);
	ssize_t w = write(fd, line, len);
	if (close(fd) != 0 || w != (ssize_t)len) {
		log_err("cannot write %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

static int bootstrap(struct db *db, const struct config *cfg, const char *keyfile)
{
	struct arena *a = arena_new(4096);
	int rc = 1;
	struct db_rows *r = db_query(db, a, SQL_ADMIN_EXISTS, "");
	if (!r)
		goto out;
	if (r->n == 0) {
		int id;
		if (db_begin(db) != DB_OK ||
		    customer_insert(db, a, 1, "admin", "Administrator", true, &id) != DB_OK ||
		    db_commit(db) != DB_OK) {
			db_rollback(db);
			log_err("cannot create the admin customer: %s", db_last_msg(db));
			goto out;
		}
		log_info("created the admin customer (id 1)");
		/* Delivery: the public name link (handlers/ingest/store.h). */
		const char *root = config_str(cfg, "storage_root", NULL);
		if (root && *root && store_publish_name(a, root, 1, "admin") != 0)
			log_warn("cannot link public/*/admin under %s", root);
	}
	if (access(keyfile, F_OK) == 0) {
		rc = 0;
		goto out;
	}
	char key[37], secret[65];
	if (keys_issue(db, cfg, 1, key, secret) != DB_OK) {
		log_err("cannot create a key: %s", db_last_msg(db));
		goto out;
	}
	rc = write_keyfile(keyfile, key, secret) == 0 ? 0 : 1;
	if (rc == 0)
		log_info("wrote an admin key to %s", keyfile);
out:
	arena_free(a);
	return rc;
}

static int create_key(struct db *db, const struct config *cfg, const char *customer)
{
	long long c;
	if (!str_to_ll(customer, 1, 2147483647, &c))
		return usage();
	struct arena *a = arena_new(4096);
	struct db_rows *r = db_query(db, a, SQL_CUSTOMER_EXISTS, "i", (int)c);
	int rc = 1;
	char key[37], secret[65];
	if (!r)
		log_err("database error: %s", db_last_msg(db));
	else if (r->n == 0)
		log_err("customer %lld not found", c);
	else if (keys_issue(db, cfg, (int)c, key, secret) != DB_OK)
		log_err("cannot create a key: %s", db_last_msg(db));
	else {
		printf("%s:%s\n", key, secret);
		rc = 0;
	}
	arena_free(a);
	return rc;
}

/* Delivery (custom headers, public links): each command calls the function
 * that the API and the runner use. */
static int render_headers(struct db *db, const struct config *cfg)
{
	if (!config_str(cfg, "nginx_custom_headers", NULL)) {
		log_err("nginx_custom_headers is not set in the configuration");
		return 1;
	}
	struct arena *a = arena_new(64 * 1024);
	int rc = custom_headers_publish(db, a, cfg) == 0 ? 0 : 1;
	arena_free(a);
	return rc;
}

struct alias_repair {
	long long max_area; /* delivery's image_max_area */
	long long made;     /* links made or replaced */
};

/* publish_assets_all's repair: the size aliases of one asset (full/ and
 * thumbs/), stale ones of either removed. */
static int alias_repair(struct arena *unused, const char *dir, int w, int h, void *ctx)
{
	(void)unused;
	struct alias_repair *ar = ctx;
	struct arena *a = arena_new(16 * 1024);
	char err[256];
	int made = thumb_aliases_sync(a, dir, w, h, ar->max_area, err, sizeof err);
	if (made < 0)
		log_err("%s: size aliases: %s", dir, err);
	else
		ar->made += made;
	arena_free(a);
	return made < 0 ? -1 : 0;
}

static int publish(struct db *db, const struct config *cfg, bool names, const char *customer)
{
	const char *root = config_str(cfg, "storage_root", NULL);
	long long c = 0;
	if (!root || !*root) {
		log_err("storage_root is not set in the configuration");
		return 1;
	}
	if (customer && !str_to_ll(customer, 1, 2147483647, &c))
		return usage();
	struct arena *a = arena_new(64 * 1024);
	/* the same limit and default as dlcs-image's (delivery.c) */
	struct alias_repair ar = {config_int(cfg, "image_max_area", THUMB_ALIAS_DEFAULT_MAX_AREA),
				  0};
	int failed = names ? publish_names_all(db, a, root)
			   : publish_assets_all(db, root, (int)c, alias_repair, &ar);
	arena_free(a);
	if (!names && failed >= 0)
		log_info("size aliases: %lld link(s) made or replaced", ar.made);
	if (failed < 0)
		log_err("database error: %s", db_last_msg(db));
	else if (failed > 0)
		log_err("%d link(s) could not be made", failed);
	return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *path = getenv("DLCS_CONFIG");
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		path = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	log_set_program("dlcs-admin");
	char err[256];
	struct config *cfg = path ? config_load(path, err, sizeof err) : config_empty();
	if (!cfg) {
		log_err("%s: %s", path, err);
		return 1;
	}
	mysql_library_init(0, NULL, NULL);
	struct db *db = db_new(cfg);
	int rc;
	if (strcmp(argv[i], "bump-generation") == 0 && i + 1 == argc) {
		/* Needs the file only, not the database. */
		rc = db_generation_bump(db) == DB_OK ? 0 : 1;
		if (rc)
			log_err("no usable data generation file (data_generation_file, or "
				"storage_root/.data-generation)");
	} else if (db_ensure(db) != DB_OK) {
		log_err("database unavailable: %s", db_last_msg(db));
		rc = 1;
	} else if (strcmp(argv[i], "migrate") == 0 && i + 1 == argc) {
		const char *dir = config_str(cfg, "schema_dir", "schema");
		rc = migrate_apply(db, dir) == 0 ? 0 : 1;
	} else if (strcmp(argv[i], "bootstrap") == 0 && i + 2 == argc) {
		rc = bootstrap(db, cfg, argv[i + 1]);
	} else if (strcmp(argv[i], "create-key") == 0 && i + 2 == argc) {
		rc = create_key(db, cfg, argv[i + 1]);
	} else if (strcmp(argv[i], "render-headers") == 0 && i + 1 == argc) {
		rc = render_headers(db, cfg);
	} else if (strcmp(argv[i], "publish-names") == 0 && i + 1 == argc) {
		rc = publish(db, cfg, true, NULL);
	} else if (strcmp(argv[i], "publish-assets") == 0 && i + 2 >= argc) {
		rc = publish(db, cfg, false, i + 1 < argc ? argv[i + 1] : NULL);
	} else {
		rc = usage();
	}
	db_free(db);
	mysql_library_end();
	config_free(cfg);
	return rc;
}
