/* The commands of dlcs-admin (admin/commands.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "str.h"
#include "admin/commands.h"
#include "asset/api_key.h"
#include "asset/customer.h"
#include "asset/gm.h"
#include "asset/info_static.h"
#include "asset/nginx_include.h"
#include "asset/nginx_reload.h"
#include "asset/portal_user.h"
#include "asset/publish.h"
#include "asset/store.h"
#include "asset/thumb_alias.h"
#include "asset/settings.h"
#include "banned.h"

static const char SQL_ADMIN_EXISTS[] = "SELECT 1 FROM customers WHERE id = 1";
static const char SQL_CUSTOMER_EXISTS[] = "SELECT 1 FROM customers WHERE id = ?";

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

int admin_bootstrap(struct db *db, const struct config *cfg, const char *keyfile)
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
		/* Delivery: the public name link (asset/store.h). */
		const char *root = setting_str(cfg, S_STORAGE_ROOT);
		if (store_publish_name(a, root, 1, "admin") != 0)
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

int admin_create_key(struct db *db, const struct config *cfg, const char *customer)
{
	long long c;
	if (!str_to_ll(customer, 1, 2147483647, &c))
		return ADMIN_USAGE;
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

int admin_portal_login(struct db *db, const char *customer, const char *email)
{
	long long c;
	if (!str_to_ll(customer, 1, 2147483647, &c))
		return ADMIN_USAGE;
	/* One line of standard input, never an argument (which ps shows). */
	char line[PORTAL_PASSWORD_MAX_BYTES + 3];
	if (!fgets(line, sizeof line, stdin)) {
		log_err("portal-login: no password on standard input");
		return 1;
	}
	line[strcspn(line, "\r\n")] = '\0';
	struct arena *a = arena_new(64 * 1024);
	struct portal_user u;
	enum portal_verdict v = portal_user_verify(db, a, (int)c, email, line, &u);
	explicit_bzero(line, sizeof line);
	int rc = 1;
	if (v == PORTAL_OK) {
		printf("%s %s\n", u.id, u.roles);
		rc = 0;
	} else if (v == PORTAL_REFUSED) {
		log_err("portal-login: refused (unknown e-mail, wrong password, or disabled)");
	} else {
		log_err("database error: %s", db_last_msg(db));
	}
	arena_free(a);
	return rc;
}

/* Delivery (custom headers, public links): each command calls the function
 * that the API and the runner use. */
int admin_render_headers(struct db *db, const struct config *cfg)
{
	struct nginx_target t;
	nginx_target_from_config(&t, cfg);
	if (!t.include || !*t.include) {
		log_err("nginx_custom_headers is not set in the configuration");
		return 1;
	}
	struct arena *a = arena_new(64 * 1024);
	long long gen;
	enum nginx_outcome out = nginx_include_publish(db, a, &t, &gen);
	arena_free(a);
	return out == NGINX_REFUSED || out == NGINX_FAILED ? 1 : 0;
}

int admin_nginx_locations(const char *path)
{
	struct arena *a = arena_new(64 * 1024);
	int rc = 1;
	struct sbuf text;
	sbuf_init(&text, a);
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t got;
	while (f && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_add(&text, chunk, got);
	const char *why = NULL, *made = NULL;
	if (!f || ferror(f))
		log_err("cannot read %s: %s", path, strerror(errno));
	else if (!(made = nginx_conf_generate(a, text.buf, &why)))
		log_err("%s: %s", path, why);
	else if (strcmp(made, text.buf) == 0)
		rc = 0;
	else {
		const char *tmp = arena_printf(a, "%s.tmp", path);
		FILE *out = fopen(tmp, "wb");
		bool ok = out && fwrite(made, 1, strlen(made), out) == strlen(made);
		ok = out && fclose(out) == 0 && ok && rename(tmp, path) == 0;
		if (ok) {
			log_info("%s: generated blocks rewritten", path);
			rc = 0;
		} else {
			log_err("cannot write %s: %s", path, strerror(errno));
			unlink(tmp);
		}
	}
	if (f)
		fclose(f);
	arena_free(a);
	return rc;
}

struct alias_repair {
	long long max_area;           /* delivery's image_max_area */
	struct info_static_opts info; /* nginx's copies of info.json */
	long long made;               /* links made or replaced */
	long long info_made;          /* info.json copies written or removed */
};

/* publish_assets_all's repair: the size aliases of one asset (full/ and
 * thumbs/), stale ones of either removed, and nginx's copies of its
 * info.json (info/), written again when they differ. */
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
	int written = info_static_sync(a, dir, w, h, &ar->info, err, sizeof err);
	if (written < 0)
		log_err("%s: info.json: %s", dir, err);
	else
		ar->info_made += written;
	arena_free(a);
	return made < 0 || written < 0 ? -1 : 0;
}

int admin_publish(struct db *db, const struct config *cfg, bool names, const char *customer)
{
	const char *root = setting_str(cfg, S_STORAGE_ROOT);
	long long c = 0;
	if (customer && !str_to_ll(customer, 1, 2147483647, &c))
		return ADMIN_USAGE;
	struct arena *a = arena_new(64 * 1024);
	/* the same limit and default as dlcs-image's (delivery.c), and the
	 * same GraphicsMagick (for webp in info.json) */
	struct alias_repair ar = {
		.max_area = setting_int(cfg, S_IMAGE_MAX_AREA),
	};
	if (!names) {
		gm_init("dlcs-admin", 0);
		ar.info = (struct info_static_opts){
			.base_url = setting_str(cfg, S_BASE_URL),
			.max_area = ar.max_area,
			.webp = gm_can_encode("WEBP"),
		};
	}
	int failed = names ? publish_names_all(db, a, root)
			   : publish_assets_all(db, root, (int)c, alias_repair, &ar);
	arena_free(a);
	if (!names && failed >= 0)
		log_info("size aliases: %lld link(s) made or replaced; info.json: %lld cop%s "
			 "written or removed",
			 ar.made, ar.info_made, ar.info_made == 1 ? "y" : "ies");
	if (failed < 0)
		log_err("database error: %s", db_last_msg(db));
	else if (failed > 0)
		log_err("%d link(s) could not be made", failed);
	return failed == 0 ? 0 : 1;
}
